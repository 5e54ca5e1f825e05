"""The ``redtrail`` command line. boto3 is imported only by the commands that call AWS.

Commands of other packages (the dev tools' ``redtrail local``) come in through the ``redtrail.commands`` entry
points: each names a function that adds its subcommand to the parser.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redtrail.cli import output, timeparse
from redtrail.cli.output import JSON, JSONL, TABLE, TEXT, escape, plural
from redtrail.contracts.stack_outputs import DEFAULT_STACK_NAME
from redtrail.core.errors import RedtrailError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from redtrail.adapters.connection import Connection
    from redtrail.contracts.settings import PipelineOptions
    from redtrail.contracts.stack_outputs import StackResources
    from redtrail.core.queries import EventQuery

DISTRIBUTION = "redtrail"  # the package's name in pyproject.toml
COMMAND_ENTRY_POINTS = "redtrail.commands"
BUILT_IN_COMMANDS = frozenset(
    {"ingest", "query", "alerts", "show", "rules", "verify", "report", "status", "backfill", "redrive"}
)


# --severity high means exactly high: asking for high or above is high+.
_SEVERITY_HELP = "{} of exactly this severity (low, medium, high, critical); LEVEL+ for it and above, e.g. high+"


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose messages are escaped like query output: a usage error quotes what was typed."""

    def _print_message(self, message: str, file: "SupportsWrite[str] | None" = None) -> None:
        super()._print_message("\n".join(map(escape, message.split("\n"))), file)


