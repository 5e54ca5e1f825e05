"""``redtrail alerts``: the detection items of a time range, newest first, and what became of their alerts."""

import json
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


def render(items: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Detection items (low-level DynamoDB ones) as a table, or as plain JSON."""
    found = [output.plain(item) for item in items]
    if fmt == "json":
        return json.dumps(found, indent=2, sort_keys=True)
    rows = [{column: item.get(attribute) for column, attribute in _ATTRIBUTES.items()} for item in found]
    return output.render(rows, "table", COLUMNS, noun="detections")
