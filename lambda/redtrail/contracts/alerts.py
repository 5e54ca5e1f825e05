"""Detection items and alert messages: the names the function writes and the CLI reads.

One small item per detected (event, rule), keyed ``schema.alert_key(eventID, rule)``, records the detection and
whether its alert went out; it carries copies of the event's summary attributes, so that ``redtrail query
--detection``/``--severity`` and ``redtrail alerts`` are each one Query on ``byDetection``/``bySeverity``, and
the event's time as ``alertTime``, so that it is in none of the event indexes (all sorted on ``eventTime``).
"""

from enum import StrEnum

from redtrail.contracts import schema

ALERT_EVENT = "alertEvent"  # the event's eventID
ALERT_RULE = schema.BY_DETECTION.partition_key  # the rule's id
ALERT_SEVERITY = schema.BY_SEVERITY.partition_key  # the severity of this detection (low … critical)
ALERT_TIME = schema.BY_DETECTION.sort_key  # the event's eventTime (not under that name: see schema.BY_DETECTION)
ALERT_STATE = "alertState"
ALERT_SUBJECT = "alertSubject"  # the alert's subject line: "[HIGH] alice made cluster x publicly accessible"
ALERT_REFERENCE = "alertReference"  # the rule's reference URL
DETECTED_AT = "detectedAt"  # when the function first recorded the detection
ALERTED_AT = "alertedAt"  # when its alert was published
# The event's attributes a detection item copies (its eventTime as ALERT_TIME).
COPIED_ATTRIBUTES: tuple[str, ...] = (
    "eventName",
    "eventSource",
    "awsRegion",
    "recipientAccountId",
    "principal",
    "principalArn",
    "actor",
    "resource",
    "parentResource",
    "sourceIPAddress",
    "sourceObject",
    "errorCode",
    "isWrite",
)

# SNS message attributes of an alert, for subscription filter policies.
MESSAGE_SEVERITY = "severity"
MESSAGE_RULE = "rule"
MESSAGE_EVENT_NAME = "eventName"
MESSAGE_ACCOUNT = "account"
MAX_SUBJECT_LENGTH = 99  # SNS: "less than 100 characters"


class AlertState(StrEnum):
    """What became of a detection's alert."""

    PENDING = "pending"  # recorded; being published (by the invocation that recorded it)
    SENT = "sent"
    FAILED = "failed"  # publishing failed after retries: the next delivery of its file publishes it
    OLD = "old"  # the event was older than the alert age limit when it arrived: recorded, not sent
