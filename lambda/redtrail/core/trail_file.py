"""Reading a CloudTrail log file: which keys are logs, and the records inside one. Pure."""

import gzip
import io
import json
import struct
import zlib
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from isal import igzip_lib, isal_zlib

from redtrail.contracts.settings import DEFAULT_MAX_INFLATED_MB, Env
from redtrail.core.errors import TrailFileError

GZIP_MAGIC = b"\x1f\x8b"
INFLATE_INPUT_BYTES = 16_384  # compressed bytes fed per step of inflated_chunks
# JSON per chunk at most: buffers this small are reused from the heap, larger ones are fresh pages (page
# faults, about half the cost of the inflating itself).
INFLATED_CHUNK_BYTES = 65_536
# The inflated size a file may reach unless the caller says otherwise (``PipelineOptions.max_inflated_bytes``).
DEFAULT_INFLATE_LIMIT = DEFAULT_MAX_INFLATED_MB << 20
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16


class NotSingleMemberError(Exception):
    """The body is not exactly one intact gzip member: ``decompress`` (the stdlib) decides what it is."""


class SkipReason(StrEnum):
    """Why an object is acknowledged without being read as a trail log."""

    DIGEST = "digest"
    NOT_A_LOG_NAME = "not-a-log-name"
    NO_RECORDS = "no-records"
    OUTSIDE_AWSLOGS = "outside-awslogs"
    NOT_TRAIL_LAYOUT = "not-trail-layout"  # under AWSLogs/, but not a name CloudTrail writes (function only)


def outside_trail_logs(key: str) -> bool:
    """Whether ``key`` is outside every ``AWSLogs/`` folder, where CloudTrail never writes (Lambda only:
    ``redtrail ingest`` takes any path)."""
    return not (key.startswith("AWSLogs/") or "/AWSLogs/" in key)


def skip_reason(key: str) -> SkipReason | None:
    """Why the object at ``key`` is not a trail log by its name alone, or None if it may be one."""
    if "CloudTrail-Digest/" in key:
        return SkipReason.DIGEST
    if not (key.endswith(".json.gz") or key.endswith(".json")):
        return SkipReason.NOT_A_LOG_NAME
    return None


def decompress(body: bytes, limit: int = DEFAULT_INFLATE_LIMIT) -> bytes:
    """The file's JSON text: gunzipped when it starts with the gzip magic bytes, else as is.

    A single gzip member (what CloudTrail writes) is inflated by ISA-L and checked against its CRC and
    length; anything else (several members, padding, damage, a trailer that understates the length) is read
    as ``gzip.decompress`` reads it, so the result and every error are the stdlib's. Text beyond ``limit`` bytes
    is refused (TrailFileError "inflates beyond"), having cost no more memory than a chunk: a text is held only
    once it is known to fit.
    """
    if not body.startswith(GZIP_MAGIC):
        return body
    if stated_length(body) <= limit:
        text = _inflate_single_member(body)
        if text is not None:
            return text
    return _inflate_members(body, limit)


def too_large(limit: int) -> TrailFileError:
    """The error of a file whose text would pass ``limit`` bytes."""
    size = f"{limit >> 20} MB" if limit >= 1 << 20 and not limit % (1 << 20) else f"{limit} bytes"
    return TrailFileError(f"inflates beyond {size} ({Env.MAX_INFLATED_MB.value})")


def _inflate_members(body: bytes, limit: int) -> bytes:
    """``gzip.decompress(body)`` (the stdlib's reader, checks and errors), refusing a text beyond ``limit`` bytes:
    counted first, in chunks that are let go, then kept. Twice the work, for files that are not one intact member
    (CloudTrail writes none), so that a refused file never held more than a chunk."""
    try:
        size = sum(len(chunk) for chunk in _member_chunks(body, limit))
        text = io.BytesIO()  # grows in place (no copy of the whole, unlike joining chunks)
        for chunk in _member_chunks(body, size):
            text.write(chunk)
    except (OSError, EOFError, zlib.error) as error:
        # Said in gzip.decompress's words (its reader's differ: "CRC check failed 0x... != 0x..."): it stops where
        # the reader did, having inflated no more than the limit.
        reason: Exception = error
        try:
            gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as stdlib_error:
            reason = stdlib_error
        raise TrailFileError(f"corrupt gzip: {reason}") from error
    return text.getvalue()


