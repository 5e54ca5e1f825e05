"""Access patterns as DynamoDB Query requests, and merging their pages newest first. Pure."""

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from redtrail.contracts import schema

Item = dict[str, Any]
RunQuery = Callable[[dict[str, Any]], Iterator[Item]]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What to look for. The most selective key picks the index; other filters narrow its results."""

    since: datetime
    until: datetime
    event_name: str | None = None
    principal: str | None = None
    resource: str | None = None
    account: str | None = None
    source: str | None = None
    writes_only: bool = False
    rejected: bool = False  # the quarantine: records kept with a reason, by ingestion time


def plan(query: EventQuery) -> tuple[schema.Index, list[str]]:
    """The index to query and its partition values (one Query each)."""
    if query.since > query.until:
        raise ValueError("--since is after --until")
    since, until = query.since.astimezone(UTC).date(), query.until.astimezone(UTC).date()
    if query.rejected:
        return schema.BY_REJECTED, schema.months_between(since, until)
    for index, value in (
        (schema.BY_EVENT_NAME, query.event_name),
        (schema.BY_PRINCIPAL, query.principal),
        (schema.BY_RESOURCE, query.resource),
        (schema.BY_ACCOUNT, query.account),
    ):
        if value:
            return index, [value]
    index = schema.BY_WRITE if query.writes_only else schema.BY_TIME
    return index, schema.buckets_between(since, until)


def requests(query: EventQuery) -> list[dict[str, Any]]:
    """The Query requests (without TableName) that together answer ``query``, newest partition first."""
    index, partitions = plan(query)
    names = {"#pk": index.partition_key, "#t": index.sort_key}
    values: dict[str, Any] = {
        ":since": {"S": query.since.astimezone(UTC).strftime(TIME_FORMAT)},
        ":until": {"S": query.until.astimezone(UTC).strftime(TIME_FORMAT)},
    }
    filters: list[str] = []
    for attribute, value in (
        ("eventName", query.event_name),
        ("principal", query.principal),
        ("resource", query.resource),
        ("recipientAccountId", query.account),
        ("eventSource", query.source),
    ):
        if value and attribute != index.partition_key:
            placeholder = f"f{len(filters)}"
            names[f"#{placeholder}"] = attribute
            values[f":{placeholder}"] = {"S": value}
            filters.append(f"#{placeholder} = :{placeholder}")
    if query.writes_only and index is not schema.BY_WRITE:
        names["#w"] = "isWrite"
        values[":w"] = {"BOOL": True}
        filters.append("#w = :w")
    built = []
    for partition in partitions:
        request: dict[str, Any] = {
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk AND #t BETWEEN :since AND :until",
            "ExpressionAttributeNames": dict(names),
            "ExpressionAttributeValues": {**values, ":pk": {"S": partition}},
            "ScanIndexForward": False,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        built.append(request)
    return built


def run(query: EventQuery, run_query: RunQuery, limit: int | None = None) -> Iterator[Item]:
    """Items matching ``query``, newest first, at most ``limit``; pages are fetched only as needed."""
    index, _ = plan(query)
    built = requests(query)
    if index in (schema.BY_TIME, schema.BY_WRITE, schema.BY_REJECTED):
        # Shards of one month are merged; months never overlap, so they are simply chained.
        by_month: Iterable[Iterator[Item]] = (
            heapq.merge(*(run_query(request) for request in month_requests), key=_event_time, reverse=True)
            for _, month_requests in groupby(built, key=lambda r: r["ExpressionAttributeValues"][":pk"]["S"][:7])
        )
        results: Iterator[Item] = (item for month in by_month for item in month)
    else:
        results = run_query(built[0])
    for count, item in enumerate(results):
        if limit is not None and count >= limit:
            return
        yield item


def _event_time(item: Item) -> str:
    return str((item.get("eventTime") or item.get("ingestedAt") or {}).get("S", ""))
