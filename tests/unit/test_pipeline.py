from dataclasses import replace

import pytest

from redtrail.contracts.settings import PipelineOptions
from redtrail.core.errors import TrailFileError
from redtrail.core.pipeline import Refused, Status, StoredItems, analyze, process_object
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_file import SkipReason
from tests.support import BARE_OPTIONS, event, trail_file

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file.json.gz"


class FakeTable:
    def __init__(self):
        self.batches = []

    def write(self, items):
        self.batches.append(list(items))
        return StoredItems(written=len(items))


def test_analyze_keeps_redshift_events_once_and_counts_the_rest():
    # Given a file with Redshift events, a duplicate, a decoy, a non-object and a record without eventID
    records = [
        event("execute_statement"),
        event("execute_statement_client_token"),  # same eventID as the one before
        event("kms_decrypt_by_redshift"),
        {"eventID": "x", "eventSource": "s3.amazonaws.com", "requestParameters": {"bucketName": "redshift-logs"}},
        "not a record",
        {"eventSource": "redshift.amazonaws.com"},
        event("create_namespace"),
    ]
    # When it is analyzed
    analysis = analyze(records, source="f", options=replace(BARE_OPTIONS, sensitive_event_names=("CreateNamespace",)))
    outcome = analysis.outcome
    # Then each event is kept once, the Redshift record without eventID is quarantined, the rest is counted
    ids = [item["eventID"]["S"] for item in analysis.items]
    assert ids[:2] + ids[3:] == [
        "c1fb7076-102f-43e5-9ec9-40820bcc1175",
        "619bad54-1764-4de4-a786-8898b0a7f40c",
        "1dbee944-f889-4beb-b228-7ad0f3124640",
    ]
    assert ids[2].startswith("rejected#")
    assert analysis.items[2]["rejectReason"] == {"S": "record has no eventID"}
    assert (outcome.records, outcome.kept, outcome.duplicates) == (7, 3, 1)
    assert outcome.duplicates_differing == 1  # the ClientToken example is the same call with one field more
    assert (outcome.rejected, outcome.quarantined) == (1, 1)
    assert outcome.write_events == 2
    assert outcome.sensitive_events == 1
    assert outcome.encryption_context_matches == 0
    assert outcome.by_source == {
        "redshift-data.amazonaws.com": 1,
        "kms.amazonaws.com": 1,
        "redshift-serverless.amazonaws.com": 1,
    }


def test_encryption_context_matches_are_counted():
    # Given a KMS call from an account not in the table, for a Redshift cluster
    record = {
        "eventID": "e1",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "kms.amazonaws.com",
        "userIdentity": {"accountId": "999999999999"},
        "requestParameters": {"encryptionContext": {"aws:redshift:arn": "arn:aws:redshift:xx-new-1:1:cluster:c"}},
        "readOnly": True,
    }
    # When it is analyzed
    outcome = analyze([record], source="f", options=BARE_OPTIONS).outcome
    # Then it is kept and counted as an encryption-context match
    assert (outcome.kept, outcome.encryption_context_matches, outcome.write_events) == (1, 1, 0)


def test_process_object_reads_classifies_and_writes():
    # Given a trail object with two Redshift events among others
    body = trail_file([event("authorize_datashare"), {"eventSource": "ec2.amazonaws.com"}, event("create_connection")])
    table = FakeTable()
    # When it is processed
    outcome = process_object(
        TrailObject("b", KEY), read=lambda _: StoredObject(body), write=table.write, options=BARE_OPTIONS
    )
    # Then the kept items are written in one call and counted
    assert outcome.status is Status.PROCESSED
    assert (outcome.records, outcome.kept, outcome.written) == (3, 2, 2)
    assert [len(batch) for batch in table.batches] == [2]
    assert outcome.source == f"s3://b/{KEY}"


