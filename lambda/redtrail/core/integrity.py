"""Proving the trail: log files and digests recorded in the ledger as they arrive, and the periodic sweep.

I/O comes in through ports (the ledger, CloudTrail's public keys, reading a digest object), as in
``pipeline``: this module makes no AWS calls itself.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from redtrail.contracts.integrity import ProblemCode
from redtrail.core.digests import (
    KEY_WINDOW_HOURS,
    SIGNATURE_METADATA,
    Digest,
    DigestFormatError,
    parse_digest,
    signature_holds,
)
from redtrail.core.errors import TrailFileError
from redtrail.core.ledger import (
    DELIVERY_SKEW,
    ChainEntry,
    DigestEntry,
    Ledger,
    LogEntry,
    LogStatus,
    Problem,
    chain_gaps,
    late,
    link_problem,
    not_delivered,
    not_in_digest,
    now_text,
    parse_time,
    settle_log,
)
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_file import decompress
from redtrail.core.trail_keys import DigestKey, parse_digest_key


class PublicKeys(Protocol):
    """CloudTrail's public keys for a region and time window: fingerprint → DER bytes."""

    def __call__(self, region: str, start: datetime, end: datetime) -> Mapping[str, bytes]: ...


ReadDigest = Callable[[TrailObject], StoredObject]
UNCOVERED_AFTER = timedelta(hours=48)  # a digest covers a file within about an hour of its delivery
DIGEST_SPAN = timedelta(hours=2)  # CloudTrail digests cover an hour; allow for one delivered late


@dataclass(slots=True)
class IntegrityReport:
    """What recording one file found: its problems (each new one once) and what it settled."""

    problems: list[Problem] = field(default_factory=list)
    new_problems: list[Problem] = field(default_factory=list)
    verified_logs: int = 0
    digest_verified: bool = False


@dataclass(frozen=True, slots=True)
class Clock:
    """The grace periods of the ledger, and the time (injected, so that tests can move it)."""

    heartbeat: timedelta = timedelta(minutes=90)
    grace: timedelta = timedelta(minutes=60)
    now: Callable[[], datetime] | None = None

    def current(self) -> datetime:
        return self.now() if self.now else datetime.now(UTC)


