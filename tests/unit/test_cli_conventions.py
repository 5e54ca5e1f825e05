"""What the CLI prints, for people and for scripts: failed calls shown as failed (``error``, ``--errors-only``,
``--error-code``), tables fitted to the terminal, ``--output`` and ``--query`` as the AWS CLI names them,
``--version``, counts in the singular when they are one, progress that ends on the true count, and the age of
DynamoDB's item count."""

import copy
import io
import json
import re
from datetime import UTC, datetime
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from redtrail.adapters.dynamodb import EventTable
from redtrail.cli import alerts, output, rules, verify
from redtrail.cli import main as cli
from redtrail.cli.main import main
from redtrail.cli.progress import Progress
from redtrail.cli.status import Status
from redtrail.contracts import schema, stack_outputs
from redtrail.contracts.integrity import ProblemCode
from redtrail.contracts.stack_outputs import StackResources
from redtrail.core import queries
from redtrail.core.classify import classify
from redtrail.core.detections import RULES
from redtrail.core.items import build_item
from redtrail.core.ledger import Problem
from tests.support import event, trail_file

REGION = "us-east-1"
RANGE = ["--since", "2024-05-01", "--until", "2024-05-02"]
# An Identity Center user's role session: the principal that made rows 230 characters wide.
SSO_PRINCIPAL = (
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b/"
    "alice.longname@corp.example.com"
)
SOURCE = "s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz"
# "1 events", "queued 1 trail files": a count of one before a plural (verbs that end in s are no plurals).
SINGULAR_MISSED = re.compile(r"(?<![\w./-])1 (?:[a-z-]+ )?(?!is\b|was\b|has\b)([a-z]+s)\b")


class Terminal(io.StringIO):
    """What a terminal would have shown."""

    def isatty(self) -> bool:
        return True


def call(event_id: str, name: str, time: str, **fields: Any) -> dict[str, Any]:
    """A Redshift call by an Identity Center user."""
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(eventID=event_id, eventName=name, eventTime=time, **fields)
    record["userIdentity"]["arn"] = SSO_PRINCIPAL
    return record


FAILED = call(
    "e-denied",
    "ModifyClusterIamRoles",
    "2024-05-01T12:00:00Z",
    errorCode="AccessDenied",
    errorMessage="User is not authorized to perform: redshift:ModifyClusterIamRoles",
    requestParameters={"clusterIdentifier": "analytics", "addIamRoles": ["arn:aws:iam::111122223333:role/x"]},
    responseElements=None,
)
SUCCEEDED = call("e-described", "DescribeClusters", "2024-05-01T11:00:00Z", requestParameters={}, readOnly=True)


