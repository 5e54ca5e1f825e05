"""The ``redtrail`` command line. boto3 is imported only by the commands that call AWS."""

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redtrail import timeparse
from redtrail.errors import RedtrailError
from redtrail.stack_outputs import DEFAULT_STACK_NAME

if TYPE_CHECKING:
    from redtrail.stack_outputs import StackResources

DEFAULT_REGION = "us-east-1"
DEFAULT_LOCAL_PORT = 5050


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``redtrail`` console script."""
    args = _parser().parse_args(argv)
    try:
        return int(args.command(args))
    except (CliError, RedtrailError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"redtrail: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("redtrail: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not type(error).__module__.startswith("botocore"):
            raise
        print(f"redtrail: error: {_botocore_message(error)}", file=sys.stderr)
        return 2


def _botocore_message(error: Exception) -> str:
    name = type(error).__name__
    if name in {"NoCredentialsError", "PartialCredentialsError"}:
        return f"{error} (configure AWS credentials, or use --endpoint-url for a local AWS)"
    if name == "EndpointConnectionError":
        return f"{error} (is the endpoint running?)"
    return str(error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redtrail", description="Redshift's CloudTrail events, in DynamoDB.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="AWS endpoint (local AWS)")
    aws.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
    )
    aws.add_argument(
        "--stack-name",
        default=os.environ.get("REDTRAIL_STACK", DEFAULT_STACK_NAME),
        help="the deployed stack whose resources to use (default: %(default)s)",
    )
    table = argparse.ArgumentParser(add_help=False)
    table.add_argument("--table", default=os.environ.get("REDTRAIL_TABLE"), help="event table (default: the stack's)")

    ingest = commands.add_parser(
        "ingest",
        parents=[aws, table],
        help="process trail files (local paths or s3://bucket/prefix) into the table",
    )
    ingest.add_argument("sources", nargs="+", metavar="PATH_OR_S3URI")
    ingest.add_argument("--create-table", action="store_true", help="create the table when it is missing")
    ingest.add_argument("--dry-run", action="store_true", help="classify and count, write nothing")
    ingest.add_argument("--retention-days", type=_positive_int, default=None, help="TTL for written items")
    ingest.add_argument(
        "--workers", type=_positive_int, default=os.cpu_count() or 1, help="parallel processes (default: %(default)s)"
    )
    ingest.set_defaults(command=ingest_command)

    query = commands.add_parser("query", parents=[aws, table], help="list stored events, newest first")
    query.add_argument("--since", default="24h", help="ISO time or relative (30m, 24h, 7d); default 24h")
    query.add_argument("--until", default=None, help="ISO time or relative; default now")
    query.add_argument("--event-name")
    query.add_argument("--principal", help="principal ARN (for roles: the role ARN)")
    query.add_argument("--resource", help="kind:name, e.g. cluster:my-cluster")
    query.add_argument("--account", help="recipient account ID")
    query.add_argument("--source", help="eventSource, e.g. redshift-data.amazonaws.com")
    query.add_argument("--writes-only", action="store_true")
    query.add_argument(
        "--rejected", action="store_true", help="list quarantined records (kept with their reason) by ingestion time"
    )
    query.add_argument("--limit", type=_positive_int, default=100)
    query.add_argument("--format", choices=("table", "json", "jsonl"), default="table")
    query.set_defaults(command=query_command)

    status = commands.add_parser("status", parents=[aws], help="the deployed resources, queue depths, alarms")
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.set_defaults(command=status_command)

    backfill = commands.add_parser(
        "backfill", parents=[aws], help="queue historical trail files for the deployed function fleet"
    )
    backfill.add_argument("source", metavar="S3URI", help="s3://bucket/prefix")
    backfill.add_argument("--since", help="only files delivered on or after this date (ISO or relative)")
    backfill.set_defaults(command=backfill_command)

    redrive = commands.add_parser("redrive", parents=[aws], help="move dead-letter messages back to the ingest queue")
    redrive.set_defaults(command=redrive_command)

    local = commands.add_parser("local", help="run the whole pipeline on an embedded local AWS until interrupted")
    local.add_argument("--port", type=_positive_int, default=DEFAULT_LOCAL_PORT)
    local.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    local.add_argument("--region", default=DEFAULT_REGION)
    local.set_defaults(command=local_command)
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def client(service: str, args: argparse.Namespace) -> Any:
    """A boto3 client for the command's endpoint and region."""
    import boto3

    return boto3.client(service, endpoint_url=args.endpoint_url, region_name=args.region)