def _error(message: object) -> None:
    """One line on stderr, escaped (messages quote names, paths and AWS's words)."""
    print(f"redtrail: error: {escape(str(message))}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"redtrail: warning: {escape(message)}", file=sys.stderr)


def warn_if_costly(query: "EventQuery", instead: str) -> None:
    """Say, before it runs, what a query costs when that is more than a few Queries (a long range without a key is
    one Query per month and shard), and ``instead``: what else would narrow it."""
    from redtrail.core import queries

    cost = queries.cost(query)
    if cost.is_costly:
        warn(f"{cost.describe()}: narrow --since/--until, or {instead}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``redtrail`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Finding plugins reads every installed distribution's metadata (tens of ms): only when one may be meant.
    args = _parser(plugins=not arguments or arguments[0] not in BUILT_IN_COMMANDS).parse_args(arguments)
    try:
        return int(args.command(args))
    except (CliError, RedtrailError, ValueError, KeyError, OverflowError) as error:
        # OverflowError: a date beyond year 9999 computed from what was typed
        _error(error.args[0] if isinstance(error, KeyError) and error.args else error)
        return 2
    except KeyboardInterrupt:
        print("redtrail: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not type(error).__module__.startswith("botocore"):
            raise
        _error(_botocore_message(error))
        return 2


def _botocore_message(error: Exception) -> str:
    name = type(error).__name__
    if name in {"NoCredentialsError", "PartialCredentialsError"}:
        return f"{error} (configure AWS credentials, or use --endpoint-url for a local AWS)"
    if name == "ProfileNotFound":
        return f"{error} (--profile or AWS_PROFILE: a profile of ~/.aws/config or ~/.aws/credentials)"
    if name == "EndpointConnectionError":
        return f"{error} (is the endpoint running?)"
    return str(error)


def _parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    # subcommands are made by the same class as the parser (argparse's default), so their messages are escaped too
    parser: argparse.ArgumentParser = _Parser(prog="redtrail", description="Redshift's CloudTrail events, in DynamoDB.")
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    aws = _aws_options("--region")
    # verify's --region filters chains: there, the stack's region is --stack-region
    aws_for_verify = _aws_options("--stack-region")
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
    query.add_argument(
        "--actor", metavar="NAME", help="the person: an assumed role's session name (e.g. an Identity Center user)"
    )
    query.add_argument("--resource", help="kind:name, e.g. cluster:my-cluster")
    query.add_argument("--account", help="recipient account ID")
    query.add_argument("--source", help="eventSource, e.g. redshift-data.amazonaws.com")
    query.add_argument("--writes-only", action="store_true")
    query.add_argument("--errors-only", action="store_true", help="failed calls only (those with an errorCode)")
    query.add_argument("--error-code", metavar="CODE", help="calls that failed with this errorCode, e.g. AccessDenied")
    query.add_argument(
        "--alarmed",
        action="store_true",
        help="write-type events the WriteEvents alarm counts (not the stack function's routine eventNames)",
    )
    query.add_argument("--detection", metavar="RULE", help="events a detection rule found (see redtrail rules)")
    query.add_argument("--severity", metavar="LEVEL", help=_SEVERITY_HELP.format("events with a detection"))
    query.add_argument(
        "--rejected", action="store_true", help="list quarantined records (kept with their reason) by ingestion time"
    )
    query.add_argument("--limit", type=_positive_int, default=100)
    _output_options(query, TABLE, JSON, JSONL)
    query.set_defaults(command=query_command)

    alerts = commands.add_parser(
        "alerts", parents=[aws, table], help="detections in a time range, newest first, and the state of their alerts"
    )
    alerts.add_argument("--since", default="24h", help="ISO time or relative (30m, 24h, 7d); default 24h")
    alerts.add_argument("--until", default=None, help="ISO time or relative; default now")
    alerts.add_argument("--severity", metavar="LEVEL", help=_SEVERITY_HELP.format("detections"))
    alerts.add_argument("--rule", metavar="RULE", help="only this rule's detections (see redtrail rules)")
    alerts.add_argument("--limit", type=_positive_int, default=100)
    _output_options(alerts, TABLE, JSON)
    alerts.set_defaults(command=alerts_command)

    show = commands.add_parser("show", parents=[aws, table], help="one event: its summary, detections and record")
    show.add_argument("event_id", metavar="EVENTID")
    _output_options(show, TEXT, JSON)
    show.set_defaults(command=show_command)

    rules = commands.add_parser(
        "rules", parents=[aws], help="the detection rules: severity, the calls each reads, title, reference"
    )
    _output_options(rules, TABLE, JSON)
    rules.set_defaults(command=rules_command)

    verify = commands.add_parser(
        "verify", parents=[aws_for_verify, table], help="per chain of digest files: digests verified, and every problem"
    )
    verify.add_argument("--since", default="30d", help="ISO time or relative (24h, 7d); default 30d")
    verify.add_argument("--until", default=None, help="ISO time or relative; default now")
    verify.add_argument("--account", help="only this account's chains and problems")
    verify.add_argument(
        "--region", dest="chain_region", metavar="REGION", help="only this region's chains and problems"
    )
    _output_options(verify, TABLE, JSON)
    verify.set_defaults(command=verify_command)

    report = commands.add_parser(
        "report", parents=[aws], help="an audit report of a period: one self-contained HTML file, with charts"
    )
    report.add_argument("--since", default="30d", help="ISO time or relative (24h, 7d); default 30d")
    report.add_argument("--until", default=None, help="ISO time or relative; default now")
    report.add_argument("--resource", metavar="KIND:NAME", help="only this resource, e.g. cluster:my-cluster")
    report.add_argument("--html", required=True, metavar="FILE", help="the file to write (its directory must exist)")
    report.set_defaults(command=report_command)

    status = commands.add_parser("status", parents=[aws], help="the deployed resources, queue depths, alarms")
    _output_options(status, TABLE, JSON)
    status.set_defaults(command=status_command)

    backfill = commands.add_parser(
        "backfill", parents=[aws], help="queue historical trail files for the deployed function fleet"
    )
    backfill.add_argument("source", metavar="S3URI", help="s3://bucket/prefix")
    backfill.add_argument("--since", help="only files delivered on or after this date (ISO or relative)")
    backfill.set_defaults(command=backfill_command)

    redrive = commands.add_parser("redrive", parents=[aws], help="move dead-letter messages back to the ingest queue")
    redrive.set_defaults(command=redrive_command)

    if plugins:
        _add_plugin_commands(commands)
    return parser


def _aws_options(region_flag: str) -> argparse.ArgumentParser:
    """Where the stack is: endpoint, region (under ``region_flag``), profile and stack name. What is not given is
    found as the AWS CLI finds it (``redtrail.adapters.connection``)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--endpoint-url",
        help="AWS endpoint, e.g. a local AWS (default: AWS_ENDPOINT_URL, or the profile's endpoint_url)",
    )
    options.add_argument(
        region_flag,
        dest="region",
        help="the stack's region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's region; else us-east-1)",
    )
    options.add_argument(
        "--profile", help="a profile of ~/.aws/config and ~/.aws/credentials, for credentials and region (AWS_PROFILE)"
    )
    options.set_defaults(region_option=region_flag)
    options.add_argument(
        "--stack-name",
        default=os.environ.get("REDTRAIL_STACK", DEFAULT_STACK_NAME),
        help="the deployed stack whose resources to use (default: %(default)s)",
    )
    return options


def _output_options(command: argparse.ArgumentParser, *formats: str) -> None:
    """``--output`` (the AWS CLI's name) or ``--format``, the first of ``formats`` by default, and ``--query``."""
    command.add_argument("--output", "--format", dest="format", choices=formats, default=formats[0])
    command.add_argument(
        "--query",
        type=_query_expression,
        metavar="EXPR",
        help="a JMESPath expression on the command's JSON document, printed as JSON (as the AWS CLI's --query)",
    )


def _query_expression(text: str) -> Any:
    try:
        return output.compile_query(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class _Version(argparse.Action):
    """``--version``: the installed package's version, read only when asked (it costs a look through metadata)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest="version", default=argparse.SUPPRESS, nargs=0, help="print redtrail's version and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:
            found = "(version unknown: the package is not installed)"
        print(f"{parser.prog} {found}")
        parser.exit()


def _add_plugin_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Subcommands of installed plugins; ``local`` says where it comes from when the dev tools are missing."""
    from importlib.metadata import entry_points

    found = {entry.name: entry for entry in entry_points(group=COMMAND_ENTRY_POINTS)}
    for name in sorted(found):
        found[name].load()(commands)
    if "local" not in found:
        local = commands.add_parser("local", help="(dev tools) the whole pipeline on an embedded local AWS")
        local.set_defaults(command=_dev_tools_missing)


def _dev_tools_missing(args: argparse.Namespace) -> int:
    raise CliError(
        "redtrail local is one of the dev tools, which are not installed: in a checkout of redtrail, run "
        "`make setup` (or pip install -e devtools)"
    )


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def aws(args: argparse.Namespace) -> "Connection":
    """The command's connection to AWS (its region, profile and endpoint), made once; says so on stderr when no
    region was named anywhere."""
    from redtrail.adapters.connection import Connection

    if getattr(args, "connection", None) is None:
        connection = Connection(args.region, args.endpoint_url, args.profile, region_option=args.region_option)
        if connection.where.region_defaulted:
            warn(
                f"no region named ({args.region_option}, AWS_REGION, AWS_DEFAULT_REGION or the profile's region): "
                f"using {connection.where.region}"
            )
        args.connection = connection
    found: Connection = args.connection
    return found


def stack_resources(args: argparse.Namespace, *, warn_unsettled: bool = True) -> "StackResources":
    """The deployed stack's resources, from its outputs; a one-line error when there is no such stack.

    A stack that is not CREATE_COMPLETE or UPDATE_COMPLETE (a deployment under way, failed or rolled back) is
    reported on stderr: its bucket notification, say, may not exist yet. Its state is kept in ``args.stack_state``.
    """
    from redtrail.adapters.cloudformation import describe_stack
    from redtrail.cli.status import stack_state_problem
    from redtrail.contracts.stack_outputs import StackResources
    from redtrail.core.errors import StackNotFoundError

    try:
        stack = describe_stack(args.stack_name, aws(args).cloudformation())
    except StackNotFoundError:
        raise CliError(
            f"stack {args.stack_name} not found in {aws(args).where.describe()}: deploy it (npx cdk deploy, or "
            f"redtrail local), name it with --stack-name, or name its region ({args.region_option}) or profile "
            "(--profile)"
        ) from None
    args.stack_state = stack.status
    problem = stack_state_problem(args.stack_name, stack.status)
    try:
        resources = StackResources.from_outputs(args.stack_name, stack.outputs)
    except KeyError:
        if problem is None:
            raise
        later = " yet: try again when the deployment is complete" if stack.status.endswith("_IN_PROGRESS") else ""
        raise CliError(f"{problem}; it has no outputs{later}") from None
    if problem and warn_unsettled:
        warn(problem)
    return resources


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
    from dataclasses import replace

    from redtrail.cli.ingest import IngestOptions, run_ingest

    table, pipeline = _ingest_target(args)
    if args.retention_days is not None:
        pipeline = replace(pipeline, retention_days=args.retention_days)
    if table is not None:
        from redtrail.adapters.dynamodb import EventTable

        event_table = EventTable(table, aws(args).dynamodb())
        if args.create_table:
            if event_table.create():
                print(f"created table {escape(table)}", file=sys.stderr)
        elif not event_table.exists():
            raise CliError(f"table {table} does not exist (use --create-table to create it)")
    # the workers resolve the same region and endpoint from what was given, as this connection does
    options = IngestOptions(
        table=table,
        endpoint_url=args.endpoint_url,
        region=args.region,
        profile=args.profile,
        pipeline=pipeline,
        workers=args.workers,
    )
    summary = run_ingest(args.sources, options)
    for line in summary.lines():
        print(line)
    return 1 if summary.failed else 0


def _ingest_target(args: argparse.Namespace) -> "tuple[str | None, PipelineOptions]":
    """The table to write (None: a dry run) and the pipeline options (see ``_table_and_options``)."""
    from redtrail.contracts.settings import PipelineOptions

    if args.dry_run:
        return None, PipelineOptions.from_env(os.environ)
    return _table_and_options(args)


def _table_and_options(args: argparse.Namespace) -> "tuple[str, PipelineOptions]":
    """The table and the pipeline options: the deployed function's own for the stack's table, else from this
    environment (``REDACT_FIELDS``...; defaults when unset)."""
    from redtrail.contracts.settings import PipelineOptions

    if args.table:
        return str(args.table), PipelineOptions.from_env(os.environ)
    try:
        resources = stack_resources(args)
    except CliError as error:
        raise CliError(f"{error}; or pass --table") from None
    if not resources.function:
        return resources.table, PipelineOptions.from_env(os.environ)
    from redtrail.adapters.functions import function_environment
    from redtrail.core.errors import AccessDeniedError

    try:
        environment = function_environment(resources.function, aws(args).lambda_())
    except AccessDeniedError as error:
        raise CliError(
            f"cannot read the pipeline options of the stack's function ({error}): allow "
            "lambda:GetFunctionConfiguration, or pass --table to use this environment's options"
        ) from None
    return resources.table, PipelineOptions.from_env(environment)


# --- query ---------------------------------------------------------------------------------------------


def query_command(args: argparse.Namespace) -> int:
    """``redtrail query``: events from the table's indexes (Query only, never Scan)."""
    from dataclasses import replace

    from redtrail.adapters.dynamodb import EventTable
    from redtrail.cli import hints
    from redtrail.core import queries

    now = datetime.now(UTC)
    query = queries.EventQuery(
        since=timeparse.parse_time(args.since, now),
        until=timeparse.parse_time(args.until, now) if args.until else now,
        event_name=args.event_name,
        principal=args.principal,
        actor=args.actor,
        resource=hints.resource_key(args.resource),  # an ARN or a kind in capitals as the table keys it
        account=args.account,
        source=args.source,
        writes_only=args.writes_only or args.alarmed,
        errors_only=args.errors_only,
        error_code=args.error_code,
        rejected=args.rejected,
        detection=args.detection,
        severities=queries.severity_levels(args.severity) if args.severity else (),
    )
    queries.plan(query)  # a bad range, rule or combination fails before any AWS call
    if args.alarmed:
        name, options = _table_and_options(args)
        query = replace(query, excluded_event_names=options.routine_write_event_names)
    else:
        name = table_name(args)
    warn_if_costly(
        query, "use a key (--event-name, --principal, --actor, --resource, --account, --detection, --severity)"
    )
    dynamodb = aws(args).dynamodb()
    table = EventTable(name, dynamodb)
    rows = [output.plain(item) for item in queries.run(query, table.query, limit=args.limit)]
    if not args.rejected:
        from redtrail.adapters.ledger import DynamoDBLedger
        from redtrail.cli.verify import provenance

        rows = provenance(rows, DynamoDBLedger(name, dynamodb))
    columns, noun = (output.REJECTED_COLUMNS, "quarantined record") if args.rejected else (output.COLUMNS, "event")
    output.emit(rows, lambda: output.event_table(rows, columns, noun), args.format, args.query)
    if not rows and not args.rejected:  # why nothing matched, and what would, on stderr
        hints.print_hints(query, table.query)
    return 0


def alerts_command(args: argparse.Namespace) -> int:
    """``redtrail alerts``: detection items from ``bySeverity`` (or ``byDetection`` for one rule)."""
    from redtrail.adapters.dynamodb import EventTable
    from redtrail.cli import alerts
    from redtrail.core import queries

    query = alerts.alert_query(args.since, args.until, args.rule, args.severity, datetime.now(UTC))
    table = EventTable(table_name(args), aws(args).dynamodb())
    found = list(queries.run_alerts(query, table.query, limit=args.limit))
    output.emit(alerts.document(found), lambda: alerts.table(found), args.format, args.query)
    return 0


def show_command(args: argparse.Namespace) -> int:
    """``redtrail show``: one event by its eventID (GetItem); exit status 1 when there is none."""
    import json

    from redtrail.adapters.dynamodb import EventTable
    from redtrail.cli import show

    name = table_name(args)
    item = show.fetch(EventTable(name, aws(args).dynamodb()), args.event_id)
    if item is None:
        print(f"redtrail: error: {show.missing(args.event_id, name)}", file=sys.stderr)
        return 1
    # show's JSON document is what --output json prints
    output.emit(json.loads(show.render(item, JSON)), lambda: show.render(item, TEXT), args.format, args.query)
    return 0


def rules_command(args: argparse.Namespace) -> int:
    """``redtrail rules``: the detection catalogue (no AWS call)."""
    from redtrail.cli import rules

    output.emit(rules.catalogue(), rules.text, args.format, args.query, sort_keys=False)
    return 0


def verify_command(args: argparse.Namespace) -> int:
    """``redtrail verify``: what the ledger proves, per chain; exit status 1 when any problem exists."""
    from redtrail.adapters.ledger import DynamoDBLedger
    from redtrail.cli import verify
    from redtrail.core.ledger import now_text

    now = datetime.now(UTC)
    since = timeparse.parse_time(args.since, now)
    until = timeparse.parse_time(args.until, now) if args.until else now
    if since > until:
        raise CliError("--since is after --until")
    scope = verify.Scope(now_text(since), now_text(until), args.account, args.chain_region)
    found = verify.report(DynamoDBLedger(table_name(args), aws(args).dynamodb()), scope)
    output.emit(found.as_json(), lambda: verify.text(found), args.format, args.query)
    return 1 if found.problems else 0


def report_command(args: argparse.Namespace) -> int:
    """``redtrail report``: a period's events, detections and pipeline health, as one self-contained HTML file."""
    from redtrail.cli import report_command as command

    return command.run(args)


# --- operating a deployed stack ------------------------------------------------------------------------


def status_command(args: argparse.Namespace) -> int:
    """``redtrail status``: where everything is and how it is doing."""
    from redtrail.adapters.cloudwatch import alarm_states
    from redtrail.adapters.dynamodb import EventTable
    from redtrail.adapters.sqs import Queue
    from redtrail.cli.status import Status

    resources = stack_resources(args, warn_unsettled=args.format != TABLE)  # the table says it itself
    sqs = aws(args).sqs()
    waiting, in_flight = Queue(resources.queue_url, sqs).depth()
    dead_letters, _ = Queue(resources.dead_letter_queue_url, sqs).depth()
    status = Status(
        resources=resources,
        region=aws(args).where.region,
        queue_waiting=waiting,
        queue_in_flight=in_flight,
        dead_letters=dead_letters,
        items=EventTable(resources.table, aws(args).dynamodb()).item_count(),
        alarms=alarm_states(f"{resources.stack_name}-", aws(args).cloudwatch()),
        stack_state=args.stack_state,
    )
    output.emit(status.as_json(), status.table, args.format, args.query, sort_keys=False)
    return 0


def backfill_command(args: argparse.Namespace) -> int:
    """``redtrail backfill``: one S3-shaped notification per historical trail file, to the ingest queue."""
    from redtrail.adapters.s3 import TrailStore
    from redtrail.adapters.sqs import Queue
    from redtrail.cli.progress import Progress
    from redtrail.core.backfill import backfill, backfill_candidates

    if not args.source.startswith("s3://") or not args.source.removeprefix("s3://").partition("/")[0]:
        raise CliError(f"expected s3://bucket/prefix, not {args.source!r}")
    bucket, _, prefix = args.source.removeprefix("s3://").partition("/")
    since = timeparse.parse_time(args.since, datetime.now(UTC)).date() if args.since else None
    resources = stack_resources(args)
    # Listed first, so that the bar of notifications sent has its total.
    listing = Progress("trail files found", one="trail file found")
    try:
        candidates = []
        for candidate in backfill_candidates(TrailStore(aws(args).s3()).list(bucket, prefix), since):
            candidates.append(candidate)
            listing.advance()
    finally:
        listing.close()
    progress = Progress("notifications sent", one="notification sent", total=len(candidates) or None)
    try:
        sent = backfill(
            candidates,
            Queue(resources.queue_url, aws(args).sqs()).send,
            region=aws(args).where.region,
            on_sent=progress.advance,
        )
    finally:
        progress.close()
    where = f"{escape(args.source)} for the function fleet ({escape(resources.queue_url)})"
    print(f"queued {plural(sent, 'trail file')} from {where}")
    return 0


def redrive_command(args: argparse.Namespace) -> int:
    """``redtrail redrive``: dead-letter messages back to the ingest queue."""
    from redtrail.adapters.sqs import Queue
    from redtrail.cli.progress import Progress
    from redtrail.core.redrive import redrive

    resources = stack_resources(args)
    sqs = aws(args).sqs()
    dead_letter_queue = Queue(resources.dead_letter_queue_url, sqs)
    waiting, _ = dead_letter_queue.depth()
    progress = Progress("messages moved", one="message moved", total=waiting or None)
    try:
        moved = redrive(dead_letter_queue, Queue(resources.queue_url, sqs), on_moved=progress.advance)
    finally:
        progress.close()
    print(f"moved {plural(moved, 'message')} from the dead-letter queue back to the ingest queue")
    return 0
