"""Where the CLI (and the dev tools) reach AWS: one session per region, endpoint and profile, typed clients.

The function makes its clients with boto3's defaults instead (its region and credentials are the runtime's);
DynamoDB's, here and there, with botocore's standard retry mode.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@dataclass
class Connection:
    """A region, an endpoint (a local AWS) and a profile; clients are made from one boto3 session."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def s3(self) -> "S3Client":
        return self.session.client("s3", endpoint_url=self.endpoint_url)

    def dynamodb(self) -> "DynamoDBClient":
        """With botocore's standard retry mode, as the function's (``adapters.dynamodb.RETRIES``)."""
        from redtrail.adapters.dynamodb import RETRIES  # here: commands that use no table need not import it

        return self.session.client("dynamodb", endpoint_url=self.endpoint_url, config=RETRIES)

    def sqs(self) -> "SQSClient":
        return self.session.client("sqs", endpoint_url=self.endpoint_url)

    def cloudformation(self) -> "CloudFormationClient":
        return self.session.client("cloudformation", endpoint_url=self.endpoint_url)

    def cloudwatch(self) -> "CloudWatchClient":
        return self.session.client("cloudwatch", endpoint_url=self.endpoint_url)

    def lambda_(self) -> "LambdaClient":
        return self.session.client("lambda", endpoint_url=self.endpoint_url)
