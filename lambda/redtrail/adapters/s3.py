"""S3: reading and listing trail objects."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.errors import AccessDeniedError, ObjectNotFoundError, StorageError
from redtrail.core.s3_events import StoredObject, TrailObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}
_DENIED = {"AccessDenied", "403", "AllAccessDisabled", "InvalidObjectState"}


class TrailStore:
    """Reads trail objects from S3."""

    def __init__(self, client: "S3Client | None" = None) -> None:
        self._s3 = client or boto3.client("s3")

    def read(self, trail_object: TrailObject) -> StoredObject:
        """The object's bytes, LastModified and user metadata; raises ObjectNotFoundError, AccessDeniedError or
        StorageError."""
        try:
            response = self._s3.get_object(Bucket=trail_object.bucket, Key=trail_object.key)
            return StoredObject(
                bytes(response["Body"].read()), response.get("LastModified"), dict(response.get("Metadata", {}))
            )
        except ClientError as error:
            raise _storage_error(error, trail_object.uri) from error
        except BotoCoreError as error:
            raise StorageError(f"{trail_object.uri}: {error}") from error

    def list(self, bucket: str, prefix: str = "") -> Iterator[TrailObject]:
        """Every object under ``prefix``, in key order."""
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield TrailObject(bucket, entry["Key"], entry.get("Size"), entry.get("LastModified"))
        except ClientError as error:
            raise _storage_error(error, f"s3://{bucket}/{prefix}") from error
        except BotoCoreError as error:
            raise StorageError(f"s3://{bucket}/{prefix}: {error}") from error


def _storage_error(error: ClientError, where: str) -> Exception:
    code = error_code(error)
    if code in _NOT_FOUND:
        return ObjectNotFoundError(f"{where}: {code}")
    if code in _DENIED:
        return AccessDeniedError(f"{where}: {code}")
    return StorageError(f"{where}: {code or error}")
