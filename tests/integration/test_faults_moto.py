"""Faults injected into the handler's AWS calls (moto): throttling, S3 errors, concurrency, a timeout half-way.

DynamoDB's faults are answered on the wire (``WireFaults``), where moto answers requests: botocore's standard
retry mode, which the event table's client has, sees them as it would see DynamoDB's and retries them; its pauses
are recorded instead of slept (``sleeps``). Other faults are injected with botocore ``before-call`` handlers on
the default session, which the handler's clients are created from: a handler that returns ``(http, parsed)``
answers the call instead of moto (and instead of botocore's retries). The event table reads what is stored
with BatchGetItem and writes each new item with a conditional PutItem; the ledger shares the table (its own
``log#``, ``namespace#``… keys), so faults aimed at the event writes leave the ledger's calls alone.
"""

import copy
import dataclasses
import functools
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote_plus

import boto3
import botocore.endpoint
import pytest
from moto.core.botocore_stubber import BotocoreStubber

from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.s3 import TrailStore
from redtrail.contracts import schema
from redtrail.core.s3_events import TrailObject, notification_body
from redtrail.function import consumer
from redtrail.function.handler import lambda_handler
from tests.integration.conftest import BUCKET, REGION, TABLE, emf_metrics
from tests.support import event, log_key, trail_file

ACCOUNT = "123456789012"  # the recipientAccountId of the reference ExecuteStatement
KEY = log_key(ACCOUNT, "f a=1")  # a space and an "=" the notification encodes
OTHER_KEY = log_key(ACCOUNT, "other")
DECOY = {"eventID": "decoy", "eventSource": "ec2.amazonaws.com", "userIdentity": {"accountId": "123456789012"}}


def redshift_events(count: int) -> list[dict[str, Any]]:
    """``count`` distinct Redshift events for ``ACCOUNT`` (the reference ExecuteStatement, its own eventID each)."""
    records = []
    for number in range(count):
        record = copy.deepcopy(event("execute_statement"))
        record["eventID"] = f"evt-{number:04d}"
        record["recipientAccountId"] = ACCOUNT  # the account the file's key names, or it is quarantined
        records.append(record)
    return records


def stored_ids(pipeline) -> set[str]:
    """The eventIDs of the items the event table holds: events and quarantined records, not the ledger's."""
    ids: set[str] = set()
    for page in pipeline.dynamodb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="eventID"):
        ids |= {item["eventID"]["S"] for item in page["Items"]}
    return {event_id for event_id in ids if not event_id.startswith(schema.NOT_EVENT_PREFIXES)}


def stored_count(pipeline) -> int:
    return len(stored_ids(pipeline))


def event_ids(count: int) -> set[str]:
    """The eventIDs of ``redshift_events(count)``."""
    return {f"evt-{number:04d}" for number in range(count)}


# --- fault injection ----------------------------------------------------------------------------------------

Step = Callable[[dict[str, Any]], Any]


def passes(_: dict[str, Any]) -> None:
    """Let the call through to moto."""
    return None


