"""Helpers shared by the test tiers: sample events and trail files."""

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from redtrail.contracts.settings import PipelineOptions

TESTS = Path(__file__).parent
# What the pipeline did when no option was given: no retention, nothing sensitive, redacted or routine.
BARE_OPTIONS = PipelineOptions(
    retention_days=None, sensitive_event_names=(), redact_fields=(), routine_write_event_names=()
)
EVENTS = TESTS / "events"
DATA = TESTS / "data"
REFERENCE = DATA / "reference" / "redshift-logging-with-cloudtrail.txt"
REAL_TRAILS = DATA / "cloudtrail"

REFERENCE_EXAMPLES = (
    "authorize_datashare",
    "create_namespace",
    "execute_statement",
    "execute_statement_client_token",
    "create_connection",
    "kms_decrypt_by_redshift",
)


def event(name: str) -> dict[str, Any]:
    """A sample record from tests/events."""
    record: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return record


def trail_file(records: list[Any], *, compress: bool = True) -> bytes:
    """A CloudTrail log file body holding ``records``."""
    body = json.dumps({"Records": records}).encode()
    return gzip.compress(body) if compress else body


def real_records() -> list[tuple[str, Any]]:
    """Every record in the real third-party files, with the file it came from (any of their shapes)."""
    found = []
    for path in sorted(REAL_TRAILS.rglob("*.json*")):
        raw = path.read_bytes()
        document = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        records = document.get("Records", [document]) if isinstance(document, dict) else document
        found.extend((path.name, record) for record in records)
    return found


@contextmanager
def local_credentials() -> Iterator[None]:
    """Fake credentials for a local AWS, and no endpoint inherited from the caller's shell."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "local")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "local")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        yield


def trail_bucket_with_queue(s3: Any, sqs: Any, *, bucket: str, queue_name: str) -> tuple[str, str]:
    """A bucket whose new trail files notify a queue, filtered as the stack filters them; the queue's URL and ARN."""
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rules = [{"Name": "prefix", "Value": "AWSLogs/"}, {"Name": "suffix", "Value": ".json.gz"}]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": rules}}}
            ]
        },
    )
    return queue_url, queue_arn


def log_key(
    account: str = "123456789012",
    name: str = "file",
    *,
    region: str = "us-east-1",
    org: str = "",
    day: str = "2024-05-01",
) -> str:
    """A key in CloudTrail's log layout (the function skips any other), delivered at 12:00 on ``day``."""
    year, month, date = day.split("-")
    folder = f"AWSLogs/{org + '/' if org else ''}{account}/CloudTrail/{region}/{year}/{month}/{date}/"
    return f"{folder}{account}_CloudTrail_{region}_{year}{month}{date}T1200Z_{name}.json.gz"


def by_account(records: list[Any], name: str = "file", **layout: str) -> dict[str, bytes]:
    """The records as CloudTrail delivers them: one file per recipient account, under that account's key."""
    grouped: dict[str, list[Any]] = {}
    for record in records:
        grouped.setdefault(str(record.get("recipientAccountId", "123456789012")), []).append(record)
    return {log_key(account, name, **layout): trail_file(group) for account, group in grouped.items()}
