"""The fault census: every bad input redtrail has been tried with, beside good Redshift events, through the pipeline
and a DynamoDB that refuses what DynamoDB refuses (moto). The README's figure ("N bad inputs tried, 0 parseable
events lost") is counted here, from ``BAD_RECORDS`` and ``BAD_FILES``, and checked against the README.

A bad record sits between two good events in one file: both good events must be stored, and every record of the
file accounted for (stored, quarantined with a reason, counted as a duplicate or as not an object, or not of the
Redshift family). A bad file is either read as the stdlib reads it (its good events stored) or refused whole as a
permanent TrailFileError, which the function dead-letters with the reason: then it held no parseable event.
"""

import copy
import gzip
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from redtrail.adapters.dynamodb import EventTable
from redtrail.contracts import schema
from redtrail.contracts.settings import PipelineOptions
from redtrail.core.errors import TrailFileError
from redtrail.core.pipeline import FileOutcome, process_object
from redtrail.core.s3_events import StoredObject, TrailObject
from tests.support import event, log_key

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
KEY = log_key(ACCOUNT, "census")
OPTIONS = PipelineOptions(retention_days=None, max_inflated_mb=4)


def good(number: int) -> dict[str, Any]:
    """A Redshift event for ``ACCOUNT`` (the reference ExecuteStatement), its own eventID."""
    record = copy.deepcopy(event("execute_statement"))
    record.update(eventID=f"good-{number}", recipientAccountId=ACCOUNT)
    return record


def bad(**changes: Any) -> dict[str, Any]:
    """A Redshift event with ``changes`` (a value of None removes the field)."""
    record = good(99) | {"eventID": "bad-1"}
    for name, value in changes.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = value
    return record


NOISE = random.Random(15)
# Records that are wrong in one way each; the value: the record(s) put between the two good events.
BAD_RECORDS: dict[str, list[Any]] = {
    "no eventID": [bad(eventID=None)],
    "empty eventID": [bad(eventID="")],
    "numeric eventID": [bad(eventID=42)],
    "eventID holding the key separator": [bad(eventID="a#b")],
    "eventID of 3,000 bytes": [bad(eventID="e" * 3000)],
    "no eventTime": [bad(eventTime=None)],
    "numeric eventTime": [bad(eventTime=1_700_000_000)],
    "eventTime 'not a time'": [bad(eventTime="not a time")],
    "eventTime in month 13": [bad(eventTime="2024-13-01T00:00:00Z")],
    "eventTime in month 99": [bad(eventTime="2024-99-01T00:00:00Z")],
    "eventTime with an offset": [bad(eventTime="2024-01-01T00:00:00+02:00")],
    "recipientAccountId of another account": [bad(recipientAccountId="999999999999")],
    "clusterIdentifier of 2,100 bytes (a failed DescribeClusters)": [
        bad(
            eventSource="redshift.amazonaws.com",
            eventName="DescribeClusters",
            errorCode="ClusterNotFoundFault",
            requestParameters={"clusterIdentifier": "c" * 2100},
        )
    ],
    "errorCode and sourceIPAddress of 140 KB each": [
        bad(errorCode=NOISE.randbytes(70_000).hex(), sourceIPAddress=NOISE.randbytes(70_000).hex())
    ],
    "1.1 MB incompressible record": [bad(requestParameters={"sql": NOISE.randbytes(550_000).hex()})],
    "eventName of 5,000 characters": [bad(eventName="N" * 5000)],
    "userIdentity ARN of 3,000 bytes": [bad(userIdentity={"type": "IAMUser", "arn": "arn:" + "a" * 3000})],
    "the same eventID twice, other content": [good(1) | {"eventName": "Other"}],
    "the same eventID twice, same content": [good(1)],
    "a number": [7],
    "a string": ["record"],
    "null": [None],
    "a list": [[good(3)]],
    "eventSource a list": [bad(eventSource=["redshift.amazonaws.com"])],
    "eventName an object": [bad(eventName={"name": "CreateCluster"})],
    "userIdentity a string": [bad(userIdentity="root")],
    "nesting 200 levels deep": [bad(requestParameters=json.loads("[" * 200 + "]" * 200))],
    "bidi and control characters": [bad(userAgent="\u202eevil\u202c\x1b[2J\x07", sourceIPAddress="1.2.3.4\u200f")],
    "a lone surrogate": [bad(userAgent="\ud800")],
    "huge integers and floats": [bad(requestParameters={"n": 10**40, "f": 1e308, "g": -0.0})],
}


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def records_text(records: list[Any]) -> bytes:
    return json.dumps({"Records": records}, separators=(",", ":")).encode()