def fails(status: int, code: str) -> Step:
    """Answer the call with an AWS error."""

    def step(_: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        http = SimpleNamespace(status_code=status, headers={}, content=b"")
        return http, {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {}}

    return step


def raises(error: BaseException) -> Step:
    """Raise out of the call, as a Lambda that runs out of time stops wherever it is."""

    def step(_: dict[str, Any]) -> None:
        raise error

    return step


def every_call(_: dict[str, Any]) -> bool:
    return True


def of_event_items(params: dict[str, Any]) -> bool:
    """A PutItem of the event table's (an event or a quarantined record), not of the ledger sharing the table."""
    event_id: str = json.loads(params["body"])["Item"]["eventID"]["S"]
    return not event_id.startswith(schema.NOT_EVENT_PREFIXES)


class Faults:
    """A script of answers for one operation of the handler's clients; after the script, calls pass through.

    Only the calls ``aimed_at`` selects are answered and counted; the others pass through."""

    def __init__(
        self,
        service_name: str,
        operation: str,
        *script: Step,
        default: Step = passes,
        aimed_at: Callable[[dict[str, Any]], bool] = every_call,
    ) -> None:
        self.script = list(script)
        self.default = default
        self.aimed_at = aimed_at
        self.calls = 0
        boto3.DEFAULT_SESSION.events.register(f"before-call.{service_name}.{operation}", self._answer)

    def _answer(self, params: dict[str, Any], **_: Any) -> Any:
        if not self.aimed_at(params):
            return None
        self.calls += 1
        step = self.script.pop(0) if self.script else self.default
        return step(params)


def event_puts(*script: Step, default: Step = passes) -> Faults:
    """Faults for the event table's conditional PutItem calls (one per new item), before botocore sends them."""
    return Faults("dynamodb", "PutItem", *script, default=default, aimed_at=of_event_items)


# --- faults on the wire: what botocore's retry mode sees ------------------------------------------------------

WireAnswer = tuple[int, dict[str, str], str]
WireStep = Callable[[dict[str, Any]], WireAnswer | None]
JSON_1_0 = {"Content-Type": "application/x-amz-json-1.0"}


def goes_through(_: dict[str, Any]) -> None:
    """Let the request through to moto."""
    return None


def answers(status: int, code: str) -> WireStep:
    """Answer the request with DynamoDB's error, as DynamoDB sends it."""

    def step(_: dict[str, Any]) -> WireAnswer:
        error = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"injected {code}"}
        return status, JSON_1_0, json.dumps(error)

    return step


def leaves_every_key_unprocessed(request: dict[str, Any]) -> WireAnswer:
    """Answer BatchGetItem with nothing read and every key unprocessed, as DynamoDB may under load."""
    return 200, JSON_1_0, json.dumps({"Responses": {}, "UnprocessedKeys": request["RequestItems"]})


def is_event_put(request: dict[str, Any]) -> bool:
    """A PutItem of the event table's (an event or a quarantined record), not of the ledger sharing the table."""
    event_id: str = request["Item"]["eventID"]["S"]
    return not event_id.startswith(schema.NOT_EVENT_PREFIXES)


def is_event_read(request: dict[str, Any]) -> bool:
    """A BatchGetItem of event items (what the writer reads), not of the ledger's."""
    ((_, asked),) = request["RequestItems"].items()
    return not asked["Keys"][0]["eventID"]["S"].startswith(schema.NOT_EVENT_PREFIXES)


class WireFaults:
    """A script of answers to one DynamoDB operation, given where moto answers the HTTP request (its stubber);
    after the script, ``default``. Only the requests ``aimed_at`` selects are answered and counted, each attempt
    botocore makes one request."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        operation: str,
        *script: WireStep,
        default: WireStep = goes_through,
        aimed_at: Callable[[dict[str, Any]], bool] = every_call,
    ) -> None:
        self.script = list(script)
        self.default = default
        self.aimed_at = aimed_at
        self.calls = 0
        moto_answers = BotocoreStubber.process_request

        def process_request(stubber: BotocoreStubber, request: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else str(target)
            if target.endswith(f".{operation}"):
                body = json.loads(request.body)
                if self.aimed_at(body):
                    self.calls += 1
                    step = self.script.pop(0) if self.script else self.default
                    answer = step(body)
                    if answer is not None:
                        return answer
            return moto_answers(stubber, request)

        monkeypatch.setattr(BotocoreStubber, "process_request", process_request)


@dataclasses.dataclass
class Wire:
    """Faults for the event table's calls, on the wire."""

    monkeypatch: pytest.MonkeyPatch

    def puts(self, *script: WireStep, default: WireStep = goes_through) -> WireFaults:
        """The event table's conditional PutItem requests (one per new item and attempt)."""
        return WireFaults(self.monkeypatch, "PutItem", *script, default=default, aimed_at=is_event_put)

    def reads(self, *script: WireStep, default: WireStep = goes_through) -> WireFaults:
        """The event table's BatchGetItem requests (what is stored, 100 keys a request)."""
        return WireFaults(self.monkeypatch, "BatchGetItem", *script, default=default, aimed_at=is_event_read)


@pytest.fixture
def wire(pipeline, monkeypatch) -> Wire:
    return Wire(monkeypatch)


