"""``redtrail ingest``: the Lambda's per-object path over local files and S3 prefixes, in parallel processes."""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redtrail.cli.output import escape, plural
from redtrail.cli.progress import Progress
from redtrail.contracts.settings import PipelineOptions
from redtrail.core.errors import RedtrailError, StorageError
from redtrail.core.pipeline import FileOutcome, ReadObject, Status, StoredItems, WriteItems, process_object
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_file import SkipReason

if TYPE_CHECKING:
    from redtrail.adapters.connection import Connection
    from redtrail.adapters.s3 import TrailStore


# Why files were skipped, as the summary words it after their count; in this order when counts tie.
SKIP_REASONS: dict[SkipReason | None, str] = {
    SkipReason.NOT_A_LOG_NAME: "not named *.json or *.json.gz",
    SkipReason.NO_RECORDS: "without Records",
    SkipReason.DIGEST: "in CloudTrail-Digest/",
    SkipReason.OUTSIDE_AWSLOGS: "not under AWSLogs/",
    SkipReason.NOT_TRAIL_LAYOUT: "not in CloudTrail's key layout",
    None: "without a reason",
}


@dataclass(frozen=True, slots=True)
class IngestOptions:
    table: str | None  # None: dry run, nothing written
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None  # each worker process makes its own session, of this profile
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)  # the function's, as the CLI found them
    workers: int = 1


@dataclass(frozen=True, slots=True)
class Failure:
    """A source that failed, why, and the items its write had stored before it failed (a retry leaves them)."""

    source: str
    reason: str
    written: int = 0


@dataclass
class IngestSummary:
    read: int = 0
    skip_reasons: Counter[SkipReason | None] = field(default_factory=Counter)
    records: int = 0
    kept: int = 0
    written: int = 0  # items: events, and quarantined records; with those of failed files written before they failed
    unchanged: int = 0
    conflicts: int = 0
    quarantined: int = 0
    duplicates: int = 0
    duplicates_differing: int = 0
    not_objects: int = 0
    failed: list[Failure] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        if outcome.status is Status.SKIPPED:
            self.skip_reasons[outcome.skip_reason] += 1
            return
        self.read += 1
        self.records += outcome.records
        self.kept += outcome.kept
        self.written += outcome.written
        self.unchanged += outcome.unchanged
        self.conflicts += len(outcome.conflicts)
        self.quarantined += outcome.quarantined
        self.duplicates += outcome.duplicates
        self.duplicates_differing += outcome.duplicates_differing
        self.not_objects += outcome.rejected

    def fail(self, failure: Failure) -> None:
        self.failed.append(failure)
        self.written += failure.written

    @property
    def skipped(self) -> int:
        return sum(self.skip_reasons.values())

    @property
    def files(self) -> int:
        return self.read + self.skipped + len(self.failed)

    def skipped_text(self) -> str:
        """``9 skipped (7 without Records, 2 not named ...)``: the count of each reason, most first."""
        if not self.skipped:
            return "0 skipped"
        order = list(SKIP_REASONS)
        counted = sorted(self.skip_reasons.items(), key=lambda pair: (-pair[1], order.index(pair[0])))
        reasons = ", ".join(f"{count} {SKIP_REASONS[reason]}" for reason, count in counted)
        return f"{self.skipped} skipped ({reasons})"

    def lines(self) -> list[str]:
        """The summary, every count of what was not stored as an event said, every data value escaped."""
        lines = [
            f"files: {self.read} read, {self.skipped_text()}, {len(self.failed)} failed",
            f"records: {self.records}, events kept: {self.kept}, items written: {self.written}"
            + (f", already stored: {self.unchanged}" if self.unchanged else ""),
        ]
        if self.quarantined:
            lines.append(
                f"quarantined: {plural(self.quarantined, 'record')} kept with"
                f" {'its' if self.quarantined == 1 else 'their'} reason, not as events"
                " (list them: redtrail query --rejected)"
            )
        if self.duplicates:
            differing = f", {self.duplicates_differing} of them with other content" if self.duplicates_differing else ""
            repeat = "repeats an eventID of its" if self.duplicates == 1 else "repeat an eventID of their"
            lines.append(
                f"duplicates: {plural(self.duplicates, 'record')} {repeat} file{differing} (the first one is kept)"
            )
        if self.not_objects:
            what = "is not a JSON object" if self.not_objects == 1 else "are not JSON objects"
            lines.append(f"not objects: {plural(self.not_objects, 'record')} {what} (counted, not stored)")
        if self.conflicts:
            lines.append(
                f"conflicts: {plural(self.conflicts, 'eventID')} already stored with other content"
                " (the stored ones stay)"
            )
        partial = [failure for failure in self.failed if failure.written]
        if partial:
            lines.append(
                f"partly written: {plural(len(partial), 'failed file')} wrote"
                f" {plural(sum(f.written for f in partial), 'item')} before"
                f" {'it' if len(partial) == 1 else 'they'} failed (counted above; ingesting them again leaves those"
                " as they are)"
            )
        for failure in self.failed:
            written = f" ({plural(failure.written, 'item')} written before)" if failure.written else ""
            lines.append(f"failed: {escape(failure.source)}: {escape(failure.reason)}{written}")
        return lines


