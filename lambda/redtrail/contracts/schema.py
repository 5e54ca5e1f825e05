"""The event table: keys, secondary indexes and TTL, defined once for the stack, the Lambda and the CLI.

Every access pattern is a Query on one index with the time range on the sort key ``eventTime``:

* ``byTime``   all events:        partition ``timeBucket``  = ``YYYY-MM#<shard>``
* ``byWrite``  write-type events: partition ``writeBucket`` = the same value, set only on writes (sparse)
* ``byEventName``, ``byPrincipal``, ``byResource``, ``byAccount``: partition = that value
* ``byParentResource`` (sparse, keys only): partition ``parentResource``, what the resource belongs to (a snapshot's
  cluster), so that a query by a cluster finds its snapshots' events too

The month buckets are split into ``TIME_SHARDS`` shards (by a hash of ``eventID``) so that the current
month's writes spread over several partitions instead of one hot one; a time-range query asks each
(month, shard) pair and merges the results by ``eventTime``. Months, not days, keep that fan-out small
for long ranges (a year is 48 Queries); the hot partition is the current bucket whatever its length,
so only the shard count decides the write ceiling.
"""

import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

PARTITION_KEY = "eventID"
SORT_ATTRIBUTE = "eventTime"
TTL_ATTRIBUTE = "expiresAt"
TIME_SHARDS = 4
MAX_RANGE_MONTHS = 240


# What an event index query returns besides the keys. The full record (``event``) and the finer identity
# fields stay in the table only, so the indexes cost a fraction of the writes and storage, and all of them
# together stay under DynamoDB's limit of 100 projected non-key attributes; GetItem by eventID has the rest.
SUMMARY_ATTRIBUTES: tuple[str, ...] = (
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "matchedBy",
    "redshiftServiceAccountRegion",
    "isWrite",
    "errorCode",
    "principal",
    "actor",
    "resource",
    "sourceIPAddress",
    "sourceObject",
    "severity",
)
MAX_PROJECTED_ATTRIBUTES = 100  # DynamoDB: NonKeyAttributes summed over all secondary indexes


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index keyed by one string attribute and ``eventTime`` (or another sort key)."""

    name: str
    partition_key: str
    sort_key: str = SORT_ATTRIBUTE
    projection: tuple[str, ...] = SUMMARY_ATTRIBUTES  # none (and not projects_all): the keys only
    projects_all: bool = False  # the ledger's small items: every attribute

    @property
    def projection_type(self) -> str:
        """DynamoDB's ProjectionType: ``ALL``, ``INCLUDE`` (the named attributes) or ``KEYS_ONLY``."""
        if self.projects_all:
            return "ALL"
        return "INCLUDE" if projected_attributes(self) else "KEYS_ONLY"


BY_TIME = Index("byTime", "timeBucket")
BY_WRITE = Index("byWrite", "writeBucket")
BY_EVENT_NAME = Index("byEventName", "eventName")
BY_PRINCIPAL = Index("byPrincipal", "principal")
BY_RESOURCE = Index("byResource", "resource")
# What an event's resource belongs to (a snapshot's cluster, a workgroup's namespace, a datashare's namespace),
# written only when the event names it. Keys only: the summaries would take 13 of the 100 projected attributes
# DynamoDB allows a table (95 are used), and projecting every attribute would copy each event into the index.
# A query reads each event it finds here from the table (``queries.run``), with its filters.
BY_PARENT_RESOURCE = Index("byParentResource", "parentResource", projection=())
BY_ACCOUNT = Index("byAccount", "recipientAccountId")
BY_ACTOR = Index("byActor", "actor")
# Records that could not be stored as events (quarantined, with their reason), by month of ingestion.
BY_REJECTED = Index("byRejected", "rejectedMonth", "ingestedAt", ("rejectReason", "sourceObject"))
# The ledger (log files, digests, chains, problems; docs/architecture.md): partition by what is asked, sort by time.
BY_LEDGER = Index("byLedger", "ledgerPartition", "ledgerSort", (), projects_all=True)
# Detections: one small item per (event, rule), keyed ``alert#<eventID>#<rule>``, which also records whether its
# alert was sent. Keyed by rule and by severity, so that either is one Query; they project the whole item. Their
# time is ``alertTime`` (the event's time): having no ``eventTime``, they are in none of the event indexes.
BY_DETECTION = Index("byDetection", "alertRule", "alertTime", (), projects_all=True)
BY_SEVERITY = Index("bySeverity", "alertSeverity", "alertTime", (), projects_all=True)

