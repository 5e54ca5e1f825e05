"""The three ways new trail files reach the ingest queue, on moto, through to the table.

* the bucket's S3 notification for every ``ObjectCreated`` event (a copy and a multipart upload, not only a Put);
* the bucket's EventBridge "Object Created" events, through a rule with the stack's pattern, to the queue;
* the trail's own SNS topic, which CloudTrail notifies of each delivery, with the queue subscribed.

The stack's side of each (the notification's events, the rule's pattern, the subscription) is asserted on the
template in ``tests/infra/test_stack_source_modes.py``; here moto delivers what the template configures.
"""

import gzip
import json
from typing import Any

import boto3
import pytest

from redtrail.adapters.dynamodb import EventTable
from redtrail.function import consumer
from redtrail.function.handler import lambda_handler
from redtrail.function.observability import metrics
from redtrail_devtools.deploy import apply_notification
from redtrail_devtools.poller import lambda_event
from tests.integration.conftest import BUCKET, REGION, TABLE
from tests.support import REFERENCE_EXAMPLES, by_account, event, log_key

REFERENCE_IDS = {event(name)["eventID"] for name in REFERENCE_EXAMPLES}
# The reference examples as CloudTrail delivers them: one file per recipient account.
FILES = by_account([event(name) for name in REFERENCE_EXAMPLES], "modes")
# The rule the stack writes in eventbridge mode (tests/infra/test_stack_source_modes.py asserts the template's).
OBJECT_CREATED_PATTERN = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "AWSLogs/*.json.gz"}]}},
}


