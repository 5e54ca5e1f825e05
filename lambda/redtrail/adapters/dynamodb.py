"""DynamoDB: the event table (writes that never replace, queries, creation from the shared definition) and its
detection items."""

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import batches, error_code
from redtrail.contracts import alerts, schema
from redtrail.contracts.alerts import AlertState
from redtrail.core.errors import ItemRejectedError, RedtrailError, TableError, TableNotFoundError, TableWriteError
from redtrail.core.items import CONTENT_ATTRIBUTE, Item, content_sha256, event_text, refused_item
from redtrail.core.pipeline import Conflict, Refused, StoredItems

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

READ_BATCH_SIZE = 100  # BatchGetItem's limit
SUMMARY_PROJECTION = f"{schema.PARTITION_KEY}, {CONTENT_ATTRIBUTE}, sourceObject"
EVENT_PROJECTION = f"{SUMMARY_PROJECTION}, event, eventGzip"
RECORD_PROJECTION = f"{schema.PARTITION_KEY}, event, eventGzip"  # the stored record, inline or compressed
MAX_ATTEMPTS = 8  # per call, the first one included
# botocore's standard retry mode retries throttling (ProvisionedThroughputExceededException, ThrottlingException,
# RequestLimitExceeded...) and transient errors (500, 502, 503, 504, connection errors) with exponential backoff
# and full jitter (1 s base for throttling, 25 ms for DynamoDB's other errors, 20 s at most), within a per-client
# retry quota. Its ``max_attempts`` counts the retries: 7 retries, 8 attempts in all.
RETRIES = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS - 1})
REFUSED = "ValidationException"  # DynamoDB refuses the request as it is: sent again, it is refused again


def table_client() -> "DynamoDBClient":
    """A DynamoDB client of the default session with ``RETRIES``: what every table adapter uses unless given one."""
    return boto3.client("dynamodb", config=RETRIES)


