"""The per-object path shared by the Lambda and ``redtrail ingest``: read, decode, classify, write.

I/O comes in through two callables (``read``, ``write``), so this module makes no AWS calls itself.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from redtrail.contracts.settings import PipelineOptions
from redtrail.core.classify import MatchedBy, classify
from redtrail.core.detections import Detection, DetectionContext, detect
from redtrail.core.items import (
    CONTENT_ATTRIBUTE,
    InvalidRecordError,
    Item,
    ItemTooLargeError,
    build_item,
    quarantine_item,
    quarantine_stub,
    redacted,
)
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.selective_reader import Selection, load_picked, select, select_text
from redtrail.core.trail_file import SkipReason, decompress, records_in, skip_reason
from redtrail.core.trail_keys import parse_log_key

ReadObject = Callable[[TrailObject], StoredObject]
WriteItems = Callable[[Sequence[Item]], "StoredItems"]


@dataclass(frozen=True, slots=True)
class Conflict:
    """An eventID already stored from another file with other content: the first stays, this one is not stored."""

    event_id: str
    stored_from: str


@dataclass(frozen=True, slots=True)
class Refused:
    """An event item DynamoDB refused (its message the reason): its record was quarantined instead."""

    event_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class StoredItems:
    """What a write did: items written (quarantine items among them), items already stored with the same content,
    conflicts, and event items DynamoDB refused, whose records were quarantined instead.

    A write that fails part of the way raises with ``error.written``: the items it had written before."""

    written: int = 0
    unchanged: int = 0
    conflicts: tuple[Conflict, ...] = ()
    refused: tuple[Refused, ...] = ()


@dataclass(frozen=True, slots=True)
class Detected:
    """A kept event and the detection rules it matched."""

    item: Item
    detections: tuple[Detection, ...]

    @property
    def event_id(self) -> str:
        return str(self.item["eventID"]["S"])


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
    rejected: int = 0  # records that are not JSON objects (counted, not stored)
    quarantined: int = 0  # Redshift-family records kept as rejected#… items with their reason
    duplicates: int = 0  # the same eventID twice in the file: the first is kept
    duplicates_differing: int = 0  # of those, copies with other content than the one kept
    unchanged: int = 0  # already stored, same content (a file delivered twice, an organization trail's copy)
    conflicts: tuple[Conflict, ...] = ()  # already stored with other content: nothing stored over it
    by_source: Counter[str] = field(default_factory=Counter)
    detected: list[Detected] = field(default_factory=list)  # after the write: only events stored or unchanged
    sha256: str | None = None  # of the uncompressed text, as CloudTrail's digests hash it
    delivered_at: datetime | None = None  # the object's LastModified


@dataclass(slots=True)
class Analysis:
    """The items of one decoded file and what was counted on the way."""

    items: list[Item]
    outcome: FileOutcome


def analyze(
    records: Sequence[Any],
    *,
    source: str,
    options: PipelineOptions,
    now: datetime | None = None,
    account: str | None = None,
) -> Analysis:
    """Classify ``records`` and build one item per kept event (first occurrence of an eventID wins).

    A kept record that cannot become an event item (no usable eventID or eventTime, too large even compressed,
    or delivered for another account than ``account``, the one its file's key names) is quarantined: kept as a
    ``rejected#…`` item with its reason (one too large even for that: a stub naming its index in ``records``).
    """
    tally = _Tally(source, len(records), options, now, account)
    for position, record in enumerate(records):
        tally.add(record, position=position)
    return tally.analysis()


def analyze_body(
    body: bytes,
    *,
    source: str,
    options: PipelineOptions,
    now: datetime | None = None,
    account: str | None = None,
    hashed: bool = True,
) -> Analysis | None:
    """``analyze(records_of(body))``, same items, counts and errors, without decoding what is not kept; the
    outcome carries the SHA-256 of the uncompressed text, hashed as it inflates (unless not ``hashed``).

    None when the file has no ``Records``. Only the records the selective reader picks are decoded, from their
    own bytes; when it cannot decide, the reference parser (stdlib ``json``) reads the whole file. The picks do
    not say where each record is: a file with a record too large even for the quarantine, whose stub names its
    index, is read again by the reference parser (a malformed file only: CloudTrail's records are at most 256 KB).
    """
    hasher = hashlib.sha256() if hashed else None
    limit = options.max_inflated_bytes
    text = None
    selection = select(body, hasher, limit=limit)  # a large gzip file, hashed as it inflates
    if selection is None:
        text = decompress(body, limit)
        # Inflated into one buffer: hashed while it is in the CPU's caches.
        hasher = hashlib.sha256(text) if hashed else None
        selection = select_text(text)
    analysis = None if selection is None else _analyze_picks(selection, source, options, now, account)
    if analysis is None:
        records = records_in(decompress(body, limit) if text is None else text)
        if records is None:
            return None
        analysis = analyze(records, source=source, options=options, now=now, account=account)
    analysis.outcome.sha256 = hasher.hexdigest() if hasher else None
    return analysis


def _analyze_picks(
    selection: Selection, source: str, options: PipelineOptions, now: datetime | None, account: str | None
) -> Analysis | None:
    """``analyze`` of the records the selective reader picked; None when one needs its index in the file."""
    tally = _Tally(source, selection.count, options, now, account)
    try:
        for raw in selection.picked:
            record, floats = load_picked(raw)
            tally.add(record, floats=floats)
    except _PositionUnknownError:
        return None
    return tally.analysis()


class _PositionUnknownError(Exception):
    """A record needs its index in the file (for its stub), which the selective reader's picks do not carry."""


class _Tally:
    """Items and counts, one record at a time, in file order."""

    def __init__(
        self, source: str, records: int, options: PipelineOptions, now: datetime | None, account: str | None
    ) -> None:
        self.outcome = FileOutcome(source=source, records=records)
        self.items: dict[str, Item] = {}
        self.options = options
        self.now = now  # when quarantined records were ingested; None: the current time
        self.account = account
        self.detection_context = DetectionContext(frozenset(options.datashare_consumers))
        self.routine = frozenset(options.routine_write_event_names)

    def add(self, record: Any, *, floats: bool = True, position: int | None = None) -> None:
        """Count ``record`` and keep its item; ``floats=False``: it holds no float (see ``items.event_json``);
        ``position``: its index in the file's records (None: unknown, see ``analyze_body``)."""
        outcome = self.outcome
        if not isinstance(record, Mapping):
            outcome.rejected += 1
            return
        match = classify(record)
        if match is None:
            return
        recipient = record.get("recipientAccountId")
        if self.account is not None and recipient != self.account:
            reason = (
                f"recipientAccountId {_quoted(recipient)} is not the account {self.account} its file was delivered for"
            )
            self._quarantine(record, reason, floats, position)
            return
        detections = tuple(detect(record, self.detection_context))
        try:
            item = build_item(
                record,
                match,
                source_object=outcome.source,
                retention_days=self.options.retention_days,
                redact_fields=self.options.redact_fields,
                floats=floats,
                detections=detections,
            )
        except InvalidRecordError as error:
            self._quarantine(record, str(error), floats, position)
            return
        event_id = item["eventID"]["S"]
        kept = self.items.get(event_id)
        if kept is not None:
            outcome.duplicates += 1
            if kept[CONTENT_ATTRIBUTE] != item[CONTENT_ATTRIBUTE]:
                outcome.duplicates_differing += 1
            return
        self.items[event_id] = item
        outcome.kept += 1
        outcome.by_source[str(record.get("eventSource") or "unknown")] += 1
        event_name = record.get("eventName")
        routine = isinstance(event_name, str) and event_name in self.routine
        if item["isWrite"]["BOOL"] and not routine:
            outcome.write_events += 1
        if isinstance(event_name, str) and event_name in self.options.sensitive_event_names:
            outcome.sensitive_events += 1
        if detections:
            outcome.detected.append(Detected(item, detections))
        if match.matched_by is MatchedBy.ENCRYPTION_CONTEXT:
            outcome.encryption_context_matches += 1

    def _quarantine(self, record: Mapping[str, Any], reason: str, floats: bool, position: int | None) -> None:
        stored = redacted(record, self.options.redact_fields)
        now = self.now or datetime.now(UTC)
        try:
            item = quarantine_item(stored, reason, source_object=self.outcome.source, now=now, floats=floats)
        except ItemTooLargeError as error:
            # Not even the quarantine can hold it: a stub says what it was and where it is (the trail file is
            # retained), and the rest of the file is stored.
            if position is None:
                raise _PositionUnknownError from error
            reason = reason if reason == str(error) else f"{reason}; {error}"
            reason = f"{reason}; not stored: the record is Records[{position}] of sourceObject"
            item = quarantine_stub(
                stored, reason, source_object=self.outcome.source, now=now, position=position, floats=floats
            )
        if item["eventID"]["S"] not in self.items:
            self.items[item["eventID"]["S"]] = item
            self.outcome.quarantined += 1

    def analysis(self) -> Analysis:
        return Analysis(list(self.items.values()), self.outcome)


def process_object(
    trail_object: TrailObject, *, read: ReadObject, write: WriteItems, options: PipelineOptions, hashed: bool = True
) -> FileOutcome:
    """Read one trail object, keep its Redshift-family events and write them; raises on failure.

    A key in CloudTrail's layout names the account its records are for: records for another are quarantined.
    The outcome has the SHA-256 of the object's text (for the ledger) unless not ``hashed``.
    """
    reason = skip_reason(trail_object.key)
    if reason is not None:
        return FileOutcome(source=trail_object.uri, status=Status.SKIPPED, skip_reason=reason)
    log_key = parse_log_key(trail_object.key)
    account = log_key.namespace.account if log_key else None
    stored = read(trail_object)
    analysis = analyze_body(stored.body, source=trail_object.uri, options=options, account=account, hashed=hashed)
    if analysis is None:
        return FileOutcome(source=trail_object.uri, status=Status.SKIPPED, skip_reason=SkipReason.NO_RECORDS)
    outcome = analysis.outcome
    outcome.delivered_at = stored.modified
    if analysis.items:
        result = write(analysis.items)  # on failure: raises, with ``error.written`` the items written before
        outcome.written, outcome.unchanged, outcome.conflicts = result.written, result.unchanged, result.conflicts
        # Refused by DynamoDB and quarantined in its stead: not an event of the table.
        outcome.kept -= len(result.refused)
        outcome.quarantined += len(result.refused)
        not_stored = {conflict.event_id for conflict in result.conflicts} | {r.event_id for r in result.refused}
        outcome.detected = [found for found in outcome.detected if found.event_id not in not_stored]
    return outcome


def _quoted(value: object, limit: int = 64) -> str:
    """``repr(value)``, cut to ``limit`` characters: a reason may quote a field of any length."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
