"""The ``redtrail`` command line. boto3 is imported only by the commands that call AWS."""

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redtrail import timeparse
from redtrail.errors import RedtrailError
from redtrail.notifications import TrailObject
from redtrail.pipeline import FileOutcome, Status, process_object

if TYPE_CHECKING:
    from redtrail.aws import EventTable

DEFAULT_TABLE = "redtrail-events"
DEFAULT_REGION = "us-east-1"


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``redtrail`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.command(args))
    except (CliError, RedtrailError, ValueError) as error:
        print(f"redtrail: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("redtrail: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not _is_botocore_error(error):
            raise
        print(f"redtrail: error: {error}", file=sys.stderr)
        return 2


def _is_botocore_error(error: Exception) -> bool:
    return type(error).__module__.startswith("botocore")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redtrail", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--table", default=os.environ.get("REDTRAIL_TABLE", DEFAULT_TABLE), help="event table name")
    aws.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="AWS endpoint (local AWS)")
    aws.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
    )

    ingest = commands.add_parser(
        "ingest", parents=[aws], help="process trail files (local paths or s3://bucket/prefix) into the table"
    )
    ingest.add_argument("sources", nargs="+", metavar="PATH_OR_S3URI")
    ingest.add_argument("--create-table", action="store_true", help="create the table when it is missing")
    ingest.add_argument("--dry-run", action="store_true", help="classify and count, write nothing")
    ingest.add_argument("--retention-days", type=_positive_int, default=None, help="TTL for written items")
    ingest.set_defaults(command=ingest_command)

    query = commands.add_parser("query", parents=[aws], help="list stored events, newest first")
    query.add_argument("--since", default="24h", help="ISO time or relative (30m, 24h, 7d); default 24h")
    query.add_argument("--until", default=None, help="ISO time or relative; default now")
    query.add_argument("--event-name")
    query.add_argument("--principal", help="principal ARN (for roles: the role ARN)")
    query.add_argument("--resource", help="kind:name, e.g. cluster:my-cluster")
    query.add_argument("--account", help="recipient account ID")
    query.add_argument("--source", help="eventSource, e.g. redshift-data.amazonaws.com")
    query.add_argument("--writes-only", action="store_true")
    query.add_argument("--limit", type=_positive_int, default=100)
    query.add_argument("--format", choices=("table", "json", "jsonl"), default="table")
    query.set_defaults(command=query_command)
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def _client(service: str, args: argparse.Namespace) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=args.endpoint_url, region_name=args.region)


def _table(args: argparse.Namespace) -> "EventTable":
    from redtrail.aws import EventTable

    return EventTable(args.table, _client("dynamodb", args))


# --- ingest -------------------------------------------------------------------------------------


@dataclass
class IngestSummary:
    read: int = 0
    skipped: int = 0
    records: int = 0
    kept: int = 0
    written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        if outcome.status is Status.SKIPPED:
            self.skipped += 1
            return
        self.read += 1
        self.records += outcome.records
        self.kept += outcome.kept
        self.written += outcome.written

    def lines(self) -> list[str]:
        lines = [
            f"files: {self.read} read, {self.skipped} skipped, {len(self.failed)} failed",
            f"records: {self.records}, events kept: {self.kept}, items written: {self.written}",
        ]
        lines += [f"failed: {source}: {reason}" for source, reason in self.failed]
        return lines


def ingest_command(args: argparse.Namespace) -> int:
    """``redtrail ingest``: the Lambda's per-object path over local files and S3 prefixes."""
    needs_s3 = any(source.startswith("s3://") for source in args.sources)
    store = None
    if needs_s3:
        from redtrail.aws import TrailStore

        store = TrailStore(_client("s3", args))
    table = None if args.dry_run else _table(args)
    if table is not None:
        if args.create_table:
            if table.create():
                print(f"created table {table.name}", file=sys.stderr)
        elif not table.exists():
            raise CliError(f"table {table.name} does not exist (use --create-table to create it)")

    summary = IngestSummary()
    progress = _Progress(enabled=sys.stderr.isatty())
    for trail_object in _objects(args.sources, store, summary):
        try:
            outcome = process_object(
                trail_object,
                read=store.read if trail_object.bucket and store else _read_local,
                write=table.write if table is not None else _write_nothing,
                retention_days=args.retention_days,
            )
        except RedtrailError as error:
            summary.failed.append((trail_object.uri, str(error)))
        else:
            summary.add(outcome)
        progress.show(summary)
    progress.done()
    for line in summary.lines():
        print(line)
    return 1 if summary.failed else 0


def _objects(sources: Sequence[str], store: Any, summary: IngestSummary) -> Iterator[TrailObject]:
    for source in sources:
        if source.startswith("s3://"):
            bucket, _, prefix = source.removeprefix("s3://").partition("/")
            if not bucket:
                summary.failed.append((source, "no bucket in S3 URI"))
                continue
            try:
                yield from store.list(bucket, prefix)
            except RedtrailError as error:
                summary.failed.append((source, str(error)))
            continue
        path = Path(source)
        if path.is_dir():
            yield from (TrailObject("", str(file)) for file in sorted(path.rglob("*")) if file.is_file())
        elif path.is_file():
            yield TrailObject("", str(path))
        else:
            summary.failed.append((source, "no such file or directory"))


def _write_nothing(items: Sequence[Any]) -> int:
    return 0


def _read_local(trail_object: TrailObject) -> bytes:
    try:
        return Path(trail_object.key).read_bytes()
    except OSError as error:
        from redtrail.errors import StorageError

        raise StorageError(f"{trail_object.key}: {error.strerror}") from error


class _Progress:
    """One self-overwriting status line on a terminal; silent otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled

    def show(self, summary: IngestSummary) -> None:
        if self.enabled:
            done = summary.read + summary.skipped + len(summary.failed)
            print(f"\r{done} files, {summary.kept} events kept", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


# --- query --------------------------------------------------------------------------------------


def query_command(args: argparse.Namespace) -> int:
    """``redtrail query``: events from the table's indexes (Query only, never Scan)."""
    from redtrail import output, queries

    now = datetime.now(UTC)
    query = queries.EventQuery(
        since=timeparse.parse_time(args.since, now),
        until=timeparse.parse_time(args.until, now) if args.until else now,
        event_name=args.event_name,
        principal=args.principal,
        resource=args.resource,
        account=args.account,
        source=args.source,
        writes_only=args.writes_only,
    )
    table = _table(args)
    rows = [output.plain(item) for item in queries.run(query, table.query, limit=args.limit)]
    print(output.render(rows, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
