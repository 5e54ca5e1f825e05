"""What redtrail prints: the function's logs at INFO and the CLI's output never carry credentials or event contents.

The escaping of control and bidi characters in ``redtrail query`` tables and JSON is tested on plain rows in
test_cli_helpers.py::test_control_characters_cannot_reach_the_terminal; here it is tested on stored items.
"""

import contextlib
import gzip
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from redtrail.cli.main import main
from redtrail.cli.output import plain, render
from redtrail.contracts.settings import Settings
from redtrail.core.errors import AccessDeniedError
from redtrail.core.integrity import Integrity
from redtrail.core.pipeline import StoredItems
from redtrail.core.s3_events import StoredObject, TrailObject, notification_body
from redtrail.function import consumer
from redtrail.function.consumer import Dependencies
from redtrail.function.handler import lambda_handler
from redtrail.function.observability import logger
from redtrail_devtools.poller import lambda_event
from tests.memory_ledger import MemoryLedger
from tests.support import EVENTS, REFERENCE_EXAMPLES, by_account, event, log_key, trail_file

BUCKET = "trail-bucket"
FOLDER = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01"
SECRET_PASSWORD = "Sup3r-S3cret-Passw0rd!"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENnotarealone0123456789"
# A secret access key in a record: CloudTrail never logs one, a crafted or broken file might.
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCESS_KEY_PATTERN = re.compile(r"\b(?:AKIA|ASIA|AAKE)[A-Z0-9]{12,}\b")
TERMINAL_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def secret_record() -> dict[str, Any]:
    """A Redshift event carrying credentials and a password in places a broken or hostile file may put them."""
    record = event("create_namespace")
    record["eventID"] = "secret-carrier-1"
    record["userIdentity"]["accessKeyId"] = "ASIAQWERTYUIOPASDFGH"
    record["userIdentity"]["sessionContext"]["sessionToken"] = SESSION_TOKEN
    record["requestParameters"]["adminUserPassword"] = SECRET_PASSWORD
    record["requestParameters"]["masterPassword"] = SECRET_PASSWORD
    record["requestParameters"]["secretAccessKey"] = SECRET_KEY
    return record


def reference_records() -> list[dict[str, Any]]:
    return [event(name) for name in REFERENCE_EXAMPLES] + [secret_record()]


