"""Metric names and namespace: one list, used by the Lambda (EMF) and by the stack's alarms."""

from enum import StrEnum

NAMESPACE = "Redtrail"
SERVICE = "redtrail"
SOURCE_DIMENSION = "EventSource"
PROBLEM_DIMENSION = "ProblemCode"


class MetricName(StrEnum):
    FILES_PROCESSED = "FilesProcessed"
    FILES_SKIPPED = "FilesSkipped"
    FILES_FAILED = "FilesFailed"
    FILES_DEAD_LETTERED = "FilesDeadLettered"
    RECORDS_READ = "RecordsRead"
    RECORDS_REJECTED = "RecordsRejected"
    RECORDS_QUARANTINED = "RecordsQuarantined"
    RECORDS_DUPLICATED = "RecordsDuplicated"  # an eventID already seen in the same file: the first is kept
    DUPLICATES_WITH_OTHER_CONTENT = "DuplicatesWithOtherContent"  # of those, copies that differ from the first
    EVENTS_KEPT = "EventsKept"
    WRITE_EVENTS = "WriteEvents"
    SENSITIVE_EVENTS = "SensitiveEvents"
    ENCRYPTION_CONTEXT_MATCHES = "EncryptionContextMatches"
    ITEMS_WRITTEN = "ItemsWritten"
    ITEMS_UNCHANGED = "ItemsUnchanged"  # already stored with the same content
    ITEMS_WRITTEN_BEFORE_FAILURE = "ItemsWrittenBeforeFailure"  # by a file whose write then failed (retried)
    EVENTS_BY_SOURCE = "EventsBySource"
    DIGESTS_VERIFIED = "DigestsVerified"
    LOGS_VERIFIED = "LogsVerified"
    INTEGRITY_PROBLEMS = "IntegrityProblems"  # with the dimension ProblemCode, one series per code
    STALE_CHAINS = "StaleChains"  # chains whose newest digest is older than the heartbeat (every sweep)
    DETECTIONS = "Detections"  # detection rules matched, each (event, rule) counted once
    HIGH_SEVERITY_EVENTS = "HighSeverityEvents"  # of those, high or critical (the alarm metric)
    ALERTS_PUBLISHED = "AlertsPublished"
    ALERTS_FAILED = "AlertsFailed"  # publishing failed after retries: the message is retried
