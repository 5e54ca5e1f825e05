import gzip
import json
import tracemalloc
from typing import Any

import pytest

from redtrail.contracts.settings import DEFAULT_MAX_INFLATED_MB
from redtrail.core.errors import TrailFileError
from redtrail.core.trail_file import (
    DEFAULT_INFLATE_LIMIT,
    INFLATED_CHUNK_BYTES,
    NotSingleMemberError,
    SkipReason,
    decompress,
    inflated_chunks,
    records_of,
    skip_reason,
)
from tests.support import EVENTS, event, trail_file


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x_CloudTrail_us-east-1_20240501T1200Z_a.json.gz", None),
        ("AWSLogs/o-abc123defg/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz", None),
        ("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/05/01/x.json.gz", None),
        ("exports/plain.json", None),
        ("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz", SkipReason.DIGEST),
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz.tmp", SkipReason.NOT_A_LOG_NAME),
        ("AWSLogs/111122223333/CloudTrail/", SkipReason.NOT_A_LOG_NAME),
        ("MANIFEST.md", SkipReason.NOT_A_LOG_NAME),
    ],
)
def test_which_keys_are_trail_logs(key, reason):
    # Given an object key
    # When its name is checked
    # Then account, organization and Insight logs are read; digests and other names are skipped
    assert skip_reason(key) == reason


def test_gzip_and_plain_files_give_the_same_records():
    # Given the same records as a gzip file and as plain JSON
    records = [event("execute_statement"), {"eventSource": "s3.amazonaws.com"}]
    # When each is read
    # Then both give the records, whatever the extension said
    assert records_of(trail_file(records)) == records
    assert records_of(trail_file(records, compress=False)) == records


def test_a_digest_file_has_no_records():
    # Given a digest file (a JSON object without Records)
    body = gzip.compress(json.dumps({"awsAccountId": "111122223333", "logFiles": []}).encode())
    # When it is read
    # Then it has no records (and is skipped, not failed)
    assert records_of(body) is None


def test_a_bare_array_is_a_record_list():
    # Given an export shaped as a bare JSON array
    # When it is read
    # Then its elements are the records
    assert records_of(b'[{"eventID": "a"}]') == [{"eventID": "a"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"\x1f\x8b\x08\x00garbage", "corrupt gzip", id="corrupt-gzip"),
        pytest.param(gzip.compress(b'{"Records": []}')[:-6], "corrupt gzip", id="truncated-gzip"),
        pytest.param(b"", "empty file", id="empty"),
        pytest.param(gzip.compress(b"  \n"), "empty file", id="gzip-of-nothing"),
        pytest.param(b'{"Records": [', "invalid JSON", id="cut-json"),
        pytest.param((EVENTS / "create_namespace.as_printed.txt").read_bytes(), "invalid JSON", id="as-printed"),
        pytest.param(b"\xff\xfe{}", "invalid JSON", id="not-utf8"),
        pytest.param(b'{"Records": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested too deeply", id="deep"),
        pytest.param(b'{"Records": {"eventID": "a"}}', "Records is dict", id="records-not-a-list"),
        pytest.param(b'"just a string"', "top-level JSON is str", id="scalar"),
    ],
)
def test_unreadable_files_raise_a_trail_file_error(body, message):
    # Given a file that cannot be read as trail records
    # When it is read
    # Then a TrailFileError says why
    with pytest.raises(TrailFileError, match=message):
        records_of(body)


@pytest.mark.parametrize("repeat", [1, 40, 5_000])
def test_inflated_chunks_are_small_and_add_up_to_the_text(repeat):
    # Given a gzip file from tiny to highly compressible (5,000 equal records: about 500 times smaller gzipped)
    text = json.dumps({"Records": [event("authorize_datashare")] * repeat}).encode()
    body = gzip.compress(text, mtime=0)
    # When it is inflated chunk by chunk
    chunks = list(inflated_chunks(body))
    # Then no chunk is larger than the bound, and together they are the file's text
    assert max(map(len, chunks)) <= INFLATED_CHUNK_BYTES
    assert b"".join(chunks) == text


@pytest.mark.parametrize("cut", [1, 8, 9, 100])
def test_inflating_a_cut_short_file_is_refused_at_the_end(cut):
    # Given a multi-chunk gzip file missing its last bytes
    text = json.dumps({"Records": [event("authorize_datashare")] * 5_000}).encode()
    body = gzip.compress(text, mtime=0)[:-cut]
    # When it is inflated
    # Then the chunks are not trusted: the file is refused (decompress then names the error)
    with pytest.raises(NotSingleMemberError):
        list(inflated_chunks(body))


