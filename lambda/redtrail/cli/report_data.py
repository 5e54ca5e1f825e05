"""What ``redtrail report`` reads: the period's events and detections (Query only), the datashare calls' consumers
(their full records), and the pipeline's health (the ledger, the dead-letter queue)."""

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from redtrail.cli import verify
from redtrail.cli.output import plain
from redtrail.cli.report import Health, ReportData
from redtrail.core import queries
from redtrail.core.ledger import now_text

RunQuery = queries.RunQuery
FullEvents = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]  # eventIDs -> their plain items
DATASHARE_CALLS = frozenset(
    {"AuthorizeDataShare", "DeauthorizeDataShare", "AssociateDataShareConsumer", "DisassociateDataShareConsumer"}
)


def collect(
    run_query: RunQuery,
    full_events: FullEvents,
    ledger: verify.LedgerView,
    dead_letters: int,
    *,
    since: datetime,
    until: datetime,
    scope: str | None = None,
) -> ReportData:
    """The report's data for ``[since, until]``, about one resource (``kind:name``) or all of them."""
    events = [plain(item) for item in queries.run(queries.EventQuery(since, until, resource=scope), run_query)]
    detections = [plain(item) for item in queries.run_alerts(queries.AlertQuery(since, until, None, ()), run_query)]
    if scope:
        detections = [row for row in detections if row.get("resource") == scope]
    shared = [row for row in events if row.get("eventName") in DATASHARE_CALLS]
    records = full_events([str(row["eventID"]) for row in shared]) if shared else {}
    datashares = [{**row, "consumer": _consumer(records.get(str(row["eventID"]), {}))} for row in shared]
    found = verify.report(ledger, verify.Scope(now_text(since), now_text(until)))
    files = len({row.get("sourceObject") for row in events if row.get("sourceObject")})
    return ReportData(since, until, events, detections, datashares, Health(files, dead_letters, found), scope)


def _consumer(item: Mapping[str, Any]) -> str | None:
    """The consumer a datashare call names, from its stored record."""
    try:
        record = json.loads(str(item.get("event", "")))
    except ValueError:
        return None
    parameters = record.get("requestParameters") if isinstance(record, dict) else None
    if not isinstance(parameters, dict):
        return None
    value = parameters.get("consumerIdentifier") or parameters.get("consumerArn") or parameters.get("consumerRegion")
    return str(value) if value else None
