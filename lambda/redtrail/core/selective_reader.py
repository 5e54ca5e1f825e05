"""The selective reader: decode only what classification reads. Pure.

``select_text`` counts a file's records and picks, in file order, those that ``classify`` may keep (and any it
cannot read cheaply) as their original bytes; nothing else becomes a Python object. It answers exactly as
the reference path (``trail_file.records_in``, then ``pipeline.analyze``) would, or not at all (None):

* msgspec rejects all that the stdlib ``json`` rejects except invalid UTF-8 and integers longer than
  ``sys.get_int_max_str_digits()``, which it skips unchecked; both are checked here first.
* Where msgspec is stricter (NaN, lone ``\\ud800`` escapes, a BOM), or a field has an unexpected type, the
  record is picked and read in full, or the file is left to the next reader.

A compact text (``{"Records":[...]}`` or a bare array, each record starting with ``eventVersion``, as
CloudTrail writes them) is read in pieces of about 16 records, cut where one record ends and the next begins
(``},{"eventVersion":``): each piece is read once for the fields, and again for its records' bytes only when
it holds a candidate. A cut inside a record (a nested object that starts with ``eventVersion``) leaves two
pieces that are not JSON, which the reader sees; the text is then cut at every such place instead, and each
part is read once, together with the next when it is not one whole value (sound without trusting the pattern:
when every part is one whole JSON value, the text is exactly the array of those values). Other layouts are
read twice, as raw records, then each one for its fields.

``select`` reads a large compact gzip file in the same pieces as it is inflated, so that its text never has to
be held whole and stays in the CPU's caches.
"""

import codecs
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
from msgspec import Raw, Struct

from redtrail.core.classify import ENCRYPTION_CONTEXT_PREFIX, REDSHIFT_SOURCES
from redtrail.core.service_accounts import SERVICE_ACCOUNT_REGIONS
from redtrail.core.trail_file import (
    DEFAULT_INFLATE_LIMIT,
    GZIP_MAGIC,
    NotSingleMemberError,
    inflated_chunks,
    load_json,
    stated_length,
)

WHOLE_TEXT_BYTES = 8 << 20  # a gzip file inflating to more is read in pieces (``select``): faster from about 8 MB
PIECE_BYTES = 24_000
MAX_RECORD_BYTES = 4 << 20  # a longer stretch without a cut: not a compact file, read it whole
MAX_NESTED_CUTS = 8  # cuts inside one record before the text is read the other way (each costs a re-read)
_WRAPPED, _BARE = (b'{"Records":[', b"]}"), (b"[", b"]")
_BETWEEN_RECORDS = b'},{"eventVersion":'  # CloudTrail's compact layout: each record starts with eventVersion
_JSON_SPACE = b" \t\n\r"
_UTF8_BLOCK = 1 << 16
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_FAILED = (msgspec.DecodeError, ValueError, RecursionError)  # ValueError: msgspec's UnicodeDecodeError
_SERVICE_ACCOUNTS = frozenset(SERVICE_ACCOUNT_REGIONS)  # a set: faster to test than the read-only mapping


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


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


def select(body: bytes, hasher: Hasher | None = None, *, limit: int = DEFAULT_INFLATE_LIMIT) -> Selection | None:
    """The picks of a large compact gzip trail file, read as it is inflated; None for any other file.

    Large: inflating to more than ``WHOLE_TEXT_BYTES`` by its gzip trailer. Smaller files are faster read whole
    (``select_text``), as their text still fits in the CPU's caches. ``hasher`` is fed the text as it inflates
    (on None it holds a part of it only).

    A file whose trailer states more than ``limit`` bytes is left to ``decompress``, which refuses it without
    holding its text (here its picks would pile up first); one that inflates past the length its trailer states
    is left to it as soon as it does, and TrailFileError is raised when the text passes ``limit``.
    """
    if not body.startswith(GZIP_MAGIC) or not WHOLE_TEXT_BYTES < stated_length(body) <= limit:
        return None
    chunks = inflated_chunks(body, limit)
    try:
        return _read_pieces(_pieces(chunks if hasher is None else _fed(chunks, hasher)))
    except NotSingleMemberError:
        return None