class Integrity:
    """Records log files and digests in the ledger, settles them, and reports problems."""

    def __init__(self, ledger: Ledger, public_keys: PublicKeys, clock: Clock | None = None) -> None:
        self.ledger = ledger
        self.public_keys = public_keys
        self.clock = clock or Clock()

    # --- log files ---------------------------------------------------------------------------------------

    def record_log(self, trail_object: TrailObject, namespace: str, sha256: str, delivered_at: str) -> IntegrityReport:
        """A log file was read: note its hash; settle it against its digest, or check it is not unlisted."""
        report = IntegrityReport()
        self.ledger.note_namespace(namespace)
        entry = self.ledger.note_seen(trail_object.uri, namespace, sha256, delivered_at)
        if entry.listed_sha256 is not None:
            self._settle(entry, report)
        else:
            self._check_unlisted([entry], namespace, report)
        return report

    def _settle(self, entry: LogEntry, report: IntegrityReport) -> None:
        """Settle a file both seen and listed. Once a problem, always one; verified stays verified only while
        the bytes seen are the ones listed (a file rewritten in place is read again, with another hash)."""
        if entry.status is LogStatus.PROBLEM:
            return
        status, problem = settle_log(entry)
        if status is entry.status:  # a duplicate delivery
            return
        if problem is not None:
            self.report(problem, report)
        else:
            report.verified_logs += 1
        self.ledger.settle(entry, status)

    def _check_unlisted(self, entries: Sequence[LogEntry], namespace: str, report: IntegrityReport) -> set[str]:
        """Settle as LOG_NOT_IN_DIGEST the pending files that digests now cover; their URIs."""
        pending = [entry for entry in entries if entry.status is LogStatus.PENDING and entry.delivered_at]
        if not pending:
            return set()
        times = [parse_time(str(entry.delivered_at)) for entry in pending]
        # Digests by their end: those covering a time end after it, within about an hour (two, at an edge).
        since, until = now_text(min(times) - DELIVERY_SKEW), now_text(max(times) + DIGEST_SPAN + DELIVERY_SKEW)
        chain_digests = [self.ledger.digests(chain.chain, since, until) for chain in self.ledger.chains(namespace)]
        settled = set()
        for entry in pending:
            problem = not_in_digest(entry, chain_digests)
            if problem is not None:
                self.report(problem, report)
                self.ledger.settle(entry, LogStatus.PROBLEM)
                settled.add(entry.uri)
        return settled

    # --- digests -----------------------------------------------------------------------------------------

    def record_digest(self, trail_object: TrailObject, read: ReadDigest) -> IntegrityReport:
        """A digest arrived: verify it, link it to its chain, settle the log files it lists."""
        report = IntegrityReport()
        key = parse_digest_key(trail_object.key)
        if key is None:  # a file posing as a digest, under a name CloudTrail does not write
            detail = "in a CloudTrail-Digest folder under a name CloudTrail does not write"
            self.report(Problem(ProblemCode.DIGEST_SIGNATURE_INVALID, trail_object.uri, detail), report)
            return report
        chain = _chain(key)
        found = read(trail_object)
        try:
            digest = parse_digest(decompress(found.body))
        except (DigestFormatError, TrailFileError) as error:
            detail = f"not a digest CloudTrail writes: {error}"
            self.report(Problem(ProblemCode.DIGEST_SIGNATURE_INVALID, trail_object.uri, detail, chain), report)
            return report
        problem = self._check(digest, key, trail_object, found.metadata, chain)
        if problem is not None:
            self.report(problem, report)
            return report  # an untrusted digest proves nothing: its list is not used
        report.digest_verified = True
        entry = self.ledger.note_digest(
            DigestEntry(
                uri=trail_object.uri,
                chain=chain,
                start=digest.start,
                end=digest.end,
                sha256=digest.sha256,
                signature=found.metadata[SIGNATURE_METADATA].lower(),
                previous_uri=digest.previous_uri,
            )
        )
        self._link(entry, digest, report)
        namespace = str(key.namespace)
        self.ledger.note_namespace(namespace)
        self.ledger.note_chain(ChainEntry(chain, namespace, digest.end, trail_object.uri))
        self._settle_listed(digest, trail_object, namespace, report)
        return report

    def _check(
        self, digest: Digest, key: DigestKey, found_at: TrailObject, metadata: Mapping[str, str], chain: str
    ) -> Problem | None:
        if (digest.bucket, digest.key) != (found_at.bucket, found_at.key):
            detail = f"says CloudTrail delivered it to {digest.uri}"
            return Problem(ProblemCode.DIGEST_MOVED, found_at.uri, detail, chain)
        signature = metadata.get(SIGNATURE_METADATA)
        if not signature:
            detail = "no signature in its S3 metadata"
            return Problem(ProblemCode.DIGEST_SIGNATURE_INVALID, found_at.uri, detail, chain)
        end = parse_time(digest.end)
        keys = self.public_keys(key.namespace.region, end - timedelta(hours=1), end + timedelta(hours=KEY_WINDOW_HOURS))
        public_key = keys.get(digest.fingerprint.lower())
        if public_key is None:
            detail = f"CloudTrail publishes no key {digest.fingerprint} in {key.namespace.region} for {digest.end}"
            return Problem(ProblemCode.DIGEST_KEY_UNKNOWN, found_at.uri, detail, chain)
        if not signature_holds(digest, signature, public_key):
            detail = "its signature does not hold: the digest was edited, or not signed by CloudTrail"
            return Problem(ProblemCode.DIGEST_SIGNATURE_INVALID, found_at.uri, detail, chain)
        return None

    def _link(self, entry: DigestEntry, digest: Digest, report: IntegrityReport) -> None:
        # This digest may be the predecessor a later one already named (out of order): check what it named.
        problem = link_problem(entry)
        if problem is not None:
            self.report(problem, report)
        if digest.previous_uri is None:
            return
        previous = self.ledger.expect_previous(
            DigestEntry(
                uri=digest.previous_uri,
                chain=entry.chain,
                start="",
                end="",
                expected_sha256=(digest.previous_sha256 or "").lower(),
                expected_signature=(digest.previous_signature or "").lower(),
                expected_by=entry.uri,
            )
        )
        problem = link_problem(previous)
        if problem is not None:
            self.report(problem, report)

    def _settle_listed(self, digest: Digest, found_at: TrailObject, namespace: str, report: IntegrityReport) -> None:
        listed_at = now_text(self.clock.current())
        for listed in digest.logs:
            if listed.bucket != found_at.bucket:  # delivered to another bucket: not ours to expect
                continue
            entry = self.ledger.note_listed(listed.uri, namespace, listed.sha256, found_at.uri, listed_at)
            if entry.seen_sha256 is not None:
                self._settle(entry, report)
        # Files seen but not listed, delivered in this digest's time: forged, or injected.
        since = now_text(parse_time(digest.start) - DELIVERY_SKEW)
        until = now_text(parse_time(digest.end) + DELIVERY_SKEW)
        self._check_unlisted(self.ledger.unsettled(namespace, since, until), namespace, report)

    # --- the sweep ---------------------------------------------------------------------------------------

    def sweep(self) -> tuple[IntegrityReport, int]:
        """What time alone reveals: late chains (the heartbeat), gaps, files never delivered; and the count of
        chains whose digests are late (the heartbeat metric)."""
        report = IntegrityReport()
        now = self.clock.current()
        stale = 0
        for chain in self.ledger.chains():
            problem = late(chain, now, self.clock.heartbeat)
            if problem is not None:
                stale += 1
                self.report(problem, report)
            window = now_text(now - timedelta(hours=48)), now_text(now)
            for problem in chain_gaps(self.ledger.digests(chain.chain, *window), now, self.clock.grace):
                self.report(problem, report)
        for namespace in self.ledger.namespaces():
            entries = self.ledger.unsettled(namespace, now_text(now - timedelta(days=30)), now_text(now))
            for entry in entries:
                problem = not_delivered(entry, now, self.clock.grace)
                if problem is not None:
                    self.report(problem, report)
                    self.ledger.settle(entry, LogStatus.PROBLEM)
            settled = self._check_unlisted(entries, namespace, report)
            if not self.ledger.chains(namespace):
                stale += self._never_signed(namespace, entries, now, report)
            self._give_up_on_uncovered([entry for entry in entries if entry.uri not in settled], now)
        return report, stale

    def _give_up_on_uncovered(self, entries: Sequence[LogEntry], now: datetime) -> None:
        """Files seen long ago that no digest covers (delivered before validation began): out of the unsettled."""
        for entry in entries:
            delivered = entry.delivered_at
            if entry.status is LogStatus.PENDING and delivered and now - parse_time(delivered) > UNCOVERED_AFTER:
                self.ledger.settle(entry, LogStatus.UNCOVERED)

    def _never_signed(self, namespace: str, entries: Sequence[LogEntry], now: datetime, report: IntegrityReport) -> int:
        """Logs arrive for a namespace that no digest has ever covered: validation is off, or digests are lost."""
        delivered = [parse_time(entry.delivered_at) for entry in entries if entry.delivered_at]
        if not delivered or now - min(delivered) <= self.clock.heartbeat:
            return 0
        detail = f"log files arrive for {namespace} but no digest ever did: is log file validation on?"
        self.report(Problem(ProblemCode.DIGEST_LATE, namespace, detail), report)
        return 1

    def report(self, problem: Problem, report: IntegrityReport) -> None:
        """Record a problem in the ledger (once) and in ``report``, found at the clock's time."""
        problem = replace(problem, detected_at=now_text(self.clock.current()))
        report.problems.append(problem)
        if self.ledger.record(problem):
            report.new_problems.append(problem)


def _chain(key: DigestKey) -> str:
    # Backfill digests (for periods logged without validation) chain among themselves.
    return f"{key.chain}#backfill" if key.backfill else key.chain