@pytest.fixture
def sleeps(pipeline, monkeypatch):
    """The pauses botocore's retries make (``botocore``) and the table's own, between its reads of unprocessed
    keys (``table``), recorded instead of slept (the handler's clients are made on first use)."""
    recorded = SimpleNamespace(botocore=[], table=[])
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=recorded.botocore.append))
    real = consumer.default_dependencies

    @functools.cache
    def recording() -> consumer.Dependencies:
        return dataclasses.replace(real(), table=EventTable(TABLE, sleep=recorded.table.append))

    monkeypatch.setattr(consumer, "default_dependencies", recording)
    return recorded


def queued(pipeline, *files: tuple[str, bytes]) -> list[dict[str, Any]]:
    """Put each file into the trail bucket and return the notifications it queued (not the s3:TestEvent)."""
    for key, body in files:
        pipeline.put(key, body)
    return [message for message in pipeline.receive() if "s3:TestEvent" not in message["Body"]]


def key_of(message: dict[str, Any]) -> str:
    """The (decoded) object key a queued S3 notification names."""
    return unquote_plus(json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"])


def message_for(messages: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(message for message in messages if key_of(message) == key)


def failed_ids(response: dict[str, Any]) -> set[str]:
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


# --- DynamoDB throttling and UnprocessedKeys ----------------------------------------------------------------


def test_a_transient_throttle_is_retried_and_every_event_is_written_once(pipeline, context, wire, sleeps, capsys):
    # Given a file with 30 Redshift events (one BatchGetItem read, then one PutItem each), and DynamoDB that
    # throttles the read, then leaves every key unprocessed, then recovers, and throttles the first put once
    messages = queued(pipeline, (KEY, trail_file([*redshift_events(30), DECOY])))
    read = wire.reads(answers(400, "ProvisionedThroughputExceededException"), leaves_every_key_unprocessed)
    puts = wire.puts(answers(400, "ThrottlingException"))
    # When the handler processes the message
    response = lambda_handler(pipeline.event(messages), context)
    # Then the message succeeds: botocore retried the throttled read and put (a jittered pause each, of at most
    # its 1 s base), the table asked the unprocessed keys again (after a pause of its own), and each event is
    # exactly one item
    assert response == {"batchItemFailures": []}
    assert read.calls == 3  # throttled, unprocessed, read
    assert puts.calls == 31  # the 1st item: throttled, written; the 29 others: written
    assert len(sleeps.botocore) == 2
    assert all(0 <= pause <= 1 for pause in sleeps.botocore)
    assert len(sleeps.table) == 1
    assert 0 <= sleeps.table[0] <= 0.1
    assert stored_ids(pipeline) == event_ids(30)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["ItemsWritten"] == 30
    assert "FilesFailed" not in metrics


def longest_pause(retried_by: str, attempt: int) -> float:
    """The longest pause before retry ``attempt``: the table's full jitter, or botocore's (1 s base, 20 s cap)."""
    return min(5.0, 0.05 * 2**attempt) if retried_by == "table" else min(20.0, 2.0 ** (attempt - 1))


@pytest.mark.parametrize(
    ("faults", "fault", "retried_by"),
    [
        pytest.param("puts", answers(400, "ProvisionedThroughputExceededException"), "botocore", id="throttled"),
        pytest.param("puts", answers(400, "ThrottlingException"), "botocore", id="throttling-exception"),
        pytest.param("puts", answers(400, "RequestLimitExceeded"), "botocore", id="request-limit"),
        pytest.param("puts", answers(500, "InternalServerError"), "botocore", id="internal-error"),
        pytest.param("puts", answers(503, "ServiceUnavailable"), "botocore", id="service-unavailable"),
        pytest.param("reads", answers(400, "ProvisionedThroughputExceededException"), "botocore", id="read-throttled"),
        pytest.param("reads", leaves_every_key_unprocessed, "table", id="unprocessed-keys"),
    ],
)
def test_when_write_retries_run_out_the_message_fails_and_nothing_claims_success(
    pipeline, context, wire, sleeps, logs, capsys, faults, fault, retried_by
):
    # Given a file with Redshift events and a file without any, in one batch, and DynamoDB that never accepts
    # a put of an event item (or never answers the read of what is stored)
    messages = queued(pipeline, (KEY, trail_file(redshift_events(3))), (OTHER_KEY, trail_file([DECOY])))
    refused = getattr(wire, faults)(default=fault)
    # When the handler processes the batch
    response = lambda_handler(pipeline.event(messages), context)
    # Then the writing file's message fails (SQS retries it, then dead-letters it) after every attempt with
    # growing jittered pauses (botocore's standard mode; the table's own for unprocessed keys), and only the file
    # that needed no write succeeds
    assert failed_ids(response) == {message_for(messages, KEY)["MessageId"]}
    assert refused.calls == 8  # the attempts at the first item (or the read): the file fails there
    pauses = getattr(sleeps, retried_by)
    assert len(pauses) == 7
    assert (sleeps.botocore if retried_by == "table" else sleeps.table) == []  # no retries on top of the retries
    assert all(0 <= pause <= longest_pause(retried_by, attempt) for attempt, pause in enumerate(pauses, start=1))
    assert stored_count(pipeline) == 0
    # And the metrics and the log say the file failed, never that it was processed or its items written
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["FilesFailed"] == 1
    assert metrics["FilesProcessed"] == 1  # the file without Redshift events
    assert metrics.get("ItemsWritten", 0) == 0
    (error,) = [line for line in logs() if line["level"] == "ERROR"]
    assert error["error_type"] == "TableWriteError"
    assert "after 8 attempts" in error["reason"]
    assert f"s3://{BUCKET}/{KEY}" in json.dumps(error, ensure_ascii=False)
    assert not [line for line in logs() if line["message"] == "trail object processed" and KEY in line["object"]]


# --- S3 errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        pytest.param(403, "AccessDenied", "AccessDeniedError", id="access-denied"),
        pytest.param(503, "SlowDown", "StorageError", id="slow-down"),
        pytest.param(500, "InternalError", "StorageError", id="internal-error"),
    ],
)
def test_an_s3_error_fails_the_message_with_the_key_in_the_error_log(
    pipeline, context, logs, capsys, status, code, error_type
):
    # Given a trail file whose read S3 refuses or cannot serve, in a batch with a good file
    messages = queued(pipeline, (KEY, trail_file(redshift_events(2))), (OTHER_KEY, trail_file(redshift_events(1))))
    Faults("s3", "GetObject", fails(status, code))  # the first read fails, the next passes
    # When the handler processes the batch
    response = lambda_handler(pipeline.event(messages), context)
    # Then exactly one message fails (the one read first), the other file's events are stored
    assert len(response["batchItemFailures"]) == 1
    (failed,) = failed_ids(response)
    failed_key = key_of(next(message for message in messages if message["MessageId"] == failed))
    assert stored_count(pipeline) == (1 if failed_key == KEY else 2)
    assert emf_metrics(capsys.readouterr().out)["FilesFailed"] == 1
    # And one ERROR line names the object (decoded key), the error type and the S3 code
    (error,) = [line for line in logs() if line["level"] == "ERROR"]
    assert error["object"] == f"s3://{BUCKET}/{failed_key}"
    assert error["error_type"] == error_type
    assert code in error["reason"]


