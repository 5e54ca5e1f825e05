"""Where the CLI (and the dev tools) reach AWS: one session per region, endpoint and profile, typed clients.

The region, profile and endpoint are resolved as the AWS CLI resolves them (botocore's session reads the
environment and the shared config and credentials files); ``Where`` says what each was and what named it.
The function makes its clients with boto3's defaults instead (its region and credentials are the runtime's);
DynamoDB's, here and there, with botocore's standard retry mode.
"""

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3
import botocore.session

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# Where a connection goes when nothing names a region (the AWS CLI refuses to guess; redtrail says it guessed).
DEFAULT_REGION = "us-east-1"
# The AWS CLI v2 and the SDKs read AWS_REGION first; botocore reads only AWS_DEFAULT_REGION.
REGION_VARIABLE = "AWS_REGION"
DEFAULT_REGION_VARIABLE = "AWS_DEFAULT_REGION"
# botocore's own order: AWS_DEFAULT_PROFILE, then AWS_PROFILE.
PROFILE_VARIABLES = ("AWS_DEFAULT_PROFILE", "AWS_PROFILE")
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
NO_REGION = "nothing names a region"


@dataclass(frozen=True, slots=True)
class Where:
    """The region, profile and configured endpoint a connection uses, and what named each (an option, an
    environment variable, the profile in the config file)."""

    region: str
    region_source: str  # NO_REGION when the region is DEFAULT_REGION because nothing named one
    profile: str | None = None  # None: no profile named (the default profile, if any, and the environment)
    profile_source: str | None = None
    endpoint_url: str | None = None  # None: AWS's own endpoints (or one that botocore finds per service)
    endpoint_source: str | None = None

    @property
    def region_defaulted(self) -> bool:
        return self.region_source == NO_REGION

    def describe(self) -> str:
        """``eu-west-1 (the region of profile prod in ~/.aws/config), profile prod (from --profile)``..."""
        parts = [f"{self.region} ({self._region_words()})"]
        if self.profile:
            parts.append(f"profile {self.profile} (from {self.profile_source})")
        if self.endpoint_url:
            parts.append(f"endpoint {self.endpoint_url} (from {self.endpoint_source})")
        return ", ".join(parts)

    def _region_words(self) -> str:
        if self.region_defaulted:
            return f"{NO_REGION}: the default"
        if self.region_source.startswith("the region of"):
            return self.region_source
        return f"from {self.region_source}"


@dataclass
class Connection:
    """A region, an endpoint (a local AWS) and a profile; clients are made from one boto3 session.

    Each given value wins; a missing one is resolved as the AWS CLI does (``Where``). ``*_option`` are the names
    of the options that gave them, to say where a value came from.
    """

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    region_option: str = "--region"
    profile_option: str = "--profile"
    endpoint_option: str = "--endpoint-url"
    _where: Where | None = field(default=None, init=False, repr=False, compare=False)
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False, compare=False)
    _botocore: botocore.session.Session | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def where(self) -> Where:
        """The region, profile and endpoint used; raises botocore's ProfileNotFound for a profile nobody has."""
        if self._where is None:
            self._where = self._resolve()
        return self._where

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            where = self.where
            self._session = boto3.session.Session(botocore_session=self._botocore_session(), region_name=where.region)
        return self._session

    def _botocore_session(self) -> botocore.session.Session:
        if self._botocore is None:
            self._botocore = botocore.session.Session(profile=self.profile)
        return self._botocore

    def _resolve(self) -> Where:
        session = self._botocore_session()
        profile = session.profile  # the one named here, or by AWS_DEFAULT_PROFILE / AWS_PROFILE; None: none
        scoped = session.get_scoped_config()  # ProfileNotFound for a profile that no file has
        region, region_source = self._region(session, profile)
        profile_source = self.profile_option if self.profile else _variable_holding(PROFILE_VARIABLES, profile)
        endpoint_url, endpoint_source = self.endpoint_url, self.endpoint_option if self.endpoint_url else None
        if not endpoint_url and not session.get_config_variable("ignore_configured_endpoint_urls"):
            # botocore finds these by itself; they are named here only to say where a connection went
            if os.environ.get(ENDPOINT_VARIABLE):
                endpoint_url, endpoint_source = os.environ[ENDPOINT_VARIABLE], ENDPOINT_VARIABLE
            elif scoped.get("endpoint_url"):
                endpoint_url = str(scoped["endpoint_url"])
                endpoint_source = f"the endpoint_url of profile {profile or 'default'} in {_config_file(session)}"
        return Where(region, region_source, profile, profile_source, endpoint_url, endpoint_source)

    def _region(self, session: botocore.session.Session, profile: str | None) -> tuple[str, str]:
        if self.region:
            return self.region, self.region_option
        if os.environ.get(REGION_VARIABLE):
            return os.environ[REGION_VARIABLE], REGION_VARIABLE
        configured = session.get_config_variable("region")  # AWS_DEFAULT_REGION, then the profile's region
        if configured:
            if os.environ.get(DEFAULT_REGION_VARIABLE) == configured:
                return str(configured), DEFAULT_REGION_VARIABLE
            return str(configured), f"the region of profile {profile or 'default'} in {_config_file(session)}"
        return DEFAULT_REGION, NO_REGION

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


def _variable_holding(names: tuple[str, ...], value: str | None) -> str | None:
    """The first environment variable of ``names`` that holds ``value``."""
    return next((name for name in names if value and os.environ.get(name) == value), None)


def _config_file(session: botocore.session.Session) -> str:
    return str(session.get_config_variable("config_file"))