def leaves(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from leaves(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from leaves(inner)


def forbidden(records: list[dict[str, Any]]) -> set[str]:
    """What the output must never show: credentials, and the contents of events (whole or their parameters)."""
    found = {SECRET_PASSWORD, SESSION_TOKEN, SECRET_KEY}
    for record in records:
        found.add(json.dumps(record))
        found.add(json.dumps(record, separators=(",", ":")))
        found.update(leaves(record["userIdentity"].get("accessKeyId")))
        for section in ("requestParameters", "responseElements"):
            # Distinctive values only: short ones ("dev", "true") and account IDs may be in any text.
            found.update(text for text in leaves(record.get(section)) if len(text) >= 12 and not text.isdigit())
        found.add(record["userAgent"])
    return found


def assert_clean(output: str, records: list[dict[str, Any]]) -> None:
    shown = [text for text in sorted(forbidden(records)) if text in output]
    assert shown == []
    assert ACCESS_KEY_PATTERN.findall(output) == []


class FakeStore:
    def __init__(self, objects: dict[str, bytes | Exception]) -> None:
        self.objects = objects

    def read(self, trail_object: TrailObject) -> StoredObject:
        found = self.objects[trail_object.key]
        if isinstance(found, Exception):
            raise found
        return StoredObject(found)


class FakeTable:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def write(self, items: list[dict[str, Any]]) -> StoredItems:
        self.items.extend(items)
        return StoredItems(written=len(items))


@pytest.fixture
def captured(monkeypatch, capsys, caplog):
    """Everything the function prints at INFO: its JSON log lines, its EMF metrics, and what other loggers (the
    Powertools tracer logs exceptions with their traceback) send to the root logger, as Lambda's runtime does."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    level = logger.log_level
    logger.setLevel(logging.INFO)
    caplog.set_level(logging.INFO)
    yield lambda: stream.getvalue() + capsys.readouterr().out + caplog.text
    logger.setLevel(level)


def test_function_logs_at_info_hold_no_credentials_and_no_event_contents(monkeypatch, captured):
    # Given a batch with every reference example (and an event carrying planted credentials and a password),
    # the reference document's invalid Serverless example, a corrupt gzip, a Redshift event without eventID,
    # an object S3 refuses, an s3:TestEvent and a message that is not JSON
    records = reference_records()
    secret_account = secret_record()["recipientAccountId"]
    objects: dict[str, bytes | Exception] = {
        **by_account(records, "reference"),
        log_key(secret_account, "as-printed"): (EVENTS / "create_namespace.as_printed.txt").read_bytes(),
        log_key(secret_account, "corrupt"): b"\x1f\x8b\x08\x00" + json.dumps(secret_record()).encode(),
        log_key(secret_account, "no-event-id"): trail_file([{**secret_record(), "eventID": None}]),
        log_key(secret_account, "denied"): AccessDeniedError(f"s3://{BUCKET}/{FOLDER}/denied: AccessDenied"),
    }
    table = FakeTable()
    settings = Settings.from_env({"TABLE_NAME": "events"})
    integrity = Integrity(MemoryLedger(), lambda region, start, end: {})
    dependencies = Dependencies(settings=settings, store=FakeStore(objects), table=table, integrity=integrity)
    monkeypatch.setattr(consumer, "default_dependencies", lambda: dependencies)
    bodies = [notification_body(TrailObject(BUCKET, key), region="us-east-1", event_time=_now()) for key in objects]
    bodies += [(EVENTS / "s3_test_event.json").read_text(), json.dumps(secret_record())[:40]]
    messages = [
        {"MessageId": f"m{number}", "ReceiptHandle": f"r{number}", "Body": body} for number, body in enumerate(bodies)
    ]
    sqs_event = lambda_event(messages, queue_arn="arn:aws:sqs:us-east-1:123456789012:ingest", region="us-east-1")
    # When the handler processes the batch, and a direct S3 notification of the reference file
    response = lambda_handler(sqs_event, _Context())
    lambda_handler(json.loads(bodies[0]), _Context())
    output = captured()
    # Then the events were stored and the failures reported (the run did exercise every log path)
    assert any(item["eventID"]["S"] == "secret-carrier-1" for item in table.items)
    assert response["batchItemFailures"]
    assert '"level":"ERROR"' in output
    assert '"level":"INFO"' in output
    # And the output names objects and counts, but no access key, token, password or event content
    assert log_key(secret_account, "reference") in output
    assert_clean(output, records)


def test_ingest_dry_run_output_holds_no_credentials_and_no_event_contents(tmp_path: Path, capsys):
    # Given a directory with the reference examples, the planted credentials and an unreadable file
    records = reference_records()
    (tmp_path / "good.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    (tmp_path / "bad.json").write_bytes((EVENTS / "create_namespace.as_printed.txt").read_bytes())
    # When `redtrail ingest --dry-run` reads it
    status = main(["ingest", "--dry-run", "--workers", "1", str(tmp_path)])
    output = "".join(capsys.readouterr())
    # Then it reports the failed file by name, and shows no credentials or event contents
    assert status == 1
    assert "bad.json" in output
    assert_clean(output, records)


def test_cli_errors_do_not_print_the_credentials(monkeypatch, capsys):
    # Given distinctive credentials in the environment and an account without the stack
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAZZZZZZZZZZZZZZZZ")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        # When commands that need the stack run
        statuses = [main([*command, "--region", "us-east-1"]) for command in (["status"], ["query"], ["redrive"])]
    output = "".join(capsys.readouterr())
    # Then each fails with a one-line error that shows neither the keys nor the token
    assert statuses == [2, 2, 2]
    assert output.count("redtrail: error:") == 3
    for secret in ("AKIAZZZZZZZZZZZZZZZZ", SECRET_KEY, SESSION_TOKEN):
        assert secret not in output


def test_query_output_of_stored_items_escapes_terminal_control_characters():
    # Given a stored item whose fields and event were crafted with ANSI escapes, a carriage return, NUL and
    # bidi overrides (CloudTrail copies request values that a caller chooses)
    crafted = "\x1b]0;pwned\x07\x1b[2J\x1b[31mDeleteCluster\r\x00\u202egnp.exe\u2066"
    item = {
        "eventID": {"S": "e-\x1b[1m"},
        "eventTime": {"S": "2024-05-01T00:00:00Z"},
        "eventName": {"S": crafted},
        "eventSource": {"S": "redshift.amazonaws.com"},
        "principal": {"S": f"arn:aws:iam::1:user/{crafted}"},
        "resource": {"S": f"cluster:{crafted}"},
        "matchedBy": {"S": "eventSource"},
        "isWrite": {"BOOL": True},
        "awsRegion": {"S": "us-east-1\x9b"},
        "event": {"S": json.dumps({"eventName": crafted}, ensure_ascii=False)},
    }
    rows = [plain(item)]
    # When `redtrail query` renders it in each format
    outputs = {fmt: render(rows, fmt) for fmt in ("table", "json", "jsonl")}
    # Then no format prints a control or bidi character raw, and JSON still gives the exact values back
    for fmt, text in outputs.items():
        assert TERMINAL_CONTROL.findall(text) == [], fmt
    assert "\\u001b[2J" in outputs["table"]
    assert json.loads(outputs["json"])[0]["eventName"] == crafted
    assert json.loads(outputs["jsonl"])["event"] == item["event"]["S"]


# An OSC title change, a bell and a screen erase: what a crafted key, name or value may carry to a terminal.
PAYLOAD = "\x1b]0;title\x07\x1b[2J"


def _status_table() -> str:
    from redtrail.cli.status import Status
    from redtrail.contracts.stack_outputs import StackResources

    resources = StackResources(
        stack_name=f"Redtrail{PAYLOAD}",
        bucket=f"bucket{PAYLOAD}",
        key_prefix=f"AWSLogs/{PAYLOAD}",
        queue_url=f"https://sqs/{PAYLOAD}",
        dead_letter_queue_url=f"https://sqs/dead{PAYLOAD}",
        table=f"table{PAYLOAD}",
        function=f"function{PAYLOAD}",
        topic=f"topic{PAYLOAD}",
        dashboard=f"dashboard{PAYLOAD}",
    )
    status = Status(resources, f"us-east-1{PAYLOAD}", 1, 2, 3, 4, {f"Redtrail-{PAYLOAD}": f"ALARM{PAYLOAD}"}, PAYLOAD)
    return "\n".join(status.lines())


def _verify_table() -> str:
    from redtrail.cli import verify
    from redtrail.contracts.integrity import ProblemCode
    from redtrail.core.ledger import Problem

    chain = verify.ChainReport(f"AWSLogs/1/{PAYLOAD}", "1", PAYLOAD, 3, f"2024-05-01T00:00:00Z{PAYLOAD}", 1)
    problem = Problem(ProblemCode.LOG_NOT_IN_DIGEST, f"s3://b/{PAYLOAD}", PAYLOAD, detected_at=PAYLOAD)
    return verify.render(verify.Report([chain], [problem]), "table")


def _progress_bar() -> str:
    from redtrail.cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    progress = Progress(f"files{PAYLOAD}", total=2, stream=terminal)
    progress.advance(note=f"s3://b/{PAYLOAD}")
    progress.advance(note=PAYLOAD)
    progress.close()
    # the bar's own controls: a carriage return before each drawing, an erase to the end of the line after it
    drawn = terminal.getvalue()
    assert drawn.count("\r") == drawn.count("\x1b[K") == 2
    return drawn.replace("\r", "").replace("\x1b[K", "")


def _query_table() -> str:
    row = {"eventTime": "2024-05-01T00:00:00Z", "matchedBy": PAYLOAD, "redshiftServiceAccountRegion": PAYLOAD}
    return render([row], "table")


def _alerts_table() -> str:
    from redtrail.cli import alerts

    item = {name: {"S": f"{name}{PAYLOAD}"} for name in ("alertTime", "alertRule", "alertSubject", "alertEvent")}
    return alerts.render([item], "table")


def _shown_event() -> str:
    from redtrail.cli import show

    item = {
        "eventID": {"S": f"e{PAYLOAD}"},
        "eventName": {"S": PAYLOAD},
        "detections": {"L": [{"S": PAYLOAD}, {"S": "redshift-cluster-public"}]},
        "event": {"S": json.dumps({"eventName": PAYLOAD, "requestParameters": {PAYLOAD: [PAYLOAD]}})},
    }
    return show.render(item, "text") + "\n" + show.missing(PAYLOAD, PAYLOAD)


def _rules_table() -> str:
    from redtrail.cli import rules
    from redtrail.core.detections import RULES, Rule

    rule = RULES[0]
    crafted = Rule(PAYLOAD, rule.severity, frozenset({PAYLOAD}), frozenset({PAYLOAD}), PAYLOAD, PAYLOAD, rule.predicate)
    return rules.render("table", [crafted, *RULES])


def _cli(arguments: list[str]) -> Any:
    def run(capsys) -> str:
        with contextlib.suppress(SystemExit):  # argparse's usage errors
            main(arguments)
        return "".join(capsys.readouterr())

    return run


def _warning(capsys) -> str:
    from redtrail.cli.main import warn
    from redtrail.cli.status import stack_state_problem

    warn(str(stack_state_problem(f"Redtrail{PAYLOAD}", f"UPDATE_IN_PROGRESS{PAYLOAD}")))
    return "".join(capsys.readouterr())


PRINTING_PATHS: dict[str, Any] = {
    "status table": lambda _: _status_table(),
    "verify table": lambda _: _verify_table(),
    "progress bar": lambda _: _progress_bar(),
    "query table (matchedBy and its region)": lambda _: _query_table(),
    "alerts table": lambda _: _alerts_table(),
    "show": lambda _: _shown_event(),
    "rules": lambda _: _rules_table(),
    "the stack-state warning": _warning,
    # one-line errors that quote what was typed or what AWS said, and argparse's usage errors
    "error: no such stack": _cli(["status", "--region", "us-east-1", "--stack-name", f"Redtrail{PAYLOAD}"]),
    "error: a bad severity": _cli(["query", "--table", "t", "--severity", PAYLOAD]),
    "error: a bad time": _cli(["query", "--table", "t", "--since", PAYLOAD]),
    "usage: an unknown argument": _cli(["query", PAYLOAD]),
    "usage: an unknown choice": _cli(["query", "--format", PAYLOAD]),
    "usage: a bad number": _cli(["query", "--limit", PAYLOAD]),
}


@pytest.mark.parametrize("path", sorted(PRINTING_PATHS))
def test_no_printing_path_of_the_cli_lets_a_terminal_escape_through(path, monkeypatch, capsys):
    # Given values holding an OSC title sequence, a bell and a screen erase, in whatever a command prints: stack
    # outputs and alarm names, ledger entries, file names in the progress bar, stored items, rules, the names and
    # times a user typed, and what AWS answered
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # When the command's output is rendered, or the command runs (stdout and stderr)
    with mock_aws():
        output = PRINTING_PATHS[path](capsys)
    # Then no control character reaches the terminal raw: each is shown as an escape
    assert output
    assert TERMINAL_CONTROL.findall(output) == [], output
    assert "\x1b" not in output
    assert "\\u001b" in output or "\\x1b" in output


class _Context:
    function_name = "redtrail-ingest"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:redtrail-ingest"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def _now() -> datetime:
    return datetime(2024, 5, 1, 12, tzinfo=UTC)