# --- duplicate deliveries, concurrency and a timeout half-way -----------------------------------------------


def test_the_same_file_delivered_twice_and_processed_concurrently_leaves_one_item_per_event(pipeline):
    # Given a file with 40 Redshift events, announced by two notifications (S3 delivers at least once), and
    # two function instances that each analyze it, read what is stored (nothing yet) and then write at the
    # same moment, each conditional put racing the other's
    records = [*redshift_events(40), DECOY]
    pipeline.put(KEY, trail_file(records))
    trail_object = TrailObject(BUCKET, KEY)
    both_read = threading.Barrier(2, timeout=30)
    has_read = threading.local()
    one_put_at_a_time = threading.Lock()  # DynamoDB applies each conditional put atomically; moto needs a lock

    def after_read(**_: Any) -> None:
        if not getattr(has_read, "done", False):  # the first read of each instance (not a re-read after a race)
            has_read.done = True
            both_read.wait()

    def acquire(**_: Any) -> None:
        one_put_at_a_time.acquire()

    def release(**_: Any) -> None:
        one_put_at_a_time.release()

    session = boto3.DEFAULT_SESSION.events
    session.register("after-call.dynamodb.BatchGetItem", after_read)
    session.register("before-call.dynamodb.PutItem", acquire)
    session.register("after-call.dynamodb.PutItem", release)
    session.register("after-call-error.dynamodb.PutItem", release)
    deps = consumer.default_dependencies()
    instances = [dataclasses.replace(deps, store=TrailStore(), table=EventTable(TABLE)) for _ in range(2)]
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def run(dependencies):
        try:
            outcomes.append(consumer.ingest_object(trail_object, dependencies))
        except BaseException as error:
            errors.append(error)

    # When both process it concurrently
    threads = [threading.Thread(target=run, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then both succeed and the table holds exactly one item per event, as a single delivery leaves it
    assert errors == []
    # No overwrites now: each event is written by one instance and found unchanged by the other (was [40, 40]);
    # both read nothing stored, so the other's "unchanged" are conditional puts refused, then re-read
    assert sum(outcome.written for outcome in outcomes) == 40
    assert [outcome.written + outcome.unchanged for outcome in outcomes] == [40, 40]
    assert [outcome.conflicts for outcome in outcomes] == [(), ()]
    assert stored_ids(pipeline) == event_ids(40)
    assert json.loads(pipeline.item("evt-0007")["event"]["S"]) == records[7]


def test_a_timeout_half_way_through_a_file_then_the_retry_leaves_one_item_per_event(pipeline, context, capsys):
    # Given a file with 60 Redshift events (one BatchGetItem read, then one PutItem each), and a first
    # invocation that stops after 25 puts, as a Lambda that runs out of time does
    records = [*redshift_events(60), DECOY]
    messages = queued(pipeline, (KEY, trail_file(records)))
    puts = event_puts(*[passes] * 25, raises(TimeoutError("Task timed out after 120.00 seconds")))
    # When the first invocation runs
    first = lambda_handler(pipeline.event(messages), context)
    # Then its message is not acknowledged and only the first 25 events were written
    assert failed_ids(first) == {messages[0]["MessageId"]}
    assert stored_ids(pipeline) == event_ids(25)
    before = {event_id: pipeline.item(event_id) for event_id in event_ids(25)}
    capsys.readouterr()
    # When SQS delivers the message again and the retry runs to the end
    second = lambda_handler(pipeline.event(messages), context)
    # Then every event is exactly one item, and those written the first time are unchanged (not written again)
    assert second == {"batchItemFailures": []}
    assert puts.calls == 26 + 35
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["ItemsWritten"], metrics["ItemsUnchanged"]) == (35, 25)
    assert {event_id: pipeline.item(event_id) for event_id in event_ids(25)} == before
    assert stored_ids(pipeline) == event_ids(60)


# --- objects that are acknowledged, never failed ------------------------------------------------------------

INSIGHT_KEY = (
    "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2024/05/01/"
    "123456789012_CloudTrail-Insight_us-east-1_20240501T1200Z_abcdEFGH12345678.json.gz"
)
INSIGHT = {
    "eventVersion": "1.08",
    "eventTime": "2024-05-01T11:51:00Z",
    "awsRegion": "us-east-1",
    "eventID": "0b8e1b6b-insight-start",
    "eventType": "AwsCloudTrailInsight",
    "recipientAccountId": "123456789012",
    "sharedEventID": "12345678-1234-1234-1234-123456789012",
    "insightDetails": {
        "state": "Start",
        "eventSource": "redshift.amazonaws.com",
        "eventName": "DescribeClusters",
        "insightType": "ApiCallRateInsight",
        "insightContext": {"statistics": {"baseline": {"average": 0.01}, "insight": {"average": 10.5}}},
    },
    "eventCategory": "Insight",
}


def test_an_insight_file_is_acknowledged_and_counted_not_failed(pipeline, context, capsys):
    # Given a CloudTrail Insights file (an API call-rate insight about Redshift) delivered to the trail bucket
    messages = queued(pipeline, (INSIGHT_KEY, trail_file([INSIGHT, {**INSIGHT, "eventID": "0b8e1b6b-insight-end"}])))
    # When the handler processes its notification
    response = lambda_handler(pipeline.event(messages), context)
    # Then it is acknowledged and counted as processed: an Insight is not an API call, it has no top-level
    # eventSource, so nothing is kept
    assert response == {"batchItemFailures": []}
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["FilesProcessed"], metrics["RecordsRead"], metrics["EventsKept"]) == (1, 2, 0)
    assert "FilesFailed" not in metrics
    assert stored_count(pipeline) == 0