MB = 1 << 20


def zeros_bomb(size: int, *, stated: int | None = None) -> bytes:
    """``size`` zero bytes gzipped at level 9 (about 1,000 times smaller); the trailer states ``stated`` if given."""
    body = gzip.compress(bytes(size), 9, mtime=0)
    return body if stated is None else body[:-4] + stated.to_bytes(4, "little")


def peak_traced(read) -> tuple[Any, int]:
    """What ``read()`` returned (or raised), and the most memory it held at once (traced allocations)."""
    tracemalloc.start()
    try:
        result: Any = read()
    except Exception as error:
        result = error
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(zeros_bomb(16 * MB), id="honest-trailer"),
        pytest.param(zeros_bomb(16 * MB, stated=1000), id="understated-trailer"),
        pytest.param(zeros_bomb(16 * MB, stated=MB), id="trailer-at-the-limit"),
        pytest.param(gzip.compress(b'{"Records":[]}') + zeros_bomb(16 * MB, stated=10), id="two-members"),
        pytest.param(zeros_bomb(16 * MB)[:-100], id="cut-short"),
    ],
)
def test_a_file_inflating_beyond_the_limit_is_refused_without_holding_its_text(body):
    # Given a gzip file that inflates to 16 MB, whatever its trailer says, and a limit of 1 MB
    # When it is read (the whole-text route, and in pieces)
    refused, peak = peak_traced(lambda: decompress(body, MB))
    streamed, streamed_peak = peak_traced(lambda: sum(map(len, inflated_chunks(body, MB))))
    # Then it is refused as a file no retry can mend, naming the limit, having held little more than the limit
    # at most (the trailer is trusted only up to the limit) and far less than its text
    assert isinstance(refused, TrailFileError)
    assert str(refused) == "inflates beyond 1 MB (MAX_INFLATED_MB)"
    assert peak < MB + 4 * INFLATED_CHUNK_BYTES
    # and in pieces it is refused as soon as it passes the limit, or left to decompress once it passes what its
    # trailer says (never read to the end first)
    assert isinstance(streamed, TrailFileError | NotSingleMemberError)
    assert streamed_peak < 4 * INFLATED_CHUNK_BYTES


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("one member", lambda text: gzip.compress(text, mtime=0)),
        ("two members", lambda text: gzip.compress(text[:10], mtime=0) + gzip.compress(text[10:], mtime=0)),
        ("zero padding", lambda text: gzip.compress(text, mtime=0) + bytes(100)),
    ],
)
def test_a_text_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(name, make):
    # Given files whose text is exactly the limit, and one byte longer
    text = json.dumps({"Records": [event("authorize_datashare")] * 200}).encode()
    limit = len(text)
    # When they are read with that limit
    # Then the first is the text, the second is refused, on every route
    assert decompress(make(text), limit) == text
    assert records_of(make(text), limit) == json.loads(text)["Records"]
    with pytest.raises(TrailFileError, match=f"inflates beyond {limit} bytes"):
        decompress(make(text + b" "), limit)
    if name == "one member":
        assert b"".join(inflated_chunks(make(text), limit)) == text
        with pytest.raises(TrailFileError, match="inflates beyond"):
            list(inflated_chunks(make(text + b" "), limit))


def test_a_trailer_that_understates_the_length_stops_the_pieces_where_it_is_passed():
    # Given a multi-chunk gzip file whose trailer says it is half as long as it is
    text = json.dumps({"Records": [event("authorize_datashare")] * 5_000}).encode()
    body = gzip.compress(text, mtime=0)
    body = body[:-4] + (len(text) // 2).to_bytes(4, "little")
    # When it is inflated chunk by chunk
    taken: list[int] = []
    with pytest.raises(NotSingleMemberError):
        taken.extend(len(chunk) for chunk in inflated_chunks(body))
    # Then it is refused as soon as the stated length is passed, not at the end
    assert len(text) // 2 - INFLATED_CHUNK_BYTES <= sum(taken) <= len(text) // 2


def test_the_default_limit_is_the_default_functions():
    # Given a bomb of 129 MB of zeros (130 kB gzipped), read without a limit given
    body = zeros_bomb(129 * MB)
    # When it is read
    # Then the default limit (a quarter of the function's default 512 MB) refuses it
    with pytest.raises(TrailFileError, match=f"inflates beyond {DEFAULT_MAX_INFLATED_MB} MB"):
        records_of(body)
    assert DEFAULT_INFLATE_LIMIT == DEFAULT_MAX_INFLATED_MB * MB == 128 * MB