def stack_resources(args: argparse.Namespace) -> "StackResources":
    """The deployed stack's resources, from its outputs; a one-line error when there is no such stack."""
    from redtrail.aws import stack_outputs
    from redtrail.errors import StackNotFoundError
    from redtrail.stack_outputs import StackResources

    try:
        outputs = stack_outputs(args.stack_name, client("cloudformation", args))
    except StackNotFoundError:
        where = f" at {args.endpoint_url}" if args.endpoint_url else ""
        raise CliError(
            f"stack {args.stack_name} not found in {args.region}{where}: deploy it (npx cdk deploy, or redtrail "
            "local), or name it with --stack-name"
        ) from None
    return StackResources.from_outputs(args.stack_name, outputs)


def table_name(args: argparse.Namespace) -> str:
    """``--table``, else the stack's table."""
    if args.table:
        return str(args.table)
    try:
        return stack_resources(args).table
    except CliError as error:
        raise CliError(f"{error}; or pass --table") from None


# --- ingest --------------------------------------------------------------------------------------------


def ingest_command(args: argparse.Namespace) -> int:
    """``redtrail ingest``: the Lambda's per-object path over local files and S3 prefixes."""
    from redtrail.ingest import IngestOptions, run_ingest

    table = None if args.dry_run else table_name(args)
    if table is not None:
        from redtrail.aws import EventTable

        event_table = EventTable(table, client("dynamodb", args))
        if args.create_table:
            if event_table.create():
                print(f"created table {table}", file=sys.stderr)
        elif not event_table.exists():
            raise CliError(f"table {table} does not exist (use --create-table to create it)")
    options = IngestOptions(
        table=table,
        endpoint_url=args.endpoint_url,
        region=args.region,
        retention_days=args.retention_days,
        workers=args.workers,
    )
    summary = run_ingest(args.sources, options)
    for line in summary.lines():
        print(line)
    return 1 if summary.failed else 0


# --- query ---------------------------------------------------------------------------------------------


def query_command(args: argparse.Namespace) -> int:
    """``redtrail query``: events from the table's indexes (Query only, never Scan)."""
    from redtrail import output, queries
    from redtrail.aws import EventTable

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
        rejected=args.rejected,
    )
    table = EventTable(table_name(args), client("dynamodb", args))
    rows = [output.plain(item) for item in queries.run(query, table.query, limit=args.limit)]
    rendered = output.render(rows, args.format, output.REJECTED_COLUMNS if args.rejected else output.COLUMNS)
    if rendered:  # JSON lines of no events: no line at all
        print(rendered)
    return 0


# --- operating a deployed stack ------------------------------------------------------------------------


def status_command(args: argparse.Namespace) -> int:
    """``redtrail status``: where everything is and how it is doing."""
    import json

    from redtrail.aws import EventTable, Queue, alarm_states
    from redtrail.operations import Status

    resources = stack_resources(args)
    sqs = client("sqs", args)
    waiting, in_flight = Queue(resources.queue_url, sqs).depth()
    dead_letters, _ = Queue(resources.dead_letter_queue_url, sqs).depth()
    status = Status(
        resources=resources,
        region=args.region,
        queue_waiting=waiting,
        queue_in_flight=in_flight,
        dead_letters=dead_letters,
        items=EventTable(resources.table, client("dynamodb", args)).item_count(),
        alarms=alarm_states(f"{resources.stack_name}-", client("cloudwatch", args)),
    )
    print(json.dumps(status.as_json(), indent=2) if args.format == "json" else "\n".join(status.lines()))
    return 0


