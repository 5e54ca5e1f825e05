import json
from datetime import UTC, datetime

import pytest

from redtrail.core import queries
from redtrail.core.queries import EventQuery
from redtrail.function.handler import lambda_handler
from tests.integration.conftest import BUCKET, emf_metrics
from tests.support import REFERENCE_EXAMPLES, by_account, event, log_key, trail_file

# An organization trail's files, named with a space and an '=' (S3 notifications URL-encode keys)
ORG, NAME = "o-abc123defg", "x y=1"
KEY = log_key("123456789012", NAME, org=ORG)
DECOYS = [
    {"eventID": "decoy-1", "eventSource": "s3.amazonaws.com", "requestParameters": {"bucketName": "redshift-logs"}},
    {"eventID": "decoy-2", "eventSource": "ec2.amazonaws.com", "userIdentity": {"accountId": "123456789012"}},
]
REFERENCE_IDS = {event(name)["eventID"] for name in REFERENCE_EXAMPLES}  # 5: the two ExecuteStatement share one
# The reference examples as CloudTrail delivers them: one file per recipient account (three), decoys with the first
REFERENCE_FILES = by_account([event(name) for name in REFERENCE_EXAMPLES] + DECOYS, NAME, org=ORG)


def _put_reference_files(pipeline, **layout):
    files = (
        by_account([event(name) for name in REFERENCE_EXAMPLES] + DECOYS, NAME, **layout) if layout else REFERENCE_FILES
    )
    for key, body in files.items():
        pipeline.put(key, body)


def test_a_trail_file_flows_from_the_bucket_to_the_table(pipeline, context, capsys):
    # Given trail files with every reference example and two decoys, put into the trail bucket
    _put_reference_files(pipeline)
    messages = pipeline.receive()
    # When the handler gets the queue's messages (the s3:TestEvent among them) as Lambda would pass them
    response = lambda_handler(pipeline.event(messages), context)
    # Then every message succeeds and each Redshift event is one item with its attributes
    assert response == {"batchItemFailures": []}
    assert len(messages) == 1 + len(REFERENCE_FILES) == 4
    assert pipeline.item_count() == len(REFERENCE_IDS) == 5
    kms = pipeline.item("619bad54-1764-4de4-a786-8898b0a7f40c")
    assert kms["matchedBy"] == {"S": "serviceAccount"}
    assert kms["redshiftServiceAccountRegion"] == {"S": "us-east-2"}
    assert kms["isWrite"] == {"BOOL": False}
    assert kms["sourceObject"] == {"S": f"s3://{BUCKET}/{KEY}"}
    assert json.loads(kms["event"]["S"]) == event("kms_decrypt_by_redshift")
    datashare = pipeline.item("03a3d818-37c8-46a6-aad5-0151803bdb09")
    assert datashare["eventName"] == {"S": "AuthorizeDataShare"}
    assert datashare["isWrite"] == {"BOOL": True}
    assert datashare["resource"] == {"S": "datashare:testshare"}
    assert pipeline.item("decoy-1") is None
    assert pipeline.operations.count("BatchGetItem") == len(REFERENCE_FILES)  # what is stored, once per file
    # and the metrics say what happened
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["FilesProcessed"] == len(REFERENCE_FILES)
    assert metrics["RecordsRead"] == 8
    assert metrics["EventsKept"] == 5
    assert metrics["WriteEvents"] == 3  # the four write-type events less the Data API ExecuteStatement (routine)
    assert metrics["SensitiveEvents"] == 2  # AuthorizeDataShare, CreateNamespace
    assert metrics["EventsBySource"] == 5
    assert "FilesFailed" not in metrics


def test_a_corrupt_file_fails_only_its_own_message(pipeline, context, capsys):
    # Given good trail files and a corrupt one in the same batch
    _put_reference_files(pipeline)
    pipeline.put(KEY.replace("x y=1", "corrupt"), b"\x1f\x8b\x08\x00this is not gzip")
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    corrupt = next(m for m in messages if "corrupt" in m["Body"])
    # When the handler processes the batch
    response = lambda_handler(pipeline.event(messages), context)
    # Then only the corrupt file's message is reported as failed, and the good one is stored
    assert response == {"batchItemFailures": [{"itemIdentifier": corrupt["MessageId"]}]}
    assert pipeline.item_count() == 5
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["FilesFailed"] == 1
    assert metrics["FilesProcessed"] == len(REFERENCE_FILES)


