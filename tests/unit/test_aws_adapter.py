import io
import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.s3 import TrailStore
from redtrail.core.errors import (
    AccessDeniedError,
    ObjectNotFoundError,
    StorageError,
    TableNotFoundError,
    TableWriteError,
)
from redtrail.core.items import content_sha256
from redtrail.core.pipeline import Conflict, StoredItems
from redtrail.core.s3_events import TrailObject


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


def test_unprocessed_keys_and_throttling_are_retried_with_backoff():
    # Given DynamoDB that leaves 5 keys unread, throttles a read, then a put
    dynamodb = ScriptedDynamoDB(
        _unprocessed_keys(5),
        _raise("ProvisionedThroughputExceededException"),
        lambda _: None,
        _raise("ThrottlingException"),
    )
    sleeps = []
    # When 25 items are written
    result = EventTable("t", dynamodb, sleep=sleeps.append, base_delay=0.1).write(_items(25))
    # Then only the unread keys are asked again, and the throttled put is retried, after growing jittered pauses
    assert result.written == 25
    assert [len(request["t"]["Keys"]) for request in dynamodb.calls("BatchGetItem")] == [25, 5, 5]
    assert len(dynamodb.calls("PutItem")) == 26
    assert len(sleeps) == 3
    assert 0 <= sleeps[0] <= 0.2
    assert 0 <= sleeps[1] <= 0.4


def test_when_retries_run_out_the_write_fails():
    # Given DynamoDB that throttles every put
    dynamodb = ScriptedDynamoDB(lambda _: None, *[_raise("ThrottlingException")] * 10)
    # When items are written with 4 attempts
    table = EventTable("t", dynamodb, sleep=lambda _: None, max_attempts=4)
    # Then it raises instead of reporting success
    with pytest.raises(TableWriteError, match="still throttled after 4 attempts"):
        table.write(_items(3))
    assert len(dynamodb.calls("PutItem")) == 4


@pytest.mark.parametrize(
    ("code", "error"),
    [("ResourceNotFoundException", TableNotFoundError), ("ValidationException", TableWriteError)],
)
def test_client_errors_become_redtrail_errors(code, error):
    # Given DynamoDB answering with a non-retryable error
    dynamodb = ScriptedDynamoDB(_raise(code))
    # When items are written
    # Then the ClientError is translated at the adapter
    with pytest.raises(error):
        EventTable("t", dynamodb, sleep=lambda _: None).write(_items(1))


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
