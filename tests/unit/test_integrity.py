"""Digest verification and the ledger's settling rules, on an in-memory ledger with keys made here.

CloudTrail is played by ``TrailWriter``: log files and digests named, hashed, signed and chained as CloudTrail
writes them (the AWS CLI's validator accepts such files).
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from redtrail.contracts.integrity import ProblemCode
from redtrail.core.integrity import Clock, Integrity
from redtrail.core.ledger import LogStatus, now_text
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_keys import parse_digest_key, parse_log_key
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey, TrailWriter, hours
from tests.memory_ledger import MemoryLedger

BUCKET = "trail-bucket"
ACCOUNT = "111122223333"
START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey()


@dataclass
class World:
    """A bucket, a ledger, CloudTrail's public keys and a clock: what the function sees."""

    signing_key: SigningKey
    now: datetime = START + timedelta(hours=6)
    objects: dict[str, Delivered] = field(default_factory=dict)
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    published: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.published = {self.signing_key.fingerprint: self.signing_key.der}
        clock = Clock(heartbeat=timedelta(minutes=90), grace=timedelta(minutes=60), now=lambda: self.now)
        self.integrity = Integrity(self.ledger, lambda region, start, end: self.published, clock)

    def writer(self, **options: str) -> TrailWriter:
        return TrailWriter(BUCKET, options.pop("account", ACCOUNT), self.signing_key, **options)

    def read(self, trail_object: TrailObject) -> StoredObject:
        found = self.objects[trail_object.key]
        return StoredObject(found.body, metadata=found.metadata)

    def deliver_log(self, log: Delivered, delivered: datetime | None = None) -> list[ProblemCode]:
        """The function read a log file (delivered at the time its name says, unless given)."""
        key = parse_log_key(log.key)
        assert key is not None
        moment = delivered or key.named_time + timedelta(seconds=30)
        found = self.integrity.record_log(
            TrailObject(BUCKET, log.key), str(key.namespace), log.sha256, now_text(moment)
        )
        return [problem.code for problem in found.new_problems]

    def deliver_digest(self, digest: Delivered, key: str | None = None) -> list[ProblemCode]:
        self.objects[key or digest.key] = digest
        found = self.integrity.record_digest(TrailObject(BUCKET, key or digest.key), self.read)
        return [problem.code for problem in found.new_problems]

    def sweep(self, at: datetime) -> tuple[list[ProblemCode], int]:
        self.now = at
        found, stale = self.integrity.sweep()
        return [problem.code for problem in found.new_problems], stale

    def status(self, log: Delivered) -> LogStatus:
        entry = self.ledger.log(f"s3://{BUCKET}/{log.key}")
        assert entry is not None
        return entry.status


@pytest.fixture
def world(signing_key: SigningKey) -> World:
    return World(signing_key)


def hourly_chain(world: World, writer: TrailWriter, hours_count: int, empty: set[int] = frozenset()):
    """Log files (two an hour, none in the ``empty`` hours) and the digest of each hour."""
    logs, digests = [], []
    for number, (start, end) in enumerate(hours(START, hours_count)):
        hour_logs = []
        if number not in empty:
            for minute in (5, 35):
                records = [{"eventID": f"e-{number}-{minute}", "recipientAccountId": writer.account}]
                hour_logs.append(writer.log_file(records, start + timedelta(minutes=minute), f"u{number}m{minute}"))
        logs.append(hour_logs)
        digests.append(writer.digest(start, end, hour_logs))
    return logs, digests


def test_a_valid_chain_with_an_empty_digest_is_verified_without_problems(world):
    # Given three hours of a trail, the middle one with no log file (CloudTrail still delivers its digest)
    logs, digests = hourly_chain(world, world.writer(), 3, empty={1})
    # When the log files and the digests arrive in order, and the sweep runs later
    problems = []
    for hour_logs, digest in zip(logs, digests, strict=True):
        for log in hour_logs:
            problems += world.deliver_log(log)
        problems += world.deliver_digest(digest)
    swept, stale = world.sweep(START + timedelta(hours=3, minutes=30))
    # Then there is no problem, every log file is verified, and the chain is on time
    assert problems == swept == []
    assert stale == 0
    assert {world.status(log) for hour in logs for log in hour} == {LogStatus.VERIFIED}
    (chain,) = world.ledger.chains()
    assert chain.last_end == "2024-05-01T13:00:00Z"
    assert chain.chain == f"AWSLogs/{ACCOUNT}/us-east-1/redtrail"