GOOD_FILE = records_text([good(1), good(2)])
# Files that are wrong as a whole; the value: (the body, whether its events are readable as the stdlib reads it).
BAD_FILES: dict[str, tuple[Callable[[], bytes], bool]] = {
    "truncated gzip": (lambda: gz(GOOD_FILE)[:-20], False),
    "gzip cut inside its header": (lambda: gz(GOOD_FILE)[:5], False),
    "gzip with a wrong CRC": (lambda: gz(GOOD_FILE)[:-8] + b"\0\0\0\0" + gz(GOOD_FILE)[-4:], False),
    "two gzip members": (lambda: gz(GOOD_FILE[:40]) + gz(GOOD_FILE[40:]), True),
    "gzip followed by zero padding": (lambda: gz(GOOD_FILE) + b"\0" * 100, True),
    "gzip followed by garbage": (lambda: gz(GOOD_FILE) + b"garbage", False),
    "a UTF-8 byte order mark": (lambda: gz(b"\xef\xbb\xbf" + GOOD_FILE), True),
    "not JSON": (lambda: gz(b"not json"), False),
    "JSON cut short": (lambda: gz(GOOD_FILE[:-10]), False),
    "Records an object": (lambda: gz(b'{"Records":{"a":1}}'), False),
    "NaN and Infinity": (
        lambda: gz(GOOD_FILE.replace(b'"eventVersion"', b'"n":NaN,"i":-Infinity,"eventVersion"')),
        True,
    ),
    "pretty-printed": (lambda: gz(json.dumps(json.loads(GOOD_FILE), indent=2).encode()), True),
    "not compressed": (lambda: GOOD_FILE, True),
    "a zip bomb (inflates past the limit)": (lambda: gz(b" " * (OPTIONS.max_inflated_bytes + 1)), False),
    "a zip bomb whose trailer understates its size": (
        lambda: _understated(gz(b" " * (OPTIONS.max_inflated_bytes + 1))),
        False,
    ),
    "empty": (lambda: b"", False),
}


def _understated(body: bytes) -> bytes:
    return body[:-4] + (1000).to_bytes(4, "little")


def bad_inputs() -> int:
    return len(BAD_RECORDS) + len(BAD_FILES)


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        created = EventTable("census", boto3.client("dynamodb", region_name="us-east-1"))
        created.create()
        yield created


def ingest(table: EventTable, body: bytes) -> FileOutcome:
    trail_object = TrailObject("trail-bucket", KEY)
    stored = StoredObject(body, datetime(2024, 1, 1, tzinfo=UTC))
    return process_object(trail_object, read=lambda _: stored, write=table.write, options=OPTIONS)


def stored(table: EventTable) -> dict[str, dict[str, Any]]:
    items = table._dynamodb.scan(TableName=table.name)["Items"]  # the census's own table: a scan is its truth
    return {item[schema.PARTITION_KEY]["S"]: item for item in items}


@pytest.mark.parametrize("name", list(BAD_RECORDS))
def test_a_bad_record_loses_no_event_beside_it_and_is_accounted_for(table, name):
    # Given a file of a good event, the bad record(s), and another good event
    records = [good(1), *BAD_RECORDS[name], good(2)]
    # When the pipeline stores it in a DynamoDB that refuses what DynamoDB refuses
    outcome = ingest(table, gz(records_text(records)))
    items = stored(table)
    # Then both good events are stored
    assert {"good-1", "good-2"} <= set(items)
    # and every record is accounted for: an event, a quarantined record, a duplicate, not an object, or not of the
    # Redshift family; and each item the outcome counts is in the table
    family = outcome.kept + outcome.quarantined + outcome.duplicates
    assert family + outcome.rejected <= outcome.records == len(records)
    assert outcome.records - family - outcome.rejected == sum(
        1 for record in records if isinstance(record, dict) and not _is_family(record)
    )
    assert outcome.written == len(items) == outcome.kept + outcome.quarantined
    quarantined = [item for event_id, item in items.items() if event_id.startswith(schema.REJECTED_PREFIX)]
    assert all(item["rejectReason"]["S"] for item in quarantined)


def _is_family(record: dict[str, Any]) -> bool:
    source = record.get("eventSource")
    return isinstance(source, str) and source.endswith(".amazonaws.com") and "redshift" in source


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_read_as_the_stdlib_reads_it_or_refused_whole_and_permanently(table, name):
    # Given a file that is wrong as a whole
    make, readable = BAD_FILES[name]
    body = make()
    # When the pipeline reads it
    if readable:
        outcome = ingest(table, body)
        # Then the events the stdlib reads in it are stored
        assert {"good-1", "good-2"} <= set(stored(table))
        assert outcome.kept == 2
    else:
        # Then it is refused whole, as an error no retry mends (the function dead-letters it with this reason),
        # and nothing of it is stored
        with pytest.raises(TrailFileError) as refused:
            ingest(table, body)
        assert str(refused.value).strip()
        assert stored(table) == {}


def test_the_readme_fault_figure_is_the_census():
    # Given the census's bad inputs
    figure = f"{bad_inputs()} bad inputs tried, 0 parseable events lost"
    # When the README is read
    readme = (REPO / "README.md").read_text()
    # Then it states the figure counted here, and no other
    assert figure in readme
    assert re.findall(r"(\d+) bad inputs tried", readme) == [str(bad_inputs())]
