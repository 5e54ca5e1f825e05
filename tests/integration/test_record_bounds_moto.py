"""Records that DynamoDB would refuse, records no query finds, and what the function and `redtrail ingest` say about
what was not stored (moto: it refuses keys and items over DynamoDB's limits as DynamoDB does)."""

import copy
import gzip
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest

from redtrail.cli.main import main
from redtrail.contracts import schema
from redtrail.core import queries
from redtrail.core.items import event_json
from redtrail.function.handler import lambda_handler
from tests.integration.conftest import BUCKET, REGION, TABLE, emf_metrics
from tests.integration.test_faults_moto import (
    ACCOUNT,
    KEY,
    Wire,
    answers,
    goes_through,
    queued,
    redshift_events,
)
from tests.support import event, trail_file

REFUSED = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit"


@pytest.fixture
def faults(pipeline, monkeypatch) -> Wire:
    """DynamoDB's answers on the wire; botocore's pauses between retries recorded, not slept."""
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _: None))
    return Wire(monkeypatch)


def failed_describe(identifier: str, event_id: str = "describe-1") -> dict[str, Any]:
    """A DescribeClusters for ``ACCOUNT`` that failed: the cluster named does not exist (any text is accepted)."""
    record = copy.deepcopy(event("execute_statement"))
    record.update(
        eventID=event_id,
        eventSource="redshift.amazonaws.com",
        eventName="DescribeClusters",
        readOnly=True,
        errorCode="ClusterNotFoundFault",
        errorMessage="Cluster not found.",
        requestParameters={"clusterIdentifier": identifier},
        responseElements=None,
        recipientAccountId=ACCOUNT,
    )
    return record


def stored_event(item: dict[str, Any]) -> Any:
    if "eventGzip" in item:
        return json.loads(gzip.decompress(item["eventGzip"]["B"]))
    return json.loads(item["event"]["S"])


def rejected(pipeline) -> list[dict[str, Any]]:
    """What `redtrail query --rejected` lists for the last hour (the byRejected index)."""
    now = datetime.now(UTC)
    query = queries.EventQuery(since=now - timedelta(hours=1), until=now + timedelta(minutes=1), rejected=True)
    return list(queries.run(query, pipeline.table.query))


# --- items that always fit ------------------------------------------------------------------------------------


def test_a_failed_describe_with_a_long_cluster_identifier_is_stored_without_its_resource(pipeline, context):
    # Given a failed DescribeClusters whose clusterIdentifier is 2,100 bytes: its resource, an index partition
    # key, would be 2,108 bytes, which DynamoDB refuses (ValidationException) for the whole item
    record = failed_describe("c" * 2100)
    messages = queued(pipeline, (KEY, trail_file([record, *redshift_events(2)])))
    # When the handler processes its file
    response = lambda_handler(pipeline.event(messages), context)
    # Then the message succeeds and the event is stored, found by time and eventName, without the resource copy
    assert response == {"batchItemFailures": []}
    item = pipeline.item("describe-1")
    assert item is not None
    assert "resource" not in item
    assert item["droppedAttributes"] == {"L": [{"S": "resource"}]}
    assert stored_event(item) == record
    assert item["timeBucket"]["S"].startswith("2020-08#")
    assert pipeline.item_count() == 3


def test_copies_that_would_push_an_item_past_400_kb_are_dropped_and_the_event_stored(pipeline, context):
    # Given an event that fits alone (about 280 KB) whose errorCode and sourceIPAddress are 140 KB each: copied
    # as they are, the item would be about 560 KB
    noise = random.Random(5)
    record = failed_describe("c") | {
        "errorCode": noise.randbytes(70_000).hex(),
        "sourceIPAddress": noise.randbytes(70_000).hex(),
    }
    messages = queued(pipeline, (KEY, trail_file([record])))
    # When the handler processes its file
    response = lambda_handler(pipeline.event(messages), context)
    # Then it is stored whole, without the two copies
    assert response == {"batchItemFailures": []}
    item = pipeline.item("describe-1")
    assert item is not None
    assert {"errorCode", "sourceIPAddress"}.isdisjoint(item)
    assert stored_event(item) == record