def test_a_tampered_log_file_is_a_hash_mismatch(world):
    # Given a log file whose bytes were changed after CloudTrail listed it
    writer = world.writer()
    log = writer.log_file([{"eventID": "e1"}], START + timedelta(minutes=5))
    digest = writer.digest(START, START + timedelta(hours=1), [log])
    tampered = replace(log, text=log.text.replace(b"e1", b"e2"))
    # When the tampered file and the digest arrive (either order)
    problems = world.deliver_log(tampered) + world.deliver_digest(digest)
    # Then the file is a LOG_HASH_MISMATCH, and only that
    assert problems == [ProblemCode.LOG_HASH_MISMATCH]
    assert world.status(log) is LogStatus.PROBLEM


def test_a_deleted_log_file_is_not_delivered_after_the_grace_period(world):
    # Given a digest listing two files, only one of which ever arrives
    writer = world.writer()
    kept = writer.log_file([{"eventID": "e1"}], START + timedelta(minutes=5), "kept")
    deleted = writer.log_file([{"eventID": "e2"}], START + timedelta(minutes=6), "deleted")
    digest = writer.digest(START, START + timedelta(hours=1), [kept, deleted])
    world.now = START + timedelta(hours=1, minutes=2)
    problems = world.deliver_log(kept) + world.deliver_digest(digest)
    # When the sweep runs within the grace period, then after it
    early, _ = world.sweep(START + timedelta(hours=1, minutes=30))
    late, _ = world.sweep(START + timedelta(hours=2, minutes=10))
    # Then nothing is reported early; after the grace period the missing file is LOG_NOT_DELIVERED
    assert problems == early == []
    assert late == [ProblemCode.LOG_NOT_DELIVERED]
    assert world.status(kept) is LogStatus.VERIFIED


def test_an_edited_digest_fails_its_signature_and_proves_nothing(world):
    # Given a digest edited after CloudTrail signed it (a listed hash replaced, to cover a tampered file)
    writer = world.writer()
    log = writer.log_file([{"eventID": "e1"}], START + timedelta(minutes=5))
    digest = writer.digest(START, START + timedelta(hours=1), [log])
    forged_text = digest.text.replace(log.sha256.encode(), b"0" * 64)
    edited = Delivered(digest.key, __import__("gzip").compress(forged_text), forged_text, digest.metadata)
    # When it arrives
    problems = world.deliver_digest(edited)
    # Then its signature does not hold, and the log file it lists is not settled by it
    assert problems == [ProblemCode.DIGEST_SIGNATURE_INVALID]
    assert world.ledger.log(f"s3://{BUCKET}/{log.key}") is None


def test_a_moved_digest_is_reported_where_it_was_found(world):
    # Given a genuine digest copied to another key
    writer = world.writer()
    digest = writer.digest(START, START + timedelta(hours=1), [])
    elsewhere = digest.key.replace("2024/05/01", "2024/05/02")
    # When it arrives there
    problems = world.deliver_digest(digest, key=elsewhere)
    # Then it is DIGEST_MOVED
    assert problems == [ProblemCode.DIGEST_MOVED]


def test_a_digest_signed_with_an_unknown_key_is_reported(world):
    # Given a digest signed with a key CloudTrail does not publish
    stranger = TrailWriter(BUCKET, ACCOUNT, SigningKey())
    digest = stranger.digest(START, START + timedelta(hours=1), [])
    # When it arrives
    # Then it is DIGEST_KEY_UNKNOWN
    assert world.deliver_digest(digest) == [ProblemCode.DIGEST_KEY_UNKNOWN]


def test_a_skipped_digest_is_a_gap_once_the_grace_period_is_over(world):
    # Given four hours of digests, the third never delivered
    _, digests = hourly_chain(world, world.writer(), 4, empty={0, 1, 2, 3})
    for number in (0, 1, 3):
        assert world.deliver_digest(digests[number]) == []
    # When the sweep runs soon after, then after the grace period
    early, _ = world.sweep(START + timedelta(hours=4, minutes=20))
    late, _ = world.sweep(START + timedelta(hours=5, minutes=30))
    # Then the gap is reported once, after the grace period, on the digest that names the missing one
    assert early == []
    assert late == [ProblemCode.DIGEST_CHAIN_GAP]
    (gap,) = world.ledger.recorded.values()
    assert gap.object == f"s3://{BUCKET}/{digests[3].key}"
    assert digests[2].key in gap.detail


