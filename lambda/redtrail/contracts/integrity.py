"""What the ledger reports: problem codes and an event's provenance (shown by the CLI, counted in metrics)."""

from enum import StrEnum


class ProblemCode(StrEnum):
    """Everything that makes the trail's record untrustworthy, as ``redtrail verify`` names it."""

    DIGEST_SIGNATURE_INVALID = "DIGEST_SIGNATURE_INVALID"
    DIGEST_KEY_UNKNOWN = "DIGEST_KEY_UNKNOWN"
    DIGEST_MOVED = "DIGEST_MOVED"
    DIGEST_CHAIN_GAP = "DIGEST_CHAIN_GAP"
    DIGEST_LATE = "DIGEST_LATE"
    LOG_HASH_MISMATCH = "LOG_HASH_MISMATCH"
    LOG_NOT_DELIVERED = "LOG_NOT_DELIVERED"
    LOG_NOT_IN_DIGEST = "LOG_NOT_IN_DIGEST"
    EVENT_CONFLICT = "EVENT_CONFLICT"

    @property
    def meaning(self) -> str:
        """What the problem says about the trail, in one line (alarm descriptions, ``redtrail verify``)."""
        return PROBLEM_MEANINGS[self]

    @property
    def alarm_name(self) -> str:
        """``LOG_HASH_MISMATCH`` → ``LogHashMismatch``."""
        return "".join(part.capitalize() for part in self.value.split("_"))


PROBLEM_MEANINGS = {
    ProblemCode.DIGEST_SIGNATURE_INVALID: "A digest file whose signature does not hold, or a file posing as a digest",
    ProblemCode.DIGEST_KEY_UNKNOWN: "A digest signed with a key CloudTrail does not publish for its region",
    ProblemCode.DIGEST_MOVED: "A digest found elsewhere than where it says CloudTrail delivered it",
    ProblemCode.DIGEST_CHAIN_GAP: "A digest of a chain is missing, the chain restarted, or a link does not hold",
    ProblemCode.DIGEST_LATE: "No digest for longer than the heartbeat: logging stopped, validation off, delivery broke",
    ProblemCode.LOG_HASH_MISMATCH: "A log file whose bytes differ from the SHA-256 its digest lists: it was altered",
    ProblemCode.LOG_NOT_DELIVERED: "A log file a digest lists never arrived: deleted, or never processed",
    ProblemCode.LOG_NOT_IN_DIGEST: "A log file no digest lists, though digests cover its delivery: not CloudTrail's",
    ProblemCode.EVENT_CONFLICT: "An eventID already stored arrived again with other content; the first copy stays",
}


class Provenance(StrEnum):
    """Whether the file an event came from is proved by a digest."""

    VERIFIED = "verified"  # listed by a verified digest with the same SHA-256
    PENDING = "pending"  # seen; its digest has not arrived (yet)
    PROBLEM = "problem"  # a problem code names the file
    UNVERIFIED = "unverified"  # no ledger entry: ingested by hand, or delivered before its chain began
