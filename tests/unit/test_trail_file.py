import gzip
import json

import pytest

from redtrail.core.errors import TrailFileError
from redtrail.core.trail_file import (
    INFLATED_CHUNK_BYTES,
    NotSingleMemberError,
    SkipReason,
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
