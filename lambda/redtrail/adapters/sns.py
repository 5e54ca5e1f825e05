"""SNS: the alerts topic (``core.alerts.AlertSink``)."""

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.alerts import Alert
from redtrail.core.errors import AlertPublishError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

# botocore's standard retry mode: throttling and transient errors retried with backoff, five attempts in all.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


class AlertTopic:
    """Publishes alerts to one topic, with message attributes for subscription filter policies."""

    def __init__(self, topic_arn: str, client: "SNSClient | None" = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def _sns(self) -> "SNSClient":
        if self._client is None:
            self._client = boto3.client("sns", config=RETRIES)
        return self._client

    def publish(self, alert: Alert) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": "String", "StringValue": value} for name, value in alert.attributes.items() if value
        }
        try:
            self._sns().publish(
                TopicArn=self.topic_arn, Subject=alert.subject, Message=alert.body, MessageAttributes=attributes
            )
        except ClientError as error:
            raise AlertPublishError(f"sns:Publish to {self.topic_arn}: {error_code(error) or error}") from error
        except BotoCoreError as error:
            raise AlertPublishError(f"sns:Publish to {self.topic_arn}: {error}") from error
