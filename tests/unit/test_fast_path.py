"""The fast path (analyze_body: isal + msgspec) against the reference (records_of + analyze) on every kind of file.

Equal means: the same items (every attribute, the same ``event`` text), the same FileOutcome counts, the same
skip, or the same exception with the same message.
"""

import copy
import gzip
import hashlib
import json
import random
import zlib
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.generate import Generator
from redtrail.contracts.settings import PipelineOptions
from redtrail.core import pipeline, selective_reader
from redtrail.core.errors import TrailFileError
from redtrail.core.items import event_json
from redtrail.core.pipeline import StoredItems, analyze, analyze_body, process_object
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.selective_reader import PIECE_BYTES, load_picked, select, select_text
from redtrail.core.service_accounts import SERVICE_ACCOUNT_REGIONS
from redtrail.core.trail_file import decompress, records_of
from tests.support import EVENTS, REAL_TRAILS, event

SOURCE = "s3://bucket/AWSLogs/1/CloudTrail/us-east-1/2024/05/01/file.json.gz"
SENSITIVE = ("CreateNamespace", "ExecuteStatement", "Decrypt")
OPTIONS = PipelineOptions(retention_days=30, sensitive_event_names=SENSITIVE, redact_fields=())
NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)  # quarantined records carry their ingestion time


def outcome_of(analyze_file, body: bytes) -> Any:
    """What a path makes of ``body``: (items, outcome), None for no Records, or the exception it raised."""
    try:
        analysis = analyze_file(body)
    except Exception as error:
        return ("raised", type(error), str(error))
    return None if analysis is None else (analysis.items, analysis.outcome)


def reference(body: bytes) -> Any:
    """The reference path, and the SHA-256 of the inflated text by hashlib: the fast path's hash (taken as it
    inflates, on every route) must be the same."""

    def run(body):
        records = records_of(body)
        if records is None:
            return None
        analysis = analyze(records, source=SOURCE, options=OPTIONS, now=NOW)
        analysis.outcome.sha256 = hashlib.sha256(decompress(body)).hexdigest()
        return analysis

    return outcome_of(run, body)


def fast(body: bytes) -> Any:
    """What analyze_body makes of ``body``, checked to be the same on both of its routes for gzip files: the
    text read whole (below WHOLE_TEXT_BYTES), and read in pieces as it is inflated (large files)."""

    def run(body):
        return analyze_body(body, source=SOURCE, options=OPTIONS, now=NOW)

    whole = outcome_of(run, body)
    with mock.patch.object(selective_reader, "WHOLE_TEXT_BYTES", -1):
        assert outcome_of(run, body) == whole, "the two routes disagree"
    return whole


def compact(records: Any) -> bytes:
    return json.dumps({"Records": records}, separators=(",", ":")).encode()


def mismatches(bodies: dict[str, bytes]) -> list[str]:
    return [name for name, body in bodies.items() if fast(body) != reference(body)]


def test_every_real_trail_file_in_every_form_gives_the_same_items_and_counts():
    # Given every real third-party file, as stored, gzipped, and rewritten compact as CloudTrail delivers it
    bodies = {}
    for path in sorted(REAL_TRAILS.rglob("*.json*")):
        raw = path.read_bytes()
        text = decompress(raw)
        document = json.loads(text)
        bodies[f"{path.name} as stored"] = raw
        bodies[f"{path.name} gzipped"] = gzip.compress(text)
        bodies[f"{path.name} compact"] = gzip.compress(json.dumps(document, separators=(",", ":")).encode())
    # When both paths read each of them
    # Then they agree on every one (and the set is not trivially small)
    assert len(bodies) > 600
    assert mismatches(bodies) == []