INDEXES: tuple[Index, ...] = (
    BY_TIME,
    BY_WRITE,
    BY_EVENT_NAME,
    BY_PRINCIPAL,
    BY_RESOURCE,
    BY_ACCOUNT,
    BY_ACTOR,
    BY_REJECTED,
    BY_LEDGER,
    BY_DETECTION,
    BY_SEVERITY,
    BY_PARENT_RESOURCE,
)

# Keys of the items that are not events: an event whose eventID holds the separator is quarantined instead,
# so that no file can write into these keyspaces.
KEY_SEPARATOR = "#"
REJECTED_PREFIX = "rejected#"
LOG_PREFIX = "log#"
DIGEST_PREFIX = "digest#"
CHAIN_PREFIX = "chain#"
NAMESPACE_PREFIX = "namespace#"
PROBLEM_PREFIX = "problem#"
LEDGER_PREFIXES = (LOG_PREFIX, DIGEST_PREFIX, CHAIN_PREFIX, NAMESPACE_PREFIX, PROBLEM_PREFIX)
ALERT_PREFIX = "alert#"
NOT_EVENT_PREFIXES = (*LEDGER_PREFIXES, ALERT_PREFIX)  # besides the quarantine's REJECTED_PREFIX


def alert_key(event_id: str, rule: str) -> str:
    """The key of the detection item of one event and rule."""
    return f"{ALERT_PREFIX}{event_id}{KEY_SEPARATOR}{rule}"


def projected_attributes(index: Index) -> list[str]:
    """The non-key attributes an index names (none when it projects all: those do not count to the limit)."""
    if index.projects_all:
        return []
    keys = {PARTITION_KEY, index.partition_key, index.sort_key}
    return [name for name in index.projection if name not in keys]


def projection(index: Index) -> dict[str, Any]:
    """The ``Projection`` of an index in a CreateTable request."""
    if index.projection_type == "INCLUDE":
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected_attributes(index)}
    return {"ProjectionType": index.projection_type}


def key_attributes() -> list[str]:
    """Every attribute that is a table or index key (all of type string)."""
    names = [PARTITION_KEY]
    for index in INDEXES:
        for name in (index.partition_key, index.sort_key):
            if name not in names:
                names.append(name)
    return names


def time_bucket(event_time: str, event_id: str) -> str | None:
    """The ``byTime`` partition of an event: its UTC month and a stable shard, or None if the time is odd."""
    month = event_time[:7]
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        return None
    return f"{month}#{shard_of(event_id)}"


def shard_of(event_id: str) -> int:
    """A stable shard number for an event ID (CRC-32: unlike hash(), the same in every process)."""
    return zlib.crc32(event_id.encode("utf-8", "surrogatepass")) % TIME_SHARDS


def months_between(start: date, end: date) -> list[str]:
    """Every month (``YYYY-MM``) from ``start`` to ``end`` inclusive, newest first."""
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    if last - first >= MAX_RANGE_MONTHS:
        raise ValueError(f"time range of {last - first + 1} months is longer than {MAX_RANGE_MONTHS}")
    return [f"{month // 12:04d}-{month % 12 + 1:02d}" for month in range(last, first - 1, -1)]


def buckets_between(start: date, end: date) -> list[str]:
    """Every ``byTime`` partition value for the months from ``start`` to ``end`` inclusive, newest first."""
    return [f"{month}#{shard}" for month in months_between(start, end) for shard in range(TIME_SHARDS)]


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
                "Projection": projection(index),
            }
            for index in INDEXES
        ],
    }
