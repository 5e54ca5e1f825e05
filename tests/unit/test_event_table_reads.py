"""The event table's reads for the CLI: one item (``show``), stored records in batches (``report``); DynamoDB's
errors become redtrail's at the adapter."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from redtrail.adapters.dynamodb import RECORD_PROJECTION, EventTable
from redtrail.core.errors import TableError, TableNotFoundError, TableWriteError


def _stored(event_id: str) -> dict:
    return {"eventID": {"S": event_id}, "event": {"S": f'{{"eventID": "{event_id}"}}'}}


class PartialReads:
    """BatchGetItem that leaves the first ``unread`` keys of each request unprocessed, ``times`` times."""

    def __init__(self, stored: dict, unread: int, times: int) -> None:
        self.stored, self.unread, self.times, self.requests = stored, unread, times, []

    def batch_get_item(self, RequestItems):
        ((table, asked),) = RequestItems.items()
        self.requests.append(asked)
        keys = [key["eventID"]["S"] for key in asked["Keys"]]
        left = keys[: self.unread] if self.times else []
        self.times -= 1 if self.times else 0
        answered = [self.stored[key] for key in keys if key in self.stored and key not in left]
        unprocessed = {table: {"Keys": [{"eventID": {"S": key}} for key in left]}} if left else {}
        return {"Responses": {table: answered}, "UnprocessedKeys": unprocessed}


def test_records_are_read_100_a_request_and_unprocessed_keys_asked_again():
    # Given 150 stored events, and DynamoDB leaving 7 keys of a request unprocessed twice
    stored = {f"e{n}": _stored(f"e{n}") for n in range(150)}
    dynamodb = PartialReads(stored, unread=7, times=2)
    pauses: list[float] = []
    # When the records of those and of an eventID that is not stored are read
    found = EventTable("t", dynamodb, sleep=pauses.append).records([*stored, "e-missing", "e0"])
    # Then every stored one comes back once, projected to its record; the unread keys were asked again after a pause
    assert found == stored
    assert [len(request["Keys"]) for request in dynamodb.requests] == [100, 7, 7, 51]
    assert {request["ProjectionExpression"] for request in dynamodb.requests} == {RECORD_PROJECTION}
    assert len(pauses) == 2


def test_records_still_unread_after_every_attempt_are_an_error():
    # Given DynamoDB that never processes one key
    dynamodb = PartialReads({"e1": _stored("e1")}, unread=1, times=99)
    # When it is read
    # Then the read fails instead of returning less than was stored
    with pytest.raises(TableWriteError, match="1 keys still unread after 3 attempts"):
        EventTable("t", dynamodb, sleep=lambda _: None, max_attempts=3).records(["e1"])


class GetItem:
    def __init__(self, answer) -> None:
        self.answer = answer

    def get_item(self, TableName, Key):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_an_item_is_the_whole_stored_item_or_none():
    # Given a table holding one event
    # When it and an eventID with no item are read
    found = EventTable("t", GetItem({"Item": _stored("e1")})).item("e1")
    missing = EventTable("t", GetItem({})).item("e2")
    # Then the first is the item, the second None
    assert found == _stored("e1")
    assert missing is None


@pytest.mark.parametrize(
    ("failure", "error", "message"),
    [
        (ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetItem"), TableNotFoundError, "t does not"),
        (ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetItem"), TableError, "AccessDeniedException"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), TableError, "Could not connect"),
    ],
)
def test_a_failed_get_item_becomes_a_redtrail_error(failure, error, message):
    # Given DynamoDB failing the GetItem
    # When the item is read
    # Then the error is redtrail's, naming the table and what went wrong: the CLI never sees botocore's
    with pytest.raises(error, match=message):
        EventTable("t", GetItem(failure)).item("e1")


def test_ledger_entries_still_unread_after_every_attempt_are_an_error_not_an_endless_loop(monkeypatch):
    # Given DynamoDB that never processes one ledger key (the ledger once asked again forever, without a pause)
    from redtrail.adapters import dynamodb as event_table
    from redtrail.adapters.ledger import DynamoDBLedger
    from redtrail.contracts import schema

    key = schema.LOG_PREFIX + "s3://b/AWSLogs/k.json.gz"
    reads = PartialReads({}, unread=1, times=99)
    monkeypatch.setattr(event_table.random, "uniform", lambda _low, _high: 0.0)  # no real pauses
    # When its log entry is read
    # Then the read fails after the event table's bounded attempts, with the count of keys left
    with pytest.raises(TableWriteError, match="1 keys still unread after 8 attempts"):
        DynamoDBLedger("t", reads).logs(["s3://b/AWSLogs/k.json.gz"])
    assert len(reads.requests) == 8
    assert reads.requests[0]["Keys"] == [{"eventID": {"S": key}}]