def _fed(chunks: Iterable[bytes], hasher: Hasher) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def _select_pieces(text: bytes) -> Selection | None:
    """The picks of a compact text already checked by ``select_text``, read in pieces as ``select`` reads large
    files: fewer, larger reads than one per record, and only pieces with a candidate are read again."""
    return _read_pieces(_pieces((text,), checked=True))


def _read_pieces(pieces: Iterable[bytes]) -> Selection | None:
    selection = Selection(0, [])
    try:
        for piece in pieces:
            if not _add_piece(selection, piece):
                return None
    except _NotCompactError:
        return None
    return selection


def select_text(text: bytes) -> Selection | None:
    """The picks of a file's whole JSON text, in any layout; None when only the reference parser can tell."""
    if _long_digit_run(text) or not _valid_utf8(text):
        return None
    for route in (_select_pieces, _select_cut):
        selection = route(text)
        if selection is not None:
            return selection
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


def _matches(records: Sequence[_Record]) -> list[int]:
    """The indexes of the records ``classify`` may keep, judged on the typed fields (tests hold the two to the
    same answers); one comprehension, because it runs once per record of every file."""
    sources, accounts = REDSHIFT_SOURCES, _SERVICE_ACCOUNTS
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
            and (context := parameters.encryptionContext) is not None
            and _context_may_match(context)
        )
    ]


def _may_match(record: _Record) -> bool:
    """``_matches`` for one record."""
    return bool(_matches((record,)))


def _context_may_match(context: dict[str, Raw]) -> bool:
    # A loop, not any(...): twice as fast, and one record in ten has a context.
    for key in context:  # noqa: SIM110
        if key.startswith(ENCRYPTION_CONTEXT_PREFIX):
            return True
    return False


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
        if _may_match(record):
            picked.append(bytes(raw))
    return picked


def _select_cut(text: bytes) -> Selection | None:
    """The picks of a compact text, each record read once; None when it is laid out otherwise or a record does
    not read as one object with the expected field types."""
    end = _json_end(text)
    for opening, closing in (_WRAPPED, _BARE):
        if text.startswith(opening) and text.endswith(closing, 0, end):
            break
    else:
        return None
    start, stop = len(opening), end - len(closing)
    if stop <= start:  # no records ("[]")
        return Selection(0, []) if stop == start else None
    view, decode, find = memoryview(text), _typed_record.decode, text.find
    count, picked = 0, []
    while True:
        cut = find(_BETWEEN_RECORDS, start, stop)
        record_end = stop if cut < 0 else cut + 1
        for _ in range(MAX_NESTED_CUTS + 1):
            try:
                record = decode(view[start:record_end])
                break
            except _FAILED:
                if cut < 0:
                    return None
                # A cut inside the record (a nested object starting with eventVersion): take the next one too.
                cut = find(_BETWEEN_RECORDS, cut + 2, stop)
                record_end = stop if cut < 0 else cut + 1
        else:
            return None
        count += 1
        if _may_match(record):
            picked.append(text[start:record_end])
        if cut < 0:
            return Selection(count, picked)
        start = cut + 2


def _pieces(chunks: Iterable[bytes], *, checked: bool = False) -> Iterator[bytes]:
    """The record list in ``chunks`` of JSON text, as arrays of whole records: ``[{...},...,{...}]``.

    Cuts fall between two records; a cut anywhere else leaves both pieces invalid JSON, which the caller
    sees. Text the stdlib would refuse but msgspec not (see the module's docstring) raises _NotCompactError,
    unless ``checked`` says the caller has looked already.
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
        ascii = checked or _check(window)  # digit runs and characters never span a cut: the carry is checked again
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
        ascii = checked or _check(carry)
    end = _json_end(carry)
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


def _json_end(text: bytes) -> int:
    """Where ``text`` ends but for trailing JSON whitespace (counted back, so the text is not copied)."""
    end = len(text)
    while end and text[end - 1] in _JSON_SPACE:
        end -= 1
    return end


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
