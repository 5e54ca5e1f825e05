import json

import pytest

from redtrail.core.errors import NotificationError
from redtrail.core.s3_events import TrailObject, objects_in_message, objects_in_notification
from tests.support import EVENTS

DECODED_KEY = (
    "AWSLogs/o-abc123defg/111122223333/CloudTrail/us-east-1/2024/05/01/"
    "111122223333_CloudTrail_us-east-1_20240501T1200Z_a b=c.json.gz"
)


def test_s3_notification_keys_are_url_decoded():
    # Given the S3 notification S3 sends to the queue, with an encoded key
    body = (EVENTS / "s3_notification.json").read_text()
    # When the message is read
    # Then it names the object with its real key
    assert objects_in_message(body) == [TrailObject("trail-bucket", DECODED_KEY)]


def test_the_s3_test_event_names_no_object():
    # Given the s3:TestEvent S3 sends when the notification is configured
    # When it is read
    # Then it names no object (and is acknowledged)
    assert objects_in_message((EVENTS / "s3_test_event.json").read_text()) == []


def test_sns_wrapped_and_eventbridge_notifications():
    # Given the same notification wrapped by SNS, and an EventBridge "Object Created" event
    inner = (EVENTS / "s3_notification.json").read_text()
    sns = {"Type": "Notification", "Message": inner}
    eventbridge = {"detail-type": "Object Created", "detail": {"bucket": {"name": "b"}, "object": {"key": "k.json"}}}
    # When they are read
    # Then both name their objects
    assert objects_in_notification(sns) == [TrailObject("trail-bucket", DECODED_KEY)]
    assert objects_in_notification(eventbridge) == [TrailObject("b", "k.json")]


def test_records_other_than_object_created_are_ignored():
    # Given a notification of a removed object
    document = json.loads((EVENTS / "s3_notification.json").read_text())
    document["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    # When it is read
    # Then no object is named
    assert objects_in_notification(document) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"Records": "x"}',
        '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}',
    ],
)
def test_messages_that_are_not_notifications_raise(body):
    # Given a message that is not an S3 notification
    # When it is read
    # Then a NotificationError fails the message
    with pytest.raises(NotificationError):
        objects_in_message(body)


def test_local_objects_use_the_path_as_their_uri():
    # Given a local file and an S3 object
    # When their URIs are asked
    # Then the local one is its path and the S3 one is s3://bucket/key
    assert TrailObject("", "dir/file.json").uri == "dir/file.json"
    assert TrailObject("b", "k").uri == "s3://b/k"


CLOUDTRAIL_KEYS = [
    "AWSLogs/111122223333/CloudTrail/us-east-2/2013/12/13/111122223333_CloudTrail_us-east-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz",
    "AWSLogs/o-abc123defg/111122223333/CloudTrail/eu-west-1/2024/05/01/"
    "111122223333_CloudTrail_eu-west-1_20240501T1200Z_a+b.json.gz",
]


def test_cloudtrail_sns_notifications_name_every_delivered_file():
    # Given the message CloudTrail publishes to a trail's SNS topic when it delivers log files (its documented
    # shape: the bucket and a list of plain, not URL-encoded, keys), as SQS receives it from the topic: wrapped in
    # SNS's envelope, or raw
    message = json.dumps({"s3Bucket": "log-archive-trail", "s3ObjectKey": CLOUDTRAIL_KEYS})
    wrapped = json.dumps(
        {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-2:111122223333:t", "Message": message}
    )
    # When they are read
    # Then each names every file, keys as they are ('+' stays a plus)
    expected = [TrailObject("log-archive-trail", key) for key in CLOUDTRAIL_KEYS]
    assert objects_in_message(wrapped) == expected
    assert objects_in_message(message) == expected


@pytest.mark.parametrize(
    "document",
    [
        {"s3ObjectKey": ["AWSLogs/k.json.gz"]},
        {"s3Bucket": "b", "s3ObjectKey": "AWSLogs/k.json.gz"},
        {"s3Bucket": "b", "s3ObjectKey": [""]},
        {"s3Bucket": "b", "s3ObjectKey": [7]},
    ],
)
def test_cloudtrail_notifications_without_a_bucket_or_keys_raise(document):
    # Given a CloudTrail-shaped notification without a bucket, or whose keys are not a list of keys
    # When it is read
    # Then a NotificationError fails the message (and the function dead-letters it with the reason)
    with pytest.raises(NotificationError):
        objects_in_notification(document)
