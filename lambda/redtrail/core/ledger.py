"""The ledger of log files and digests: what it holds, the port that keeps it, and its settling rules. Pure.

A log file is settled by the digest that lists it: listed and seen with the same SHA-256 is verified, a different
hash is ``LOG_HASH_MISMATCH``. Seen but listed by no digest once digests cover its delivery time is
``LOG_NOT_IN_DIGEST``; listed but not seen within the grace period is ``LOG_NOT_DELIVERED``. Either side may
come first (out-of-order and duplicate deliveries are normal): the port merges what each side knows into one
entry atomically, and whoever completes the entry settles it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Protocol

from redtrail.contracts.integrity import ProblemCode, Provenance

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# A log file delivered this close to a digest's edge may be listed by either neighbour: both must be in.
DELIVERY_SKEW = timedelta(minutes=15)
RETIRED_AFTER = timedelta(days=7)  # a chain silent this long is gone (a deleted trail), not late


class LogStatus(StrEnum):
    PENDING = "pending"  # seen, no digest lists it (yet)
    EXPECTED = "expected"  # listed by a digest, not seen (yet)
    VERIFIED = "verified"
    PROBLEM = "problem"
    UNCOVERED = "uncovered"  # seen, and no digest will cover it (delivered before its chain began)

    @property
    def provenance(self) -> Provenance:
        return {
            LogStatus.VERIFIED: Provenance.VERIFIED,
            LogStatus.PROBLEM: Provenance.PROBLEM,
            LogStatus.UNCOVERED: Provenance.UNVERIFIED,
        }.get(self, Provenance.PENDING)

    @property
    def settled(self) -> bool:
        return self in (LogStatus.VERIFIED, LogStatus.PROBLEM, LogStatus.UNCOVERED)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What the ledger knows of one log file: from reading it (seen) and from digests (listed)."""

    uri: str
    namespace: str
    status: LogStatus
    seen_sha256: str | None = None
    delivered_at: str | None = None  # S3's LastModified: when it arrived, whatever its name says
    listed_sha256: str | None = None
    listed_by: str | None = None
    listed_at: str | None = None  # when the listing digest was verified


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """A verified digest, and what a later digest of the chain says it must be (when that one came first)."""

    uri: str
    chain: str
    start: str
    end: str
    sha256: str | None = None  # None: not arrived, only expected by its successor
    signature: str | None = None
    previous_uri: str | None = None
    expected_sha256: str | None = None
    expected_signature: str | None = None
    expected_by: str | None = None


@dataclass(frozen=True, slots=True)
class ChainEntry:
    chain: str
    namespace: str
    last_end: str
    last_digest: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, named once: the same code for the same object is the same problem, however often found."""

    code: ProblemCode
    object: str
    detail: str
    chain: str | None = None
    event_id: str | None = None  # EVENT_CONFLICT: the event, within its object
    detected_at: str = field(default_factory=lambda: now_text())

    @property
    def key(self) -> str:
        return f"{self.code}#{self.object}" + (f"#{self.event_id}" if self.event_id else "")


class Ledger(Protocol):
    """What integrity checking needs of storage (``redtrail.adapters.ledger`` keeps it in the event table)."""

    def note_seen(self, uri: str, namespace: str, sha256: str, delivered_at: str) -> LogEntry: ...

    def note_listed(self, uri: str, namespace: str, sha256: str, digest_uri: str, listed_at: str) -> LogEntry: ...

    def settle(self, entry: LogEntry, status: LogStatus) -> None: ...

    def unsettled(self, namespace: str, since: str, until: str) -> list[LogEntry]: ...

    def log(self, uri: str) -> LogEntry | None: ...

    def note_digest(self, entry: DigestEntry) -> DigestEntry: ...

    def expect_previous(self, entry: DigestEntry) -> DigestEntry: ...

    def digests(self, chain: str, since: str, until: str) -> list[DigestEntry]: ...

    def note_chain(self, chain: ChainEntry) -> None: ...

    def chains(self, namespace: str | None = None) -> list[ChainEntry]: ...

    def namespaces(self) -> list[str]: ...

    def note_namespace(self, namespace: str) -> None: ...

    def record(self, problem: Problem) -> bool: ...

    def problems(self, since: str, until: str) -> list[Problem]: ...


def now_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def settle_log(entry: LogEntry) -> tuple[LogStatus, Problem | None]:
    """The status an entry that is both seen and listed settles to (with its problem, if any)."""
    if entry.seen_sha256 == entry.listed_sha256:
        return LogStatus.VERIFIED, None
    detail = f"{entry.listed_by} lists SHA-256 {entry.listed_sha256}; the file has {entry.seen_sha256}"
    return LogStatus.PROBLEM, Problem(ProblemCode.LOG_HASH_MISMATCH, entry.uri, detail)


def covered(moment: str, digests: Iterable[DigestEntry]) -> bool:
    """Whether digests of one chain, with no gap between them, cover ``moment`` and the skew either side of it."""
    wanted_from, wanted_to = parse_time(moment) - DELIVERY_SKEW, parse_time(moment) + DELIVERY_SKEW
    spans = sorted((parse_time(entry.start), parse_time(entry.end)) for entry in digests if entry.sha256)
    run_start: datetime | None = None
    run_end: datetime | None = None
    for start, end in spans:
        if run_end is None or start > run_end + timedelta(seconds=1):
            run_start, run_end = start, end
        else:
            run_end = max(run_end, end)
        if run_start is not None and run_start <= wanted_from and run_end >= wanted_to:
            return True
    return False


def not_in_digest(entry: LogEntry, chain_digests: Sequence[Sequence[DigestEntry]]) -> Problem | None:
    """``LOG_NOT_IN_DIGEST`` for a seen, unlisted file when some chain's digests cover its delivery time."""
    if entry.status is not LogStatus.PENDING or entry.delivered_at is None:
        return None
    if not any(covered(entry.delivered_at, digests) for digests in chain_digests):
        return None
    detail = f"delivered {entry.delivered_at}, listed by no digest of its account and region covering that time"
    return Problem(ProblemCode.LOG_NOT_IN_DIGEST, entry.uri, detail)