def test_every_sample_event_alone_among_others_and_as_a_bare_array():
    # Given each sample Redshift event, alone, between other records, duplicated, and as a bare array
    samples = [event(path.stem) for path in sorted(EVENTS.glob("*.json")) if "Records" not in event(path.stem)]
    others = list(Generator(7).records(40))
    bodies = {}
    for index, record in enumerate(samples):
        bodies[f"{index} alone"] = compact([record])
        bodies[f"{index} among others"] = gzip.compress(compact([*others[:20], record, *others[20:], record]))
        bodies[f"{index} bare array"] = json.dumps([record, *others]).encode()
    # When both paths read each file
    # Then they agree, and the files did keep events
    assert fast(bodies["0 alone"])[1].kept == 1
    assert mismatches(bodies) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_files_of_every_size_agree(seed):
    # Given generated trail files, from a few records to more than one inflate chunk and many pieces
    generator = Generator(seed)
    bodies = {f"{count} records": generator.trail_file(count) for count in (1, 30, 700, 2500)}
    # When both paths read them
    # Then they agree on each, and the large ones were cut into pieces
    assert len(decompress(bodies["2500 records"])) > 10 * PIECE_BYTES
    assert mismatches(bodies) == []


ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**70,
    10**30,
    1.5,
    1e300,
    True,
    "",
    "redshift.amazonaws.com",
    "Redshift.amazonaws.com",
    "redshift.amazonaws.com ",
    "sqlworkbench.amazonaws.com",
    "368064434614",
    "041313461515",
    "aws:redshift:arn",
    "é🙂 ünïcödé",
    "\ud800",
    "\udfff lone",
    [],
    ["redshift.amazonaws.com"],
    {},
    {"accountId": "368064434614"},
    {"aws:redshift:arn": "arn:aws:redshift:us-east-1:1:cluster:c"},
    {"aws:redshift-serverless:arn": 1, "other": None},
    {"aws:s3:arn": "redshift"},
]
PATHS = [
    ("eventSource",),
    ("eventID",),
    ("eventName",),
    ("eventTime",),
    ("readOnly",),
    ("userIdentity",),
    ("userIdentity", "accountId"),
    ("userIdentity", "invokedBy"),
    ("userIdentity", "arn"),
    ("userIdentity", "sessionContext"),
    ("requestParameters",),
    ("requestParameters", "encryptionContext"),
    ("requestParameters", "clusterIdentifier"),
    ("responseElements",),
]


def oddify(record: Any, rng: random.Random) -> Any:
    """The record with one to three fields that classification or items read set to an odd value."""
    for _ in range(rng.randrange(1, 4)):
        path, value = rng.choice(PATHS), copy.deepcopy(rng.choice(ODD_VALUES))
        target = record
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    return record


def odd_records(seed: int, count: int) -> list[Any]:
    rng = random.Random(seed)
    generator = Generator(seed)
    records: list[Any] = []
    for record in generator.records(count):
        draw = rng.random()
        if draw < 0.3:
            record = oddify(record, rng)
        elif draw < 0.35:
            record = generator.redshift()
        elif draw < 0.38:
            record = rng.choice([None, 1, "record", [record], 2.5, True])
        elif draw < 0.42 and records:
            record = json.loads(json.dumps(rng.choice(records)))  # a duplicate eventID
        records.append(record)
    return records


