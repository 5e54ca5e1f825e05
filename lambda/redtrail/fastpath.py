"""The fast way through a trail file: decode only what classification reads. Pure.

``select`` counts a file's records and picks, in file order, those that ``classify`` may keep (and any it
cannot read cheaply) as their original bytes; nothing else becomes a Python object. It answers exactly as
the reference path (``trail_file.records_in``, then ``pipeline.analyze``) would, or not at all (None):

* msgspec rejects all that the stdlib ``json`` rejects except invalid UTF-8 and integers longer than
  ``sys.get_int_max_str_digits()``, which it skips unchecked; both are checked here first.
* Where msgspec is stricter (NaN, lone ``\\ud800`` escapes, a BOM), or a field has an unexpected type, the
  record is picked and read in full, or the file is left to the next reader.

Compact files (``{"Records":[...]}`` or a bare array, as CloudTrail writes them) are read as they are
inflated, in pieces of about 16 records cut between two records: each piece is read once for the fields,
and again for its records' bytes only when it holds a candidate. Other layouts go through ``select_text``.
"""

import codecs
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import Raw, Struct

from redtrail.classify import ENCRYPTION_CONTEXT_PREFIX, REDSHIFT_SOURCES
from redtrail.service_accounts import SERVICE_ACCOUNT_REGIONS
from redtrail.trail_file import GZIP_MAGIC, NotSingleMemberError, inflated_chunks, load_json

PIECE_BYTES = 24_000
MAX_RECORD_BYTES = 4 << 20  # a longer stretch without a cut: not a compact file, read it whole
_WRAPPED, _BARE = (b'{"Records":[', b"]}"), (b"[", b"]")
_BETWEEN_RECORDS = b'},{"eventVersion":'  # CloudTrail's compact layout: each record starts with eventVersion
_JSON_SPACE = b" \t\n\r"
_UTF8_BLOCK = 1 << 16
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_FAILED = (msgspec.DecodeError, ValueError, RecursionError)  # ValueError: msgspec's UnicodeDecodeError


class _Identity(Struct, gc=False):
    accountId: str | None = None
    invokedBy: str | None = None


class _Parameters(Struct, gc=False):
    encryptionContext: dict[str, Raw] | None = None


class _Record(Struct, gc=False):
    """The fields ``classify`` reads, with the types it can match on; any other type fails the decode."""

    eventSource: str | None = None
    userIdentity: _Identity | None = None
    requestParameters: _Parameters | None = None


class _RawFile(Struct, gc=False):
    Records: list[Raw]


_typed_records = msgspec.json.Decoder(list[_Record])
_raw_records = msgspec.json.Decoder(list[Raw])
_typed_record = msgspec.json.Decoder(_Record)
_raw_file = msgspec.json.Decoder(_RawFile | list[Raw])


def _refuse_float(text: str) -> float:
    raise ValueError("a float")  # msgspec writes floats unlike json.dumps: such records are the stdlib's


_floatless_value = msgspec.json.Decoder(float_hook=_refuse_float)


class _NotCompactError(Exception):
    """The text is not a run of records cut where expected: read it whole."""


@dataclass(slots=True)
class Selection:
    """A file's record count and, in file order, the bytes of every record worth reading in full."""

    count: int
    picked: list[bytes]


def select(body: bytes) -> Selection | None:
    """The picks of a compact trail file (gzip or not), read as it is inflated; None for any other file."""
    chunks = inflated_chunks(body) if body.startswith(GZIP_MAGIC) else (body,)
    selection = Selection(0, [])
    try:
        for piece in _pieces(chunks):
            if not _add_piece(selection, piece):
                return None
    except (NotSingleMemberError, _NotCompactError):
        return None
    return selection


def select_text(text: bytes) -> Selection | None:
    """The picks of a file's whole JSON text, in any layout; None when only the reference parser can tell."""
    if _long_digit_run(text) or not _valid_utf8(text):
        return None
    try:
        document = _raw_file.decode(text)
    except _FAILED:
        return None
    raws = document.Records if isinstance(document, _RawFile) else document
    return Selection(len(raws), _pick(raws))


def load_picked(raw: bytes) -> tuple[Any, bool]:
    """A picked record's value exactly as ``trail_file.load_json`` reads it, and whether it may hold floats.

    msgspec reads a record without floats (most) twice as fast as the stdlib; on text that ``select`` passed
    it refuses all the stdlib refuses. Records with floats, and whatever msgspec refuses, are the stdlib's.
    """
    try:
        return _floatless_value.decode(raw), False
    except _FAILED:
        return load_json(raw), True


