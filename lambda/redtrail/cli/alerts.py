"""``redtrail alerts``: the detection items of a time range, newest first, and what became of their alerts."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from redtrail.cli import output, timeparse
from redtrail.contracts import alerts
from redtrail.core import queries

COLUMNS = ("eventTime", "severity", "rule", "state", "subject", "eventID")
# The table's columns, from the detection items' attributes.
_ATTRIBUTES = {
    "eventTime": alerts.ALERT_TIME,
    "severity": alerts.ALERT_SEVERITY,
    "rule": alerts.ALERT_RULE,
    "state": alerts.ALERT_STATE,
    "subject": alerts.ALERT_SUBJECT,
    "eventID": alerts.ALERT_EVENT,
}


def alert_query(
    since: str, until: str | None, rule: str | None, severity: str | None, now: datetime
) -> queries.AlertQuery:
    """The query of the command's options; ValueError naming the valid ones for an unknown rule or severity."""
    query = queries.AlertQuery(
        since=timeparse.parse_time(since, now),
        until=timeparse.parse_time(until, now) if until else now,
        rule=queries.known_rule(rule) if rule else None,
        severities=queries.severity_levels(severity) if severity else (),
    )
    queries.plan(query.as_event_query())  # a reversed range fails here, before any AWS call
    return query


def document(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Detection items (low-level DynamoDB ones) as plain JSON values."""
    return [output.plain(item) for item in items]


def table(items: Sequence[Mapping[str, Any]]) -> output.Table | str:
    """Detection items as the table's rows, or ``(no detections)``."""
    rows = [{column: item.get(attribute) for column, attribute in _ATTRIBUTES.items()} for item in document(items)]
    return output.event_table(rows, COLUMNS, noun="detection")


def render(items: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Detection items as a plain table, or as plain JSON."""
    if fmt == output.JSON:
        return output.as_json(document(items))
    found = table(items)
    return found.plain() if isinstance(found, output.Table) else found
