"""``redtrail report``: a period of the deployed stack's record (events, detections, the ledger, the dead-letter
queue) written as one self-contained HTML file."""

import argparse
from datetime import UTC, datetime
from pathlib import Path

from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.adapters.sqs import Queue
from redtrail.cli import report, report_data, timeparse
from redtrail.cli.main import CliError, aws, stack_resources, warn_if_costly
from redtrail.cli.output import escape
from redtrail.core import queries
from redtrail.core.resources import Kind

RESOURCE_KINDS = frozenset(kind.value for kind in Kind)


def run(args: argparse.Namespace) -> int:
    """Read the period, write the file, print its path and a one-line summary. Everything that was typed is
    checked before the first AWS call."""
    path = destination(args.html)
    now = datetime.now(UTC)
    since = timeparse.parse_time(args.since, now)
    until = timeparse.parse_time(args.until, now) if args.until else now
    scope = resource_scope(args.resource)
    query = report_data.event_query(since, until, scope)
    queries.plan(query)  # a bad range fails here
    warn_if_costly(query, "report on one --resource")
    resources = stack_resources(args)
    dynamodb = aws(args).dynamodb()
    table = EventTable(resources.table, dynamodb)
    dead_letters, _ = Queue(resources.dead_letter_queue_url, aws(args).sqs()).depth()
    data = report_data.collect(
        table.query,
        table.records,
        DynamoDBLedger(resources.table, dynamodb),
        dead_letters,
        since=since,
        until=until,
        scope=scope,
        origin=f"table {resources.table} of stack {resources.stack_name} in {aws(args).where.region}",
    )
    try:
        path.write_text(report.render(data), encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror or error}") from None
    print(f"wrote {escape(str(path))}")
    print(escape(report.summary_line(data)))
    return 0


def destination(text: str) -> Path:
    """The file to write: a one-line error for a directory, or for a file in a directory that does not exist."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise CliError(f"--html {text} is a directory: name the file to write, e.g. {path / 'report.html'}")
    if not path.parent.is_dir():
        raise CliError(f"cannot write {text}: directory {path.parent} does not exist")
    return path


def resource_scope(text: str | None) -> str | None:
    """``--resource`` as the ``resource`` attribute it names (``kind:name``); a one-line error otherwise."""
    if text is None:
        return None
    kind, _, name = text.partition(":")
    if kind not in RESOURCE_KINDS or not name:
        kinds = ", ".join(sorted(RESOURCE_KINDS))
        raise CliError(f"--resource takes kind:name, e.g. cluster:my-cluster (kinds: {kinds}), not {text!r}")
    return text