def test_a_duplicate_delivery_leaves_one_item_per_event(pipeline, context):
    # Given the same files delivered twice, and the same events in an account trail's files too
    _put_reference_files(pipeline)
    _put_reference_files(pipeline, org="")
    messages = pipeline.receive()
    # When the batch is processed, and then processed again
    first = lambda_handler(pipeline.event(messages), context)
    second = lambda_handler(pipeline.event(messages), context)
    # Then each event is still exactly one item
    assert first == second == {"batchItemFailures": []}
    assert pipeline.item_count() == 5


def test_digests_and_other_objects_are_acknowledged_not_failed(pipeline, context, capsys):
    # Given a file in a digest folder under a name CloudTrail does not write, and a non-log object
    digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/digest.json.gz"
    pipeline.put(digest, trail_file([]))
    notification = json.loads(json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}))
    notification["Records"][0]["s3"] = {"bucket": {"name": BUCKET}, "object": {"key": "AWSLogs/readme.txt"}}
    messages = pipeline.receive()
    # When they are processed, as an SQS batch and as a direct S3 notification
    sqs_response = lambda_handler(pipeline.event(messages), context)
    direct_response = lambda_handler(notification, context)
    # Then nothing fails and no event is stored; the object is skipped, the "digest" is an integrity problem
    assert sqs_response == direct_response == {"batchItemFailures": []}
    assert pipeline.item_count() == 0
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["FilesSkipped"] == 1
    assert metrics["IntegrityProblems"] == 1


def test_a_direct_s3_notification_is_processed_too(pipeline, context):
    # Given files and the S3 notifications as S3 would invoke the function directly
    _put_reference_files(pipeline)
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    # When the handler gets each notification itself
    for message in messages:
        lambda_handler(json.loads(message["Body"]), context)
    # Then the events are stored
    assert pipeline.item_count() == 5


def test_a_missing_object_fails_its_message(pipeline, context):
    # Given a notification for an object deleted before it was read
    pipeline.put(KEY, REFERENCE_FILES[KEY])
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    pipeline.s3.delete_object(Bucket=BUCKET, Key=KEY)
    # When the handler processes it
    response = lambda_handler(pipeline.event(messages), context)
    # Then the message fails (to be retried, then dead-lettered), and nothing is stored
    assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert pipeline.item_count() == 0


WINDOW = {"since": datetime(2017, 1, 1, tzinfo=UTC), "until": datetime(2023, 1, 1, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(EventQuery(**WINDOW), 5, id="time-range"),
        pytest.param(
            EventQuery(since=datetime(2021, 8, 2, tzinfo=UTC), until=datetime(2021, 8, 3, tzinfo=UTC)),
            1,
            id="narrow-time-range",
        ),
        pytest.param(EventQuery(**WINDOW, event_name="Decrypt"), 1, id="event-name"),
        pytest.param(EventQuery(**WINDOW, principal="arn:aws:iam::123456789012:role/MyRole"), 1, id="principal"),
        pytest.param(EventQuery(**WINDOW, resource="cluster:example-cluster-identifier"), 1, id="resource"),
        pytest.param(EventQuery(**WINDOW, writes_only=True), 4, id="writes-only"),
        pytest.param(EventQuery(**WINDOW, account="123456789012"), 3, id="account"),
        pytest.param(EventQuery(**WINDOW, source="redshift-data.amazonaws.com"), 1, id="source-filter"),
    ],
)
def test_each_access_pattern_is_answered_by_queries(pipeline, context, query, expected):
    # Given the reference examples stored by the handler
    _put_reference_files(pipeline)
    lambda_handler(pipeline.event(pipeline.receive()), context)
    pipeline.operations.clear()
    # When the access pattern is asked
    found = list(queries.run(query, pipeline.table.query))
    # Then the right events come back, newest first, and DynamoDB saw only Query calls (no Scan)
    assert len(found) == expected
    times = [item["eventTime"]["S"] for item in found]
    assert times == sorted(times, reverse=True)
    assert set(pipeline.operations) == {"Query"}
