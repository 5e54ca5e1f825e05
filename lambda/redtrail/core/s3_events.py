"""Trail objects named by queue messages: S3 notifications (plain, via SNS or EventBridge) and CloudTrail's. Pure."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from redtrail.core.errors import NotificationError


@dataclass(frozen=True, slots=True)
class TrailObject:
    """One object in a bucket (or, for local files, ``bucket`` is empty and ``key`` is the path)."""

    bucket: str
    key: str
    size: int | None = field(default=None, compare=False)
    modified: datetime | None = field(default=None, compare=False)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.bucket else self.key


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object's bytes as read, when it was stored (S3's LastModified) and its user metadata."""

    body: bytes
    modified: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


def objects_in_message(body: str) -> list[TrailObject]:
    """The created objects a queue message body names; empty for ``s3:TestEvent``."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise NotificationError(f"message body is not JSON: {error}") from error
    return objects_in_notification(document)


def objects_in_notification(document: Any) -> list[TrailObject]:
    """The created objects in a notification document: S3's (plain, SNS-wrapped or EventBridge) or CloudTrail's."""
    if not isinstance(document, Mapping):
        raise NotificationError("notification is not a JSON object")
    if document.get("Event") == "s3:TestEvent":
        return []
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        return objects_in_message(document["Message"])
    if document.get("detail-type") == "Object Created":
        return [_eventbridge_object(document.get("detail"))]
    if "s3ObjectKey" in document:
        return _cloudtrail_objects(document)
    records = document.get("Records")
    if not isinstance(records, list):
        raise NotificationError("notification has no Records list")
    return [_s3_object(record) for record in records if _is_object_created(record)]


def _is_object_created(record: Any) -> bool:
    return (
        isinstance(record, Mapping)
        and record.get("eventSource") == "aws:s3"
        and str(record.get("eventName", "")).startswith("ObjectCreated:")
    )


def _s3_object(record: Mapping[str, Any]) -> TrailObject:
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
    except (KeyError, TypeError) as error:
        raise NotificationError("S3 record without s3.bucket.name and s3.object.key") from error
    # S3 notifications URL-encode keys (spaces arrive as '+').
    return TrailObject(str(bucket), unquote_plus(str(key)))


def _eventbridge_object(detail: Any) -> TrailObject:
    try:
        return TrailObject(str(detail["bucket"]["name"]), str(detail["object"]["key"]))
    except (KeyError, TypeError) as error:
        raise NotificationError("EventBridge event without bucket.name and object.key") from error


def _cloudtrail_objects(document: Mapping[str, Any]) -> list[TrailObject]:
    """CloudTrail's notification of delivered log files: ``{"s3Bucket": ..., "s3ObjectKey": [...]}``.

    The keys are plain (not URL-encoded, unlike S3's notifications).
    """
    bucket = document.get("s3Bucket")
    keys = document.get("s3ObjectKey")
    if not isinstance(bucket, str) or not bucket or not isinstance(keys, list):
        raise NotificationError("CloudTrail notification without s3Bucket and an s3ObjectKey list")
    if not all(isinstance(key, str) and key for key in keys):
        raise NotificationError("CloudTrail notification with an s3ObjectKey that is not a key")
    return [TrailObject(bucket, key) for key in keys]


def notification_body(trail_object: TrailObject, *, region: str, event_time: datetime) -> str:
    """An S3 ``ObjectCreated:Put`` notification for one object, shaped and URL-encoded as S3 sends it."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "redtrail-backfill",
            "bucket": {"name": trail_object.bucket, "arn": f"arn:aws:s3:::{trail_object.bucket}"},
            "object": {"key": quote_plus(trail_object.key, safe="/"), "size": trail_object.size or 0},
        },
    }
    return json.dumps({"Records": [record]})
