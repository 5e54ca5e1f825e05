"""End to end: `redtrail local` deploys the real stack into a local AWS; files flow through it; the CLI operates it."""

import gzip
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from redtrail.cli.main import main
from redtrail_devtools.cloudtrail_signer import SigningKey, TrailWriter, hours
from redtrail_devtools.deploy import WORK_DIR
from redtrail_devtools.emulator import free_port
from redtrail_devtools.public_keys import demo_keys
from tests.support import REFERENCE_EXAMPLES, by_account, event, local_credentials, log_key, trail_file

pytestmark = pytest.mark.slow
REGION = "us-east-1"
SIGNING_KEY = SigningKey()  # CloudTrail's, as far as this local AWS knows: its public key is given to it


class LocalProcess:
    def __init__(self, public_keys: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://localhost:{self.port}"
        environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
        command = ["local", "--port", str(self.port), "--public-keys", str(public_keys), "--sweep-seconds", "2"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "redtrail.cli", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=1):
                    return
            except queue.Empty:
                if self.process.poll() is not None:
                    break
        raise AssertionError(f"no {text!r} from redtrail local:\n{''.join(self.output)[-4000:]}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    public_keys = tmp_path_factory.mktemp("keys") / "public-keys.json"
    public_keys.write_text(json.dumps(demo_keys(SIGNING_KEY)))
    with local_credentials():
        started = LocalProcess(public_keys)
        try:
            started.wait_for_line("redtrail local is ready", timeout=300)
            yield started
        finally:
            if started.process.poll() is None:
                started.stop()


def _cli(local_stack, capsys, *arguments, region_flag="--region"):
    capsys.readouterr()
    status = main([*arguments, "--endpoint-url", local_stack.endpoint, region_flag, REGION])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _status(local_stack, capsys):
    status, out, err = _cli(local_stack, capsys, "status", "--format", "json")
    assert status == 0, err
    return json.loads(out)


def _diagnostics(local_stack) -> str:
    """What to look at when a step does not happen: the console and the function's log."""
    log = WORK_DIR / "function.log"
    function_log = log.read_text()[-3000:] if log.exists() else "(no function log)"
    return f"console:\n{''.join(local_stack.output)[-2000:]}\nfunction log:\n{function_log}"


def _rows(local_stack, capsys, since="2015-01-01", until="2030-01-01"):
    """What `redtrail query` finds, by eventID."""
    status, out, err = _cli(local_stack, capsys, "query", "--since", since, "--until", until, "--format", "jsonl")
    assert status == 0, err
    return {row["eventID"]: row for row in map(json.loads, out.splitlines())}


def _stored(local_stack, capsys, since="2015-01-01", until="2030-01-01"):
    """The eventIDs `redtrail query` finds (DynamoDB's item count also counts the ledger's items)."""
    return set(_rows(local_stack, capsys, since, until))


def _verify(local_stack, capsys, account):
    """`redtrail verify --account ACCOUNT`: its exit statuses (table, json), its table and its JSON."""
    status, table, _ = _cli(local_stack, capsys, "verify", "--account", account, region_flag="--stack-region")
    status_json, out, err = _cli(
        local_stack, capsys, "verify", "--account", account, "--format", "json", region_flag="--stack-region"
    )
    assert out, err
    return (status, status_json), table, json.loads(out)


def _eventually(check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_a_trail_file_flows_through_the_deployed_stack(local_stack, capsys):
    # Given the stack deployed on the local AWS
    resources = _status(local_stack, capsys)
    assert {"bucket", "table", "queue", "deadLetterQueue"} <= set(resources)
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    # When trail files are put into its bucket, one per account as CloudTrail delivers them
    files = by_account([event(name) for name in REFERENCE_EXAMPLES], "docs")
    for key, body in files.items():
        s3.put_object(Bucket=resources["bucket"], Key=key, Body=body)

    # Then the notification → queue → handler path stores its events, and `redtrail query` shows them
    assert _eventually(lambda: len(_stored(local_stack, capsys)) == 5), _diagnostics(local_stack)
    status, out, err = _cli(
        local_stack, capsys, "query", "--since", "2017-01-01", "--until", "2023-01-01", "--format", "json"
    )
    assert status == 0, err
    found = json.loads(out)
    assert len(found) == 5
    decrypt = next(row for row in found if row["eventName"] == "Decrypt")
    assert decrypt["redshiftServiceAccountRegion"] == "us-east-2"
    status, out, _ = _cli(local_stack, capsys, "query", "--since", "2015-01-01", "--event-name", "CreateNamespace")
    assert status == 0
    assert "namespace:testnamespace" in out


def test_a_corrupt_file_reaches_the_dead_letter_queue_and_redrive_moves_it_back(local_stack, capsys):
    # Given a corrupt trail file put into the bucket
    resources = _status(local_stack, capsys)
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    s3.put_object(Bucket=resources["bucket"], Key=log_key(name="corrupt"), Body=b"\x1f\x8b\x08\x00corrupt")
    # When the function has read it
    # Then its message is in the dead-letter queue (sent there at once: no retry can mend a corrupt file)
    assert _eventually(lambda: _status(local_stack, capsys)["deadLetterDepth"] == 1), _diagnostics(local_stack)
    batches_before = sum("messages:" in line for line in local_stack.output)
    # When it is redriven
    status, out, _ = _cli(local_stack, capsys, "redrive")
    # Then it went back through the pipeline (one more batch) and, still corrupt, back to the dead-letter queue
    assert status == 0
    assert "moved 1 message from" in out
    assert _eventually(lambda: sum("messages:" in line for line in local_stack.output) > batches_before)
    assert _eventually(lambda: _status(local_stack, capsys)["deadLetterDepth"] == 1)


def test_backfill_sends_historical_files_to_the_function(local_stack, capsys):
    # Given an older trail file in a bucket without notifications
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    s3.create_bucket(Bucket="history")
    body = gzip.compress(
        json.dumps({"Records": [event("kms_decrypt_by_redshift") | {"eventID": "backfilled"}]}).encode()
    )
    for name, day in (("old", "2017-03-03"), ("older", "2016-01-01")):
        s3.put_object(Bucket="history", Key=log_key(name=name, region="us-east-2", day=day), Body=body)
    # When it is backfilled since 2017
    status, out, _ = _cli(local_stack, capsys, "backfill", "s3://history/AWSLogs/", "--since", "2017-01-01")
    # Then one notification was queued and its event reaches the table
    assert status == 0
    assert "queued 1 trail file from" in out

    found = lambda: "backfilled" in _stored(local_stack, capsys, "2017-03-01", "2017-03-31")  # noqa: E731
    assert _eventually(found), _diagnostics(local_stack)


def test_a_signed_chain_verifies_and_a_tampered_file_is_found(local_stack, capsys):
    # Given a chain of two hourly digests signed with the key the local AWS was given: the first lists a log
    # file, the second (an hour with nothing delivered) lists none
    resources = _status(local_stack, capsys)
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    writer = TrailWriter(resources["bucket"], "444455556666", SIGNING_KEY, region=REGION, trail="main")
    (first_start, first_end), (second_start, second_end) = hours(datetime.now(UTC) - timedelta(hours=2), 2)
    record = event("authorize_datashare") | {"recipientAccountId": "444455556666", "eventID": "signed-1"}
    log = writer.log_file([record], first_start + timedelta(minutes=5))
    files = [log, writer.digest(first_start, first_end, [log]), writer.digest(second_start, second_end, [])]
    # When they are delivered
    for file in files:
        s3.put_object(Bucket=resources["bucket"], Key=file.key, Body=file.body, Metadata=file.metadata)
    # Then `redtrail verify` proves the chain: both digests verified, no problem, exit 0
    verified = lambda: _verify(local_stack, capsys, "444455556666")[2]["chains"][:1]  # noqa: E731
    assert _eventually(lambda: verified() and verified()[0]["digestsVerified"] == 2), _diagnostics(local_stack)
    status, table, document = _verify(local_stack, capsys, "444455556666")
    assert (status, document["problems"]) == ((0, 0), []), table
    assert "no problems" in table
    # When the log file is rewritten in place (one event's source address changed)
    document = json.loads(log.text)
    document["Records"][0]["sourceIPAddress"] = "203.0.113.66"
    forged = gzip.compress(json.dumps(document).encode())
    s3.put_object(Bucket=resources["bucket"], Key=log.key, Body=forged)
    # Then verify names the file with LOG_HASH_MISMATCH, exits 1, and the genuine event was not replaced
    found = lambda: _verify(local_stack, capsys, "444455556666")[2]["problems"]  # noqa: E731
    assert _eventually(found), _diagnostics(local_stack)
    status, table, document = _verify(local_stack, capsys, "444455556666")
    assert status == (1, 1)
    assert {problem["code"] for problem in document["problems"]} >= {"LOG_HASH_MISMATCH"}
    assert f"s3://{resources['bucket']}/{log.key}" in {problem["object"] for problem in document["problems"]}
    assert "LOG_HASH_MISMATCH" in table
    rows = _rows(local_stack, capsys, "2021-08-01", "2021-08-31")
    dynamodb = boto3.client("dynamodb", endpoint_url=local_stack.endpoint, region_name=REGION)
    stored = dynamodb.get_item(TableName=resources["table"], Key={"eventID": {"S": "signed-1"}})["Item"]
    assert "203.0.113.66" not in stored["event"]["S"]
    genuine = rows["signed-1"]
    assert genuine["provenance"] == "problem"


def test_the_heartbeat_reports_a_chain_that_went_silent(local_stack, capsys):
    # Given a chain whose last digest ended three hours ago (the default heartbeat is 90 minutes)
    resources = _status(local_stack, capsys)
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    writer = TrailWriter(resources["bucket"], "777788889999", SIGNING_KEY, region=REGION, trail="main")
    ((start, end),) = hours(datetime.now(UTC) - timedelta(hours=4), 1)
    digest = writer.digest(start, end, [])
    # When it is delivered and the scheduled sweep runs (every 2 s here)
    s3.put_object(Bucket=resources["bucket"], Key=digest.key, Body=digest.body, Metadata=digest.metadata)
    # Then verify reports the chain late
    codes = lambda: {p["code"] for p in _verify(local_stack, capsys, "777788889999")[2]["problems"]}  # noqa: E731
    assert _eventually(lambda: "DIGEST_LATE" in codes()), _diagnostics(local_stack)


def _now_call(event_id: str, name: str, request: dict, person: str, minutes_ago: int) -> dict:
    """A call made minutes ago by ``person`` through an IAM Identity Center role."""
    record = event("authorize_datashare") | {"eventID": event_id, "eventName": name, "requestParameters": request}
    record["eventTime"] = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["responseElements"] = None
    record["readOnly"] = name.startswith("Describe")
    record["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0a1b/{person}",
        "accountId": "111122223333",
    }
    return record


def _inbox(local_stack, topic: str) -> tuple[object, str]:
    """A queue subscribed to ``topic``: the SQS client and its URL."""
    sqs = boto3.client("sqs", endpoint_url=local_stack.endpoint, region_name=REGION)
    sns = boto3.client("sns", endpoint_url=local_stack.endpoint, region_name=REGION)
    queue_url = sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, queue_url


def _drain(sqs, queue_url: str) -> list[dict]:
    found = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _alarm(status: dict, construct_id: str) -> str:
    (state,) = [state for name, state in status["alarms"].items() if f"-Monitoring{construct_id}" in name]
    return state


def test_detected_events_are_alerted_once_and_fire_their_alarms_which_then_recover(local_stack, capsys):
    # Given a queue subscribed to the stack's alerts topic, and a file of calls made minutes ago: a cluster made
    # public (high), a cluster deleted without a final snapshot (critical), a describe (nothing to detect)
    resources = _status(local_stack, capsys)
    sqs, inbox = _inbox(local_stack, resources["alertTopic"])
    calls = [
        _now_call(
            "live-public",
            "ModifyCluster",
            {"clusterIdentifier": "sales-dw", "publiclyAccessible": True},
            "alice@corp.example",
            4,
        ),
        _now_call(
            "live-deleted",
            "DeleteCluster",
            {"clusterIdentifier": "tmp", "skipFinalClusterSnapshot": True},
            "bob@corp.example",
            3,
        ),
        _now_call("live-describe", "DescribeClusters", {"clusterIdentifier": "sales-dw"}, "alice@corp.example", 2),
    ]
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    key = log_key("111122223333", "live", day=datetime.now(UTC).strftime("%Y-%m-%d"))
    s3.put_object(Bucket=resources["bucket"], Key=key, Body=trail_file(calls))
    # When the pipeline has processed it
    received: list[dict] = []
    assert _eventually(lambda: received.extend(_drain(sqs, inbox)) or len(received) >= 2), _diagnostics(local_stack)
    # Then exactly one alert per detected event arrived, with who, what, which cluster and the show command
    by_rule = {alert["MessageAttributes"]["rule"]["Value"]: alert for alert in received}
    assert sorted(by_rule) == ["redshift-cluster-deleted", "redshift-cluster-public"]
    public = by_rule["redshift-cluster-public"]
    assert public["Subject"] == "[HIGH] alice@corp.example made cluster sales-dw publicly accessible"
    assert "Resource:  cluster:sales-dw" in public["Message"]
    assert "redtrail show live-public" in public["Message"]
    assert by_rule["redshift-cluster-deleted"]["MessageAttributes"]["severity"]["Value"] == "critical"
    # And the write and high-severity alarms went to ALARM (redtrail status shows them as on AWS)
    fired = lambda: _status(local_stack, capsys)  # noqa: E731
    assert _eventually(lambda: _alarm(fired(), "WriteEvents") == "ALARM", timeout=30), _diagnostics(local_stack)
    assert _eventually(lambda: _alarm(fired(), "HighSeverityEvents") == "ALARM", timeout=30)
    # When the same file is uploaded again
    batches_before = sum("messages:" in line for line in local_stack.output)
    s3.put_object(Bucket=resources["bucket"], Key=key, Body=trail_file(calls))
    assert _eventually(lambda: sum("messages:" in line for line in local_stack.output) > batches_before)
    # Then no alert is sent again
    assert _drain(sqs, inbox) == []
    # And after a quiet period the alarms are OK again
    assert _eventually(lambda: _alarm(fired(), "HighSeverityEvents") == "OK", timeout=60), _diagnostics(local_stack)
    assert _eventually(lambda: _alarm(fired(), "WriteEvents") == "OK", timeout=60)


def test_commands_fail_in_one_line_when_the_stack_is_missing(local_stack, capsys):
    # Given a stack name that is not deployed
    # When status is asked for it
    status, _out, err = _cli(local_stack, capsys, "status", "--stack-name", "Nope")
    # Then the error is one line, without a traceback
    assert status == 2
    assert err.count("\n") == 1
    assert "stack Nope not found" in err


def test_redtrail_local_stops_cleanly_last(local_stack):
    # Given the running local stack
    # When it is interrupted
    code = local_stack.stop()
    # Then it stops everything and exits 0
    assert code == 0
    assert "redtrail local: stopped" in "".join(local_stack.output)
