"""Access patterns as DynamoDB Query requests, and merging their pages newest first. Pure."""

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby, islice
from typing import Any

from redtrail.contracts import alerts, schema
from redtrail.core.detections import RULES_BY_ID, Severity, highest

Item = dict[str, Any]
RunQuery = Callable[[dict[str, Any]], Iterator[Item]]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_IN_OPERANDS = 100  # DynamoDB: values of one IN
# A plan of more Queries is said before it runs: a time range is one Query per month and shard.
MAX_QUERIES_UNSAID = 100
_SEVERITIES = {severity.value: severity for severity in Severity}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What to look for. The most selective key picks the index; other filters narrow its results."""

    since: datetime
    until: datetime
    event_name: str | None = None
    principal: str | None = None
    actor: str | None = None
    resource: str | None = None
    account: str | None = None
    source: str | None = None
    writes_only: bool = False
    # Failed calls (an errorCode stored), or those that failed with this errorCode (AccessDenied...).
    errors_only: bool = False
    error_code: str | None = None
    rejected: bool = False  # the quarantine: records kept with a reason, by ingestion time
    # Events a rule detected, or with a detection of one of these severities: read from the detection items.
    detection: str | None = None
    severities: tuple[Severity, ...] = ()
    # eventNames left out (``--alarmed``: the routine write-type names the WriteEvents alarm does not count).
    excluded_event_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Detection items in a time range: of one rule, and of some severities (none given: every severity)."""

    since: datetime
    until: datetime
    rule: str | None = None
    severities: tuple[Severity, ...] = ()

    def as_event_query(self) -> EventQuery:
        """The event query over the same detection items."""
        severities = self.severities or (() if self.rule else tuple(Severity))
        return EventQuery(self.since, self.until, detection=self.rule, severities=severities)


def severity_levels(text: str) -> tuple[Severity, ...]:
    """``high``: exactly high; ``high+``: high or above. ValueError naming the valid levels otherwise."""
    name, or_above = (text[:-1], True) if text.endswith("+") else (text, False)
    level = _SEVERITIES.get(name.strip().lower())
    if level is None:
        valid = ", ".join(_SEVERITIES)
        raise ValueError(f"unknown severity {text!r}: use one of {valid}, or one with + for it and above (high+)")
    return tuple(severity for severity in Severity if severity.rank >= level.rank) if or_above else (level,)


def known_rule(rule_id: str) -> str:
    """``rule_id`` when the catalogue has it; ValueError naming the valid ids otherwise."""
    if rule_id not in RULES_BY_ID:
        raise ValueError(f"unknown rule {rule_id!r}: use one of {', '.join(RULES_BY_ID)}")
    return rule_id


def plan(query: EventQuery) -> tuple[schema.Index, list[str]]:
    """The index to query and its partition values (one Query each)."""
    if query.since > query.until:
        raise ValueError("--since is after --until")
    since, until = query.since.astimezone(UTC).date(), query.until.astimezone(UTC).date()
    if query.rejected:
        errors = query.errors_only or query.error_code
        if query.detection or query.severities or query.writes_only or query.excluded_event_names or errors:
            # quarantined records have none of these attributes: the filter would hide them all
            raise ValueError(
                "--rejected lists quarantined records: it takes no --detection, --severity, --writes-only, "
                "--alarmed, --errors-only or --error-code"
            )
        return schema.BY_REJECTED, schema.months_between(since, until)
    # Detections are far fewer than events: their indexes are the most selective.
    if query.detection:
        return schema.BY_DETECTION, [known_rule(query.detection)]
    if query.severities:
        return schema.BY_SEVERITY, [severity.value for severity in dict.fromkeys(query.severities)]
    # A resource before the other keys: only its own two indexes find the events of what belongs to it (no event
    # index projects ``parentResource``, so no filter on another index can tell them).
    for index, value in (
        (schema.BY_RESOURCE, query.resource),
        (schema.BY_EVENT_NAME, query.event_name),
        (schema.BY_PRINCIPAL, query.principal),
        (schema.BY_ACTOR, query.actor),
        (schema.BY_ACCOUNT, query.account),
    ):
        if value:
            return index, [value]
    index = schema.BY_WRITE if query.writes_only else schema.BY_TIME
    return index, schema.buckets_between(since, until)


@dataclass(frozen=True, slots=True)
class Cost:
    """How many Queries a plan makes: one per partition at least (more when one has pages), fewer only when the
    limit of rows is reached first."""

    index: schema.Index
    queries: int
    why: str

    @property
    def is_costly(self) -> bool:
        """Whether the plan is worth a word before it runs."""
        return self.queries > MAX_QUERIES_UNSAID

    def describe(self) -> str:
        return f"this query may make {self.queries} DynamoDB Queries ({self.why})"


