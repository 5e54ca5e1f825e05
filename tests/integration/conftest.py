"""A moto account wired like the stack: trail bucket → S3 notification → SQS → (handler) → DynamoDB."""

import io
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from redtrail.adapters.dynamodb import EventTable
from redtrail.contracts.schema import NOT_EVENT_PREFIXES
from redtrail.function import consumer
from redtrail.function.observability import logger, metrics
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey
from redtrail_devtools.poller import lambda_event
from redtrail_devtools.public_keys import ENDPOINT_VARIABLE, demo_keys, serving
from tests.support import trail_bucket_with_queue

REGION = "us-east-1"
BUCKET = "trail-bucket"
TABLE = "redtrail-events"
# CloudTrail's signing key, as far as these tests know: the public-keys stand-in serves its public half.
CLOUDTRAIL_KEY = SigningKey()
# moto has no ListPublicKeys: the function's CloudTrail calls pass through to the stand-in.
MOTO_CONFIG = {"core": {"passthrough": {"services": ["cloudtrail"]}}}


@dataclass
class LambdaContext:
    function_name: str = "redtrail-ingest"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:redtrail-ingest"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


@dataclass
class Pipeline:
    s3: Any
    sqs: Any
    dynamodb: Any
    queue_url: str
    queue_arn: str
    table: EventTable
    operations: list[str] = field(default_factory=list)

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    def deliver(self, *files: Delivered) -> None:
        """Put files as CloudTrail delivers them (a digest's signature in its user metadata)."""
        for file in files:
            self.s3.put_object(Bucket=BUCKET, Key=file.key, Body=file.body, Metadata=file.metadata)

    def receive(self) -> list[dict[str, Any]]:
        """Every message waiting in the queue (the s3:TestEvent included)."""
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            messages.extend(batch)
        return messages

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return lambda_event(messages, queue_arn=self.queue_arn, region=REGION)

    def item(self, event_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=TABLE, Key={"eventID": {"S": event_id}}).get("Item")

    def item_count(self) -> int:
        """Event and quarantine items (not the ledger's)."""
        return len(self.event_ids())

    def event_ids(self) -> set[str]:
        ids = set()
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="eventID")
        for page in pages:
            ids |= {item["eventID"]["S"] for item in page["Items"]}
        return {event_id for event_id in ids if not event_id.startswith(NOT_EVENT_PREFIXES)}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "TABLE_NAME": TABLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with serving(demo_keys(CLOUDTRAIL_KEY)) as public_keys, mock_aws(config=MOTO_CONFIG):
        monkeypatch.setenv(ENDPOINT_VARIABLE, public_keys)
        yield


@pytest.fixture
def pipeline(aws):
    # One default session for the test and the handler, so every DynamoDB call is seen.
    boto3.setup_default_session()
    operations: list[str] = []
    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb.*", lambda model, **_: operations.append(model.name))
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    queue_url, queue_arn = trail_bucket_with_queue(s3, sqs, bucket=BUCKET, queue_name="redtrail-ingest")
    table = EventTable(TABLE, dynamodb)
    table.create()
    operations.clear()
    built = Pipeline(s3, sqs, dynamodb, queue_url, queue_arn, table, operations)
    consumer.default_dependencies.cache_clear()
    metrics.clear_metrics()  # an invocation a test cut short (a simulated timeout) leaves its metrics behind
    yield built
    consumer.default_dependencies.cache_clear()


@pytest.fixture
def logs(monkeypatch):
    """The handler's structured log lines (Powertools writes JSON to its stream), parsed."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    return lines


@pytest.fixture
def context():
    return LambdaContext()


def emf_metrics(output: str) -> dict[str, float]:
    """Metric name → summed value over the EMF blobs Powertools printed."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
    return totals