def backfill_command(args: argparse.Namespace) -> int:
    """``redtrail backfill``: one S3-shaped notification per historical trail file, to the ingest queue."""
    from redtrail.aws import Queue, TrailStore
    from redtrail.operations import backfill
    from redtrail.progress import Progress

    if not args.source.startswith("s3://") or not args.source.removeprefix("s3://").partition("/")[0]:
        raise CliError(f"expected s3://bucket/prefix, not {args.source!r}")
    bucket, _, prefix = args.source.removeprefix("s3://").partition("/")
    since = timeparse.parse_time(args.since, datetime.now(UTC)).date() if args.since else None
    resources = stack_resources(args)
    progress = Progress("notifications sent")
    try:
        sent = backfill(
            TrailStore(client("s3", args)).list(bucket, prefix),
            Queue(resources.queue_url, client("sqs", args)),
            region=args.region,
            since=since,
            on_sent=progress.advance,
        )
    finally:
        progress.close()
    print(f"queued {sent} trail files from {args.source} for the function fleet ({resources.queue_url})")
    return 0


def redrive_command(args: argparse.Namespace) -> int:
    """``redtrail redrive``: dead-letter messages back to the ingest queue."""
    from redtrail.aws import Queue
    from redtrail.operations import redrive
    from redtrail.progress import Progress

    resources = stack_resources(args)
    sqs = client("sqs", args)
    dead_letter_queue = Queue(resources.dead_letter_queue_url, sqs)
    waiting, _ = dead_letter_queue.depth()
    progress = Progress("messages moved", total=waiting or None)
    try:
        moved = redrive(dead_letter_queue, Queue(resources.queue_url, sqs), on_moved=progress.advance)
    finally:
        progress.close()
    print(f"moved {moved} messages from the dead-letter queue back to the ingest queue")
    return 0


# --- local ---------------------------------------------------------------------------------------------


def local_command(args: argparse.Namespace) -> int:
    """``redtrail local``: the real stack on an embedded local AWS, running until interrupted."""
    import signal
    import threading

    from redtrail import local

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())

    def report(batch: "local.PollStats") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {batch.received} messages: {batch.succeeded} processed, {batch.failed} failed", flush=True)

    with local.running(port=args.port, stack_name=args.stack_name, region=args.region, report=report) as pipeline:
        print("\n".join(local_banner(pipeline)), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    print("redtrail local: stopped", flush=True)
    return 0


def local_banner(pipeline: Any) -> list[str]:
    """Where everything is, and how to use it, for ``redtrail local``."""
    resources = pipeline.resources
    env = (
        f"export AWS_ENDPOINT_URL={pipeline.endpoint} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
        f"AWS_REGION={pipeline.region}"
    )
    example = f"s3://{resources.bucket}/{resources.key_prefix}123456789012/CloudTrail/{pipeline.region}/2024/05/01/"
    return [
        "",
        f"stack {resources.stack_name} deployed on the local AWS at {pipeline.endpoint}",
        f"  bucket            s3://{resources.bucket}/{resources.key_prefix}",
        f"  ingest queue      {resources.queue_url}",
        f"  dead-letter queue {resources.dead_letter_queue_url}",
        f"  table             {resources.table}",
        f"  function log      {pipeline.function_log}",
        "try, in another shell:",
        f"  {env}",
        f"  aws s3 cp FILE.json.gz {example}FILE.json.gz",
        "  .venv/bin/redtrail query --since 30d",
        "  .venv/bin/redtrail status",
        "redtrail local is ready; polling the ingest queue (Ctrl-C to stop)",
    ]


if __name__ == "__main__":
    sys.exit(main())
