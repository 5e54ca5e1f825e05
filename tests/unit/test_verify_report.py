"""`redtrail verify`'s report and each event's provenance, from a ledger the integrity checks filled."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from redtrail.cli import verify
from redtrail.core.integrity import Clock, Integrity
from redtrail.core.ledger import now_text
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_keys import parse_log_key
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey, TrailWriter
from tests.memory_ledger import MemoryLedger

BUCKET = "trail-bucket"
START = datetime(2024, 5, 1, 10, tzinfo=UTC)
SINCE, UNTIL = "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"


@pytest.fixture(scope="module")
def ledger() -> MemoryLedger:
    """Two chains: us-east-1 clean (one file, one digest), eu-west-1 with a tampered file."""
    signing_key, ledger, objects = SigningKey(), MemoryLedger(), {}
    clock = Clock(now=lambda: START + timedelta(hours=1, minutes=10))
    integrity = Integrity(ledger, lambda *_: {signing_key.fingerprint: signing_key.der}, clock)

    def read(trail_object: TrailObject) -> StoredObject:
        found: Delivered = objects[trail_object.key]
        return StoredObject(found.body, metadata=found.metadata)

    for region, tampered in (("us-east-1", False), ("eu-west-1", True)):
        writer = TrailWriter(BUCKET, "111122223333", signing_key, region=region)
        log = writer.log_file([{"eventID": f"e-{region}"}], START + timedelta(minutes=5))
        key = parse_log_key(log.key)
        assert key is not None
        seen = "0" * 64 if tampered else log.sha256
        integrity.record_log(TrailObject(BUCKET, log.key), str(key.namespace), seen, now_text(key.named_time))
        digest = writer.digest(START, START + timedelta(hours=1), [log])
        objects[digest.key] = digest
        integrity.record_digest(TrailObject(BUCKET, digest.key), read)
    return ledger


def test_the_report_lists_each_chain_and_every_problem_with_its_code_and_object(ledger):
    # Given the ledger of two chains, one with a tampered file
    # When the report covers the day, as JSON
    document = verify.report(ledger, verify.Scope(SINCE, UNTIL)).as_json()
    # Then both chains are listed with their verified digests, and the one problem names its file
    assert json.loads(json.dumps(document)) == document
    chains = {chain["region"]: chain for chain in document["chains"]}
    assert set(chains) == {"us-east-1", "eu-west-1"}
    assert chains["us-east-1"] | {"chain": ""} == {
        "chain": "",
        "account": "111122223333",
        "region": "us-east-1",
        "digestsVerified": 1,
        "lastDigestEnd": "2024-05-01T11:00:00Z",
        "problems": 0,
    }
    assert chains["eu-west-1"]["problems"] == 1
    (problem,) = document["problems"]
    assert problem["code"] == "LOG_HASH_MISMATCH"
    assert problem["object"].startswith(f"s3://{BUCKET}/AWSLogs/111122223333/CloudTrail/eu-west-1/")


def test_the_region_and_account_filters_keep_only_their_chains_and_problems(ledger):
    # Given the same ledger
    # When the report is asked for one region, then for another account
    clean = verify.report(ledger, verify.Scope(SINCE, UNTIL, region="us-east-1"))
    elsewhere = verify.report(ledger, verify.Scope(SINCE, UNTIL, account="999999999999"))
    # Then the clean region shows its chain and no problem; the other account shows nothing
    assert [chain.region for chain in clean.chains] == ["us-east-1"]
    assert clean.problems == []
    assert (elsewhere.chains, elsewhere.problems) == ([], [])
    assert "no chain of digest files" in verify.render(elsewhere, "table")


def test_the_table_says_what_is_proved_and_what_is_wrong(ledger):
    # Given the report of the day
    found = verify.report(ledger, verify.Scope(SINCE, UNTIL))
    # When it is rendered as a table
    table = verify.render(found, "table")
    # Then each chain has its line, the problem its code and object
    assert "1 digest verified" in table
    assert "1 problem:" in table
    assert "LOG_HASH_MISMATCH" in table


def test_provenance_says_verified_problem_or_unverified_per_event(ledger):
    # Given rows from the clean file, the tampered file, and a file the ledger never saw
    uris = {entry.uri: entry.status for entry in ledger.log_entries.values()}
    rows = [{"eventID": uri, "sourceObject": uri} for uri in uris]
    rows.append({"eventID": "unknown", "sourceObject": f"s3://{BUCKET}/elsewhere.json.gz"})
    # When provenance is added
    shown = {row["eventID"]: row["provenance"] for row in verify.provenance(rows, ledger)}
    # Then each event says what its file's digest proved
    assert sorted(shown.values()) == ["problem", "unverified", "verified"]
    assert shown["unknown"] == "unverified"
