"""The per-object path shared by the Lambda and ``redtrail ingest``: read, decode, classify, write.

I/O comes in through two callables (``read``, ``write``), so this module makes no AWS calls itself.
"""

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from redtrail.classify import MatchedBy, classify
from redtrail.items import InvalidRecordError, Item, build_item
from redtrail.notifications import TrailObject
from redtrail.trail_file import SkipReason, records_of, skip_reason

ReadObject = Callable[[TrailObject], bytes]
WriteItems = Callable[[Sequence[Item]], int]


class Status(StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"


@dataclass(slots=True)
class FileOutcome:
    """What happened to one trail object."""

    source: str
    status: Status = Status.PROCESSED
    skip_reason: SkipReason | None = None
    records: int = 0
    kept: int = 0
    written: int = 0
    write_events: int = 0
    sensitive_events: int = 0
    encryption_context_matches: int = 0
    rejected: int = 0
    duplicates: int = 0
    by_source: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Analysis:
    """The items of one decoded file and what was counted on the way."""

    items: list[Item]
    outcome: FileOutcome


def analyze(
    records: Sequence[Any],
    *,
    source: str,
    retention_days: int | None = None,
    sensitive_event_names: Collection[str] = (),
) -> Analysis:
    """Classify ``records`` and build one item per kept event (first occurrence of an eventID wins)."""
    outcome = FileOutcome(source=source, records=len(records))
    items: dict[str, Item] = {}
    for record in records:
        if not isinstance(record, Mapping):
            outcome.rejected += 1
            continue
        match = classify(record)
        if match is None:
            continue
        try:
            item = build_item(record, match, source_object=source, retention_days=retention_days)
        except InvalidRecordError:
            outcome.rejected += 1
            continue
        event_id = item["eventID"]["S"]
        if event_id in items:
            outcome.duplicates += 1
            continue
        items[event_id] = item
        outcome.kept += 1
        outcome.by_source[str(record.get("eventSource") or "unknown")] += 1
        if item["isWrite"]["BOOL"]:
            outcome.write_events += 1
        if record.get("eventName") in sensitive_event_names:
            outcome.sensitive_events += 1
        if match.matched_by is MatchedBy.ENCRYPTION_CONTEXT:
            outcome.encryption_context_matches += 1
    return Analysis(list(items.values()), outcome)


def process_object(
    trail_object: TrailObject,
    *,
    read: ReadObject,
    write: WriteItems,
    retention_days: int | None = None,
    sensitive_event_names: Collection[str] = (),
) -> FileOutcome:
    """Read one trail object, keep its Redshift-family events and write them; raises on failure."""
    reason = skip_reason(trail_object.key)
    if reason is not None:
        return FileOutcome(source=trail_object.uri, status=Status.SKIPPED, skip_reason=reason)
    records = records_of(read(trail_object))
    if records is None:
        return FileOutcome(source=trail_object.uri, status=Status.SKIPPED, skip_reason=SkipReason.NO_RECORDS)
    analysis = analyze(
        records,
        source=trail_object.uri,
        retention_days=retention_days,
        sensitive_event_names=sensitive_event_names,
    )
    if analysis.items:
        analysis.outcome.written = write(analysis.items)
    return analysis.outcome
