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

import boto3
import pytest

from redtrail.cli.main import main
from redtrail_devtools.deploy import WORK_DIR
from redtrail_devtools.emulator import free_port
from tests.support import REFERENCE_EXAMPLES, event, local_credentials, trail_file

pytestmark = pytest.mark.slow
REGION = "us-east-1"
DELIVERY = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/"


class LocalProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://localhost:{self.port}"
        environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "redtrail.cli", "local", "--port", str(self.port)],
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
def local_stack():
    with local_credentials():
        started = LocalProcess()
        try:
            started.wait_for_line("redtrail local is ready", timeout=300)
            yield started
        finally:
            if started.process.poll() is None:
                started.stop()


def _cli(local_stack, capsys, *arguments):
    capsys.readouterr()
    status = main([*arguments, "--endpoint-url", local_stack.endpoint, "--region", REGION])
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
    # When a trail file is put into its bucket
    s3.put_object(
        Bucket=resources["bucket"],
        Key=f"{DELIVERY}x_CloudTrail_us-east-1_20240501T1200Z_docs.json.gz",
        Body=trail_file([event(name) for name in REFERENCE_EXAMPLES]),
    )

    # Then the notification → queue → handler path stores its events, and `redtrail query` shows them
    assert _eventually(lambda: _status(local_stack, capsys)["itemCount"] == 5), _diagnostics(local_stack)
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
    s3.put_object(Bucket=resources["bucket"], Key=f"{DELIVERY}y_corrupt.json.gz", Body=b"\x1f\x8b\x08\x00corrupt")
    # When the function has read it
    # Then its message is in the dead-letter queue (sent there at once: no retry can mend a corrupt file)
    assert _eventually(lambda: _status(local_stack, capsys)["deadLetterDepth"] == 1), _diagnostics(local_stack)
    batches_before = sum("messages:" in line for line in local_stack.output)
    # When it is redriven
    status, out, _ = _cli(local_stack, capsys, "redrive")
    # Then it went back through the pipeline (one more batch) and, still corrupt, back to the dead-letter queue
    assert status == 0
    assert "moved 1 messages" in out
    assert _eventually(lambda: sum("messages:" in line for line in local_stack.output) > batches_before)
    assert _eventually(lambda: _status(local_stack, capsys)["deadLetterDepth"] == 1)


def test_backfill_sends_historical_files_to_the_function(local_stack, capsys):
    # Given an older trail file in a bucket without notifications
    s3 = boto3.client("s3", endpoint_url=local_stack.endpoint, region_name=REGION)
    s3.create_bucket(Bucket="history")
    body = gzip.compress(
        json.dumps({"Records": [event("kms_decrypt_by_redshift") | {"eventID": "backfilled"}]}).encode()
    )
    s3.put_object(Bucket="history", Key="AWSLogs/123456789012/CloudTrail/us-east-2/2017/03/03/old.json.gz", Body=body)
    s3.put_object(Bucket="history", Key="AWSLogs/123456789012/CloudTrail/us-east-2/2016/01/01/older.json.gz", Body=body)
    # When it is backfilled since 2017
    status, out, _ = _cli(local_stack, capsys, "backfill", "s3://history/AWSLogs/", "--since", "2017-01-01")
    # Then one notification was queued and its event reaches the table
    assert status == 0
    assert "queued 1 trail files" in out

    assert _eventually(lambda: _status(local_stack, capsys)["itemCount"] == 6), _diagnostics(local_stack)
    status, out, _ = _cli(
        local_stack, capsys, "query", "--since", "2017-03-01", "--until", "2017-03-31", "--format", "jsonl"
    )
    assert status == 0
    assert "backfilled" in [json.loads(line)["eventID"] for line in out.splitlines()]


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
