"""Metric names and namespace: one list, used by the Lambda (EMF) and by the stack's alarms."""

from enum import StrEnum

NAMESPACE = "Redtrail"
SERVICE = "redtrail"
SOURCE_DIMENSION = "EventSource"


class MetricName(StrEnum):
    FILES_PROCESSED = "FilesProcessed"
    FILES_SKIPPED = "FilesSkipped"
    FILES_FAILED = "FilesFailed"
    FILES_DEAD_LETTERED = "FilesDeadLettered"
    RECORDS_READ = "RecordsRead"
    RECORDS_REJECTED = "RecordsRejected"
    RECORDS_QUARANTINED = "RecordsQuarantined"
    EVENTS_KEPT = "EventsKept"
    WRITE_EVENTS = "WriteEvents"
    SENSITIVE_EVENTS = "SensitiveEvents"
    ENCRYPTION_CONTEXT_MATCHES = "EncryptionContextMatches"
    ITEMS_WRITTEN = "ItemsWritten"
    EVENTS_BY_SOURCE = "EventsBySource"