def _member_chunks(body: bytes, limit: int) -> Iterator[bytes]:
    """The text of every gzip member of ``body`` (the stdlib's reader), in chunks; TrailFileError past ``limit``."""
    size = 0
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as members:
        while chunk := members.read(INFLATED_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            yield chunk


def _inflate_single_member(body: bytes) -> bytes | None:
    """The member's data when ``body`` is exactly one intact gzip member, else None (let the stdlib decide)."""
    start = _header_length(body)
    if start is None:
        return None
    # Sized by the trailer's length (a lone member's), the text is inflated into one buffer of the right size; a
    # growing buffer costs fresh pages, on every file: about 740 page faults and 1.5 ms per 3 MB.
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
    try:
        text = inflater.decompress(memoryview(body)[start:], stated_length(body) + 1)
    except Exception:  # isal's error on damage: the stdlib names it
        return None
    if not inflater.eof or not _is_trailer(inflater.unused_data, isal_zlib.crc32(text), len(text) & 0xFFFFFFFF):
        return None
    return text


def stated_length(body: bytes) -> int:
    """The inflated length a gzip body's trailer states: its last member's, modulo 2**32 (damage aside)."""
    return int.from_bytes(body[-4:], "little")


def inflated_chunks(body: bytes, limit: int = DEFAULT_INFLATE_LIMIT) -> Iterator[bytes]:
    """The JSON text of a one-member gzip body, at most 64 kB at a time (small chunks stay in the CPU's cache).

    The member is checked when the last chunk has been taken: NotSingleMemberError then (or earlier: as soon as
    the text passes the length its trailer states) means the chunks so far are not to be trusted and
    ``decompress`` must read the body. TrailFileError as soon as the text passes ``limit`` bytes.
    """
    start = _header_length(body)
    if start is None:
        raise NotSingleMemberError
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
    view, crc, size, at, stated = memoryview(body), 0, 0, start, stated_length(body)
    while not inflater.eof:
        data: bytes | memoryview = b""
        if inflater.needs_input:
            data, at = view[at : at + INFLATE_INPUT_BYTES], at + INFLATE_INPUT_BYTES
            if not data:  # all input fed and the stream not ended: cut short
                break
        try:
            chunk = inflater.decompress(data, INFLATED_CHUNK_BYTES)
        except Exception as error:  # isal's error on damage: the stdlib names it
            raise NotSingleMemberError from error
        if chunk:
            crc, size = isal_zlib.crc32(chunk, crc), size + len(chunk)
            if size > limit:
                raise too_large(limit)
            if size > stated:  # not the member its trailer describes (or over 4 GiB): decompress decides
                raise NotSingleMemberError
            yield chunk
    trailer = inflater.unused_data + view[at:]
    if not inflater.eof or not _is_trailer(trailer, crc, size & 0xFFFFFFFF):
        raise NotSingleMemberError


def _is_trailer(trailer: bytes, crc: int, size: int) -> bool:
    """Whether ``trailer`` is the member's CRC and length, then nothing but zero padding (as the stdlib allows)."""
    return len(trailer) >= 8 and not trailer[8:].strip(b"\x00") and struct.unpack("<II", trailer[:8]) == (crc, size)


def _header_length(body: bytes) -> int | None:
    """Where the deflate stream starts (RFC 1952 header), or None when the header is unusual or cut short."""
    if len(body) < 10 or body[2] != 8:
        return None
    flags, at = body[3], 10
    if flags & _FEXTRA:
        if len(body) < at + 2:
            return None
        at += 2 + int.from_bytes(body[at : at + 2], "little")
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            end = body.find(b"\x00", at)
            if end < 0:
                return None
            at = end + 1
    if flags & _FHCRC:
        at += 2
    return at if at <= len(body) else None


def records_of(body: bytes, limit: int = DEFAULT_INFLATE_LIMIT) -> list[Any] | None:
    """The ``Records`` of a trail file (gzip or plain JSON), or None when it has none (a digest).

    A bare JSON array is taken as the record list (exports of trail events use that shape).
    """
    return records_in(decompress(body, limit))


def records_in(text: bytes) -> list[Any] | None:
    """The ``Records`` in a trail file's JSON text (the reference parser: the stdlib ``json``)."""
    if not text.strip():
        raise TrailFileError("empty file")
    document = load_json(text)
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


def load_json(text: bytes) -> Any:
    """JSON text as Python values (the stdlib ``json``); TrailFileError when it is not JSON it can read."""
    try:
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise TrailFileError(f"invalid JSON: {error}") from error
    except RecursionError as error:
        raise TrailFileError("invalid JSON: nested too deeply to read") from error