@pytest.mark.parametrize("seed", range(8))
def test_odd_types_duplicates_and_non_objects_agree(seed):
    # Given files of generated records where a third carry odd types, duplicates and non-objects, written
    #       with \u escapes (lone surrogates escaped) and as raw UTF-8 (surrogates as bytes)
    records = odd_records(seed, 600)
    escaped = json.dumps({"Records": records}, separators=(",", ":")).encode()
    unicode = json.dumps({"Records": records}, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    bodies = {
        "escaped": escaped,
        "raw utf-8": unicode,
        "gzip": gzip.compress(unicode),
        "pretty": json.dumps(records, indent=1).encode(),
    }
    # When both paths read them
    # Then they agree on each
    assert mismatches(bodies) == []


def test_unhashable_event_sources_are_ignored_the_same_way_on_both_paths():
    # Given a Redshift event, then a record whose eventSource is a list
    body = gzip.compress(compact([event("execute_statement"), {"eventSource": ["x"], "eventID": "e"}]))
    # When both paths read it
    items, outcome = fast(body)
    # Then both agree: the event is kept and the odd record is simply not a Redshift event
    assert (items, outcome) == reference(body)
    assert [item["eventID"]["S"] for item in items] == ["c1fb7076-102f-43e5-9ec9-40820bcc1175"]


def test_duplicate_keys_count_as_the_stdlib_counts_them():
    # Given records whose classification keys appear twice (the stdlib keeps the last value)
    text = compact(
        [
            event("execute_statement"),
            event("kms_decrypt_by_redshift"),
            {"eventID": "x", "eventTime": "2024-01-01T00:00:00Z"},
        ]
    ).decode()
    doubled = (
        text.replace(
            '"eventSource":"redshift-data', '"eventSource":"redshift.amazonaws.com","eventSource":"redshift-data'
        )
        .replace('"eventSource":"kms', '"eventSource":"redshift.amazonaws.com","eventSource":"kms')
        .replace('"accountId":"790247189693"', '"accountId":"790247189693","accountId":"1"', 1)
        .replace(
            '{"eventID":"x",',
            '{"eventID":"x","eventSource":"ec2.amazonaws.com","eventSource":"redshift.amazonaws.com",',
        )
    )
    # When both paths read the file
    # Then they agree, and each rule saw the last value of its key
    items, _ = fast(doubled.encode())
    assert fast(doubled.encode()) == reference(doubled.encode())
    assert [item["matchedBy"]["S"] for item in items] == ["eventSource", "encryptionContext", "eventSource"]


def test_a_false_cut_inside_a_record_is_noticed():
    # Given a compact file, longer than a piece, whose records hold arrays of objects that start with eventVersion
    # (the text the cutter looks for between records), and records that do not start with eventVersion
    others = list(Generator(11).records(60))
    nested = {"eventVersion": "1.09", "eventID": "n1", "eventSource": "redshift.amazonaws.com"}
    for record in others[::7]:
        record["responseElements"] = {"events": [nested, nested, {"eventVersion": "x"}] * 3}
    for record in others[::5]:
        record.pop("eventVersion")
    body = gzip.compress(compact(others))
    # When both paths read it
    # Then they agree
    assert len(decompress(body)) > PIECE_BYTES
    assert fast(body) == reference(body)


BAD_TEXTS = {
    "empty": b"",
    "blank": b" \n\t",
    "object without Records": b'{"awsAccountId":"1"}',
    "Records null": b'{"Records":null}',
    "Records object": b'{"Records":{}}',
    "string": b'"Records"',
    "number": b"42",
    "null": b"null",
    "bare array of scalars": b"[1,2,null]",
    "empty Records": b'{"Records":[]}',
    "empty Records spaced": b'{"Records":[ ] }\n',
    "utf-8 BOM": b'\xef\xbb\xbf{"Records":[{"eventSource":"redshift.amazonaws.com","eventID":"b"}]}',
    "utf-16": json.dumps({"Records": [event("execute_statement")]}).encode("utf-16"),
    "NaN": b'{"Records":[{"eventID":"n","eventSource":"redshift.amazonaws.com","x":NaN}]}',
    "truncated": compact([event("execute_statement")])[:-5],
    "trailing data": compact([event("execute_statement")]) + b"{}",
    "trailing comma": b'{"Records":[{"eventID":"a"},]}',
    "invalid utf-8": b'{"Records":[{"eventID":"a","x":"\xff\xfe"}]}',
    "overlong utf-8": b'{"Records":[{"eventID":"a","x":"\xc0\xaf"}]}',
    "encoded surrogate": b'{"Records":[{"eventID":"a","eventSource":"redshift.amazonaws.com","x":"\xed\xa0\x80"}]}',
    "5000-digit integer": b'{"Records":[{"eventID":"a","x":' + b"7" * 5000 + b"}]}",
    "5000-digit string": b'{"Records":[{"eventID":"a","x":"' + b"7" * 5000 + b'"}]}',
    "4300-digit integer": b'{"Records":[{"eventID":"a","eventSource":"redshift.amazonaws.com","x":'
    + b"7" * 4300
    + b"}]}",
    "deep nesting": b'{"Records":[{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
    "other keys after Records": b'{"Records":[{"eventSource":"redshift.amazonaws.com","eventID":"a"}],"x":[1]}',
    "Records twice": b'{"Records":[{"eventSource":"redshift.amazonaws.com","eventID":"a"}],"Records":[]}',
    "lone surrogate key": b'{"Records":[{"\\ud800":1,"eventSource":"redshift.amazonaws.com","eventID":"a"}]}',
    "control character": b'{"Records":[{"eventID":"a\x01"}]}',
    "leading space": b' {"Records":[{"eventSource":"redshift.amazonaws.com","eventID":"a"}]}',
}


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
def test_odd_and_bad_files_end_the_same_way(name):
    # Given a file that is odd, empty, not JSON, or JSON of another shape, plain and gzipped
    text = BAD_TEXTS[name]
    # When both paths read it
    # Then they keep, skip or fail alike (the same exception and message)
    assert fast(text) == reference(text)
    assert fast(gzip.compress(text)) == reference(gzip.compress(text))


def gzip_variants() -> dict[str, bytes]:
    body = compact([event("execute_statement"), event("create_connection")])
    member = gzip.compress(body, mtime=0)
    with_name = gzip.compress(body, mtime=0)[:3] + b"\x08" + member[4:10] + b"file.json\x00" + member[10:]
    extra = member[:3] + b"\x04" + member[4:10] + b"\x03\x00abc" + member[10:]
    comment = member[:3] + b"\x10" + member[4:10] + b"a comment\x00" + member[10:]
    header_crc = member[:3] + b"\x02" + member[4:10] + b"\x00\x00" + member[10:]
    crc = bytearray(member)
    crc[-8] ^= 1
    size = bytearray(member)
    size[-1] ^= 1
    flipped = bytearray(member)
    flipped[len(member) // 2] ^= 0xFF
    length = int.from_bytes(member[-4:], "little")
    return {
        "one member": member,
        "zlib level 9": zlib.compress(body, 9, wbits=31),
        "two members": member + member,
        "two different members": member + gzip.compress(b'{"Records":[]}'),
        "zero padding": member + b"\x00" * 100,
        "trailing garbage": member + b"garbage",
        "truncated": member[:-20],
        "no trailer": member[:-8],
        "short trailer": member[:-3],
        "header only": member[:10],
        "magic only": member[:2],
        "bad method": member[:2] + b"\x07" + member[3:],
        "file name": with_name,
        "extra field": extra,
        "comment": comment,
        "header crc": header_crc,
        "unterminated name": member[:3] + b"\x08" + member[4:10] + b"no end",
        "short extra": member[:3] + b"\x04" + member[4:10] + b"\xff",
        "crc mismatch": bytes(crc),
        "size mismatch": bytes(size),
        "size one short": member[:-4] + (length - 1).to_bytes(4, "little"),  # the sized inflate stops early
        "size 4 GiB": member[:-4] + b"\xff\xff\xff\xff",
        "corrupt deflate": bytes(flipped),
    }


@pytest.mark.parametrize("name", sorted(gzip_variants()))
def test_decompress_equals_the_stdlib_and_both_paths_agree(name):
    # Given a gzip body of some kind: one member, several, padded, damaged, with optional header fields
    body = gzip_variants()[name]
    # When it is decompressed, and read by both paths
    try:
        expected: Any = gzip.decompress(body)
    except Exception as error:
        expected = f"corrupt gzip: {error}"
    try:
        got: Any = decompress(body)
    except TrailFileError as error:
        got = str(error)
    # Then the bytes (or the error message) are the stdlib's, and the paths agree
    assert got == expected
    assert fast(body) == reference(body)


def _member(text: bytes, flags: int, level: int) -> bytes:
    """One gzip member of ``text`` with the optional header fields ``flags`` asks for (FEXTRA, FNAME, FCOMMENT,
    FHCRC), as other gzip writers may add them."""
    member = gzip.compress(text, level, mtime=0)
    fields = b""
    if flags & 4:
        fields += b"\x03\x00abc"
    if flags & 8:
        fields += b"name.json\x00"
    if flags & 16:
        fields += b"a comment\x00"
    if flags & 2:
        fields += b"\x00\x00"
    return member[:3] + bytes([flags]) + member[4:10] + fields + member[10:]


GZIP_MEMBERS = st.lists(
    st.tuples(st.binary(max_size=300), st.sampled_from([0, 2, 4, 8, 16, 30]), st.sampled_from([0, 1, 9])),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    GZIP_MEMBERS,
    st.binary(max_size=12),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=-1, max_value=4000),
    st.sampled_from([None, 0, 1, 7, 1 << 20]),
)
def test_any_sequence_of_gzip_members_decompresses_as_the_stdlib_does(members, after, cut, flip, stated):
    # Given gzip members with any header fields, one after the other, then anything (zero padding, garbage), cut
    # short anywhere, a byte flipped anywhere, and a trailer that may state another length
    body = b"".join(_member(text, flags, level) for text, flags, level in members) + after
    body = bytearray(body[: len(body) - cut % (len(body) + 1)])
    if 0 <= flip < len(body):
        body[flip] ^= 0xA5
    if stated is not None and len(body) >= 4:
        body[-4:] = stated.to_bytes(4, "little")
    body = bytes(body)
    # When it is decompressed (the sized route, and the one that reads every member as it inflates)
    try:
        expected: Any = gzip.decompress(body) if body.startswith(b"\x1f\x8b") else body
    except Exception as error:
        expected = f"corrupt gzip: {error}"
    try:
        got: Any = decompress(body)
    except TrailFileError as error:
        got = str(error)
    # Then the bytes, or the error message, are the stdlib's
    assert got == expected


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["redshift.amazonaws.com", "redshift-data.amazonaws.com", "kms.amazonaws.com", "aws:redshift:x"]),
    st.sampled_from(sorted(SERVICE_ACCOUNT_REGIONS)),
)
KEYS = st.sampled_from(
    [
        *("eventSource", "eventID", "userIdentity", "accountId", "invokedBy", "requestParameters", "encryptionContext"),
        *("aws:redshift:arn", "aws:redshift-serverless", "eventName", "eventTime", "readOnly", "arn", "x"),
    ]
)


