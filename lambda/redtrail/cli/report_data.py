"""What ``redtrail report`` reads: the period's events and detections (Query only), the stored records of the
datashare calls and failed attempts it lists (BatchGetItem), and the pipeline's health (the ledger, the
dead-letter queue)."""

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from redtrail.cli import verify
from redtrail.cli.output import plain
from redtrail.cli.report import FAILED_SHOWN, Health, ReportData
from redtrail.core import queries
from redtrail.core.items import event_text
from redtrail.core.ledger import now_text

RunQuery = queries.RunQuery
# eventIDs -> their stored items (low-level, with ``event`` or ``eventGzip``): ``EventTable.records``
StoredRecords = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]
# The Redshift API's datashare calls that name a consumer (CloudTrail's lower-cased request members).
DATASHARE_CALLS = frozenset(
    {"AuthorizeDataShare", "DeauthorizeDataShare", "AssociateDataShareConsumer", "DisassociateDataShareConsumer"}
)


def event_query(since: datetime, until: datetime, scope: str | None = None) -> queries.EventQuery:
    """The events the report reads: every event of the period, or of one resource (``byResource``)."""
    return queries.EventQuery(since, until, resource=scope)


def collect(
    run_query: RunQuery,
    records: StoredRecords,
    ledger: verify.LedgerView,
    dead_letters: int,
    *,
    since: datetime,
    until: datetime,
    scope: str | None = None,
    origin: str = "",
) -> ReportData:
    """The report's data for ``[since, until]``, about one resource (``kind:name``) or all of them."""
    events = [plain(item) for item in queries.run(event_query(since, until, scope), run_query)]
    detections = [plain(item) for item in queries.run_alerts(queries.AlertQuery(since, until), run_query)]
    if scope:
        detections = [row for row in detections if row.get("resource") == scope]
    shared = [row for row in events if row.get("eventName") in DATASHARE_CALLS]
    # the failed attempts the report lists, with their user agent
    listed = {str(row["eventID"]) for row in [row for row in events if row.get("errorCode")][:FAILED_SHOWN]}
    wanted = [*(str(row["eventID"]) for row in shared), *listed]
    stored = {event_id: _record(item) for event_id, item in records(wanted).items()} if wanted else {}
    events = [
        {**row, "userAgent": _text(stored.get(str(row["eventID"]), {}).get("userAgent"))}
        if str(row.get("eventID")) in listed
        else row
        for row in events
    ]
    datashares = [{**row, "consumer": _consumer(stored.get(str(row["eventID"]), {}), row)} for row in shared]
    sources = sorted({str(row["sourceObject"]) for row in events if row.get("sourceObject")})
    proved = verify.provenance([{"sourceObject": source} for source in sources], ledger)
    files = Counter(str(row["provenance"]) for row in proved)
    found = verify.report(ledger, verify.Scope(now_text(since), now_text(until)))
    health = Health(dict(files), dead_letters, found)
    return ReportData(since, until, events, detections, datashares, health, scope, origin)


def _record(item: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record of an item (inflated when stored compressed); empty when it is not JSON."""
    try:
        record = json.loads(event_text(item) or "")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _consumer(record: Mapping[str, Any], row: Mapping[str, Any]) -> str | None:
    """The consumer a datashare call names: an account, a namespace ARN, the caller's whole account, a region."""
    parameters = record.get("requestParameters")
    if not isinstance(parameters, dict):
        return None
    consumer = _text(parameters.get("consumerIdentifier") or parameters.get("consumerArn"))
    if consumer is None and parameters.get("associateEntireAccount") is True:
        consumer = f"account {row.get('recipientAccountId') or '?'} (entire account)"
    region = _text(parameters.get("consumerRegion"))
    if region:
        return f"{consumer} ({region})" if consumer else f"region {region}"
    return consumer


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
