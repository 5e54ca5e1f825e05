"""``redtrail ingest`` and ``redtrail query`` against a moto server: a real HTTP endpoint."""

import gzip
import json
import uuid

import boto3
import pytest

from redtrail.cli.main import main
from redtrail_devtools.emulator import moto_server
from tests.support import REAL_TRAILS, REFERENCE_EXAMPLES, event, local_credentials, trail_file

REGION = "us-east-1"


@pytest.fixture(scope="module")
def endpoint():
    with local_credentials(), moto_server() as url:
        yield url


@pytest.fixture
def table_args(endpoint):
    return ["--endpoint-url", endpoint, "--region", REGION, "--table", f"events-{uuid.uuid4().hex[:8]}"]


def _dynamodb(endpoint):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def trail_dir(tmp_path):
    logs = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail" / "us-east-1" / "2024" / "05" / "01"
    logs.mkdir(parents=True)
    (logs / "a_CloudTrail_us-east-1_20240501T1200Z_docs.json.gz").write_bytes(
        trail_file([event(name) for name in REFERENCE_EXAMPLES])
    )
    (logs / "b_CloudTrail_us-east-1_20240501T1205Z_plain.json").write_bytes(
        trail_file([event("create_connection")], compress=False)
    )
    (logs / "c_CloudTrail_us-east-1_20240501T1210Z_broken.json.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    digest = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail-Digest" / "us-east-1"
    digest.mkdir(parents=True)
    (digest / "d_CloudTrail-Digest_us-east-1_20240501T1200Z.json.gz").write_bytes(gzip.compress(b"{}"))
    (tmp_path / "notes.txt").write_text("not a trail file")
    real = next(REAL_TRAILS.glob("invictus-ir-aws_dataset/*.json"))
    (logs / real.name).write_bytes(real.read_bytes())
    return tmp_path


def test_ingest_a_directory_into_a_new_table(endpoint, table_args, trail_dir, capsys):
    # Given a directory tree of trail files, with a corrupt one, a digest and a non-log file
    # When it is ingested into a table that does not exist yet
    status = main(["ingest", *table_args, "--create-table", str(trail_dir)])
    # Then the summary counts everything, names the failed file, and the exit status says it failed
    out = capsys.readouterr().out
    assert status == 1
    assert "files: 3 read, 2 skipped (1 not named *.json or *.json.gz, 1 in CloudTrail-Digest/), 1 failed" in out
    records = 6 + 1 + len(json.loads(next(REAL_TRAILS.glob("invictus-ir-aws_dataset/*.json")).read_text())["Records"])
    # (the plain file repeats CreateConnection: stored once, the second copy found already stored)
    assert f"records: {records}, events kept: 6, items written: 5, already stored: 1" in out
    assert "failed: " in out
    assert "_broken.json.gz: corrupt gzip" in out
    # and the events are in the table, each once
    count = _dynamodb(endpoint).scan(TableName=table_args[-1], Select="COUNT")["Count"]
    assert count == 5  # the plain file repeats CreateConnection; the two ExecuteStatement share an eventID


def test_ingest_an_s3_prefix_then_query_it(endpoint, table_args, capsys):
    # Given trail files in a bucket on the local AWS
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    bucket = f"trail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket,
        Key="AWSLogs/123456789012/CloudTrail/us-east-2/2017/03/03/x.json.gz",
        Body=trail_file([event("kms_decrypt_by_redshift"), event("execute_statement")]),
    )
    # When the prefix is ingested and the table is queried
    ingest_status = main(["ingest", *table_args, "--create-table", f"s3://{bucket}/AWSLogs/"])
    capsys.readouterr()
    query_status = main(["query", *table_args, "--since", "2017-01-01", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    # Then both succeed and the query lists the events newest first, the KMS call resolved to us-east-2
    assert ingest_status == query_status == 0
    assert [row["eventName"] for row in rows] == ["ExecuteStatement", "Decrypt"]
    assert rows[1]["matchedBy"] == "serviceAccount"
    assert rows[1]["redshiftServiceAccountRegion"] == "us-east-2"
    assert "timeBucket" not in rows[0]


def test_ingest_into_a_missing_table_is_a_one_line_error(table_args, trail_dir, capsys):
    # Given a table that does not exist
    # When files are ingested without --create-table
    status = main(["ingest", *table_args, str(trail_dir)])
    # Then the command says so in one line and writes nothing
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().count("\n") == 0
    assert "does not exist (use --create-table" in err


def test_dry_run_needs_no_table(trail_dir, capsys):
    # Given trail files and no AWS at all
    # When they are ingested with --dry-run
    status = main(["ingest", "--dry-run", str(trail_dir)])
    # Then events are counted and nothing is written
    out = capsys.readouterr().out
    assert status == 1  # the corrupt file still fails
    assert "events kept: 6, items written: 0" in out
