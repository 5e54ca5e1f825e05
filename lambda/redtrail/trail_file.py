"""Reading a CloudTrail log file: which keys are logs, and the records inside one. Pure."""

import gzip
import json
import zlib
from enum import StrEnum
from typing import Any

from redtrail.errors import TrailFileError

GZIP_MAGIC = b"\x1f\x8b"


class SkipReason(StrEnum):
    """Why an object is acknowledged without being read as a trail log."""

    DIGEST = "digest"
    NOT_A_LOG_NAME = "not-a-log-name"
    NO_RECORDS = "no-records"


def skip_reason(key: str) -> SkipReason | None:
    """Why the object at ``key`` is not a trail log by its name alone, or None if it may be one."""
    if "CloudTrail-Digest/" in key:
        return SkipReason.DIGEST
    if not (key.endswith(".json.gz") or key.endswith(".json")):
        return SkipReason.NOT_A_LOG_NAME
    return None


def decompress(body: bytes) -> bytes:
    """The file's JSON text: gunzipped when it starts with the gzip magic bytes, else as is."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as error:
        raise TrailFileError(f"corrupt gzip: {error}") from error


def records_of(body: bytes) -> list[Any] | None:
    """The ``Records`` of a trail file (gzip or plain JSON), or None when it has none (a digest).

    A bare JSON array is taken as the record list (exports of trail events use that shape).
    """
    text = decompress(body)
    if not text.strip():
        raise TrailFileError("empty file")
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise TrailFileError(f"invalid JSON: {error}") from error
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise TrailFileError(f"top-level JSON is {type(document).__name__}, not an object")
    if "Records" not in document:
        return None
    records = document["Records"]
    if not isinstance(records, list):
        raise TrailFileError(f"Records is {type(records).__name__}, not a list")
    return records