def _matches(records: list[_Record]) -> list[int]:
    """The indexes of the records ``classify`` may keep, judged on the typed fields (tests hold the two to the
    same answers); one comprehension, because it runs once per record of every file."""
    sources, accounts = REDSHIFT_SOURCES, SERVICE_ACCOUNT_REGIONS
    return [
        index
        for index, record in enumerate(records)
        if record.eventSource in sources
        or (
            (identity := record.userIdentity) is not None
            and (identity.accountId in accounts or identity.invokedBy in sources)
        )
        or (
            (parameters := record.requestParameters) is not None
            and (context := parameters.encryptionContext)
            and _context_may_match(context)
        )
    ]


def _context_may_match(context: dict[str, Raw]) -> bool:
    return any(key.startswith(ENCRYPTION_CONTEXT_PREFIX) for key in context)


def _add_piece(selection: Selection, piece: bytes) -> bool:
    """Count and pick the records of one piece; False when it is not a JSON array after all."""
    try:
        records = _typed_records.decode(piece)
    except _FAILED:
        records = None
    matches = [] if records is None else _matches(records)
    if records is not None and not matches:
        selection.count += len(records)
        return True
    try:
        raws = _raw_records.decode(piece)
    except _FAILED:
        return False
    selection.count += len(raws)
    selection.picked += _pick(raws) if records is None else [bytes(raws[index]) for index in matches]
    return True


def _pick(raws: Sequence[Raw]) -> list[bytes]:
    """Each record that may match, or that is not an object with the expected field types."""
    picked = []
    for raw in raws:
        try:
            record = _typed_record.decode(raw)
        except _FAILED:
            picked.append(bytes(raw))
            continue
        if _matches([record]):
            picked.append(bytes(raw))
    return picked


def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The record list in ``chunks`` of JSON text, as arrays of whole records: ``[{...},...,{...}]``.

    Cuts fall between two records; a cut anywhere else leaves both pieces invalid JSON, which the caller
    sees. Text the stdlib would refuse but msgspec not (see the module's docstring) raises _NotCompactError.
    """
    carry, framing, ascii = b"", None, True
    for chunk in chunks:
        window, start = carry + chunk if carry else chunk, 0
        if framing is None:
            if len(window) < len(_WRAPPED[0]):
                carry = window
                continue
            framing = _framing(window)
            start = len(framing[0])
        ascii = _check(window)  # digit runs and characters never span a cut: the carry is checked again
        view = memoryview(window)
        cut = window.find(_BETWEEN_RECORDS, start + PIECE_BYTES)
        while cut >= 0:
            yield _piece(view[start : cut + 1], ascii)
            start = cut + 2
            cut = window.find(_BETWEEN_RECORDS, start + PIECE_BYTES)
        carry = window[start:]
        if len(carry) > MAX_RECORD_BYTES:
            raise _NotCompactError
    if framing is None:
        framing = _framing(carry)
        carry = carry[len(framing[0]) :]
        ascii = _check(carry)
    end = len(carry)
    while end and carry[end - 1] in _JSON_SPACE:
        end -= 1
    closing = framing[1]
    if not carry.endswith(closing, 0, end):
        raise _NotCompactError
    yield _piece(memoryview(carry)[: end - len(closing)], ascii)


def _check(text: bytes) -> bool:
    """Whether ``text`` is ASCII; raises _NotCompactError when it may hold an integer ``int()`` refuses."""
    if _long_digit_run(text):
        raise _NotCompactError
    return text.isascii()


def _piece(records: memoryview, ascii: bool) -> bytes:
    if not (ascii or _valid_utf8(bytes(records))):
        raise _NotCompactError
    return b"".join((b"[", records, b"]"))


def _framing(text: bytes) -> tuple[bytes, bytes]:
    for framing in (_WRAPPED, _BARE):
        if text.startswith(framing[0]):
            return framing
    raise _NotCompactError


def _valid_utf8(text: bytes) -> bool:
    """Whether ``json.loads`` can decode ``text`` (UTF-8, encoded surrogates allowed), checked in blocks."""
    if text.isascii():
        return True
    view, size, at = memoryview(text), len(text), 0
    while at < size:
        stop = at
        while stop < size and not text[stop : stop + _UTF8_BLOCK].isascii():
            stop += _UTF8_BLOCK
        if stop > at:  # blocks with non-ASCII bytes, between ASCII ones: whole characters
            try:
                codecs.utf_8_decode(view[at:stop], "surrogatepass", True)
            except UnicodeDecodeError:
                return False
        at = stop + _UTF8_BLOCK
    return True


def _long_digit_run(text: bytes) -> bool:
    """Whether ``text`` may hold an integer too long for ``int()`` (which ``json.loads`` refuses).

    Any run of ``limit + 1`` digits covers two neighbouring samples taken ``limit // 2`` bytes apart.
    """
    limit = sys.get_int_max_str_digits()
    if not limit:
        return False
    step = max(limit // 2, 1)
    samples = text[::step].translate(_DIGITS)
    at = samples.find(b"00")
    while at >= 0:
        if text[at * step : (at + 1) * step + 1].isdigit():
            return True
        at = samples.find(b"00", at + 1)
    return False
