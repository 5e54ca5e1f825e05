import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError

from redtrail.adapters.connection import Connection
from redtrail.adapters.dynamodb import RETRIES, DetectionTable, EventTable
from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.adapters.s3 import TrailStore
from redtrail.contracts import schema
from redtrail.core.classify import Match, MatchedBy
from redtrail.core.errors import (
    AccessDeniedError,
    ItemRejectedError,
    ObjectNotFoundError,
    StorageError,
    TableNotFoundError,
    TableWriteError,
)
from redtrail.core.items import build_item, content_sha256, event_text
from redtrail.core.pipeline import Conflict, Refused, StoredItems
from redtrail.core.s3_events import TrailObject
from redtrail.function import consumer
from tests.support import event


def _client_error(code, operation="PutItem"):
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class ScriptedDynamoDB:
    """A table in memory whose answers to batch_get_item and put_item can be scripted: each step is a callable
    given the request, answering instead of the table (or returning None to let the table answer)."""

    def __init__(self, *script, stored=None):
        self.script = list(script)
        self.stored = dict(stored or {})
        self.requests = []

    def _step(self, operation, request):
        self.requests.append((operation, request))
        step = self.script.pop(0) if self.script else (lambda _: None)
        return step(request)

    def batch_get_item(self, RequestItems):
        answer = self._step("BatchGetItem", RequestItems)
        if answer is not None:
            return answer
        (table, request), *_ = RequestItems.items()
        keys = [key["eventID"]["S"] for key in request["Keys"]]
        return {"Responses": {table: [self.stored[key] for key in keys if key in self.stored]}}

    def put_item(self, TableName, Item, ConditionExpression, ExpressionAttributeNames):
        answer = self._step("PutItem", Item)
        if answer is not None:
            return answer
        if Item["eventID"]["S"] in self.stored:
            raise _client_error("ConditionalCheckFailedException")
        self.stored[Item["eventID"]["S"]] = Item
        return {}

    def calls(self, operation):
        return [request for name, request in self.requests if name == operation]


def _items(count, content="a", source="s3://b/first.json.gz"):
    return [
        {"eventID": {"S": f"e{number}"}, "eventSha256": {"S": content}, "sourceObject": {"S": source}}
        for number in range(count)
    ]


def _unprocessed_keys(keep):
    def step(request):
        (table, ask), *_ = request.items()
        return {"Responses": {table: []}, "UnprocessedKeys": {table: {"Keys": ask["Keys"][:keep]}}}

    return step


def _raise(code):
    def step(_):
        raise _client_error(code)

    return step


def test_stored_items_are_read_100_a_request_and_new_ones_written_one_by_one():
    # Given 130 new items
    dynamodb = ScriptedDynamoDB()
    # When they are written
    result = EventTable("t", dynamodb, sleep=lambda _: None).write(_items(130))
    # Then two BatchGetItem requests ask for 100 and 30, and each item is one conditional PutItem
    assert result == StoredItems(written=130)
    assert [len(request["t"]["Keys"]) for request in dynamodb.calls("BatchGetItem")] == [100, 30]
    assert len(dynamodb.calls("PutItem")) == 130


def test_an_item_stored_with_the_same_content_is_left_and_with_other_content_is_a_conflict():
    # Given two events already stored from a first file, and a second file carrying both: one the same, one not
    stored = {item["eventID"]["S"]: item for item in _items(2)}
    dynamodb = ScriptedDynamoDB(stored=stored)
    second = _items(2, source="s3://b/second.json.gz")
    second[1]["eventSha256"] = {"S": "forged"}
    # When the second file's items are written
    result = EventTable("t", dynamodb, sleep=lambda _: None).write(second)
    # Then nothing is written over the first: one unchanged, one conflict naming where the stored one came from
    assert result == StoredItems(written=0, unchanged=1, conflicts=(Conflict("e1", "s3://b/first.json.gz"),))
    assert dynamodb.calls("PutItem") == []
    assert dynamodb.stored == stored


