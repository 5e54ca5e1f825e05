"""Zip bombs through the real handler (moto), in a child process whose peak memory is measured.

A gzip file of about 1 MB can inflate to 1 GB (deflate's limit is about 1,000 to 1). The function must refuse such
a file alone, as a permanent error (straight to the dead-letter queue), without the memory its text would take:
the batch it came in must survive it. As in test_large_file.py, the child holds moto, boto3, Powertools and the
pipeline; its peak resident set size is reset (``/proc/self/clear_refs``) when the handler starts, and must stay
below the function's configured memory while it runs.
"""

import json
import os
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from redtrail.contracts.settings import default_max_inflated_mb
from tests.integration.test_large_file import (
    REPO,
    _Context,
    _count,
    _peak_mb,
    _reset_peak,
    _status_mb,
    configured_memory_mb,
)
from tests.support import event, log_key, trail_file

GIB = 1 << 30
BUCKET = "trail-bucket"
TABLE = "redtrail-events"
REGION = "us-east-1"
ACCOUNT = event("execute_statement")["recipientAccountId"]


def bomb(unit: bytes, size: int, *, head: bytes = b"", tail: bytes = b"", stated: int | None = None) -> bytes:
    """A one-member gzip file (level 9) of ``head``, ``unit`` repeated to about ``size`` bytes, then ``tail``; its
    trailer states ``stated`` as the length when given (a trailer that lies).

    Deflated once: each MB of ``unit``s is compressed after a full flush, so the next MB compresses to the same
    bytes, which are repeated (a second of work instead of a minute, for a file the inflater cannot tell apart).
    """
    block = unit * max(1, (1 << 20) // len(unit))
    count = max(1, size // len(block))
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = deflater.compress(head) + deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    repeated = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    last = deflater.compress(tail) + deflater.flush()
    crc = zlib.crc32(block, zlib.crc32(head))
    for _ in range(count - 1):
        crc = zlib.crc32(block, crc)
    length = len(head) + len(block) * count + len(tail)
    trailer = struct.pack("<II", zlib.crc32(tail, crc), (length if stated is None else stated) & 0xFFFFFFFF)
    return first + repeated * (count - 1) + last[:-8] + trailer


def record_bomb(**trailer: int) -> bytes:
    """1 GiB of one Redshift event, written as CloudTrail writes its files: every record is a candidate."""
    record = json.dumps(event("execute_statement"), separators=(",", ":")).encode()
    return bomb(record + b",", GIB, head=b'{"Records":[', tail=record + b"]}", **trailer)


BOMBS: dict[str, Callable[[], bytes]] = {
    "zeros": lambda: bomb(b"\x00" * 4096, GIB),
    # the trailer says 1,000 bytes: too small to be read in pieces, so the whole-text route
    "zeros-understated": lambda: bomb(b"\x00" * 4096, GIB, stated=1000),
    "records": record_bomb,
    # the trailer says 100 MB (within the limit): read in pieces, and picked, until the text passes 100 MB
    "records-understated": lambda: record_bomb(stated=100 << 20),
}


def child(folder: str, dead_letter_queue: str) -> None:
    """Run in the child: a moto account, the files in the trail bucket, the handler on one batch of them all."""
    import boto3
    from moto import mock_aws

    from redtrail.adapters.dynamodb import EventTable
    from redtrail.function import consumer
    from redtrail.function.handler import lambda_handler
    from redtrail_devtools.poller import lambda_event
    from tests.support import trail_bucket_with_queue

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        queue_url, queue_arn = trail_bucket_with_queue(s3, sqs, bucket=BUCKET, queue_name="ingest")
        dead_letters = sqs.create_queue(QueueName=dead_letter_queue)["QueueUrl"]
        os.environ["DEAD_LETTER_QUEUE_URL"] = dead_letters
        consumer.default_dependencies.cache_clear()
        EventTable(TABLE, dynamodb).create()
        for path in sorted(Path(folder).iterdir()):
            s3.put_object(Bucket=BUCKET, Key=log_key(ACCOUNT, path.stem), Body=path.read_bytes())
        messages = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
            messages += [message for message in batch if "s3:TestEvent" not in message["Body"]]
        reset = _reset_peak()
        rss_before = _status_mb("VmRSS")
        started = time.perf_counter()
        response = lambda_handler(lambda_event(messages, queue_arn=queue_arn, region=REGION), _Context())
        seconds = time.perf_counter() - started
        handler_peak = _status_mb("VmHWM") if reset else None
        dead = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        result = {
            "peak_mb": _peak_mb(),
            "handler_peak_mb": handler_peak,
            "rss_before_handler_mb": rss_before,
            "seconds": seconds,
            "failures": response["batchItemFailures"],
            "messages": len(messages),
            "dead_letters": {
                json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"]: {
                    name: value["StringValue"] for name, value in message["MessageAttributes"].items()
                }
                for message in dead.get("Messages", [])
            },
            "items": _count(dynamodb),
        }
    print("RESULT " + json.dumps(result), flush=True)


@pytest.mark.slow
def test_zip_bombs_fail_alone_and_permanently_within_the_function_memory(tmp_path):
    # Given four 1 GiB gzip bombs of about 1 to 6 MB (zeros, and one Redshift event repeated as CloudTrail writes its
    # records; each with an honest trailer and with one that understates the length) and a good trail file, in the
    # trail bucket of a function with the default memory and no MAX_INFLATED_MB (Lambda states its memory)
    for name, make in BOMBS.items():
        (tmp_path / name).write_bytes(make())
    (tmp_path / "good").write_bytes(trail_file([event("execute_statement"), event("create_connection")]))
    memory = configured_memory_mb()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "TABLE_NAME": TABLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }
    for name in ("AWS_ENDPOINT_URL", "MAX_INFLATED_MB", "DEAD_LETTER_QUEUE_URL"):
        env.pop(name, None)
    # When the real handler processes the batch of their five notifications in a child process
    started = time.perf_counter()
    child_run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from tests.integration.test_zip_bomb import child; child({str(tmp_path)!r}, 'redtrail-dead-letters')",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert child_run.returncode == 0, child_run.stderr[-3000:]
    (line,) = [line for line in child_run.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    during = result["handler_peak_mb"]
    print(
        f"\nfour 1 GiB bombs and a good file: handler {result['seconds']:.1f} s; peak RSS while the handler ran "
        f"{during if during is None else round(during)} MB (process RSS when it started "
        f"{result['rss_before_handler_mb']:.0f} MB); function memory {memory} MB; child {elapsed:.1f} s"
    )
    # Then no message is retried: each bomb is in the dead-letter queue, refused for what it would inflate to (a
    # quarter of the function's memory), and the good file's two events are stored
    assert result["messages"] == 5
    assert result["failures"] == []
    reasons = {key.rsplit("_", 1)[-1].removesuffix(".json.gz"): found for key, found in result["dead_letters"].items()}
    assert sorted(reasons) == sorted(BOMBS)
    for found in reasons.values():
        assert found["redtrailErrorType"] == "TrailFileError"
        assert found["redtrailReason"] == f"inflates beyond {default_max_inflated_mb(memory)} MB (MAX_INFLATED_MB)"
    assert result["items"] == 2
    # and the process (moto's account included) stayed below the function's memory while the handler ran
    assert (during if during is not None else result["peak_mb"]) < memory