def test_out_of_order_and_duplicate_delivery_produce_no_false_problem(world):
    # Given three hours of a trail
    logs, digests = hourly_chain(world, world.writer(), 3)
    flat = [log for hour in logs for log in hour]
    # When the digests arrive first, newest first, then the log files newest first, and everything twice
    problems = []
    for _ in range(2):
        for digest in reversed(digests):
            problems += world.deliver_digest(digest)
        for log in reversed(flat):
            problems += world.deliver_log(log)
    swept, stale = world.sweep(START + timedelta(hours=3, minutes=30))
    # Then there is no problem and every file is verified
    assert problems == swept == []
    assert stale == 0
    assert {world.status(log) for log in flat} == {LogStatus.VERIFIED}


def test_an_organization_trail_has_one_chain_per_member_account(world):
    # Given an organization trail's files for two member accounts
    first = world.writer(account="111111111111", org="o-a1b2c3d4e5")
    second = world.writer(account="222222222222", org="o-a1b2c3d4e5")
    problems = []
    for writer in (first, second):
        logs, digests = hourly_chain(world, writer, 2)
        for hour_logs, digest in zip(logs, digests, strict=True):
            for log in hour_logs:
                problems += world.deliver_log(log)
            problems += world.deliver_digest(digest)
    # Then each account is a chain of its own, each verified
    assert problems == []
    assert [chain.chain for chain in world.ledger.chains()] == [
        "AWSLogs/o-a1b2c3d4e5/111111111111/us-east-1/redtrail",
        "AWSLogs/o-a1b2c3d4e5/222222222222/us-east-1/redtrail",
    ]


def test_a_forged_file_under_a_proper_key_is_not_in_any_digest(world):
    # Given an hour of a genuine trail, and a file someone put under a name CloudTrail would use in that hour
    writer = world.writer()
    logs, digests = hourly_chain(world, writer, 2)
    forged = writer.log_file([{"eventID": "forged"}], START + timedelta(minutes=20), "forgedfile000000")
    # When the forged file arrives before the digests, and (in another hour) after them
    problems = world.deliver_log(forged)
    for hour_logs, digest in zip(logs, digests, strict=True):
        for log in hour_logs:
            problems += world.deliver_log(log)
        problems += world.deliver_digest(digest)
    late_forgery = writer.log_file([{"eventID": "forged-2"}], START + timedelta(hours=1, minutes=20), "forged2")
    problems += world.deliver_log(late_forgery)
    # Then each forged file is LOG_NOT_IN_DIGEST, and the genuine ones are verified
    assert problems == [ProblemCode.LOG_NOT_IN_DIGEST, ProblemCode.LOG_NOT_IN_DIGEST]
    assert world.status(forged) is LogStatus.PROBLEM
    assert {world.status(log) for hour in logs for log in hour} == {LogStatus.VERIFIED}


def test_a_file_near_a_digests_edge_waits_for_both_neighbours(world):
    # Given a file delivered two minutes before the end of its hour, listed by the next hour's digest
    writer = world.writer()
    late_file = writer.log_file([{"eventID": "edge"}], START + timedelta(minutes=58), "edge")
    first = writer.digest(START, START + timedelta(hours=1), [])
    world.deliver_log(late_file, delivered=START + timedelta(minutes=58))
    # When only the first hour's digest has arrived, then the second's
    after_first = world.deliver_digest(first)
    after_second = world.deliver_digest(
        writer.digest(START + timedelta(hours=1), START + timedelta(hours=2), [late_file])
    )
    # Then it is not judged unlisted early, and is verified once its digest arrives
    assert after_first == after_second == []
    assert world.status(late_file) is LogStatus.VERIFIED


def test_the_heartbeat_fires_when_a_chain_goes_silent(world):
    # Given a chain whose last digest ended at 11:00 (logging stopped: StopLogging delivers a final digest)
    logs, digests = hourly_chain(world, world.writer(), 1)
    for log in logs[0]:
        world.deliver_log(log)
    world.deliver_digest(digests[0])
    # When the sweep runs at 12:00 (60 minutes of silence), 12:31 (91), and again at 13:00
    on_time, stale_on_time = world.sweep(START + timedelta(hours=2))
    late, stale_late = world.sweep(START + timedelta(hours=2, minutes=31))
    again, stale_again = world.sweep(START + timedelta(hours=3))
    # Then the chain is stale after 90 minutes: one DIGEST_LATE for this silence, counted at every sweep
    assert (on_time, stale_on_time) == ([], 0)
    assert (late, stale_late) == ([ProblemCode.DIGEST_LATE], 1)
    assert (again, stale_again) == ([], 1)


