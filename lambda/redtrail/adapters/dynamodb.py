"""DynamoDB: the event table (batch writes with retries, queries, creation from the shared definition)."""

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import batches, error_code
from redtrail.contracts import schema
from redtrail.core.errors import TableError, TableNotFoundError, TableWriteError
from redtrail.core.items import Item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

BATCH_SIZE = 25  # BatchWriteItem's limit
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


class EventTable:
    """Writes items to the event table with BatchWriteItem, retrying what DynamoDB leaves unprocessed."""

    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = table_name
        self._dynamodb = client or boto3.client("dynamodb")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep

    def write(self, items: Sequence[Item]) -> int:
        """Put every item (25 a request); returns how many were written or raises TableWriteError."""
        for batch in batches(items, BATCH_SIZE):
            self._write_batch([{"PutRequest": {"Item": item}} for item in batch])
        return len(items)

    def _write_batch(self, requests: "Sequence[WriteRequestTypeDef]") -> None:
        pending: Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef] = requests
        for attempt in range(self._max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                response = self._dynamodb.batch_write_item(RequestItems={self.name: pending})
            except ClientError as error:
                code = error_code(error)
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
            if error_code(error) == "ResourceNotFoundException":
                return False
            raise TableError(f"table {self.name}: {error_code(error) or error}") from error
        return True

    def create(self) -> bool:
        """Create the table from the shared definition; False when it already existed."""
        try:
            self._dynamodb.create_table(**schema.create_table_request(self.name))
        except ClientError as error:
            if error_code(error) == "ResourceInUseException":
                return False
            raise TableError(f"cannot create table {self.name}: {error_code(error) or error}") from error
        self._dynamodb.get_waiter("table_exists").wait(TableName=self.name)
        return True

    def query(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, following ``LastEvaluatedKey``."""
        request = {"TableName": self.name, **request}
        while True:
            try:
                response = self._dynamodb.query(**request)
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    raise TableNotFoundError(f"table {self.name} does not exist") from error
                raise TableError(f"table {self.name}: {error_code(error) or error}") from error
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def item_count(self) -> int:
        """DynamoDB's item count (refreshed about every six hours on AWS)."""
        try:
            return int(self._dynamodb.describe_table(TableName=self.name)["Table"].get("ItemCount", 0))
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise TableNotFoundError(f"table {self.name} does not exist") from error
            raise TableError(f"table {self.name}: {error_code(error) or error}") from error