def test_a_concurrent_write_between_the_read_and_the_put_is_not_overwritten():
    # Given a table that is empty when read, and gets the event from another file just before the put
    dynamodb = ScriptedDynamoDB()

    def another_writer(item):
        dynamodb.stored[item["eventID"]["S"]] = _items(1, content="other", source="s3://b/other.json.gz")[0]

    dynamodb.script = [lambda _: None, another_writer]
    # When an item is written
    result = EventTable("t", dynamodb, sleep=lambda _: None).write(_items(1))
    # Then the conditional put refuses to replace it, and the write reports the conflict
    assert result.conflicts == (Conflict("e0", "s3://b/other.json.gz"),)
    assert dynamodb.stored["e0"]["eventSha256"] == {"S": "other"}


def test_an_item_stored_before_content_hashes_is_compared_by_its_event():
    # Given an event stored without eventSha256 (written before redtrail hashed contents)
    record = {"eventID": "e0", "eventName": "CreateCluster"}
    old = {"eventID": {"S": "e0"}, "event": {"S": json.dumps(record)}, "sourceObject": {"S": "s3://b/old.json.gz"}}
    dynamodb = ScriptedDynamoDB(stored={"e0": old})
    same = {"eventID": {"S": "e0"}, "eventSha256": {"S": content_sha256(record)}}
    # When the same event arrives again
    # Then it is unchanged, not a conflict
    assert EventTable("t", dynamodb, sleep=lambda _: None).write([same]) == StoredItems(unchanged=1)


class _Body:
    """The raw body of an HTTP response, as botocore reads it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


class WireDynamoDB:
    """A real botocore DynamoDB client (with ``RETRIES``) whose HTTP requests are answered here, never sent: a
    scripted answer per request while the script lasts (None: the table's), then ``always``' answer to that
    operation, else a table in memory. botocore's retry mode sees each answer as it would see DynamoDB's, so its
    retries are what is tested; its pauses are recorded, not slept."""

    def __init__(self, monkeypatch, *script, always=None):
        self.script = list(script)
        self.always = dict(always or {})
        self.stored = {}
        self.requests = []
        self.pauses = []
        monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=self.pauses.append))
        session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
        self.client = session.client("dynamodb", config=RETRIES)
        self.client.meta.events.register("before-send.dynamodb", self._answer)

    def _answer(self, request, **_):
        operation = dict(request.headers)["X-Amz-Target"]
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rsplit(".", 1)[-1]
        body = json.loads(request.body)
        self.requests.append((operation, body))
        step = self.script.pop(0) if self.script else self.always.get(operation)
        status, answer = step(body) if step else getattr(self, f"_{operation}")(body)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(answer).encode()))

    def _BatchGetItem(self, body):
        ((table, asked),) = body["RequestItems"].items()
        keys = [key["eventID"]["S"] for key in asked["Keys"]]
        return 200, {"Responses": {table: [self.stored[key] for key in keys if key in self.stored]}}

    def _PutItem(self, body):
        if body["Item"]["eventID"]["S"] in self.stored:
            return fault("ConditionalCheckFailedException")(body)
        self.stored[body["Item"]["eventID"]["S"]] = body["Item"]
        return 200, {}

    def calls(self, operation):
        return [body for name, body in self.requests if name == operation]


def fault(code, status=400):
    """A DynamoDB error answer, as it comes over the wire."""

    def step(_):
        return status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"injected {code}"}

    return step


def wire_unprocessed(body):
    """BatchGetItem's answer under load: nothing read, the first 5 keys asked left unprocessed."""
    ((table, asked),) = body["RequestItems"].items()
    return 200, {"Responses": {table: []}, "UnprocessedKeys": {table: {"Keys": asked["Keys"][:5]}}}


def test_unprocessed_keys_and_throttling_are_retried_with_backoff(monkeypatch):
    # Given DynamoDB that leaves 5 keys unread, throttles the read of those, then throttles a put twice
    dynamodb = WireDynamoDB(
        monkeypatch,
        wire_unprocessed,
        fault("ProvisionedThroughputExceededException"),
        None,  # the retried read
        fault("ThrottlingException"),
        fault("ThrottlingException", 400),
    )
    sleeps = []
    # When 25 items are written
    result = EventTable("t", dynamodb.client, sleep=sleeps.append, base_delay=0.1).write(_items(25))
    # Then every item is written once; the unread keys are asked again by the adapter (botocore does not), after
    # a jittered pause of its own
    assert result == StoredItems(written=25)
    assert sorted(dynamodb.stored) == sorted(f"e{number}" for number in range(25))
    assert [len(body["RequestItems"]["t"]["Keys"]) for body in dynamodb.calls("BatchGetItem")] == [25, 5, 5]
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.2
    # and the throttled calls are retried by botocore's standard mode, after growing jittered pauses (1 s base)
    assert len(dynamodb.calls("PutItem")) == 27
    assert len(dynamodb.pauses) == 3
    assert 0 <= dynamodb.pauses[0] <= 1
    assert 0 <= dynamodb.pauses[1] <= 1
    assert 0 <= dynamodb.pauses[2] <= 2


@pytest.mark.parametrize(
    ("fails", "reason", "operation", "calls"),
    [
        pytest.param(fault("ThrottlingException"), "ThrottlingException after 8 attempts", "PutItem", 8, id="put"),
        pytest.param(
            fault("ProvisionedThroughputExceededException"),
            "ProvisionedThroughputExceededException after 8 attempts",
            "BatchGetItem",
            8,
            id="read",
        ),
        pytest.param(fault("InternalServerError", 500), "InternalServerError after 8 attempts", "PutItem", 8, id="5xx"),
        pytest.param(wire_unprocessed, "3 keys still unread after 4 attempts", "BatchGetItem", 4, id="unprocessed"),
    ],
)
def test_when_retries_run_out_the_write_fails(monkeypatch, fails, reason, operation, calls):
    # Given DynamoDB that throttles every put (or every read, or never reads some keys)
    dynamodb = WireDynamoDB(monkeypatch, always={operation: fails})
    # When items are written, the adapter asking unread keys 4 times
    table = EventTable("t", dynamodb.client, sleep=lambda _: None, max_attempts=4)
    # Then it raises instead of reporting success, after botocore's 8 attempts (or the adapter's 4), no more
    with pytest.raises(TableWriteError, match=reason) as raised:
        table.write(_items(3))
    assert not isinstance(raised.value, ItemRejectedError)  # SQS retries it: it may pass
    assert len(dynamodb.calls(operation)) == calls
    assert raised.value.written == 0
    assert dynamodb.stored == {}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ResourceNotFoundException", TableNotFoundError),
        ("ValidationException", ItemRejectedError),
        ("ThrottlingException", TableWriteError),  # what botocore's retries left
    ],
)
def test_client_errors_become_redtrail_errors(code, error):
    # Given DynamoDB answering the read with an error botocore did not (or no longer) retry
    dynamodb = ScriptedDynamoDB(_raise(code))
    # When items are written
    # Then the ClientError is translated at the adapter, DynamoDB's message kept
    with pytest.raises(error) as raised:
        EventTable("t", dynamodb, sleep=lambda _: None).write(_items(1))
    assert len(dynamodb.requests) == 1
    assert code in str(raised.value) or error is TableNotFoundError