def cost(query: EventQuery) -> Cost:
    """What ``query`` costs, and why, in words: a time range on ``byTime``, ``byWrite`` or ``byRejected`` asks every
    month (and shard) of the range, whatever the filters that are not keys (``--source``) keep of it."""
    index, partitions = plan(query)
    if index in (schema.BY_TIME, schema.BY_WRITE):
        months = len(partitions) // schema.TIME_SHARDS
        why = f"{_counted(months, 'month')} x {schema.TIME_SHARDS} shards of the {index.name} index"
        filters = [
            flag
            for flag, value in (
                ("--source", query.source),
                ("--errors-only", query.errors_only and not query.error_code),
                ("--error-code", query.error_code),
                ("--alarmed", query.excluded_event_names),
            )
            if value
        ]
        if filters:
            why += f"; {' and '.join(filters)} only filter{'s' if len(filters) == 1 else ''} what they return"
    elif index is schema.BY_REJECTED:
        why = f"{_counted(len(partitions), 'month')} of the {index.name} index"
    elif index is schema.BY_RESOURCE:
        why = f"{_counted(len(partitions), 'value')} of the {index.name} and {schema.BY_PARENT_RESOURCE.name} indexes"
        return Cost(index, 2 * len(partitions), why)
    else:
        why = f"{_counted(len(partitions), 'value')} of the {index.name} index"
    return Cost(index, len(partitions), why)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
        ("actor", query.actor),
        ("recipientAccountId", query.account),
        ("eventSource", query.source),
        ("errorCode", query.error_code),
    ):
        if value and attribute != index.partition_key:
            placeholder = f"f{len(filters)}"
            names[f"#{placeholder}"] = attribute
            values[f":{placeholder}"] = {"S": value}
            filters.append(f"#{placeholder} = :{placeholder}")
    if query.errors_only and not query.error_code:
        names["#e"] = "errorCode"
        filters.append("attribute_exists(#e)")
    if query.resource and index is not schema.BY_RESOURCE:  # the detection items: the resource, or its parent's
        names["#r"], names["#rp"] = schema.BY_RESOURCE.partition_key, schema.BY_PARENT_RESOURCE.partition_key
        values[":r"] = {"S": query.resource}
        filters.append("(#r = :r OR #rp = :r)")
    if query.writes_only and index is not schema.BY_WRITE:
        names["#w"] = "isWrite"
        values[":w"] = {"BOOL": True}
        filters.append("#w = :w")
    if query.severities and index is schema.BY_DETECTION:
        names["#s"] = alerts.ALERT_SEVERITY
        filters.append(f"#s IN ({_operands(values, 's', [severity.value for severity in query.severities])})")
    excluded = list(dict.fromkeys(query.excluded_event_names))
    for number, start in enumerate(range(0, len(excluded), MAX_IN_OPERANDS)):
        names["#n"] = "eventName"
        chunk = excluded[start : start + MAX_IN_OPERANDS]
        filters.append(f"NOT #n IN ({_operands(values, f'n{number}_', chunk)})")
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
    if index is schema.BY_RESOURCE:
        built.append(_parent_request(built[0]))
    return built


def _parent_request(own: dict[str, Any]) -> dict[str, Any]:
    """The Query of ``byParentResource`` beside the ``byResource`` one: the same key and range, no filter (the index
    has the keys only; ``fetch_request`` applies the filter to each event it finds)."""
    return {
        "IndexName": schema.BY_PARENT_RESOURCE.name,
        "KeyConditionExpression": own["KeyConditionExpression"],
        "ExpressionAttributeNames": {"#pk": schema.BY_PARENT_RESOURCE.partition_key, "#t": schema.SORT_ATTRIBUTE},
        "ExpressionAttributeValues": {
            key: own["ExpressionAttributeValues"][key] for key in (":pk", ":since", ":until")
        },
        "ScanIndexForward": False,
    }


# What an event read whole from the table shows: what ``byResource`` projects, and the parent it was found by.
_FETCHED = (schema.PARTITION_KEY, *schema.SUMMARY_ATTRIBUTES, schema.BY_PARENT_RESOURCE.partition_key)
_KEY_PLACEHOLDERS = frozenset({"#pk", "#t", ":pk", ":since", ":until"})


def fetch_request(own: dict[str, Any], event_id: str) -> dict[str, Any]:
    """A Query of the table for one event found in ``byParentResource``, with the filter of ``own`` (the
    ``byResource`` Query): it returns the event's summary when the event passes the filter, else nothing."""
    names = {key: value for key, value in own["ExpressionAttributeNames"].items() if key not in _KEY_PLACEHOLDERS}
    values = {key: value for key, value in own["ExpressionAttributeValues"].items() if key not in _KEY_PLACEHOLDERS}
    names["#id"] = schema.PARTITION_KEY
    values[":id"] = {"S": event_id}
    shown = [f"#a{number}" for number in range(len(_FETCHED))]
    names.update(zip(shown, _FETCHED, strict=True))
    request: dict[str, Any] = {
        "KeyConditionExpression": "#id = :id",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ProjectionExpression": ", ".join(shown),
    }
    if "FilterExpression" in own:
        request["FilterExpression"] = own["FilterExpression"]
    return request


def _operands(values: dict[str, Any], prefix: str, texts: Iterable[str]) -> str:
    """Placeholders for string operands, added to ``values``."""
    placeholders = []
    for number, text in enumerate(texts):
        values[f":{prefix}{number}"] = {"S": text}
        placeholders.append(f":{prefix}{number}")
    return ", ".join(placeholders)


