"""Items that always fit DynamoDB: bounded key attributes, the 400 KB item limit, times that can be found.

Sizes are measured here by the rules of DynamoDB's documentation ("DynamoDB item sizes and formats"), written
out again in ``dynamodb_size`` rather than taken from the code under test, and key lengths in UTF-8 bytes.
"""

import copy
import gzip
import hashlib
import json
import random
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redtrail.contracts import schema
from redtrail.core import items, selective_reader
from redtrail.core.classify import Match, MatchedBy
from redtrail.core.detections import RULES
from redtrail.core.items import build_item, event_json
from redtrail.core.pipeline import analyze, analyze_body
from tests.support import BARE_OPTIONS, event, trail_file

SOURCE = "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz"
NOW = datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
ITEM_LIMIT = 400 * 1024  # DynamoDB's 400 KB
PARTITION_KEY_BYTES, SORT_KEY_BYTES = 2048, 1024


def sort_keys() -> set[str]:
    return {index.sort_key for index in schema.INDEXES}


def key_limit(name: str) -> int:
    """What DynamoDB allows an attribute that is a key somewhere: 1,024 bytes as a sort key, else 2,048."""
    return SORT_KEY_BYTES if name in sort_keys() else PARTITION_KEY_BYTES


def dynamodb_size(value: Any, name: str = "") -> int:
    """An attribute's size as DynamoDB's documentation counts it (numbers: an upper bound)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in {"S", "N", "B", "BOOL", "NULL", "L", "M"}:
        ((kind, raw),) = value.items()
        named = len(name.encode("utf-8"))
        if kind == "S":
            return named + len(raw.encode("utf-8", "surrogatepass"))
        if kind == "B":
            return named + len(raw)
        if kind == "N":
            digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
            return named + (len(digits) + 1) // 2 + 1
        if kind in {"BOOL", "NULL"}:
            return named + 1
        if kind == "L":
            return named + 3 + sum(1 + dynamodb_size(element) for element in raw)
        return named + 3 + sum(1 + dynamodb_size(element, key) for key, element in raw.items())
    raise AssertionError(f"not an attribute value: {value!r}")


def whole_size(item: dict[str, Any]) -> int:
    return sum(dynamodb_size(value, name) for name, value in item.items())


def assert_fits(item: dict[str, Any]) -> None:
    """The item is one DynamoDB accepts: under 400 KB, every key attribute within its role's length, none empty."""
    assert whole_size(item) <= ITEM_LIMIT
    for name in schema.key_attributes():
        if name in item:
            text = item[name]["S"]
            assert 0 < len(text.encode("utf-8", "surrogatepass")) <= key_limit(name), name


def stored_event(item: dict[str, Any]) -> Any:
    if "eventGzip" in item:
        return json.loads(gzip.decompress(item["eventGzip"]["B"]))
    return json.loads(item["event"]["S"])


def failed_describe(identifier: str) -> dict[str, Any]:
    """A DescribeClusters that failed because the cluster named does not exist (any text is accepted there)."""
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(
        eventID="describe-1",
        eventName="DescribeClusters",
        readOnly=True,
        errorCode="ClusterNotFoundFault",
        errorMessage=f"Cluster {identifier} not found.",
        requestParameters={"clusterIdentifier": identifier},
        responseElements=None,
    )
    return record


def test_a_resource_too_long_for_its_index_key_is_left_out_and_the_event_kept():
    # Given a failed DescribeClusters whose clusterIdentifier is 2,100 bytes (resource: 2,108, over 2,048)
    record = failed_describe("c" * 2100)
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then the resource copy is left out (and named), every key fits, and the event is whole
    assert "resource" not in item
    assert item["droppedAttributes"] == {"L": [{"S": "resource"}]}
    assert_fits(item)
    assert stored_event(item) == record
    assert item["eventName"] == {"S": "DescribeClusters"}
    assert item["timeBucket"]["S"].startswith("2021-08#")


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        (("eventName",), "eventName"),
        (("recipientAccountId",), "recipientAccountId"),
        (("userIdentity", "arn"), "principal"),
        (("userIdentity", "userName"), "actor"),
        (("requestParameters", "workgroupName"), "resource"),
        (("errorCode",), "errorCode"),
        (("sourceIPAddress",), "sourceIPAddress"),
    ],
)
def test_a_copy_longer_than_its_key_role_in_utf8_bytes_is_dropped(field, attribute):
    # Given a record whose field is 1,100 characters of "é": 2,200 UTF-8 bytes, over 2,048 (though 1,100 < 2,048)
    record = {
        "eventID": "e1",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "redshift-serverless.amazonaws.com",
        "eventName": "GetWorkgroup",
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333"},
    }
    target = record
    for part in field[:-1]:
        target = target.setdefault(part, {})
    target[field[-1]] = "é" * 1100
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then that copy is dropped and named, the item fits, and the event keeps the field whole
    assert attribute not in item
    assert {"S": attribute} in item["droppedAttributes"]["L"]
    assert_fits(item)
    assert stored_event(item) == record