class Account:
    """A moto account with the trail bucket, the ingest queue and the table; no route between bucket and queue."""

    def __init__(self) -> None:
        boto3.setup_default_session()
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        self.queue_url = self.sqs.create_queue(QueueName="redtrail-ingest")["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]
        EventTable(TABLE, self.dynamodb).create()

    def receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            messages.extend(batch)
        return messages

    def handle(self, messages: list[dict[str, Any]], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = lambda_handler(
            lambda_event(messages, queue_arn=self.queue_arn, region=REGION), context
        )
        return result

    def event_ids(self) -> set[str]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="eventID")
        return {item["eventID"]["S"] for page in pages for item in page["Items"] if "#" not in item["eventID"]["S"]}


@pytest.fixture
def account(aws):
    consumer.default_dependencies.cache_clear()
    metrics.clear_metrics()
    yield Account()
    consumer.default_dependencies.cache_clear()


def test_copies_and_multipart_uploads_are_announced_by_the_notification(pipeline, context):
    # Given the bucket notifying the queue of every ObjectCreated event (as the stack subscribes), and trail files
    # that arrive as a copy of an object staged elsewhere and as a multipart upload (`aws s3 cp` of a large file)
    (copied_key, copied), (uploaded_key, uploaded), *rest = FILES.items()
    pipeline.put("staging/copied.json.gz", copied)  # outside AWSLogs/: not announced
    pipeline.s3.copy_object(
        Bucket=BUCKET, Key=copied_key, CopySource={"Bucket": BUCKET, "Key": "staging/copied.json.gz"}
    )
    upload = pipeline.s3.create_multipart_upload(Bucket=BUCKET, Key=uploaded_key)
    part = pipeline.s3.upload_part(
        Bucket=BUCKET, Key=uploaded_key, UploadId=upload["UploadId"], PartNumber=1, Body=uploaded
    )
    pipeline.s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=uploaded_key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    for key, body in rest:
        pipeline.put(key, body)
    # When the queue's messages are read and handed to the function
    messages = pipeline.receive()
    names = [
        record["eventName"]
        for message in messages
        for record in json.loads(message["Body"]).get("Records", [])
        if record["s3"]["object"]["key"] != "staging%2Fcopied.json.gz"
    ]
    response = lambda_handler(pipeline.event(messages), context)
    # Then the copy and the multipart upload were announced (a Put-only subscription announces neither), and every
    # event is stored once (moto also announces the multipart upload as a Put: the second reading is a no-op)
    assert "ObjectCreated:Copy" in names
    assert "ObjectCreated:CompleteMultipartUpload" in names
    assert response == {"batchItemFailures": []}
    assert pipeline.event_ids() == REFERENCE_IDS


def test_eventbridge_object_created_events_reach_the_queue_through_the_rule(account, context):
    # Given a bucket that already notifies someone else's queue (a SIEM's), whose EventBridge notifications are
    # turned on as the local stand-in of CDK's notifications handler applies the stack's configuration (keeping
    # the bucket's other notifications), and the stack's rule sending its new trail files to the ingest queue
    siem = account.sqs.create_queue(QueueName="siem")["QueueUrl"]
    siem_arn = account.sqs.get_queue_attributes(QueueUrl=siem, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    theirs = {"QueueConfigurations": [{"QueueArn": siem_arn, "Events": ["s3:ObjectCreated:*"]}]}
    account.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=theirs)
    apply_notification(account.s3, BUCKET, {"EventBridgeConfiguration": {}})
    account.events.put_rule(Name="redtrail-object-created", EventPattern=json.dumps(OBJECT_CREATED_PATTERN))
    account.events.put_targets(Rule="redtrail-object-created", Targets=[{"Id": "queue", "Arn": account.queue_arn}])
    # When trail files are delivered, and objects the rule does not match (another prefix, another suffix)
    for key, body in FILES.items():
        account.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    account.s3.put_object(Bucket=BUCKET, Key="exports/AWSLogs/x.json.gz", Body=b"{}")
    account.s3.put_object(Bucket=BUCKET, Key=log_key(name="not-json").replace(".json.gz", ".txt"), Body=b"x")
    messages = account.receive()
    response = account.handle(messages, context)
    # Then one "Object Created" event per trail file reached the queue, and the function stored every event
    # (and the SIEM's notification still fires for every object)
    siem_messages = account.sqs.receive_message(QueueUrl=siem, MaxNumberOfMessages=10).get("Messages", [])
    assert sum("Records" in json.loads(message["Body"]) for message in siem_messages) == len(FILES) + 2
    bodies = [json.loads(message["Body"]) for message in messages]
    assert [body["detail-type"] for body in bodies] == ["Object Created"] * len(FILES)
    assert sorted(body["detail"]["object"]["key"] for body in bodies) == sorted(FILES)
    assert response == {"batchItemFailures": []}
    assert account.event_ids() == REFERENCE_IDS


def test_cloudtrails_own_sns_notifications_reach_the_queue_through_the_subscription(account, context):
    # Given the trail's SNS topic, with the ingest queue subscribed (SNS's envelope, as the stack subscribes)
    topic_arn = account.sns.create_topic(Name="org-trail-notifications")["TopicArn"]
    account.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=account.queue_arn)
    # When CloudTrail delivers the files and publishes its notification naming them (its documented shape)
    for key, body in FILES.items():
        account.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    account.sns.publish(TopicArn=topic_arn, Message=json.dumps({"s3Bucket": BUCKET, "s3ObjectKey": sorted(FILES)}))
    messages = account.receive()
    response = account.handle(messages, context)
    # Then the one notification reached the queue in SNS's envelope, and the function stored every event
    [message] = messages
    assert json.loads(message["Body"])["Type"] == "Notification"
    assert response == {"batchItemFailures": []}
    assert account.event_ids() == REFERENCE_IDS


def test_a_file_announced_by_two_routes_is_stored_once(account, context):
    # Given a file announced both by CloudTrail's notification and by the bucket's EventBridge event (a bucket
    # switched from one mode to the other, for a while)
    key, body = next(iter(FILES.items()))
    account.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    cloudtrail = json.dumps({"s3Bucket": BUCKET, "s3ObjectKey": [key]})
    eventbridge = json.dumps(
        {
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
        }
    )
    for message_body in (cloudtrail, eventbridge):
        account.sqs.send_message(QueueUrl=account.queue_url, MessageBody=message_body)
    # When the function handles both
    response = account.handle(account.receive(), context)
    # Then both succeed and the file's events are stored once
    assert response == {"batchItemFailures": []}
    assert account.event_ids() == {record["eventID"] for record in json.loads(gzip.decompress(body))["Records"]}
