"""SQS: the ingest queue and its dead-letter queue."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import batches, error_code
from redtrail.core.errors import QueueError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

BATCH_SIZE = 10  # the SQS batch actions' limit


class Queue:
    """An SQS queue: the ingest queue or its dead-letter queue."""

    def __init__(self, url: str, client: "SQSClient | None" = None) -> None:
        self.url = url
        self._client = client

    @property
    def _sqs(self) -> "SQSClient":
        # Made at first use: the function's dead-letter queue is rarely written, and a client costs its cold start.
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._sqs, operation)(QueueUrl=self.url, **kwargs)
        except ClientError as error:
            raise QueueError(f"queue {self.url}: {error_code(error) or error}") from error
        except BotoCoreError as error:
            raise QueueError(f"queue {self.url}: {error}") from error

    def attributes(self, *names: str) -> dict[str, str]:
        return dict(self._call("get_queue_attributes", AttributeNames=list(names))["Attributes"])

    def depth(self) -> tuple[int, int]:
        """(visible, in flight) messages, as SQS approximates them."""
        found = self.attributes("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return int(found["ApproximateNumberOfMessages"]), int(found["ApproximateNumberOfMessagesNotVisible"])

    def send(self, bodies: Sequence[str], attributes: Mapping[str, str] | None = None) -> int:
        """Send message bodies (with string attributes), 10 a request; raises QueueError if SQS refuses any."""
        extra: dict[str, Any] = {}
        if attributes:
            extra["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            }
        for batch in batches(bodies, BATCH_SIZE):
            entries = [{"Id": str(number), "MessageBody": body, **extra} for number, body in enumerate(batch)]
            failed = self._call("send_message_batch", Entries=entries).get("Failed", [])
            if failed:
                raise QueueError(f"queue {self.url}: {len(failed)} messages refused: {failed[0].get('Message', '')}")
        return len(bodies)

    def receive(self, *, max_messages: int = 10, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Up to ``max_messages`` messages with their attributes (receive count included)."""
        response = self._call(
            "receive_message",
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for batch in batches(messages, BATCH_SIZE):
            entries = [
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]} for number, message in enumerate(batch)
            ]
            self._call("delete_message_batch", Entries=entries)

    def release(self, messages: Sequence[Mapping[str, Any]], *, after_seconds: int) -> None:
        """Make received messages visible again after ``after_seconds``."""
        for batch in batches(messages, BATCH_SIZE):
            entries = [
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": after_seconds}
                for number, message in enumerate(batch)
            ]
            self._call("change_message_visibility_batch", Entries=entries)
