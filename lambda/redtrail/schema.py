"""The event table: keys, secondary indexes and TTL, defined once for the stack, the Lambda and the CLI.

Every access pattern is a Query on one index with the time range on the sort key ``eventTime``:

* ``byTime``   all events:        partition ``timeBucket``  = ``YYYY-MM-DD#<shard>``
* ``byWrite``  write-type events: partition ``writeBucket`` = the same value, set only on writes (sparse)
* ``byEventName``, ``byPrincipal``, ``byResource``, ``byAccount``: partition = that value

The day buckets are split into ``TIME_SHARDS`` shards (by a hash of ``eventID``) so that the current
day's writes spread over several partitions instead of one hot one; a time-range query asks each
(day, shard) pair and merges the results by ``eventTime``.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

PARTITION_KEY = "eventID"
SORT_ATTRIBUTE = "eventTime"
TTL_ATTRIBUTE = "expiresAt"
TIME_SHARDS = 4
MAX_BUCKET_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index keyed by one string attribute and ``eventTime``."""

    name: str
    partition_key: str
    sort_key: str = SORT_ATTRIBUTE


BY_TIME = Index("byTime", "timeBucket")
BY_WRITE = Index("byWrite", "writeBucket")
BY_EVENT_NAME = Index("byEventName", "eventName")
BY_PRINCIPAL = Index("byPrincipal", "principal")
BY_RESOURCE = Index("byResource", "resource")
BY_ACCOUNT = Index("byAccount", "recipientAccountId")

INDEXES: tuple[Index, ...] = (BY_TIME, BY_WRITE, BY_EVENT_NAME, BY_PRINCIPAL, BY_RESOURCE, BY_ACCOUNT)

# What an index query returns besides the keys. The full record (``event``) stays in the table only,
# so the indexes cost a fraction of the writes and storage; fetch it by eventID when it is wanted.
SUMMARY_ATTRIBUTES: tuple[str, ...] = (
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "matchedBy",
    "redshiftServiceAccountRegion",
    "readOnly",
    "isWrite",
    "errorCode",
    "principal",
    "principalArn",
    "principalAccountId",
    "identityType",
    "resource",
    "sourceIPAddress",
    "sourceObject",
)


def projected_attributes(index: Index) -> list[str]:
    """The non-key attributes an index projects."""
    keys = {PARTITION_KEY, index.partition_key, index.sort_key}
    return [name for name in SUMMARY_ATTRIBUTES if name not in keys]


def key_attributes() -> list[str]:
    """Every attribute that is a table or index key (all of type string)."""
    names = [PARTITION_KEY]
    for index in INDEXES:
        for name in (index.partition_key, index.sort_key):
            if name not in names:
                names.append(name)
    return names


def time_bucket(event_time: str, event_id: str) -> str | None:
    """The ``byTime`` partition of an event: its UTC day and a stable shard, or None if the time is odd."""
    day = event_time[:10]
    if len(day) != 10 or day[4] != "-" or day[7] != "-" or not (day[:4] + day[5:7] + day[8:]).isdigit():
        return None
    return f"{day}#{shard_of(event_id)}"


def shard_of(event_id: str) -> int:
    """A stable shard number for an event ID (FNV-1a, so it does not depend on PYTHONHASHSEED)."""
    value = 0x811C9DC5
    for byte in event_id.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % TIME_SHARDS


def buckets_between(start: date, end: date) -> list[str]:
    """Every ``byTime`` partition value from ``start`` to ``end`` inclusive, newest first."""
    days = (end - start).days
    if days < 0:
        return []
    if days > MAX_BUCKET_DAYS:
        raise ValueError(f"time range of {days} days is longer than {MAX_BUCKET_DAYS}")
    return [
        f"{(end - timedelta(days=offset)).isoformat()}#{shard}"
        for offset in range(days + 1)
        for shard in range(TIME_SHARDS)
    ]


def create_table_request(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB ``CreateTable`` (the CLI's ``--create-table`` and the local stack)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in key_attributes()],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected_attributes(index)},
            }
            for index in INDEXES
        ],
    }