def test_a_record_too_large_even_compressed_is_a_stub_and_the_rest_of_its_file_is_stored(pipeline, context, capsys):
    # Given a file with two good events and, between them, a 1.1 MB incompressible one
    huge = failed_describe("c", "huge-1") | {"requestParameters": {"sql": random.Random(9).randbytes(550_000).hex()}}
    good = redshift_events(2)
    messages = queued(pipeline, (KEY, trail_file([good[0], huge, good[1]])))
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then the good events are stored, and the big one is quarantined as a stub, counted
    assert response == {"batchItemFailures": []}
    assert pipeline.item("evt-0000") is not None
    assert pipeline.item("evt-0001") is not None
    assert emf_metrics(capsys.readouterr().out)["RecordsQuarantined"] == 1
    # And `query --rejected` lists it with where it is, and the record read back from there is the one hashed
    (listed,) = rejected(pipeline)
    assert "the record is Records[1] of sourceObject" in listed["rejectReason"]["S"]
    stub = pipeline.item(listed["eventID"]["S"])
    assert stub is not None
    assert stub["recordEventID"] == {"S": "huge-1"}
    body = pipeline.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    kept = json.loads(gzip.decompress(body))["Records"][int(stub["recordIndex"]["N"])]
    text = event_json(kept).encode()
    assert (len(text), hashlib.sha256(text).hexdigest()) == (int(stub["recordBytes"]["N"]), stub["eventSha256"]["S"])


def test_records_whose_time_no_query_finds_are_quarantined_and_counted(pipeline, context, capsys):
    # Given Redshift events without eventTime, with a number, "not a time", month 13 and month 99, and a good one
    records = redshift_events(6)
    del records[0]["eventTime"]
    for record, time in zip(
        records[1:5], [1714564800, "not a time", "2024-13-01T00:00:00Z", "2024-99-01T00:00:00Z"], strict=True
    ):
        record["eventTime"] = time
    messages = queued(pipeline, (KEY, trail_file(records)))
    # When the handler processes the file
    response = lambda_handler(pipeline.event(messages), context)
    # Then only the good one is stored as an event; the others are quarantined with their reasons and counted
    assert response == {"batchItemFailures": []}
    assert {event_id for event_id in pipeline.event_ids() if not event_id.startswith("rejected#")} == {"evt-0005"}
    reasons = sorted(item["rejectReason"]["S"] for item in rejected(pipeline))
    assert len(reasons) == 5
    assert all("YYYY-MM-DDTHH:MM:SSZ" in reason for reason in reasons)
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["EventsKept"], metrics["RecordsQuarantined"]) == (1, 5)


def test_an_item_dynamodb_refuses_is_quarantined_and_the_rest_of_its_file_stored(pipeline, context, faults, capsys):
    # Given a file of three events, and DynamoDB that refuses the second one's item as invalid
    messages = queued(pipeline, (KEY, trail_file(redshift_events(3))))

    def refuses_the_second(request: dict[str, Any]) -> Any:
        if request["Item"]["eventID"]["S"] == "evt-0001":
            return 400, {}, json.dumps({"__type": "com.amazon.coral.validate#ValidationException", "message": REFUSED})
        return None

    faults.puts(default=refuses_the_second)
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then the message succeeds (no retry would pass), the others are stored, and the refused one's record is
    # quarantined with DynamoDB's message, counted
    assert response == {"batchItemFailures": []}
    assert pipeline.item("evt-0000") is not None
    assert pipeline.item("evt-0002") is not None
    assert pipeline.item("evt-0001") is None
    (listed,) = rejected(pipeline)
    assert REFUSED in listed["rejectReason"]["S"]
    quarantined = pipeline.item(listed["eventID"]["S"])
    assert quarantined is not None
    assert stored_event(quarantined) == redshift_events(3)[1]
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["EventsKept"], metrics["RecordsQuarantined"], metrics["ItemsWritten"]) == (2, 1, 3)


# --- what is said about what was not stored -------------------------------------------------------------------


def mixed_records() -> list[Any]:
    """Three events; a copy of the first, the same; a copy of the second, changed; a non-object; a record without
    eventID; one without eventTime."""
    events = redshift_events(3)
    changed = copy.deepcopy(events[1]) | {"eventName": "CancelStatement"}
    no_id = {k: v for k, v in events[2].items() if k != "eventID"} | {"eventName": "DeleteCluster"}
    no_time = {k: v for k, v in events[2].items() if k != "eventTime"} | {"eventID": "evt-notime"}
    return [*events, copy.deepcopy(events[0]), changed, "not an object", no_id, no_time]