def test_a_validation_error_is_permanent_with_dynamodbs_message():
    # Given DynamoDB refusing a read as invalid
    message = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit"

    def refuses(_):
        raise ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "BatchGetItem")

    # When items are written
    # Then the error is a permanent one (a TrailFileError: dead-lettered at once) with DynamoDB's message
    with pytest.raises(ItemRejectedError, match=message):
        EventTable("t", ScriptedDynamoDB(refuses), sleep=lambda _: None).write(_items(1))


def _events(count):
    """Event items as the pipeline builds them (each with its event)."""
    items = []
    for number in range(count):
        record = event("create_namespace") | {"eventID": f"e{number}"}
        items.append(build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=f"s3://b/f{number}.json.gz"))
    return items


def test_an_item_dynamodb_refuses_is_quarantined_and_the_others_written():
    # Given three event items, the second of which DynamoDB refuses as invalid
    dynamodb = ScriptedDynamoDB(lambda _: None, lambda _: None, _raise("ValidationException"))
    items = _events(3)
    # When they are written
    result = EventTable("t", dynamodb, sleep=lambda _: None).write(items)
    # Then the others are stored, and the refused one's record is quarantined with DynamoDB's message
    assert result.written == 3
    assert result.refused == (Refused("e1", "table t: ValidationException: ValidationException"),)
    assert {"e0", "e2"} <= set(dynamodb.stored)
    (quarantined,) = [item for key, item in dynamodb.stored.items() if key.startswith(schema.REJECTED_PREFIX)]
    assert "DynamoDB refused the event's item: table t: ValidationException" in quarantined["rejectReason"]["S"]
    assert event_text(quarantined) == event_text(items[1])
    assert quarantined["sourceObject"] == {"S": "s3://b/f1.json.gz"}
    # And written again (a redelivery), the quarantine item is found stored: nothing is written twice
    again = EventTable("t", dynamodb, sleep=lambda _: None)
    dynamodb.script = [lambda _: None, _raise("ValidationException")]
    assert again.write([items[1]]) == StoredItems(unchanged=1, refused=result.refused)