def test_a_restarted_chain_is_a_gap(world):
    # Given a chain that stopped after one hour and started again (logging stopped, then started)
    writer = world.writer()
    world.deliver_digest(writer.digest(START, START + timedelta(hours=1), []))
    restarted = writer.digest(START + timedelta(hours=3), START + timedelta(hours=4), [], restart=True)
    world.deliver_digest(restarted)
    # When the sweep runs after the grace period
    problems, _ = world.sweep(START + timedelta(hours=5, minutes=30))
    # Then the restart is a gap
    assert problems == [ProblemCode.DIGEST_CHAIN_GAP]


def test_a_digest_whose_predecessor_differs_from_what_it_signed_breaks_the_chain(world):
    # Given two digests, and another validly signed digest for the first one's place and time, listing a file
    # (what only a holder of the signing key could make: the link is the second line of defence)
    writer = world.writer()
    first = writer.digest(START, START + timedelta(hours=1), [])
    second = writer.digest(START + timedelta(hours=1), START + timedelta(hours=2), [])
    other = TrailWriter(BUCKET, ACCOUNT, world.signing_key)
    planted = other.log_file([{"eventID": "planted"}], START + timedelta(minutes=5), "planted")
    impostor = other.digest(START, START + timedelta(hours=1), [planted])
    assert impostor.key == first.key
    assert impostor.text != first.text
    # When the second arrives, then the impostor at the first one's key
    assert world.deliver_digest(second) == []
    problems = world.deliver_digest(impostor)
    # Then the link from the second does not hold
    assert problems == [ProblemCode.DIGEST_CHAIN_GAP]


def test_a_file_in_a_digest_folder_under_another_name_is_not_a_digest(world):
    # Given a file put in a CloudTrail-Digest folder under a name CloudTrail does not write
    key = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/01/notes.json.gz"
    # When it arrives
    found = world.integrity.record_digest(TrailObject(BUCKET, key), world.read)
    # Then it is reported, without reading it
    assert [problem.code for problem in found.problems] == [ProblemCode.DIGEST_SIGNATURE_INVALID]


def test_digest_keys_and_log_keys_are_parsed_as_cloudtrail_writes_them():
    # Given CloudTrail's key layouts, with a prefix and an organization
    log = (
        "org/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2024/05/01/"
        "111122223333_CloudTrail_eu-west-1_20240501T1205Z_AbC123.json.gz"
    )
    digest = (
        "org/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/"
        "111122223333_CloudTrail-Digest_eu-west-1_org_trail.v2_us-east-1_20240501T130131Z_backfill.json.gz"
    )
    # When they are parsed
    log_key, digest_key = parse_log_key(log), parse_digest_key(digest)
    # Then every part is read, and keys CloudTrail does not write are refused
    assert log_key is not None
    assert digest_key is not None
    assert str(log_key.namespace) == "org/AWSLogs/o-a1b2c3d4e5/111122223333/eu-west-1"
    assert log_key.named_time == datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
    assert (digest_key.trail, digest_key.home_region, digest_key.backfill) == ("org_trail.v2", "us-east-1", True)
    assert digest_key.end == datetime(2024, 5, 1, 13, 1, 31, tzinfo=UTC)
    for odd in (
        "AWSLogs/forged.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/222222222222_CloudTrail_us-east-1_20240501T1205Z_x.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/01/111122223333_CloudTrail_us-east-1_20241301T1205Z_x.json.gz",
    ):
        assert parse_log_key(odd) is None, odd


def test_a_verified_log_file_rewritten_in_place_is_a_hash_mismatch(world):
    # Given a log file verified by its digest
    writer = world.writer()
    log = writer.log_file([{"eventID": "e1"}], START + timedelta(minutes=5))
    assert world.deliver_log(log) + world.deliver_digest(writer.digest(START, START + timedelta(hours=1), [log])) == []
    assert world.status(log) is LogStatus.VERIFIED
    # When the same key is written again with other bytes (S3 notifies, the function reads it again)
    rewritten = replace(log, text=log.text.replace(b"e1", b"e9"))
    # Then it is a LOG_HASH_MISMATCH, and a problem it stays even when the original bytes come back
    assert world.deliver_log(rewritten) == [ProblemCode.LOG_HASH_MISMATCH]
    assert world.deliver_log(log) == []
    assert world.status(log) is LogStatus.PROBLEM
