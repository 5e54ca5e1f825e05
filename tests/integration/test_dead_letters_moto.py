"""Permanent failures go straight to the dead-letter queue; unstorable records to the quarantine (moto)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from redtrail.core import queries
from redtrail.function import consumer
from redtrail.function.handler import lambda_handler
from tests.integration.conftest import BUCKET, emf_metrics
from tests.integration.test_faults_moto import Wire
from tests.support import event, log_key, trail_file

DATASHARE_ACCOUNT = event("authorize_datashare")["recipientAccountId"]


@pytest.fixture
def dead_letters(pipeline, monkeypatch):
    url = pipeline.sqs.create_queue(QueueName="redtrail-dead-letters")["QueueUrl"]
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)
    consumer.default_dependencies.cache_clear()
    return url


def _dead_lettered(pipeline, url):
    return pipeline.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    )


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        pytest.param("corrupt.json.gz", b"\x1f\x8b\x08\x00corrupt", "corrupt gzip", id="corrupt-gzip"),
        pytest.param("cut.json.gz", b'{"Records": [', "invalid JSON", id="invalid-json"),
        pytest.param("shape.json.gz", b'{"Records": {"eventID": "x"}}', "Records is dict", id="records-not-a-list"),
    ],
)
def test_an_unreadable_file_goes_straight_to_the_dead_letter_queue(
    pipeline, dead_letters, context, capsys, caplog, name, body, reason
):
    # Given a good file and an unreadable one in the same batch
    pipeline.put(log_key(DATASHARE_ACCOUNT, "good"), trail_file([event("authorize_datashare")]))
    pipeline.put(log_key(DATASHARE_ACCOUNT, name.removesuffix(".json.gz")), body)
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    # When the handler processes the batch
    response = lambda_handler(pipeline.event(messages), context)
    # Then no message is retried: the bad one is in the dead-letter queue with its reason, the good one stored
    assert response == {"batchItemFailures": []}
    (dead,) = _dead_lettered(pipeline, dead_letters)
    assert name in dead["Body"]
    assert reason in dead["MessageAttributes"]["redtrailReason"]["StringValue"]
    assert dead["MessageAttributes"]["redtrailErrorType"]["StringValue"] == "TrailFileError"
    assert pipeline.item_count() == 1
    assert emf_metrics(capsys.readouterr().out)["FilesDeadLettered"] == 1
    assert "message sent to the dead-letter queue" in caplog.messages
    (failed,) = [record for record in caplog.records if record.getMessage() == "trail object failed"]
    assert failed.levelname == "ERROR"
    assert failed.object.endswith(name)
    assert reason in failed.reason


def test_a_deleted_object_is_dead_lettered_at_once(pipeline, dead_letters, context):
    # Given a notification for an object deleted before it was read
    pipeline.put(log_key(DATASHARE_ACCOUNT, "gone"), trail_file([event("authorize_datashare")]))
    (message,) = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    pipeline.s3.delete_object(Bucket=BUCKET, Key=log_key(DATASHARE_ACCOUNT, "gone"))
    # When it is processed
    response = lambda_handler(pipeline.event([message]), context)
    # Then it does not burn retries: it is in the dead-letter queue at once
    assert response == {"batchItemFailures": []}
    (dead,) = _dead_lettered(pipeline, dead_letters)
    assert dead["MessageAttributes"]["redtrailErrorType"]["StringValue"] == "ObjectNotFoundError"


def test_when_the_dead_letter_queue_refuses_the_message_fails_instead(pipeline, dead_letters, context, monkeypatch):
    # Given a corrupt file and a dead-letter queue that cannot be written
    pipeline.put(log_key(DATASHARE_ACCOUNT, "corrupt"), b"\x1f\x8bbad")
    (message,) = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    pipeline.sqs.delete_queue(QueueUrl=dead_letters)
    # When it is processed
    response = lambda_handler(pipeline.event([message]), context)
    # Then the message fails, so SQS keeps it: nothing is acknowledged that was not kept somewhere
    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_a_record_that_cannot_be_stored_is_quarantined_and_queryable(pipeline, context, capsys):
    # Given a trail file with a Redshift event and a Redshift-family record without eventID
    namespace = event("create_namespace")
    broken = {"eventSource": "redshift.amazonaws.com", "eventName": "DeleteCluster"}
    broken["recipientAccountId"] = namespace["recipientAccountId"]
    pipeline.put(log_key(namespace["recipientAccountId"], "mixed"), trail_file([namespace, broken]))
    # When it is processed
    response = lambda_handler(pipeline.event(pipeline.receive()), context)
    # Then the event is stored, the broken record is kept with its reason and counted
    assert response == {"batchItemFailures": []}
    assert pipeline.item_count() == 2
    assert emf_metrics(capsys.readouterr().out)["RecordsQuarantined"] == 1
    # and it can be found by querying the quarantine
    now = datetime.now(UTC)
    query = queries.EventQuery(since=now - timedelta(hours=1), until=now + timedelta(minutes=1), rejected=True)
    (found,) = queries.run(query, pipeline.table.query)
    assert found["rejectReason"] == {"S": "record has no eventID"}
    assert found["sourceObject"]["S"].endswith("_mixed.json.gz")


def test_an_item_dynamodb_refuses_whose_record_cannot_be_quarantined_either_is_dead_lettered_at_once(
    pipeline, dead_letters, context, monkeypatch, capsys
):
    # Given a good file, and a file whose items DynamoDB refuses as invalid (ValidationException), the quarantine
    # item that stands in for its event too
    good, refused = event("authorize_datashare"), event("create_connection")
    pipeline.put(log_key(DATASHARE_ACCOUNT, "good"), trail_file([good]))
    pipeline.put(log_key(refused["recipientAccountId"], "refused"), trail_file([refused]))
    messages = [m for m in pipeline.receive() if "s3:TestEvent" not in m["Body"]]
    message = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit"
    answer = 400, {}, json.dumps({"__type": "com.amazon.coral.validate#ValidationException", "message": message})

    def refuses(request):
        item_id = request["Item"]["eventID"]["S"]
        return answer if item_id == refused["eventID"] or item_id.startswith("rejected#") else None

    Wire(monkeypatch).puts(default=refuses)
    # When the handler processes the batch
    response = lambda_handler(pipeline.event(messages), context)
    # Then no retry is burnt on it (the same item is refused again): it is in the dead-letter queue with
    # DynamoDB's message, and the good file is stored
    assert response == {"batchItemFailures": []}
    (dead,) = _dead_lettered(pipeline, dead_letters)
    assert "_refused.json.gz" in dead["Body"]
    assert dead["MessageAttributes"]["redtrailErrorType"]["StringValue"] == "ItemRejectedError"
    assert message in dead["MessageAttributes"]["redtrailReason"]["StringValue"]
    assert pipeline.item(good["eventID"]) is not None
    assert pipeline.item(refused["eventID"]) is None
    assert emf_metrics(capsys.readouterr().out)["FilesDeadLettered"] == 1
