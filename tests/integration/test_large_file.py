"""A large trail file through the real handler (moto), in a child process whose peak memory is measured.

The child holds moto (the bucket, the queue and the table in memory), boto3, Powertools and the pipeline, so its
peak resident set size while the handler runs is an upper bound for what the function needs for the file; it
must stay below the function's configured memory. The peak is reset (``/proc/self/clear_refs``) when the handler
starts: moto's own handling of the 12 MB upload peaks higher, and by a varying amount, before that.
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.generate import Generator
from infra.config import StackConfig
from redtrail.core.pipeline import analyze_body
from tests.support import BARE_OPTIONS

REPO = Path(__file__).resolve().parents[2]
RECORDS = 50_000
SEED = 2026
BUCKET = "trail-bucket"
TABLE = "redtrail-events"
REGION = "us-east-1"


def configured_memory_mb() -> int:
    """The function memory of the default deployment: cdk.json's context over the settings' defaults."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return StackConfig.from_context(context.get).function_memory_mb


def _peak_mb() -> float:
    """This process's peak resident set size (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> bool:
    """Reset the kernel's peak RSS of this process (Linux ≥ 4.0), so that VmHWM measures from now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (VmHWM: peak RSS, VmRSS: current RSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def child(path: str, key: str) -> None:
    """Run in the child: a moto account, the file in the trail bucket, the handler on its queue message."""
    import boto3
    from moto import mock_aws

    from redtrail.adapters.dynamodb import EventTable
    from redtrail.function.handler import lambda_handler
    from redtrail_devtools.poller import lambda_event
    from tests.support import trail_bucket_with_queue

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        queue_url, queue_arn = trail_bucket_with_queue(s3, sqs, bucket=BUCKET, queue_name="ingest")
        EventTable(TABLE, dynamodb).create()
        s3.put_object(Bucket=BUCKET, Key=key, Body=Path(path).read_bytes())
        messages = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
            messages += [message for message in batch if "s3:TestEvent" not in message["Body"]]
        setup_mb = _peak_mb()
        reset = _reset_peak()
        rss_before = _status_mb("VmRSS")
        started = time.perf_counter()
        response = lambda_handler(lambda_event(messages, queue_arn=queue_arn, region=REGION), _Context())
        seconds = time.perf_counter() - started
        result = {
            "peak_mb": _peak_mb(),
            "setup_peak_mb": setup_mb,
            "handler_peak_mb": _status_mb("VmHWM") if reset else None,
            "rss_before_handler_mb": rss_before,
            "seconds": seconds,
            "failures": response["batchItemFailures"],
            "messages": len(messages),
            "items": _count(dynamodb),
        }
    print("RESULT " + json.dumps(result), flush=True)


def _count(dynamodb) -> int:
    """Event items in the table, not the ledger's (a Scan returns at most 1 MB a page)."""
    from redtrail.contracts.schema import NOT_EVENT_PREFIXES

    pages = dynamodb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="eventID")
    ids = (item["eventID"]["S"] for page in pages for item in page["Items"])
    return sum(not event_id.startswith(NOT_EVENT_PREFIXES) for event_id in ids)


class _Context:
    function_name = "redtrail-ingest"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:redtrail-ingest"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 120_000


@pytest.mark.slow
def test_a_50000_record_file_is_processed_within_the_function_memory(tmp_path):
    # Given a generated trail file of 50,000 records (about 75 MB of JSON, 12 MB gzipped), and the Redshift
    # events it holds
    generator = Generator(SEED)
    body = generator.trail_file(RECORDS)
    key = generator.log_key("big")
    path = tmp_path / "big.json.gz"
    path.write_bytes(body)
    expected = analyze_body(body, source="expected", options=BARE_OPTIONS)
    assert expected is not None
    assert expected.outcome.records == RECORDS
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "TABLE_NAME": TABLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    # When the real handler processes its notification in a child process
    started = time.perf_counter()
    child_run = subprocess.run(
        [sys.executable, "-c", f"from tests.integration.test_large_file import child; child({str(path)!r}, {key!r})"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert child_run.returncode == 0, child_run.stderr[-3000:]
    (line,) = [line for line in child_run.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    limit = configured_memory_mb()
    during = result["handler_peak_mb"]
    print(
        f"\n{RECORDS} records, {len(body) / 1e6:.1f} MB gzip, {expected.outcome.kept} kept: "
        f"handler {result['seconds']:.1f} s; peak RSS while the handler ran "
        f"{during if during is None else round(during)} MB (process RSS when it started "
        f"{result['rss_before_handler_mb']:.0f} MB); child peak RSS {result['peak_mb']:.0f} MB (moto's upload "
        f"included); function memory {limit} MB; child {elapsed:.1f} s"
    )
    # Then the message succeeds, every kept event is exactly one item, and the process (moto's account included)
    # peaked below the function's configured memory while the handler ran (the whole child's peak when the kernel
    # cannot reset it: an upper bound that also counts moto's handling of the upload)
    assert result["messages"] == 1
    assert result["failures"] == []
    assert result["items"] == len(expected.items) > 500
    assert (during if during is not None else result["peak_mb"]) < limit