def test_copies_exactly_at_their_limit_are_kept():
    # Given a workgroup name that makes resource exactly 2,048 bytes
    name = "w" * (PARTITION_KEY_BYTES - len("workgroup:"))
    record = {
        "eventID": "e1",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "redshift-serverless.amazonaws.com",
        "requestParameters": {"workgroupName": name},
    }
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then it is kept as it is
    assert item["resource"] == {"S": f"workgroup:{name}"}
    assert "droppedAttributes" not in item


@pytest.mark.parametrize("event_id", ["e" * 2049, "é" * 1025])
def test_an_event_id_too_long_for_the_table_key_is_quarantined(event_id):
    # Given a Redshift record whose eventID is longer than a partition key may be (in UTF-8 bytes)
    record = failed_describe("c") | {"eventID": event_id}
    # When its file is analyzed
    analysis = analyze([record], source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then it is quarantined with that reason, in an item that fits
    (item,) = analysis.items
    assert item["eventID"]["S"].startswith(schema.REJECTED_PREFIX)
    assert "2048 bytes" in item["rejectReason"]["S"]
    assert (analysis.outcome.kept, analysis.outcome.quarantined) == (0, 1)
    assert_fits(item)
    assert stored_event(item) == record


def test_copied_attributes_never_push_an_item_past_400_kb():
    # Given an event that fits alone (about 280 KB), whose errorCode and sourceIPAddress are 140 KB each
    noise = random.Random(3)
    record = failed_describe("c") | {
        "errorCode": noise.randbytes(70_000).hex(),
        "sourceIPAddress": noise.randbytes(70_000).hex(),
    }
    assert len(event_json(record)) < items.MAX_INLINE_EVENT_BYTES
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then the two copies are dropped, the item fits, and the event holds them whole
    assert "errorCode" not in item
    assert "sourceIPAddress" not in item
    assert_fits(item)
    assert stored_event(item) == record


def test_item_size_counts_as_dynamodb_counts():
    # Given one attribute of each type, with names and values of known UTF-8 lengths
    # When their sizes are computed
    # Then they follow DynamoDB's documented rules
    item_size = items.item_size
    assert item_size({"name": {"S": "café"}}) == 4 + 5
    assert item_size({"é": {"B": b"\x00\x01\x02"}}) == 2 + 3
    assert item_size({"t": {"BOOL": True}, "n": {"NULL": True}}) == 2 + 2
    assert item_size({"n": {"N": "1234567"}}) >= 1 + 4 + 1  # 1 byte per two significant digits, plus 1
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    assert item_size({"m": {"M": {"key": {"S": "v"}}}}) == 1 + 3 + (1 + 3 + 1)
    # and never less than the documentation's count on a real item
    item = build_item(event("create_namespace"), Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    assert item_size(item) >= whole_size(item)


def test_every_key_attribute_has_a_bound():
    # Given the table's keys and every index's keys
    # When the bounds the items obey are read
    # Then each key attribute has one, 1,024 bytes for sort keys and 2,048 for partition keys
    assert set(items.KEY_BYTES) == set(schema.key_attributes())
    assert {name: key_limit(name) for name in schema.key_attributes()} == items.KEY_BYTES


TEXT = st.one_of(st.text(max_size=30), st.builds(lambda n, c: c * n, st.integers(0, 120_000), st.sampled_from("aé🙂")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["eventID", "eventName", "errorCode", "sourceIPAddress", "awsRegion", "recipientAccountId", "readOnly"]
        ),
        TEXT,
    ),
    identity=st.dictionaries(st.sampled_from(["arn", "accountId", "type", "userName", "invokedBy"]), TEXT),
    request=st.dictionaries(st.sampled_from(["clusterIdentifier", "workgroupName", "sql"]), TEXT),
)
def test_any_record_becomes_an_item_that_fits_or_a_quarantine_item_that_fits(fields, identity, request):
    # Given a Redshift record with fields of any length and text (up to about 480 KB each)
    record = {"eventTime": "2024-05-01T12:00:00Z", "eventSource": "redshift.amazonaws.com", "eventID": "e"}
    record |= fields | {"userIdentity": identity, "requestParameters": request}
    # When its file is analyzed
    analysis = analyze([record], source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then whatever it made fits DynamoDB: an event, a quarantined record, or the stub of one too large
    (item,) = analysis.items
    assert_fits(item)
    assert analysis.outcome.kept + analysis.outcome.quarantined == 1


# --- one record too large even compressed ---------------------------------------------------------------


def huge_record() -> dict[str, Any]:
    """A Redshift event of about 1.1 MB that does not compress (random hex)."""
    noise = random.Random(11).randbytes(550_000).hex()
    return failed_describe("c") | {"eventID": "huge-1", "requestParameters": {"sql": noise}}


def test_a_record_too_large_even_compressed_is_a_stub_and_the_rest_is_stored():
    # Given a file with a good event, a 1.1 MB incompressible one, and another good event
    good = [event("authorize_datashare"), event("create_connection")]
    huge = huge_record()
    records = [good[0], {"eventSource": "ec2.amazonaws.com"}, huge, good[1]]
    # When it is analyzed
    analysis = analyze(records, source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then the good events are items, and the big one is quarantined as a stub that points into the file
    by_id = {item["eventID"]["S"]: item for item in analysis.items}
    assert {good[0]["eventID"], good[1]["eventID"]} <= set(by_id)
    (stub,) = [item for key, item in by_id.items() if key.startswith(schema.REJECTED_PREFIX)]
    text = event_json(huge).encode("utf-8")
    assert stub["recordEventID"] == {"S": "huge-1"}
    assert stub["recordIndex"] == {"N": "2"}
    assert stub["recordBytes"] == {"N": str(len(text))}
    assert stub["eventSha256"] == {"S": hashlib.sha256(text).hexdigest()}
    assert "compressed" in stub["rejectReason"]["S"]
    assert stub["rejectReason"]["S"].endswith("the record is Records[2] of sourceObject")  # what --rejected lists
    assert stub["sourceObject"] == {"S": SOURCE}
    assert "event" not in stub
    assert "eventGzip" not in stub
    assert_fits(stub)
    assert (analysis.outcome.kept, analysis.outcome.quarantined) == (2, 1)
    # And the record is the one at that index of the file's Records
    assert records[int(stub["recordIndex"]["N"])] == huge


@pytest.mark.parametrize(("compress", "whole_text_bytes"), [(True, None), (True, -1), (False, None)])
def test_the_fast_path_finds_the_position_of_a_record_too_large_as_the_reference_does(compress, whole_text_bytes):
    # Given the same file, as bytes (gzip read whole, gzip read in pieces as it inflates, or plain)
    records = [event("authorize_datashare"), huge_record(), event("create_connection")]
    body = trail_file(records, compress=compress)
    # When the fast path and the reference path analyze it
    with mock.patch.object(selective_reader, "WHOLE_TEXT_BYTES", whole_text_bytes or selective_reader.WHOLE_TEXT_BYTES):
        fast = analyze_body(body, source=SOURCE, options=BARE_OPTIONS, now=NOW)
    reference = analyze(records, source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then they agree, the stub naming record 1
    assert fast is not None
    assert fast.items == reference.items
    assert (fast.outcome.kept, fast.outcome.quarantined) == (2, 1)
    assert any(item.get("recordIndex") == {"N": "1"} for item in fast.items)
    assert fast.outcome.sha256 == hashlib.sha256(json.dumps({"Records": records}).encode()).hexdigest()


def test_a_long_reason_never_makes_a_quarantine_item_too_large():
    # Given a 250 KB record whose 250 KB recipientAccountId is not its file's account (the reason quotes it)
    record = failed_describe("c") | {"recipientAccountId": "9" * 250_000}
    # When the file is analyzed for its account
    analysis = analyze([record], source=SOURCE, options=BARE_OPTIONS, now=NOW, account="111122223333")
    # Then it is quarantined with a bounded reason, in an item that fits, the record whole
    (item,) = analysis.items
    assert item["rejectReason"]["S"].startswith("recipientAccountId '999")
    assert len(item["rejectReason"]["S"]) <= 1100
    assert_fits(item)
    assert stored_event(item) == record


# --- times that every query can find --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "reason"),
    [
        pytest.param(None, "no eventTime", id="missing"),
        pytest.param(1714564800, "eventTime is int", id="numeric"),
        pytest.param("not a time", "'not a time'", id="text"),
        pytest.param("2024-13-01T00:00:00Z", "'2024-13-01T00:00:00Z'", id="month-13"),
        pytest.param("2024-99-01T00:00:00Z", "'2024-99-01T00:00:00Z'", id="month-99"),
        pytest.param("2024-02-30T00:00:00Z", "'2024-02-30T00:00:00Z'", id="february-30"),
        pytest.param("2024-05-01", "'2024-05-01'", id="date-only"),
        pytest.param("2024-05-01 12:00:00", "'2024-05-01 12:00:00'", id="space"),
        pytest.param("2024-05-01T12:00:00+02:00", "'2024-05-01T12:00:00+02:00'", id="offset"),
        pytest.param("٢٠٢٤-05-01T12:00:00Z", "'٢٠٢٤-05-01T12:00:00Z'", id="arabic-digits"),
    ],
)
def test_a_record_whose_time_no_query_can_find_is_quarantined_and_counted(time, reason):
    # Given a Redshift event whose eventTime is missing, not text, or not a time as CloudTrail writes it
    record = copy.deepcopy(event("create_namespace"))
    if time is None:
        del record["eventTime"]
    else:
        record["eventTime"] = time
    # When its file is analyzed
    analysis = analyze([record, event("authorize_datashare")], source=SOURCE, options=BARE_OPTIONS, now=NOW)
    # Then it is quarantined with the reason and counted, not stored as an event no index holds
    quarantined = [item for item in analysis.items if item["eventID"]["S"].startswith(schema.REJECTED_PREFIX)]
    (item,) = quarantined
    assert reason in item["rejectReason"]["S"]
    assert "YYYY-MM-DDTHH:MM:SSZ" in item["rejectReason"]["S"]
    assert stored_event(item) == record
    assert (analysis.outcome.kept, analysis.outcome.quarantined) == (1, 1)


def test_a_time_as_cloudtrail_writes_it_is_indexed():
    # Given the last second of a leap year's February
    record = event("create_namespace") | {"eventTime": "2024-02-29T23:59:59Z"}
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then it is in its month's bucket
    assert item["eventTime"] == {"S": "2024-02-29T23:59:59Z"}
    assert item["timeBucket"]["S"].startswith("2024-02#")


# --- what a file's outcome tells ------------------------------------------------------------------------


def test_duplicates_with_other_content_are_counted_apart():
    # Given an event, an identical copy, and a copy with other content under the same eventID
    first = event("create_namespace")
    records = [first, copy.deepcopy(first), first | {"eventName": "DeleteNamespace"}]
    # When the file is analyzed
    outcome = analyze(records, source=SOURCE, options=BARE_OPTIONS, now=NOW).outcome
    # Then the first is kept, both copies are duplicates, one of them with other content
    assert (outcome.kept, outcome.duplicates, outcome.duplicates_differing) == (1, 2, 1)


def test_the_longest_event_id_an_item_may_have_leaves_room_for_its_detection_keys():
    # Given an event whose eventID is as long as an event's key may be
    longest = "é" * (items.MAX_EVENT_ID_BYTES // 2)
    record = event("create_namespace") | {"eventID": longest}
    # When its item is built, and the key of a detection item of each rule is made
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then it is an event, and every detection key fits a partition key
    assert item["eventID"] == {"S": longest}
    for rule in RULES:
        assert len(schema.alert_key(longest, rule.id).encode("utf-8")) <= PARTITION_KEY_BYTES