def not_delivered(entry: LogEntry, now: datetime, grace: timedelta) -> Problem | None:
    """``LOG_NOT_DELIVERED`` for a listed file not seen within ``grace`` of its digest."""
    if entry.status is not LogStatus.EXPECTED or entry.listed_at is None:
        return None
    if parse_time(entry.listed_at) + grace > now:
        return None
    return Problem(ProblemCode.LOG_NOT_DELIVERED, entry.uri, f"{entry.listed_by} lists it; never seen")


def link_problem(earlier: DigestEntry) -> Problem | None:
    """``DIGEST_CHAIN_GAP`` when a digest is not the one its successor signed as its predecessor."""
    if earlier.expected_by is None or earlier.sha256 is None:
        return None
    if earlier.sha256 == earlier.expected_sha256 and earlier.signature == earlier.expected_signature:
        return None
    detail = f"{earlier.expected_by} names a previous digest here with another SHA-256 or signature"
    return Problem(ProblemCode.DIGEST_CHAIN_GAP, earlier.uri, detail, earlier.chain)


def chain_gaps(digests: Sequence[DigestEntry], now: datetime, grace: timedelta) -> list[Problem]:
    """Gaps in a chain's run of digests (sorted by end): a missing predecessor, or a restart (no predecessor)
    after an earlier digest. Only older than ``grace``, so that out-of-order deliveries can arrive first."""
    arrived = {entry.uri: entry for entry in digests if entry.sha256}
    problems = []
    ordered = sorted(arrived.values(), key=lambda entry: entry.end)
    for earlier, later in pairwise(ordered):
        if parse_time(later.end) + grace > now:
            continue
        if later.previous_uri is None:
            detail = f"the chain restarted at {later.start}; the digest before ended {earlier.end}"
            problems.append(Problem(ProblemCode.DIGEST_CHAIN_GAP, later.uri, detail, later.chain))
        elif later.previous_uri not in arrived:
            detail = f"its previous digest {later.previous_uri} never arrived"
            problems.append(Problem(ProblemCode.DIGEST_CHAIN_GAP, later.uri, detail, later.chain))
    return problems


def late(chain: ChainEntry, now: datetime, heartbeat: timedelta) -> Problem | None:
    """``DIGEST_LATE`` when a chain's newest digest ended longer than ``heartbeat`` ago (and the chain is not
    retired): named by the digest it waits after, so that one silence is one problem."""
    silent = now - parse_time(chain.last_end)
    if silent <= heartbeat or silent > RETIRED_AFTER:
        return None
    detail = f"no digest since {chain.last_end}: logging stopped, validation was turned off, or delivery broke"
    return Problem(ProblemCode.DIGEST_LATE, chain.last_digest, detail, chain.chain)