def test_a_refused_item_that_cannot_be_quarantined_fails_its_file_permanently_saying_what_was_written():
    # Given DynamoDB that stores the first item, then refuses everything
    dynamodb = ScriptedDynamoDB(lambda _: None, lambda _: None, *[_raise("ValidationException")] * 5)
    # When three event items are written
    # Then the write fails permanently, naming the event, after one item written
    with pytest.raises(ItemRejectedError, match=r"eventID 'e1'.*its quarantine item") as raised:
        EventTable("t", dynamodb, sleep=lambda _: None).write(_events(3))
    assert raised.value.written == 1
    assert set(dynamodb.stored) == {"e0"}


def test_a_write_that_fails_part_way_says_how_many_items_it_wrote():
    # Given DynamoDB that stores two items, then fails (botocore's retries spent)
    dynamodb = ScriptedDynamoDB(lambda _: None, lambda _: None, lambda _: None, _raise("ThrottlingException"))
    # When five items are written
    # Then the error carries the two written before it
    with pytest.raises(TableWriteError) as raised:
        EventTable("t", dynamodb, sleep=lambda _: None).write(_items(5))
    assert raised.value.written == 2
    assert len(dynamodb.stored) == 2


def test_the_table_clients_use_botocores_standard_retry_mode(monkeypatch):
    # Given a region and no client handed in
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts")
    # When the table adapters, the function's dependencies and the CLI's connection make their DynamoDB clients
    consumer.default_dependencies.cache_clear()
    dependencies = consumer.default_dependencies()
    consumer.default_dependencies.cache_clear()
    assert dependencies.alerting is not None
    function_clients = {
        id(client): client
        for client in (
            dependencies.table._dynamodb,
            dependencies.integrity.ledger._dynamodb,
            dependencies.alerting.records._dynamodb(),
        )
    }
    clients = [
        EventTable("t")._dynamodb,
        DynamoDBLedger("t")._dynamodb,
        DetectionTable("t")._dynamodb(),
        Connection(region="us-east-1").dynamodb(),
        *function_clients.values(),
    ]
    # Then every one retries in botocore's standard mode, 8 attempts in all, and the function shares one client
    for client in clients:
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}
    assert len(function_clients) == 1


class ScriptedS3:
    def __init__(self, outcome):
        self.outcome = outcome

    def get_object(self, Bucket, Key):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        modified = datetime(2024, 5, 1, 12, tzinfo=UTC)
        return {"Body": io.BytesIO(self.outcome), "LastModified": modified, "Metadata": {"signature": "ab"}}


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (_client_error("NoSuchKey", "GetObject"), ObjectNotFoundError),
        (_client_error("AccessDenied", "GetObject"), AccessDeniedError),
        (_client_error("SlowDown", "GetObject"), StorageError),
        (EndpointConnectionError(endpoint_url="https://s3"), StorageError),
    ],
)
def test_s3_failures_name_the_object(failure, error):
    # Given S3 failing to return an object
    store = TrailStore(ScriptedS3(failure))
    # When it is read
    # Then the error is redtrail's own and names the object
    with pytest.raises(error, match=r"s3://b/k\.json\.gz"):
        store.read(TrailObject("b", "k.json.gz"))


def test_s3_reads_return_the_body_with_when_it_was_stored_and_its_metadata():
    # Given an object in S3
    # When it is read
    stored = TrailStore(ScriptedS3(b"data")).read(TrailObject("b", "k"))
    # Then its bytes come back, with its LastModified (the ledger's delivery time) and its user metadata
    assert stored.body == b"data"
    assert stored.modified == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert stored.metadata == {"signature": "ab"}