@pytest.mark.parametrize(
    ("key", "body", "metric"),
    [
        pytest.param("exports/readme.txt", b"not a trail file", "FilesSkipped", id="not-a-log-name"),
        pytest.param("config/settings.json", b'{"setting": true}', "FilesSkipped", id="json-without-records"),
        pytest.param("CloudTrail-Digest/x.json.gz", trail_file([]), "FilesSkipped", id="digest-outside"),
        pytest.param("exports/2024/events.json.gz", trail_file(redshift_events(2)), "FilesSkipped", id="trail-file"),
    ],
)
def test_keys_outside_awslogs_in_a_direct_s3_notification_are_acknowledged(
    pipeline, context, capsys, key, body, metric
):
    # Given an object outside AWSLogs/ and the S3 notification S3 would send the function directly
    pipeline.put(key, body)
    notification = json.loads(notification_body(TrailObject(BUCKET, key), region=REGION, event_time=datetime.now(UTC)))
    # When the handler gets the notification
    response = lambda_handler(notification, context)
    # Then it is acknowledged and skipped: CloudTrail writes only under AWSLogs/
    assert response == {"batchItemFailures": []}
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics[metric] == 1
    assert "FilesFailed" not in metrics


def test_a_non_trail_json_name_outside_awslogs_is_acknowledged(pipeline, context, capsys):
    # Given a text file named .json outside AWSLogs/, announced on the queue (a backfill of the bucket root)
    key = "notes/todo.json"
    pipeline.put(key, b"- renew the certificate\n")
    pipeline.sqs.send_message(
        QueueUrl=pipeline.queue_url,
        MessageBody=notification_body(TrailObject(BUCKET, key), region=REGION, event_time=datetime.now(UTC)),
    )
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then it is acknowledged and not counted as a failed file
    assert response == {"batchItemFailures": []}
    assert "FilesFailed" not in emf_metrics(capsys.readouterr().out)


