"""Redaction, oversized events and the quarantine: what is stored when a record is unusual."""

import gzip
import json
import random
from datetime import UTC, datetime

from redtrail.cli.output import plain
from redtrail.contracts import schema
from redtrail.contracts.settings import DEFAULT_REDACT_FIELDS, Settings
from redtrail.core import queries
from redtrail.core.classify import Match, MatchedBy
from redtrail.core.items import MAX_INLINE_EVENT_BYTES, build_item, redacted
from redtrail.core.pipeline import analyze
from tests.support import BARE_OPTIONS, event

SOURCE = "s3://b/AWSLogs/1/CloudTrail/us-east-1/2024/05/01/f.json.gz"
NOW = datetime(2024, 5, 2, 8, 30, tzinfo=UTC)


def test_listed_secrets_are_redacted_in_the_stored_event_only():
    # Given a connection event with a password, and CloudTrail's own hidden values
    record = event("create_connection") | {"requestParameters": {"password": "hunter2", "username": "***"}}
    record["responseElements"] = {"adminUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    original = json.loads(json.dumps(record))
    # When its item is built with the default redaction list
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE, redact_fields=DEFAULT_REDACT_FIELDS)
    stored = json.loads(item["event"]["S"])
    # Then the password is REDACTED in the event, CloudTrail's marker is kept, and the record is untouched
    assert stored["requestParameters"] == {"password": "REDACTED", "username": "***"}
    assert stored["responseElements"] == {"adminUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    assert "hunter2" not in item["event"]["S"]
    assert record == original


def test_redaction_copies_only_what_it_changes():
    # Given a record without any listed field, and one with a nested listed field
    plain_record = {"requestParameters": {"clusterIdentifier": "c"}}
    nested = {"a": {"b": {"secret": "s", "keep": 1}}, "other": [1]}
    # When they are redacted
    # Then the first is returned as is, the second changes at that path only
    assert redacted(plain_record, DEFAULT_REDACT_FIELDS) is plain_record
    result = redacted(nested, ["a.b.secret", "a.missing.x", "other.x"])
    assert result == {"a": {"b": {"secret": "REDACTED", "keep": 1}}, "other": [1]}
    assert nested["a"]["b"]["secret"] == "s"


def test_redaction_list_comes_from_the_environment():
    # Given REDACT_FIELDS set, empty, or unset
    # When settings are read
    # Then the list is the one given, empty, or the default
    assert Settings.from_env({"TABLE_NAME": "t", "REDACT_FIELDS": "a.b, c"}).options.redact_fields == ("a.b", "c")
    assert Settings.from_env({"TABLE_NAME": "t", "REDACT_FIELDS": ""}).options.redact_fields == ()
    assert Settings.from_env({"TABLE_NAME": "t"}).options.redact_fields == DEFAULT_REDACT_FIELDS
    assert Settings.from_env({"TABLE_NAME": "t", "DEAD_LETTER_QUEUE_URL": "q"}).dead_letter_queue_url == "q"


def test_an_event_over_the_inline_limit_is_stored_whole_and_compressed():
    # Given a Redshift event of about 400 KB (CloudTrail records reach 256 KB; derived attributes add more)
    record = event("execute_statement") | {"requestParameters": {"sql": "select 1; " * 40_000}}
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then the event is stored compressed, complete, and reads back as the same text
    assert "event" not in item
    assert item["eventEncoding"] == {"S": "gzip"}
    assert len(item["eventGzip"]["B"]) < MAX_INLINE_EVENT_BYTES
    assert json.loads(gzip.decompress(item["eventGzip"]["B"])) == record
    assert json.loads(plain(item)["event"]) == record
    assert item["eventName"] == {"S": "ExecuteStatement"}


def test_a_record_without_event_id_is_quarantined_with_its_reason():
    # Given a Redshift-family record without eventID, seen twice
    record = {"eventSource": "redshift.amazonaws.com", "eventName": "DeleteCluster", "readOnly": False}
    # When the file is analyzed
    analysis = analyze([record, dict(record)], source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then one quarantine item keeps it, with its reason, in the byRejected index only
    (item,) = analysis.items
    assert item["eventID"]["S"].startswith("rejected#")
    assert item["rejectReason"] == {"S": "record has no eventID"}
    assert item["rejectedMonth"] == {"S": "2024-05"}
    assert item["ingestedAt"] == {"S": "2024-05-02T08:30:00Z"}
    assert json.loads(item["event"]["S"]) == record
    assert not {"timeBucket", "eventName", "eventTime", "principal"} & set(item)
    assert analysis.outcome.quarantined == 1
    assert analysis.outcome.kept == 0


def test_a_record_too_large_even_compressed_is_quarantined_as_a_stub_beside_the_stored_events():
    # Given a file with a Redshift event whose text does not compress below the item limit, then a good event
    noise = random.Random(7).randbytes(400_000).hex()
    record = event("execute_statement") | {"requestParameters": {"sql": noise}}
    good = event("create_namespace")
    # When the file is analyzed
    analysis = analyze([record, good], source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then the good event is stored, and the big one is quarantined as a stub with the reason and where it is
    # (record 0 of the trail file), rather than failing the file or losing the record
    event_item, stub = sorted(analysis.items, key=lambda item: item["eventID"]["S"].startswith("rejected#"))
    assert event_item["eventID"] == {"S": good["eventID"]}
    assert stub["recordEventID"] == {"S": record["eventID"]}
    assert stub["recordIndex"] == {"N": "0"}
    assert "compressed, over the item limit" in stub["rejectReason"]["S"]
    assert (analysis.outcome.kept, analysis.outcome.quarantined) == (1, 1)


def test_quarantined_records_are_queried_by_ingestion_month():
    # Given a range over two months
    query = queries.EventQuery(datetime(2024, 4, 20, tzinfo=UTC), datetime(2024, 5, 3, tzinfo=UTC), rejected=True)
    # When its requests are built
    built = queries.requests(query)
    # Then the byRejected index is asked once a month, on ingestedAt
    assert [request["ExpressionAttributeValues"][":pk"]["S"] for request in built] == ["2024-05", "2024-04"]
    assert {request["IndexName"] for request in built} == {schema.BY_REJECTED.name}
    assert built[0]["ExpressionAttributeNames"]["#t"] == "ingestedAt"