class EventTable:
    """Writes items to the event table without ever replacing one: an item already stored with the same content
    is left as it is, one with other content is a conflict (the first stays). Reads what is stored with
    BatchGetItem (100 a request), writes each new item with a conditional PutItem.

    Throttling and transient errors are retried by botocore (``RETRIES``: the client made here has it; an injected
    client keeps its own); BatchGetItem's ``UnprocessedKeys``, which botocore does not retry, are asked again
    here, with the same kind of backoff."""

    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = table_name
        self._dynamodb = client or table_client()
        self._max_attempts = max_attempts  # of the UnprocessedKeys loop
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep

    def write(self, items: Sequence[Item]) -> StoredItems:
        """Store the items that are new; raises TableWriteError when DynamoDB fails after botocore's retries, and
        ItemRejectedError (permanent) when it refuses a read, or a record's quarantine item. Either way the error's
        ``written`` is the number of items written before it.

        An event item DynamoDB refuses (ValidationException) is quarantined instead (its stored event under a
        ``rejected#`` key, DynamoDB's message as the reason): one malformed item does not fail its file."""
        written, unchanged, conflicts, refused = 0, 0, [], []
        try:
            stored = self._stored([item[schema.PARTITION_KEY]["S"] for item in items], SUMMARY_PROJECTION)
            older = [event_id for event_id, found in stored.items() if CONTENT_ATTRIBUTE not in found]
            if older:  # stored before content hashes: compare by their events
                stored |= self._stored(older, EVENT_PROJECTION)
            for item in items:
                event_id = item[schema.PARTITION_KEY]["S"]
                current = stored.get(event_id)
                if current is None:
                    try:
                        put = self._put_new(item)
                    except ItemRejectedError as error:
                        refused.append(Refused(event_id, str(error)))
                        if self._quarantine_refused(item, error):
                            written += 1
                        else:  # quarantined by an earlier delivery of the file
                            unchanged += 1
                        continue
                    if put:
                        written += 1
                        continue
                    # Written meanwhile, by a concurrent delivery: read it as it is now (a strongly consistent read).
                    current = self._stored([event_id], EVENT_PROJECTION, consistent=True)[event_id]
                if _content(current) == _content(item):
                    unchanged += 1
                else:
                    conflicts.append(Conflict(event_id, str(current.get("sourceObject", {}).get("S", "?"))))
        except RedtrailError as error:
            error.written = written
            raise
        return StoredItems(written, unchanged, tuple(conflicts), tuple(refused))

    def _quarantine_refused(self, item: Item, error: ItemRejectedError) -> bool:
        """Put the quarantine item of an event item DynamoDB refused; False when it is stored already. Raises
        ItemRejectedError (the file is refused whole, permanently) when there is none to make (the refused item
        was a quarantine item) or DynamoDB refuses it too."""
        try:
            stand_in = refused_item(item, f"DynamoDB refused the event's item: {error}", now=datetime.now(UTC))
        except ValueError:
            raise error from None
        try:
            return self._put_new(stand_in)
        except ItemRejectedError as again:
            event_id = item[schema.PARTITION_KEY]["S"]
            raise ItemRejectedError(f"eventID {event_id[:100]!r}: {error}; its quarantine item: {again}") from again

    def _stored(
        self, event_ids: Sequence[str], projection: str | None, *, consistent: bool = False
    ) -> dict[str, dict[str, Any]]:
        """The ``projection`` (None: every attribute) of what is stored under these eventIDs."""
        found: dict[str, dict[str, Any]] = {}
        for batch in batches(list(dict.fromkeys(event_ids)), READ_BATCH_SIZE):
            keys: Any = [{schema.PARTITION_KEY: {"S": event_id}} for event_id in batch]
            for attempt in range(self._max_attempts):
                if attempt:
                    self._backoff(attempt)
                asked = {"Keys": keys, "ConsistentRead": consistent}
                if projection is not None:
                    asked["ProjectionExpression"] = projection
                response = self._read({self.name: asked})
                for item in response.get("Responses", {}).get(self.name, []):
                    found[item[schema.PARTITION_KEY]["S"]] = dict(item)
                keys = response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
                if not keys:
                    break
            else:
                raise TableWriteError(
                    f"table {self.name}: {len(keys)} keys still unread after {self._max_attempts} attempts"
                )
        return found

    def item(self, event_id: str) -> dict[str, Any] | None:
        """The whole item stored under ``event_id`` (GetItem), or None when there is none."""
        try:
            response = self._dynamodb.get_item(TableName=self.name, Key={schema.PARTITION_KEY: {"S": event_id}})
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise TableNotFoundError(f"table {self.name} does not exist") from error
            raise TableError(f"table {self.name}: {error_code(error) or error}") from error
        except BotoCoreError as error:
            raise TableError(f"table {self.name}: {error}") from error
        found = response.get("Item")
        return dict(found) if found else None

    def records(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored records of these eventIDs (``event``, or ``eventGzip`` when stored compressed), by eventID:
        BatchGetItem, 100 a request, unprocessed keys asked again; an eventID with no item is left out."""
        return self._stored(event_ids, RECORD_PROJECTION)

    def items(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Whole items by their key (any of the table's, the ledger's too), as ``records`` reads them."""
        return self._stored(keys, None)

    def _put_new(self, item: Item) -> bool:
        """Put an item that must not exist yet; False when it does. ItemRejectedError when DynamoDB refuses it."""
        try:
            self._dynamodb.put_item(
                TableName=self.name,
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": schema.PARTITION_KEY},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise _write_error(self.name, error) from error
        except BotoCoreError as error:
            raise TableWriteError(f"table {self.name}: {error}") from error
        return True

    def _read(self, request: Any) -> Any:
        """One BatchGetItem (botocore retries throttling; what it leaves unprocessed is the caller's)."""
        try:
            return self._dynamodb.batch_get_item(RequestItems=request)
        except ClientError as error:
            raise _write_error(self.name, error) from error
        except BotoCoreError as error:
            raise TableWriteError(f"table {self.name}: {error}") from error

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


class DetectionTable:
    """``core.alerts.AlertRecords``: the detection items of the event table, each put once (conditionally)."""

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self.name = table_name
        self._client = client

    def _dynamodb(self) -> "DynamoDBClient":
        if self._client is None:
            self._client = table_client()
        return self._client

    def claim(self, record: Item) -> tuple[AlertState, str] | None:
        key = {schema.PARTITION_KEY: record[schema.PARTITION_KEY]}
        try:
            self._dynamodb().put_item(
                TableName=self.name,
                Item=record,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": schema.PARTITION_KEY},
            )
            return None
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise _write_error(self.name, error) from error
        except BotoCoreError as error:
            raise TableWriteError(f"table {self.name}: {error}") from error
        stored = self._dynamodb().get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item", {})
        state = stored.get(alerts.ALERT_STATE, {}).get("S", AlertState.FAILED.value)
        return AlertState(state), str(stored.get(alerts.DETECTED_AT, {}).get("S", ""))

    def mark(self, key: str, state: AlertState, at: str) -> None:
        stamp = alerts.ALERTED_AT if state is AlertState.SENT else "failedAt"
        try:
            self._dynamodb().update_item(
                TableName=self.name,
                Key={schema.PARTITION_KEY: {"S": key}},
                UpdateExpression="SET #state = :state, #at = :at",
                ExpressionAttributeNames={"#state": alerts.ALERT_STATE, "#at": stamp},
                ExpressionAttributeValues={":state": {"S": state.value}, ":at": {"S": at}},
            )
        except ClientError as error:
            raise _write_error(self.name, error) from error
        except BotoCoreError as error:
            raise TableWriteError(f"table {self.name}: {error}") from error


def _write_error(table: str, error: ClientError) -> Exception:
    """The error of a failed write or read: DynamoDB's refusal is permanent, with its message; anything else (what
    botocore's retries left: throttling, 5xx) may pass, and is retried by SQS."""
    code = error_code(error)
    if code == "ResourceNotFoundException":
        return TableNotFoundError(f"table {table} does not exist")
    message = str(error.response.get("Error", {}).get("Message") or "")
    if code == REFUSED:
        return ItemRejectedError(f"table {table}: {code}: {message}" if message else f"table {table}: {code}")
    retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
    attempts = f" after {retries + 1} attempts" if isinstance(retries, int) else ""
    return TableWriteError(f"table {table}: {code or error}{attempts}" + (f": {message}" if message else ""))


def _content(item: Mapping[str, Any]) -> str | None:
    """The content hash of a stored or new item (computed from the event for items stored before the hash)."""
    value = item.get(CONTENT_ATTRIBUTE, {}).get("S")
    if value:
        return str(value)
    text = event_text(item)
    if not text:
        return None
    try:
        return content_sha256(json.loads(text))
    except ValueError:
        return None