def starting_with_version(fields: dict[str, Any]) -> dict[str, Any]:
    """An object that starts as CloudTrail starts its records (where the one-pass reader locates them)."""
    return {"eventVersion": "1.08", **fields}


JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(KEYS, inner, max_size=5)
        | st.builds(starting_with_version, st.dictionaries(KEYS, inner, max_size=3))
    ),
)
RECORD = st.dictionaries(KEYS, JSON_VALUE, max_size=7)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.builds(starting_with_version, RECORD), RECORD, JSON_VALUE), max_size=12), st.booleans())
def test_any_records_agree(records, escape):
    # Given any JSON records built from the keys that classification and items read, most starting as
    # CloudTrail's do, some holding objects that start that way too
    body = json.dumps({"Records": records}, ensure_ascii=escape, separators=(",", ":")).encode("utf-8", "surrogatepass")
    # When both paths read the file, plain and gzipped
    # Then they agree
    assert fast(body) == reference(body)
    assert fast(gzip.compress(body)) == reference(gzip.compress(body))


PLAIN_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
NESTED = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), PLAIN_TEXT),
    lambda inner: (
        st.lists(inner, max_size=3) | st.builds(starting_with_version, st.dictionaries(PLAIN_TEXT, inner, max_size=3))
    ),
)
SOURCES = st.sampled_from(["redshift.amazonaws.com", "sqlworkbench.amazonaws.com", "kms.amazonaws.com", "x"])
CLOUDTRAIL_RECORD = st.builds(
    starting_with_version,
    st.fixed_dictionaries(
        {},
        optional={
            "eventSource": SOURCES,
            "userIdentity": st.fixed_dictionaries(
                {},
                optional={
                    "accountId": st.sampled_from([*sorted(SERVICE_ACCOUNT_REGIONS)[:3], "123456789012"]),
                    "invokedBy": SOURCES,
                },
            ),
            "requestParameters": st.fixed_dictionaries(
                {},
                optional={
                    "encryptionContext": st.dictionaries(
                        st.sampled_from(["aws:redshift:arn", "aws:s3:arn", "x"]), PLAIN_TEXT, max_size=2
                    )
                },
            ),
            "eventID": PLAIN_TEXT,
            "responseElements": NESTED,
        },
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(CLOUDTRAIL_RECORD, max_size=8), st.booleans(), st.booleans())
def test_records_written_as_cloudtrail_writes_them_are_read_in_one_pass_and_agree(records, wrapped, escape):
    # Given compact files of records that start with eventVersion and have the field types classification
    # expects, any of them holding objects that start with eventVersion too
    document: Any = {"Records": records} if wrapped else records
    text = json.dumps(document, ensure_ascii=escape, separators=(",", ":")).encode()
    # When the text is selected, with the two-pass reader ruled out, and both paths read the file
    with mock.patch.object(selective_reader, "_pick", side_effect=AssertionError("read twice")):
        selection = select_text(text)
    # Then it was read in one pass, and the paths agree, plain and gzipped
    assert selection is not None
    assert selection.count == len(records)
    assert fast(text) == reference(text)
    assert fast(gzip.compress(text)) == reference(gzip.compress(text))


FLOATLESS_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**200), max_value=2**200), st.text(), st.text(st.characters())
)
FLOATLESS_VALUE = st.recursive(
    FLOATLESS_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=5)
)