def test_the_function_reports_quarantined_records_duplicates_and_non_objects(pipeline, context, logs, capsys):
    # Given a file with events, duplicates (one with other content), a non-object and two unstorable records
    messages = queued(pipeline, (KEY, trail_file(mixed_records())))
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then its metrics count each, and its log says where the quarantined ones are listed
    assert response == {"batchItemFailures": []}
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["EventsKept"] == 3
    assert metrics["RecordsQuarantined"] == 2
    assert (metrics["RecordsDuplicated"], metrics["DuplicatesWithOtherContent"]) == (2, 1)
    assert metrics["RecordsRejected"] == 1
    (warning,) = [line for line in logs() if line["message"] == "records not stored as events"]
    assert (warning["quarantined"], warning["duplicates"], warning["duplicates_with_other_content"]) == (2, 2, 1)
    assert warning["not_objects"] == 1
    assert warning["see"] == "redtrail query --rejected"


def test_a_file_that_fails_part_way_reports_the_items_it_wrote(pipeline, context, faults, logs, capsys):
    # Given a file of five events, and DynamoDB that takes three puts, then throttles past botocore's retries
    messages = queued(pipeline, (KEY, trail_file(redshift_events(5))))
    faults.puts(goes_through, goes_through, goes_through, default=answers(400, "ThrottlingException"))
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then the message fails (SQS retries it), and the failure says three items were written before
    assert len(response["batchItemFailures"]) == 1
    assert pipeline.item_count() == 3
    (error,) = [line for line in logs() if line["level"] == "ERROR"]
    assert error["written_before_failure"] == 3
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["ItemsWrittenBeforeFailure"] == 3
    assert metrics.get("ItemsWritten", 0) == 0


def ingest(*sources: Path | str) -> list[str]:
    return ["ingest", "--table", TABLE, "--region", REGION, "--workers", "1", *map(str, sources)]


def test_ingest_says_what_was_not_stored_as_events_and_where_to_look(pipeline, tmp_path, capsys):
    # Given a local trail file with events, duplicates (one with other content), a non-object, a record without
    # eventID and one without eventTime
    path = tmp_path / "mixed.json.gz"
    path.write_bytes(trail_file(mixed_records()))
    # When it is ingested
    status = main(ingest(path))
    # Then the summary accounts for every record: the two quarantined (and where to list them), the duplicates,
    # the non-object; the items written are the three events and the two quarantine items
    out = capsys.readouterr().out
    assert status == 0
    assert "records: 8, events kept: 3, items written: 5" in out
    assert "quarantined: 2 records kept with their reason, not as events (list them: redtrail query --rejected)" in out
    assert "duplicates: 2 records repeat an eventID of their file, 1 of them with other content" in out
    assert "not objects: 1 record is not a JSON object" in out


def test_ingest_counts_the_items_of_a_file_that_failed_part_way(pipeline, tmp_path, faults, capsys):
    # Given a file of five events, and DynamoDB that takes three puts, then throttles past botocore's retries
    path = tmp_path / "five.json.gz"
    path.write_bytes(trail_file(redshift_events(5)))
    faults.puts(goes_through, goes_through, goes_through, default=answers(400, "ThrottlingException"))
    # When it is ingested
    status = main(ingest(path))
    # Then it fails, and the summary says the three items it wrote before
    out = capsys.readouterr().out
    assert status == 1
    assert "items written: 3" in out
    assert "partly written: 1 failed file wrote 3 items before it failed" in out
    assert f"failed: {path}: table {TABLE}: ThrottlingException after 8 attempts" in out
    assert "(3 items written before)" in out
    assert pipeline.item_count() == 3


def test_ingest_escapes_the_names_and_reasons_it_prints(pipeline, tmp_path, capsys):
    # Given a corrupt file whose name holds a terminal escape (clear the screen) and a bidi override
    path = tmp_path / "x\x1b[2J\u202eevil.json.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00broken")
    # When it is ingested
    status = main(ingest(path))
    # Then its failure is printed with the escape and the override shown, not sent to the terminal
    out = capsys.readouterr().out
    assert status == 1
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert f"failed: {tmp_path}/x\\u001b[2J\\u202eevil.json.gz: corrupt gzip" in out


def test_the_quarantine_keys_no_event_index(pipeline, context):
    # Given a file with a record whose time no query finds
    record = redshift_events(1)[0] | {"eventTime": "not a time"}
    messages = queued(pipeline, (KEY, trail_file([record])))
    # When the handler stores it
    lambda_handler(pipeline.event(messages), context)
    # Then its quarantine item holds no attribute an event index keys on (it is in byRejected only)
    (listed,) = rejected(pipeline)
    item = pipeline.item(listed["eventID"]["S"])
    assert item is not None
    event_keys = {index.partition_key for index in schema.INDEXES if index is not schema.BY_REJECTED}
    assert event_keys.isdisjoint(item)
    assert stored_event(item) == record