def run_ingest(sources: Sequence[str], options: IngestOptions) -> IngestSummary:
    """Ingest every file the sources name; failures are collected, not raised."""
    summary = IngestSummary()
    objects = list(trail_objects(sources, options, summary))
    progress = Progress("files", total=len(objects) or None)
    try:
        for result in _results(objects, options):
            if isinstance(result, FileOutcome):
                summary.add(result)
            else:
                summary.fail(result)
            progress.advance(note=f"{summary.kept} events kept")
    finally:
        progress.close()
    return summary


def trail_objects(sources: Sequence[str], options: IngestOptions, summary: IngestSummary) -> Iterator[TrailObject]:
    """Local files (directories recursively) and S3 objects under ``s3://bucket/prefix``, in order."""
    for source in sources:
        if source.startswith("s3://"):
            bucket, _, prefix = source.removeprefix("s3://").partition("/")
            if not bucket:
                summary.fail(Failure(source, "no bucket in S3 URI"))
                continue
            try:
                yield from _Worker(options).store().list(bucket, prefix)
            except RedtrailError as error:
                summary.fail(Failure(source, str(error)))
            continue
        path = Path(source)
        if path.is_dir():
            yield from (TrailObject("", str(file)) for file in sorted(path.rglob("*")) if file.is_file())
        elif path.is_file():
            yield TrailObject("", str(path))
        else:
            summary.fail(Failure(source, "no such file or directory"))


Result = FileOutcome | Failure


def _results(objects: Sequence[TrailObject], options: IngestOptions) -> Iterable[Result]:
    if options.workers <= 1 or len(objects) <= 1:
        worker = _Worker(options)
        return (worker.ingest(trail_object) for trail_object in objects)
    return _parallel(objects, options)


def _parallel(objects: Sequence[TrailObject], options: IngestOptions) -> Iterator[Result]:
    import concurrent.futures  # only here: single-worker runs start faster without it

    with concurrent.futures.ProcessPoolExecutor(
        max_workers=min(options.workers, len(objects)), initializer=_start_worker, initargs=(options,)
    ) as pool:
        # chunksize amortizes inter-process overhead for many small files.
        yield from pool.map(
            _ingest_in_worker, objects, chunksize=max(1, min(32, len(objects) // (options.workers * 4)))
        )


class _Worker:
    """One process's readers and writer (boto3 clients are made lazily, once)."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self._aws: Connection | None = None
        self._store: TrailStore | None = None
        self._write: WriteItems | None = None

    def _connection(self) -> "Connection":
        if self._aws is None:
            from redtrail.adapters.connection import Connection

            self._aws = Connection(self.options.region, self.options.endpoint_url, self.options.profile)
        return self._aws

    def store(self) -> "TrailStore":
        if self._store is None:
            from redtrail.adapters.s3 import TrailStore

            self._store = TrailStore(self._connection().s3())
        return self._store

    def writer(self) -> WriteItems:
        if self._write is None:
            if self.options.table is None:
                self._write = _write_nothing
            else:
                from redtrail.adapters.dynamodb import EventTable

                self._write = EventTable(self.options.table, self._connection().dynamodb()).write
        return self._write

    def ingest(self, trail_object: TrailObject) -> Result:
        read: ReadObject = self.store().read if trail_object.bucket else _read_local
        try:
            # No hash: the CLI keeps no ledger entry (only the function's deliveries are checked against digests).
            options = self.options.pipeline
            return process_object(trail_object, read=read, write=self.writer(), options=options, hashed=False)
        except RedtrailError as error:
            return Failure(trail_object.uri, str(error), error.written)


_worker: _Worker | None = None


def _start_worker(options: IngestOptions) -> None:
    global _worker  # one worker object per pool process
    _worker = _Worker(options)


def _ingest_in_worker(trail_object: TrailObject) -> Result:
    assert _worker is not None
    return _worker.ingest(trail_object)


def _write_nothing(items: Sequence[Any]) -> StoredItems:
    return StoredItems()


def _read_local(trail_object: TrailObject) -> StoredObject:
    try:
        return StoredObject(Path(trail_object.key).read_bytes())
    except OSError as error:
        raise StorageError(f"{trail_object.key}: {error.strerror}") from error