@settings(max_examples=400, deadline=None)
@given(FLOATLESS_VALUE)
def test_a_record_without_floats_is_read_and_written_as_the_stdlib_does(value):
    # Given any JSON value without floats (any characters, integers far past 64 bits), as the stdlib writes it
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    # When the fast path reads and writes it
    loaded, floats = load_picked(text)
    written = event_json({"v": loaded}, floats=floats)
    # Then the value and the text are the stdlib's, lone surrogates included (msgspec leaves those to it)
    assert (loaded, written) == (json.loads(text), event_json({"v": json.loads(text)}))
    lone_surrogates = any(0xD800 <= ord(c) < 0xE000 for c in text.decode("utf-8", "surrogatepass"))
    assert floats == lone_surrogates


def test_every_character_is_escaped_as_the_stdlib_escapes_it():
    # Given every Unicode character but the surrogates
    characters = "".join(chr(point) for point in range(0x110000) if not 0xD800 <= point < 0xE000)
    record = {"all": characters, "one by one": list(characters[:0x3000])}
    # When the record is written by msgspec (no floats) and by the stdlib
    # Then the texts are the same
    assert event_json(record, floats=False) == event_json(record)


@pytest.mark.parametrize(
    "text",
    [b'{"a":1.5}', b'{"a":1e16}', b'{"a":-0.0}', b'{"a":1E400}', b'{"a":NaN}', b'{"a":[1,{"b":2.5e-7}]}', b"0.1"],
)
def test_a_record_with_floats_is_read_and_written_by_the_stdlib(text):
    # Given a record holding a float (msgspec would write 1e16 where the stdlib writes 1e+16)
    # When the fast path reads it
    loaded, floats = load_picked(text)
    # Then the stdlib read it, and writes it
    assert floats is True
    assert repr(loaded) == repr(json.loads(text))  # repr: NaN is not equal to itself
    stdlib_text = json.dumps({"v": loaded}, ensure_ascii=False, separators=(",", ":"))
    assert event_json({"v": loaded}, floats=floats) == stdlib_text


