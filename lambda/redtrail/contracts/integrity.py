"""What the ledger reports: problem codes and an event's provenance (shown by the CLI, counted in metrics)."""

from enum import StrEnum


class ProblemCode(StrEnum):
    """Everything that makes the trail's record untrustworthy, as ``redtrail verify`` names it."""

    DIGEST_SIGNATURE_INVALID = "DIGEST_SIGNATURE_INVALID"  # not signed by CloudTrail's key, or not a digest at all
    DIGEST_KEY_UNKNOWN = "DIGEST_KEY_UNKNOWN"  # signed with a key CloudTrail does not publish for the region
    DIGEST_MOVED = "DIGEST_MOVED"  # found elsewhere than where it says CloudTrail delivered it
    DIGEST_CHAIN_GAP = "DIGEST_CHAIN_GAP"  # a digest of the chain is missing, or the chain restarted or forks
    DIGEST_LATE = "DIGEST_LATE"  # no digest for longer than the heartbeat: logging stopped, or delivery broke
    LOG_HASH_MISMATCH = "LOG_HASH_MISMATCH"  # a log file whose bytes differ from what its digest lists
    LOG_NOT_DELIVERED = "LOG_NOT_DELIVERED"  # listed by a digest, never seen (deleted, or never processed)
    LOG_NOT_IN_DIGEST = "LOG_NOT_IN_DIGEST"  # seen, but listed by no digest covering its delivery: not CloudTrail's
    EVENT_CONFLICT = "EVENT_CONFLICT"  # an eventID already stored, arriving again with different content


class Provenance(StrEnum):
    """Whether the file an event came from is proved by a digest."""

    VERIFIED = "verified"  # listed by a verified digest with the same SHA-256
    PENDING = "pending"  # seen; its digest has not arrived (yet)
    PROBLEM = "problem"  # a problem code names the file
    UNVERIFIED = "unverified"  # no ledger entry: ingested by hand, or delivered before its chain began
