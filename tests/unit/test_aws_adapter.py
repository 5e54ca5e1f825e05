import io

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
from redtrail.core.s3_events import TrailObject


def _client_error(code, operation="BatchWriteItem"):
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class ScriptedDynamoDB:
    """Answers batch_write_item from a script: a callable per call, given the request."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def batch_write_item(self, RequestItems):
        self.requests.append(RequestItems)
        step = self.script.pop(0) if self.script else (lambda _: {})
        return step(RequestItems)


def _items(count):
    return [{"eventID": {"S": f"e{number}"}} for number in range(count)]


def _unprocessed(keep):
    def step(request):
        (table, requests), *_ = request.items()
        return {"UnprocessedItems": {table: requests[:keep]}}

    return step


def _raise(code):
    def step(_):
        raise _client_error(code)

    return step


def test_items_are_written_25_a_request():
    # Given 60 items
    dynamodb = ScriptedDynamoDB()
    # When they are written
    written = EventTable("t", dynamodb, sleep=lambda _: None).write(_items(60))
    # Then three BatchWriteItem requests carry 25, 25 and 10
    assert written == 60
    assert [len(request["t"]) for request in dynamodb.requests] == [25, 25, 10]


def test_unprocessed_items_and_throttling_are_retried_with_backoff():
    # Given DynamoDB that leaves 5 items unprocessed, then throttles, then accepts the rest
    dynamodb = ScriptedDynamoDB(_unprocessed(5), _raise("ProvisionedThroughputExceededException"))
    sleeps = []
    # When 25 items are written
    EventTable("t", dynamodb, sleep=sleeps.append, base_delay=0.1).write(_items(25))
    # Then only the unprocessed items are sent again, after growing jittered pauses
    assert [len(request["t"]) for request in dynamodb.requests] == [25, 5, 5]
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.2
    assert 0 <= sleeps[1] <= 0.4


def test_when_retries_run_out_the_write_fails():
    # Given DynamoDB that never processes anything
    dynamodb = ScriptedDynamoDB(*[_unprocessed(3)] * 10)
    # When items are written with 4 attempts
    table = EventTable("t", dynamodb, sleep=lambda _: None, max_attempts=4)
    # Then it raises instead of reporting success
    with pytest.raises(TableWriteError, match="3 items still unprocessed after 4 attempts"):
        table.write(_items(3))
    assert len(dynamodb.requests) == 4


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
        return {"Body": io.BytesIO(self.outcome)}


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


def test_s3_reads_return_the_body():
    # Given an object in S3
    # When it is read
    # Then its bytes come back
    assert TrailStore(ScriptedS3(b"data")).read(TrailObject("b", "k")) == b"data"