def test_a_record_msgspec_refuses_is_refused_as_the_stdlib_refuses_it():
    # Given a picked record that is not JSON
    # When the fast path reads it
    # Then the error is the stdlib's
    with pytest.raises(TrailFileError, match="invalid JSON: Expecting"):
        load_picked(b'{"a":}')


def test_process_object_takes_the_fast_path(monkeypatch):
    # Given a compact trail file with Redshift events, and no reader but the one-pass one allowed
    other = {"eventVersion": "1.08", "eventSource": "ec2.amazonaws.com"}
    body = gzip.compress(compact([event("authorize_datashare"), other]))

    def not_needed(*args):
        raise AssertionError("a slower reader was used")

    monkeypatch.setattr(pipeline, "records_in", not_needed)
    monkeypatch.setattr(selective_reader, "_pick", not_needed)
    written = []

    def write(items):
        written.extend(items)
        return StoredItems(written=len(items))

    # When the object is processed
    outcome = process_object(
        TrailObject("b", "k.json.gz"), read=lambda _: StoredObject(body), write=write, options=OPTIONS
    )
    # Then its text was read once, whole (a small file), and its event written
    assert (outcome.records, outcome.kept, outcome.written) == (2, 1, 1)
    assert select(body) is None
    assert select_text(decompress(body)) is not None
    assert json.loads(written[0]["event"]["S"]) == event("authorize_datashare")