# --- odd values round-trip into `event` ---------------------------------------------------------------------


def test_non_ascii_floats_huge_integers_and_nulls_round_trip_losslessly(pipeline, context):
    # Given Redshift events with non-ASCII text, floats, integers beyond 64 bits and null fields
    odd = {
        "eventVersion": "1.09",
        "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/ops/ünï", "x": None},
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "redshift.amazonaws.com",
        "eventName": "DescribeClusters",
        "awsRegion": None,
        "sourceIPAddress": None,
        "requestParameters": {"clusterIdentifier": "café-集群", "maxRecords": 100, "marker": None},
        "responseElements": None,
        "eventID": "odd-1",
        "readOnly": True,
        "errorMessage": None,
        "additionalEventData": {
            "note": "café \u2013 数据仓库 \u2013 🙂 \u2013 Ünïcödé \u2013 \u202e",
            "ratio": 0.1,
            "tiny": 5e-324,
            "big": 1.7976931348623157e308,
            "negative": -2.5,
            "huge": 123456789012345678901234567890123456789,
            "negativeHuge": -(2**200),
            "nested": [None, {"x": None}, [], {}],
        },
    }
    second = {**odd, "eventID": "odd-2 ✓", "additionalEventData": {"only": None}}
    messages = queued(pipeline, (KEY, trail_file([odd, second])))
    # When the handler stores them
    response = lambda_handler(pipeline.event(messages), context)
    # Then each stored event parses back to the very record, value for value and type for type
    assert response == {"batchItemFailures": []}
    for record in (odd, second):
        stored = json.loads(pipeline.item(record["eventID"])["event"]["S"])
        assert stored == record
        assert json.dumps(stored, sort_keys=True) == json.dumps(record, sort_keys=True)
    item = pipeline.item("odd-1")
    assert "awsRegion" not in item  # a null field is not an attribute
    assert item["resource"] == {"S": "cluster:café-集群"}