def run(query: EventQuery, run_query: RunQuery, limit: int | None = None) -> Iterator[Item]:
    """Items matching ``query``, newest first, at most ``limit``; pages are fetched only as needed.

    From the detection indexes, each event comes once, as a row made of its detection items (see ``event_rows``).
    """
    index, _ = plan(query)
    results = _merged(index, requests(query), run_query)
    if index in (schema.BY_DETECTION, schema.BY_SEVERITY):
        results = event_rows(results)
    elif index is not schema.BY_REJECTED:
        results = events_only(results)
    return _limited(results, limit)


def events_only(items: Iterable[Item]) -> Iterator[Item]:
    """The events among ``items``, not redtrail's own items: detection items copy eventName, principal, actor,
    resource and account, so the event indexes keyed by those hold them too."""
    return (item for item in items if not _key(item).startswith(schema.NOT_EVENT_PREFIXES))


def run_alerts(query: AlertQuery, run_query: RunQuery, limit: int | None = None) -> Iterator[Item]:
    """The detection items ``query`` asks for, newest first, at most ``limit``."""
    event_query = query.as_event_query()
    index, _ = plan(event_query)
    return _limited(_merged(index, requests(event_query), run_query), limit)


def _merged(index: schema.Index, built: list[dict[str, Any]], run_query: RunQuery) -> Iterator[Item]:
    if index in (schema.BY_TIME, schema.BY_WRITE, schema.BY_REJECTED):
        # Shards of one month are merged; months never overlap, so they are simply chained.
        by_month: Iterable[Iterator[Item]] = (
            heapq.merge(*(run_query(request) for request in month_requests), key=_event_time, reverse=True)
            for _, month_requests in groupby(built, key=lambda r: r["ExpressionAttributeValues"][":pk"]["S"][:7])
        )
        return (item for month in by_month for item in month)
    if index is schema.BY_RESOURCE:  # the resource's own events and those of what belongs to it
        own, parent = built
        found = _fetched(run_query(parent), own, run_query)
        return heapq.merge(run_query(own), found, key=_event_time, reverse=True)
    if len(built) > 1:  # severity levels, whose times overlap
        return heapq.merge(*(run_query(request) for request in built), key=_event_time, reverse=True)
    return run_query(built[0])


def _fetched(keys: Iterator[Item], own: dict[str, Any], run_query: RunQuery) -> Iterator[Item]:
    """The events ``byParentResource`` found, each read from the table as it is needed, those the filter keeps."""
    for key in keys:
        yield from run_query(fetch_request(own, _key(key)))


def _limited(results: Iterator[Item], limit: int | None) -> Iterator[Item]:
    # islice stops at the limit without asking for one more: each event found by its parent costs a read.
    return results if limit is None else islice(results, limit)


def event_rows(detection_items: Iterable[Item]) -> Iterator[Item]:
    """Detection items, newest first, as the rows of their events: one per event, ``eventID`` the event's,
    the attributes the items copied, ``severity`` the highest of those detections and ``detections`` their rules.
    """
    # All items of one event share its eventTime: grouping each run of one time finds them all.
    for _, same_time in groupby(detection_items, key=_event_time):
        by_event: dict[str, list[Item]] = {}
        for item in same_time:
            by_event.setdefault(_event_of(item), []).append(item)
        for event_id, found in by_event.items():
            yield _event_row(event_id, found)


def _event_row(event_id: str, found: list[Item]) -> Item:
    """One event's row; its rules most severe first."""
    row: Item = {schema.PARTITION_KEY: {"S": event_id}}
    row.update({name: found[0][name] for name in alerts.COPIED_ATTRIBUTES if name in found[0]})
    if alerts.ALERT_TIME in found[0]:
        row["eventTime"] = found[0][alerts.ALERT_TIME]
    levels = [_SEVERITIES.get(item.get(alerts.ALERT_SEVERITY, {}).get("S", "")) for item in found]
    severity = highest(level for level in levels if level is not None)
    if severity is not None:
        row["severity"] = {"S": severity.value}
    ranked = sorted(zip(levels, found, strict=True), key=lambda pair: -pair[0].rank if pair[0] else 1)
    rules = dict.fromkeys(str(item[alerts.ALERT_RULE]["S"]) for _, item in ranked if alerts.ALERT_RULE in item)
    row["detections"] = {"L": [{"S": rule} for rule in rules]}
    return row


def _event_of(item: Item) -> str:
    """The eventID a detection item is about: ``alertEvent``, else the one in its key."""
    event_id = item.get(alerts.ALERT_EVENT, {}).get("S")
    if event_id:
        return str(event_id)
    return _key(item).removeprefix(schema.ALERT_PREFIX).rpartition(schema.KEY_SEPARATOR)[0]


def _key(item: Item) -> str:
    return str(item.get(schema.PARTITION_KEY, {}).get("S", ""))


def _event_time(item: Item) -> str:
    return str((item.get("eventTime") or item.get(alerts.ALERT_TIME) or item.get("ingestedAt") or {}).get("S", ""))