@pytest.fixture
def stack(monkeypatch):
    """A stack on moto: its bucket, queues and table, the two calls stored, and its outputs."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        s3, sqs, dynamodb = (boto3.client(name, region_name=REGION) for name in ("s3", "sqs", "dynamodb"))
        s3.create_bucket(Bucket="trail")
        queue = sqs.create_queue(QueueName="ingest")["QueueUrl"]
        dead_letters = sqs.create_queue(QueueName="ingest-dead")["QueueUrl"]
        EventTable("events", dynamodb).create()
        for record in (FAILED, SUCCEEDED):
            dynamodb.put_item(TableName="events", Item=build_item(record, classify(record), source_object=SOURCE))
        outputs = {
            stack_outputs.BUCKET: "trail",
            stack_outputs.QUEUE_URL: queue,
            stack_outputs.DEAD_LETTER_QUEUE_URL: dead_letters,
            stack_outputs.TABLE: "events",
        }
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="Redtrail", TemplateBody=json.dumps(template)
        )
        yield SimpleNamespace(s3=s3, sqs=sqs, queue=queue, dead_letters=dead_letters)


def printed(arguments: list[str], capsys) -> str:
    status = main(arguments)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out


# --- failed calls ----------------------------------------------------------------------------------------------


def test_a_failed_call_shows_its_error_code_in_the_query_table(stack, capsys):
    # Given an AccessDenied ModifyClusterIamRoles and a DescribeClusters that succeeded
    # When the day's events are listed as a table
    lines = printed(["query", *RANGE], capsys).splitlines()
    # Then an error column says which call failed, and how
    columns = lines[0].split()
    assert "error" in columns
    by_name = {line.split()[columns.index("eventName")]: line.split() for line in lines[1:-1]}
    assert by_name["ModifyClusterIamRoles"][columns.index("error")] == "AccessDenied"
    assert by_name["ModifyClusterIamRoles"][columns.index("isWrite")] == "write"
    assert by_name["DescribeClusters"][columns.index("error")] == "-"


@pytest.mark.parametrize(
    ("options", "found"),
    [
        (["--errors-only"], ["e-denied"]),
        (["--error-code", "AccessDenied"], ["e-denied"]),
        (["--error-code", "ThrottlingException"], []),
        (["--errors-only", "--event-name", "DescribeClusters"], []),
        ([], ["e-denied", "e-described"]),
    ],
)
def test_errors_only_and_error_code_list_the_failed_calls(stack, capsys, options, found):
    # Given a failed call and one that succeeded
    # When the events are listed with an error filter, as JSON
    rows = json.loads(printed(["query", *RANGE, *options, "--output", "json"], capsys))
    # Then only the calls that failed (so) come, their errorCode kept as it is stored
    assert [row["eventID"] for row in rows] == found
    assert all(row["errorCode"] == "AccessDenied" for row in rows if row["eventID"] == "e-denied")


def test_the_error_filters_are_filter_expressions_on_the_index_chosen():
    # Given queries for failed calls, by time and by eventName
    day = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    # When their requests are built
    errors = queries.requests(queries.EventQuery(*day, errors_only=True))
    denied = queries.requests(queries.EventQuery(*day, event_name="X", error_code="AccessDenied"))
    # Then the error is a filter on the stored errorCode, on the index the other keys chose (no index of its own)
    assert {request["IndexName"] for request in errors} == {schema.BY_TIME.name}
    for request in errors:
        assert "attribute_exists(#e)" in request["FilterExpression"]
        assert request["ExpressionAttributeNames"]["#e"] == "errorCode"
    (request,) = denied
    assert request["IndexName"] == schema.BY_EVENT_NAME.name
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    (placeholder,) = [name for name, attribute in names.items() if attribute == "errorCode"]
    assert f"{placeholder} = :{placeholder[1:]}" in request["FilterExpression"]
    assert values[f":{placeholder[1:]}"] == {"S": "AccessDenied"}
    # and the cost of a range says that they only filter what it reads
    assert "--errors-only only filters" in queries.cost(queries.EventQuery(*day, errors_only=True)).why


def test_quarantined_records_take_no_error_filter():
    # Given the quarantine, which holds no errorCode
    day = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    # When it is asked for failed calls
    # Then that is a one-line error naming the options
    for asked in ({"errors_only": True}, {"error_code": "AccessDenied"}):
        with pytest.raises(ValueError, match="--errors-only or --error-code"):
            queries.plan(queries.EventQuery(*day, rejected=True, **asked))


# --- tables for people, plain layouts for scripts --------------------------------------------------------------


def wide_rows() -> list[dict[str, Any]]:
    return [
        {
            "eventTime": "2024-05-01T12:00:00Z",
            "eventName": "ModifyClusterIamRoles",
            "eventSource": "redshift.amazonaws.com",
            "principal": SSO_PRINCIPAL,
            "actor": "alice.longname@corp.example.com",
            "resource": "cluster:analytics-production-eu",
            "isWrite": True,
            "errorCode": "AccessDenied",
            "awsRegion": "eu-west-1",
            "provenance": "verified",
        },
        {"eventTime": "2024-05-01T11:00:00Z", "eventName": "DescribeClusters", "isWrite": False},
    ]


@pytest.mark.parametrize("width", [80, 100, 240])
def test_a_table_on_a_terminal_fits_its_width_and_cuts_nothing(monkeypatch, width):
    # Given rows with an SSO principal (its plain line is over 200 characters) and a terminal of some width
    monkeypatch.setenv("COLUMNS", str(width))
    table = output.event_table(wide_rows())
    assert isinstance(table, output.Table)
    assert max(map(len, table.plain().splitlines())) > 200
    terminal = Terminal()
    # When the table is printed on it
    output.write(table, terminal)
    shown = terminal.getvalue()
    # Then no line is wider than the terminal, every column and the count are there, and nothing raw is printed
    assert max(map(len, shown.splitlines())) <= width
    for column in output.COLUMNS:
        assert column in shown
    assert shown.rstrip().endswith("(2 events)")
    assert "\x1b" not in shown
    if width < 200:  # the rows as blocks of column and value: a folded value reads on
        assert SSO_PRINCIPAL in "".join(shown.split())


def test_event_data_reaches_a_terminal_escaped_and_never_as_markup(monkeypatch):
    # Given an event whose fields hold rich markup and terminal escapes
    monkeypatch.setenv("COLUMNS", "100")
    row = {
        "eventTime": "2024-05-01T12:00:00Z",
        "eventName": "[bold red]Evil[/]",
        "resource": "cluster:\x1b]0;title\x07\x1b[2J",
        "principal": "[link=https://evil.example]x[/link]",
    }
    terminal = Terminal()
    # When it is printed on a terminal
    output.write(output.event_table([row]), terminal)
    shown = terminal.getvalue()
    # Then the markup is printed as it was written, and the escapes as escapes
    assert "[bold red]Evil[/]" in shown
    assert "[link=https://evil.example]x[/link]" in shown
    assert "cluster:\\u001b]0;title\\u0007\\u001b[2J" in shown
    assert "\x1b" not in shown
    assert "\x07" not in shown


def test_a_pipe_gets_the_plain_layout_whatever_its_width(monkeypatch):
    # Given a narrow terminal size in the environment, and output that goes to a pipe or a file
    monkeypatch.setenv("COLUMNS", "60")
    table = output.event_table(wide_rows())
    assert isinstance(table, output.Table)
    piped = io.StringIO()
    # When the table is printed
    output.write(table, piped)
    # Then it is the plain layout: one line per row, aligned, as scripts and tests read it
    assert piped.getvalue() == table.plain() + "\n"
    header, first, second, count = piped.getvalue().splitlines()
    assert header.split() == list(output.COLUMNS)
    assert first.split()[output.COLUMNS.index("principal")] == SSO_PRINCIPAL
    assert second.split()[output.COLUMNS.index("principal")] == "-"
    assert count == "(2 events)"


def test_status_fits_a_terminal_and_keeps_its_plain_layout_elsewhere(monkeypatch):
    # Given a stack's status with long queue URLs and alarm names
    monkeypatch.setenv("COLUMNS", "72")
    status = a_status(items=3)
    terminal, piped = Terminal(), io.StringIO()
    # When it is printed on a terminal, and to a pipe
    output.write(status.table(), terminal)
    output.write(status.table(), piped)
    # Then the terminal's lines fit, and the pipe's are name and value, the value at column 19
    assert max(map(len, terminal.getvalue().splitlines())) <= 72
    lines = piped.getvalue().splitlines()
    assert lines == status.lines()
    assert lines[0] == "stack              Redtrail (us-east-1): CREATE_COMPLETE"
    assert any(line.startswith("alarm              Redtrail-MonitoringWriteEvents") for line in lines)


def a_status(*, items: int, waiting: int = 2, dead_letters: int = 0) -> Status:
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/Redtrail-IngestionQueue8F6C4B2A-AbCdEfGhIjKl"
    resources = StackResources("Redtrail", "trail", "AWSLogs/", queue, f"{queue}-dead", "Redtrail-Events", "fn")
    alarms = {"Redtrail-MonitoringWriteEvents1A2B3C4D-0123456789AB": "OK"}
    return Status(resources, REGION, waiting, 0, dead_letters, items, alarms, "CREATE_COMPLETE")


def test_status_says_that_the_item_count_can_be_six_hours_old(stack, capsys):
    # Given the stack's status
    # When it is printed as a table and as JSON
    table = printed(["status"], capsys)
    document = json.loads(printed(["status", "--output", "json"], capsys))
    # Then both say how old DynamoDB's item count may be
    assert "six hours" in document["itemCountNote"]
    assert isinstance(document["itemCount"], int)
    (line,) = [line for line in table.splitlines() if line.startswith("table ")]
    assert document["itemCountNote"] in line


# --- --output, --query, --version -----------------------------------------------------------------------------


def test_output_is_the_aws_cli_name_for_format(capsys):
    # Given the commands that print a JSON document
    parser = cli._parser(plugins=False)
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    # When their options are read
    formatted = {
        name: command for name, command in commands.items() if name not in {"ingest", "backfill", "redrive", "report"}
    }
    # Then each takes --output and --format as one option, with the same choices
    for name, command in formatted.items():
        (option,) = [action for action in command._actions if action.dest == "format"]
        assert option.option_strings == ["--output", "--format"], name
        assert output.JSON in option.choices, name
    # and both give the same output
    assert printed(["rules", "--output", "json"], capsys) == printed(["rules", "--format", "json"], capsys)


def test_query_picks_from_the_json_document_as_the_aws_cli_does(stack, capsys):
    # Given the stored calls and the rule catalogue
    # When commands are given a JMESPath --query
    severity = printed(["rules", "--query", "[?id=='redshift-cluster-deleted'].severity | [0]"], capsys)
    codes = printed(["query", *RANGE, "--query", "[].{name: eventName, error: errorCode}", "--output", "jsonl"], capsys)
    table = printed(["status", "--query", "{table: table, count: itemCount}"], capsys)
    # Then each prints what the expression selects of its JSON document, as JSON
    assert json.loads(severity) == "high"
    assert [json.loads(line) for line in codes.splitlines()] == [
        {"name": "ModifyClusterIamRoles", "error": "AccessDenied"},
        {"name": "DescribeClusters", "error": None},
    ]
    assert json.loads(table)["table"] == "events"


def test_a_query_that_is_no_jmespath_is_a_usage_error(capsys):
    # Given an expression that does not parse
    # When it is given
    with pytest.raises(SystemExit) as exited:
        main(["rules", "--query", "[?severity=="])
    # Then it is refused before anything runs, in a line that quotes it
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.splitlines()[-1].startswith("redtrail rules: error: argument --query: '[?severity=='")


def test_version_is_the_installed_packages(capsys):
    # Given the installed package
    # When the version is asked for
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    # Then it is printed as the package's metadata has it
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"redtrail {version('redtrail')}\n"


# --- counts ----------------------------------------------------------------------------------------------------


def test_plural_says_one_in_the_singular():
    # Given counts of none, one and several
    # When they are said
    # Then only one is singular, and irregular plurals can be given
    assert [output.plural(count, "event") for count in (0, 1, 2)] == ["0 events", "1 event", "2 events"]
    assert output.plural(1, "query", "queries") == "1 query"
    assert output.plural(3, "query", "queries") == "3 queries"


def test_counts_of_one_are_singular_wherever_the_cli_prints_them(stack, capsys, monkeypatch):
    # Given one of each thing the CLI counts: an event, a detection, a rule, a chain with one digest and one
    # problem, one stored item and queued message, one trail file to backfill and one dead letter to redrive
    stack.s3.put_object(Bucket="trail", Key=SOURCE.removeprefix("s3://trail/"), Body=trail_file([FAILED]))
    stack.sqs.send_message(QueueUrl=stack.dead_letters, MessageBody="{}")
    detection = {name: {"S": f"{name}-1"} for name in ("alertTime", "alertRule", "alertSubject", "alertEvent")}
    chain = verify.ChainReport("AWSLogs/1/CloudTrail/us-east-1/t", "1", REGION, 1, "2024-05-01T00:00:00Z", 1)
    problem = Problem(ProblemCode.LOG_NOT_IN_DIGEST, "s3://trail/x", "missing", detected_at="2024-05-01T00:00:00Z")
    terminal = Terminal()
    progress = Progress("trail files found", one="trail file found", stream=terminal)
    progress.advance()
    progress.close()
    # When each count is printed (the commands through main, the renderings as the commands print them)
    lines = [
        *printed(["query", *RANGE, "--error-code", "AccessDenied"], capsys).splitlines(),
        *printed(["backfill", "s3://trail/AWSLogs/"], capsys).splitlines(),
        *printed(["redrive"], capsys).splitlines(),
        *alerts.render([detection], "table").splitlines(),
        *rules.text(RULES[:1]).splitlines(),
        *verify.text(verify.Report([chain], [problem])).splitlines(),
        *a_status(items=1, waiting=1, dead_letters=1).lines(),
        *terminal.getvalue().split("\r"),
    ]
    # Then none says "1" before a plural
    assert [line for line in lines if SINGULAR_MISSED.search(line)] == []
    said = "\n".join(lines)
    for singular in ("(1 event)", "queued 1 trail file from", "moved 1 message from", "(1 detection)", "(1 rule)"):
        assert singular in said
    assert "1 digest verified" in said
    assert "1 problem:" in said
    assert "1 item (" in said
    assert "1 trail file found" in said


# --- progress --------------------------------------------------------------------------------------------------


def test_the_backfill_bar_ends_on_the_true_count(stack, capsys, monkeypatch):
    # Given 55 trail files, and a terminal on stderr faster than the bar's redrawing (the clock stands still)
    for number in range(55):
        key = f"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/f{number:02d}_CloudTrail_us-east-1_x.json.gz"
        stack.s3.put_object(Bucket="trail", Key=key, Body=trail_file([SUCCEEDED]))
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr("redtrail.cli.progress.time", SimpleNamespace(monotonic=lambda: 1000.0))
    # When they are backfilled (the notifications go 10 a request)
    out = printed(["backfill", "s3://trail/AWSLogs/"], capsys)
    # Then the last drawing of each bar is its true count: 55 found, then 55 of 55 sent
    assert out.startswith("queued 55 trail files from s3://trail/AWSLogs/")
    drawings = [drawing.removesuffix("\x1b[K").strip() for drawing in terminal.getvalue().split("\r") if drawing]
    found = [drawing for drawing in drawings if "found" in drawing]
    sent = [drawing for drawing in drawings if "sent" in drawing]
    assert sent[-1].startswith("[####################] 55/55 notifications sent")
    assert found[-1].startswith("55 trail files found")


def test_a_bar_given_too_small_a_total_ends_full_on_the_count_done():
    # Given a bar whose total was approximate (a queue's depth), and a terminal
    terminal = Terminal()
    progress = Progress("messages moved", one="message moved", total=3, stream=terminal)
    # When more than the total is done
    progress.advance(5)
    progress.close()
    # Then the bar is full and counts what was done, never past its end
    assert progress.line().startswith("[####################] 5/5 messages moved")


def test_no_bar_when_stderr_is_no_terminal(stack, capsys):
    # Given stderr captured (no terminal) and one file
    stack.s3.put_object(Bucket="trail", Key=SOURCE.removeprefix("s3://trail/"), Body=trail_file([FAILED]))
    # When it is backfilled
    status = main(["backfill", "s3://trail/AWSLogs/"])
    # Then only the count is printed, and nothing on stderr
    captured = capsys.readouterr()
    assert status == 0
    assert captured.err == ""
    assert captured.out.startswith("queued 1 trail file from")