@pytest.mark.parametrize(
    ("key", "body", "reason"),
    [
        ("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz", None, SkipReason.DIGEST),
        ("AWSLogs/1/CloudTrail/us-east-1/2024/05/01/readme.txt", None, SkipReason.NOT_A_LOG_NAME),
        (KEY, b'{"awsAccountId": "1"}', SkipReason.NO_RECORDS),
    ],
)
def test_non_logs_are_skipped_without_writing(key, body, reason):
    # Given a digest, a file that is not a log by name, or a JSON object without Records
    reads = []
    table = FakeTable()

    def read(trail_object):
        reads.append(trail_object)
        return StoredObject(body)

    # When it is processed
    outcome = process_object(TrailObject("b", key), read=read, write=table.write, options=BARE_OPTIONS)
    # Then it is skipped with its reason, read only when its name could not tell, and nothing is written
    assert outcome.status is Status.SKIPPED
    assert outcome.skip_reason is reason
    assert len(reads) == (1 if body else 0)
    assert table.batches == []


def test_a_file_without_redshift_events_writes_nothing():
    # Given a trail file without Redshift events
    table = FakeTable()
    # When it is processed
    outcome = process_object(
        TrailObject("b", KEY),
        read=lambda _: StoredObject(trail_file([{"eventSource": "ec2.amazonaws.com"}])),
        write=table.write,
        options=BARE_OPTIONS,
    )
    # Then no write call is made
    assert (outcome.records, outcome.kept, outcome.written) == (1, 0, 0)
    assert table.batches == []


def test_a_corrupt_file_raises():
    # Given a corrupt gzip file
    # When it is processed
    # Then the failure propagates, so that its message is retried and ends in the dead-letter queue
    with pytest.raises(TrailFileError):
        process_object(
            TrailObject("b", KEY),
            read=lambda _: StoredObject(b"\x1f\x8bnot gzip"),
            write=FakeTable().write,
            options=BARE_OPTIONS,
        )


def test_routine_data_plane_writes_are_kept_but_not_counted_as_alarmed_writes():
    # Given a Data API ExecuteStatement and a query editor session call (write-type), and a ModifyCluster
    records = [
        event("execute_statement"),
        {**event("create_connection"), "eventID": "qev2-tab", "eventName": "PutTab"},
        {**event("authorize_datashare"), "eventID": "modify", "eventName": "ModifyCluster"},
    ]
    # When they are analyzed with the default options
    analysis = analyze(records, source="f", options=PipelineOptions())
    # Then all three are kept, and only the change to Redshift counts for the write alarm
    assert analysis.outcome.kept == 3
    assert analysis.outcome.write_events == 1
    assert {item["eventID"]["S"] for item in analysis.items if item["isWrite"]["BOOL"]} == {
        "c1fb7076-102f-43e5-9ec9-40820bcc1175",
        "qev2-tab",
        "modify",
    }


def test_items_dynamodb_refused_are_counted_as_quarantined_and_raise_no_alert():
    # Given a trail object with a high-severity event and another, and a table that refuses the first one's item
    # (and quarantines its record instead)
    public = event("authorize_datashare") | {
        "eventID": "public-1",
        "eventName": "ModifyCluster",
        "requestParameters": {"clusterIdentifier": "c1", "publiclyAccessible": True},
    }
    body = trail_file([public, event("create_connection")])

    def refusing(items):
        return StoredItems(written=2, refused=(Refused("public-1", "table t: ValidationException: too big"),))

    def process(write):
        return process_object(
            TrailObject("b", KEY), read=lambda _: StoredObject(body), write=write, options=BARE_OPTIONS
        )

    # When it is processed
    outcome = process(refusing)
    # Then the refused event counts as quarantined, not kept, and raises no alert (it is not an event of the table),
    # where stored it would
    assert (outcome.kept, outcome.quarantined, outcome.written) == (1, 1, 2)
    assert outcome.detected == []
    assert [found.event_id for found in process(FakeTable().write).detected] == ["public-1"]
