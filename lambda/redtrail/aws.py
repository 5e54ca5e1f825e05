"""The AWS adapter: every AWS call redtrail makes. ``ClientError`` stops here, as redtrail's own errors."""

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail import schema
from redtrail.errors import (
    AccessDeniedError,
    ObjectNotFoundError,
    QueueError,
    RedtrailError,
    StackNotFoundError,
    StorageError,
    TableError,
    TableNotFoundError,
    TableWriteError,
)
from redtrail.items import Item
from redtrail.notifications import TrailObject

T = TypeVar("T")
BATCH_SIZE = 25  # BatchWriteItem's limit
SQS_BATCH_SIZE = 10  # the SQS batch actions' limit
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "AllAccessDisabled", "InvalidObjectState"}
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def _batches(sequence: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``sequence`` in consecutive slices of at most ``size``."""
    for start in range(0, len(sequence), size):
        yield sequence[start : start + size]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class TrailStore:
    """Reads trail objects from S3."""

    def __init__(self, s3_client: Any = None) -> None:
        self._s3 = s3_client or boto3.client("s3")

    def read(self, trail_object: TrailObject) -> bytes:
        """The object's bytes; raises ObjectNotFoundError, AccessDeniedError or StorageError."""
        try:
            response = self._s3.get_object(Bucket=trail_object.bucket, Key=trail_object.key)
            return bytes(response["Body"].read())
        except ClientError as error:
            raise _storage_error(error, trail_object.uri) from error
        except BotoCoreError as error:
            raise StorageError(f"{trail_object.uri}: {error}") from error

    def list(self, bucket: str, prefix: str = "") -> Iterator[TrailObject]:
        """Every object under ``prefix``, in key order."""
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield TrailObject(bucket, entry["Key"], entry.get("Size"), entry.get("LastModified"))
        except ClientError as error:
            raise _storage_error(error, f"s3://{bucket}/{prefix}") from error
        except BotoCoreError as error:
            raise StorageError(f"s3://{bucket}/{prefix}: {error}") from error


def _storage_error(error: ClientError, where: str) -> Exception:
    code = _code(error)
    if code in _NOT_FOUND or code == "NoSuchBucket":
        return ObjectNotFoundError(f"{where}: {code}")
    if code in _DENIED:
        return AccessDeniedError(f"{where}: {code}")
    return StorageError(f"{where}: {code or error}")


class EventTable:
    """Writes items to the event table with BatchWriteItem, retrying what DynamoDB leaves unprocessed."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: Any = None,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = table_name
        self._dynamodb = dynamodb_client or boto3.client("dynamodb")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep

    def write(self, items: Sequence[Item]) -> int:
        """Put every item (25 a request); returns how many were written or raises TableWriteError."""
        for batch in _batches(items, BATCH_SIZE):
            self._write_batch([{"PutRequest": {"Item": item}} for item in batch])
        return len(items)

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        pending = requests
        for attempt in range(self._max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                response = self._dynamodb.batch_write_item(RequestItems={self.name: pending})
            except ClientError as error:
                code = _code(error)
                if code == "ResourceNotFoundException":
                    raise TableNotFoundError(f"table {self.name} does not exist") from error
                if code in _THROTTLED:
                    continue
                raise TableWriteError(f"table {self.name}: {code or error}") from error
            except BotoCoreError as error:
                raise TableWriteError(f"table {self.name}: {error}") from error
            pending = response.get("UnprocessedItems", {}).get(self.name, [])
            if not pending:
                return
        raise TableWriteError(
            f"table {self.name}: {len(pending)} items still unprocessed after {self._max_attempts} attempts"
        )

    def _backoff(self, attempt: int) -> None:
        # Full jitter: spreads the retries of concurrent writers instead of lining them up.
        self._sleep(random.uniform(0, min(self._max_delay, self._base_delay * 2**attempt)))  # noqa: S311

    def exists(self) -> bool:
        try:
            self._dynamodb.describe_table(TableName=self.name)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise TableError(f"table {self.name}: {_code(error) or error}") from error
        return True

    def create(self) -> bool:
        """Create the table from the shared definition; False when it already existed."""
        try:
            self._dynamodb.create_table(**schema.create_table_request(self.name))
        except ClientError as error:
            if _code(error) == "ResourceInUseException":
                return False
            raise TableError(f"cannot create table {self.name}: {_code(error) or error}") from error
        self._dynamodb.get_waiter("table_exists").wait(TableName=self.name)
        return True

    def query(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, following ``LastEvaluatedKey``."""
        request = {"TableName": self.name, **request}
        while True:
            try:
                response = self._dynamodb.query(**request)
            except ClientError as error:
                if _code(error) == "ResourceNotFoundException":
                    raise TableNotFoundError(f"table {self.name} does not exist") from error
                raise TableError(f"table {self.name}: {_code(error) or error}") from error
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def item_count(self) -> int:
        """DynamoDB's item count (refreshed about every six hours on AWS)."""
        try:
            return int(self._dynamodb.describe_table(TableName=self.name)["Table"].get("ItemCount", 0))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise TableNotFoundError(f"table {self.name} does not exist") from error
            raise TableError(f"table {self.name}: {_code(error) or error}") from error


class Queue:
    """An SQS queue: the ingest queue or its dead-letter queue."""

    def __init__(self, url: str, sqs_client: Any = None) -> None:
        self.url = url
        self._sqs = sqs_client or boto3.client("sqs")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._sqs, operation)(QueueUrl=self.url, **kwargs)
        except ClientError as error:
            raise QueueError(f"queue {self.url}: {_code(error) or error}") from error
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
        for batch in _batches(bodies, SQS_BATCH_SIZE):
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

    def delete(self, messages: Sequence[dict[str, Any]]) -> None:
        for batch in _batches(messages, SQS_BATCH_SIZE):
            entries = [
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]} for number, message in enumerate(batch)
            ]
            self._call("delete_message_batch", Entries=entries)

    def release(self, messages: Sequence[dict[str, Any]], *, after_seconds: int) -> None:
        """Make received messages visible again after ``after_seconds``."""
        for batch in _batches(messages, SQS_BATCH_SIZE):
            entries = [
                {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": after_seconds}
                for number, message in enumerate(batch)
            ]
            self._call("change_message_visibility_batch", Entries=entries)


def stack_outputs(stack_name: str, cloudformation_client: Any = None) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of a deployed stack; raises StackNotFoundError."""
    cloudformation = cloudformation_client or boto3.client("cloudformation")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackNotFoundError(f"stack {stack_name} does not exist") from error
        raise RedtrailError(f"stack {stack_name}: {_code(error) or error}") from error
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def alarm_states(name_prefix: str, cloudwatch_client: Any = None) -> dict[str, str]:
    """Alarm name → state for the alarms whose names start with ``name_prefix``."""
    cloudwatch = cloudwatch_client or boto3.client("cloudwatch")
    try:
        pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=name_prefix)
        return {alarm["AlarmName"]: alarm["StateValue"] for page in pages for alarm in page.get("MetricAlarms", [])}
    except ClientError as error:
        raise RedtrailError(f"alarms {name_prefix}*: {_code(error) or error}") from error