def test_a_large_file_is_read_in_pieces_as_it_is_inflated(monkeypatch):
    # Given a compact gzip file that inflates to more than WHOLE_TEXT_BYTES (lowered for the test)
    records = list(Generator(5).records(200))
    body = gzip.compress(compact(records))
    monkeypatch.setattr(selective_reader, "WHOLE_TEXT_BYTES", len(decompress(body)) - 1)
    # When it is selected
    selection = select(body)
    # Then it is read in pieces, with the reference path's count, and the items agree
    assert selection is not None
    assert selection.count == len(records)
    assert fast(body) == reference(body)


def json_text(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


LAYOUTS = {  # how one record is written
    "eventVersion not first": lambda record: json_text({"eventID": record["eventID"], **record}),
    "eventVersion escaped": lambda record: json_text(record).replace(b'"eventVersion"', b'"event\\u0056ersion"', 1),
    "no eventVersion": lambda record: json_text({key: value for key, value in record.items() if key != "eventVersion"}),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_record_that_cannot_be_located_leaves_the_file_to_the_two_pass_reader(layout, position):
    # Given compact files whose first, second or last record (a Redshift event) does not start as CloudTrail
    # writes records, next to nested objects that do
    records = [event("execute_statement"), event("create_connection"), event("authorize_datashare")]
    for record in records:
        record["responseElements"] = {"items": [{"eventVersion": "1.08", "eventSource": "redshift.amazonaws.com"}] * 2}
    written = [
        LAYOUTS[layout](record) if index == position else json_text(record) for index, record in enumerate(records)
    ]
    text = b'{"Records":[' + b",".join(written) + b"]}"
    # When both paths read it, plain and gzipped
    # Then they agree, and the odd record is the one written differently
    assert not written[position].startswith(b'{"eventVersion":')
    for body in (text, gzip.compress(text)):
        assert fast(body) == reference(body)


KEPT = b'{"eventVersion":"1","eventSource":"redshift.amazonaws.com","eventID":"a"}'
OTHER = b'{"eventVersion":"1","eventID":"b"}'


@pytest.mark.parametrize(
    "text",
    [
        b'{"Records":[' + KEPT + b"]}\n",
        b'{"Records":[' + KEPT + b"] }",
        b'{"Records":[' + KEPT + b" ]}",
        b"[" + KEPT + b"]",
        b"[" + OTHER + b", " + KEPT + b"]",
        b"[" + KEPT + b" ," + OTHER + b"]",
        b'{"Records":[' + KEPT.replace(b":", b": ", 1) + b"]}",
        b'{"Records":[' + KEPT + b'],"Records":[]}',
        b'{"Records":[],"Records":[' + KEPT + b"]}",
        b'{"x":[' + OTHER + b'],"Records":[' + KEPT + b"]}",
        b'{"Records":[' + KEPT + b'],"x":[' + OTHER + b"]}",
    ],
)
def test_spaces_and_framing_around_records_are_read_as_the_reference_reads_them(text):
    # Given a small file with spaces between or around its records, or other framing
    # When both paths read it, plain and gzipped
    # Then they agree
    for body in (text, gzip.compress(text)):
        assert fast(body) == reference(body)
