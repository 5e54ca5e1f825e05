"""The stack's settings: every CDK context key, its default, and how it is parsed and checked."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from aws_cdk import aws_logs as logs

from redtrail.contracts.settings import (
    DEFAULT_ALERT_MAX_AGE_HOURS,
    DEFAULT_DIGEST_HEARTBEAT_MINUTES,
    DEFAULT_LOG_GRACE_MINUTES,
    DEFAULT_REDACT_FIELDS,
    DEFAULT_ROUTINE_WRITE_EVENT_NAMES,
    DEFAULT_SENSITIVE_EVENT_NAMES,
    AlertOptions,
    IntegrityOptions,
    PipelineOptions,
    default_max_inflated_mb,
)
from redtrail.contracts.stack_outputs import DEFAULT_STACK_NAME


class ConfigError(ValueError):
    """A context value that cannot be used; the message names the key."""


class SourceMode(StrEnum):
    """How new trail files reach the ingest queue (docs: README, "Deploy to AWS")."""

    NOTIFICATION = "notification"  # the bucket's S3 event notification (ObjectCreated:*) -> the queue
    EVENTBRIDGE = "eventbridge"  # the bucket's EventBridge "Object Created" events -> a rule -> the queue
    SNS = "sns"  # the trail's own SNS topic (CloudTrail notifies it per log file) -> a subscription -> the queue


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
# A Powertools release (the layer's public SSM parameter exists per release: /aws/service/powertools/...).
_POWERTOOLS_VERSION = re.compile(r"^(latest|\d+\.\d+\.\d+)$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_CONSUMER = re.compile(r"^(\d{12}|[A-Z]{2,16}|arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[A-Za-z0-9:/_.-]+)$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
# The retentions CloudWatch Logs accepts (the CDK enum's values are names, not days).
LOG_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Everything a deployment can choose; built from the CDK context by :meth:`from_context`."""

    stack_name: str = DEFAULT_STACK_NAME
    trail_bucket_name: str | None = None
    trail_prefix: str = ""
    trail_kms_key_arn: str | None = None
    source_mode: SourceMode = SourceMode.NOTIFICATION
    trail_sns_topic_arn: str | None = None
    retention_days: int | None = None
    sensitive_event_names: tuple[str, ...] = DEFAULT_SENSITIVE_EVENT_NAMES
    redact_fields: tuple[str, ...] = DEFAULT_REDACT_FIELDS
    alarm_email: str | None = None
    write_events_threshold: int = 1
    write_events_period_minutes: int = 5
    queue_age_alarm_minutes: int = 30
    batch_size: int = 10
    max_concurrency: int = 5
    max_receive_count: int = 5
    function_timeout_seconds: int = 120
    function_memory_mb: int = 512
    max_inflated_mb: int | None = None  # None: a quarter of function_memory_mb
    log_retention_days: int = 90
    tracing: bool = True
    powertools_version: str = "latest"
    digest_heartbeat_minutes: int = DEFAULT_DIGEST_HEARTBEAT_MINUTES
    log_grace_minutes: int = DEFAULT_LOG_GRACE_MINUTES
    routine_write_event_names: tuple[str, ...] = DEFAULT_ROUTINE_WRITE_EVENT_NAMES
    datashare_consumers: tuple[str, ...] = ()
    alert_email: str | None = None
    alert_max_age_hours: int = DEFAULT_ALERT_MAX_AGE_HOURS

    def __post_init__(self) -> None:
        if self.log_retention_days not in LOG_RETENTION:
            raise ConfigError(
                f"context key logRetentionDays: {self.log_retention_days} is not a CloudWatch Logs retention"
            )
        if self.trail_kms_key_arn and not self.trail_bucket_name:
            raise ConfigError(
                "context key trailKmsKeyArn: only applies with trailBucketName "
                "(the trail this stack creates writes SSE-S3 encrypted files)"
            )
        if self.source_mode is SourceMode.SNS and not (self.trail_bucket_name and self.trail_sns_topic_arn):
            raise ConfigError(
                "context key sourceMode: sns reads an existing trail's SNS topic: it needs trailBucketName and "
                "trailSnsTopicArn (the stack's own trail uses notification or eventbridge)"
            )
        if self.trail_sns_topic_arn and self.source_mode is not SourceMode.SNS:
            raise ConfigError("context key trailSnsTopicArn: only applies with sourceMode=sns")

    @property
    def uses_existing_bucket(self) -> bool:
        """True when the stack reads an existing trail bucket instead of creating bucket and trail."""
        return self.trail_bucket_name is not None

    @property
    def trail_key_prefix(self) -> str:
        """Where trail files start: ``<trailPrefix>AWSLogs/``."""
        return f"{self.trail_prefix}AWSLogs/"

    @property
    def pipeline_options(self) -> PipelineOptions:
        """The options the function (and ``redtrail ingest``, reading the function's environment) runs with."""
        return PipelineOptions(
            self.retention_days,
            self.sensitive_event_names,
            self.redact_fields,
            self.routine_write_event_names,
            self.datashare_consumers,
            self.inflate_limit_mb,
        )

    @property
    def inflate_limit_mb(self) -> int:
        """The inflated size the function reads a trail file up to: ``maxInflatedMb``, else derived from its memory."""
        return self.max_inflated_mb or default_max_inflated_mb(self.function_memory_mb)

    @property
    def alert_options(self) -> AlertOptions:
        """The alerts' settings besides the topic (which the stack makes)."""
        return AlertOptions(max_age_hours=self.alert_max_age_hours)

    @property
    def integrity_options(self) -> IntegrityOptions:
        return IntegrityOptions(self.digest_heartbeat_minutes, self.log_grace_minutes)

    @property
    def log_retention(self) -> logs.RetentionDays:
        """The function's log retention as the CDK enum."""
        return LOG_RETENTION[self.log_retention_days]

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> "StackConfig":
        """Settings from a context lookup such as ``app.node.try_get_context``; raises ConfigError."""
        values: dict[str, Any] = {}
        for key in CONTEXT_KEYS:
            raw = get(key.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            values[key.field] = key.parse(key.name, raw)
        return cls(**values)


# Parsers: (context key, raw value) -> field value. Values from `-c` are strings; cdk.json may hold JSON types.


def _text(pattern: re.Pattern[str], expected: str) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        value = str(raw).strip()
        if not isinstance(raw, str) or not pattern.fullmatch(value):
            raise ConfigError(f"context key {name}: expected {expected}, got {raw!r}")
        return value

    return parse


def _whole(minimum: int, maximum: int, allowed: frozenset[int] | None = None) -> Callable[[str, Any], int]:
    def parse(name: str, raw: Any) -> int:
        text = str(raw).strip()
        if isinstance(raw, bool) or not re.fullmatch(r"\d+", text):
            raise ConfigError(f"context key {name}: expected a whole number from {minimum} to {maximum}, got {raw!r}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise ConfigError(f"context key {name}: expected a whole number from {minimum} to {maximum}, got {value}")
        if allowed is not None and value not in allowed:
            choices = ", ".join(str(choice) for choice in sorted(allowed))
            raise ConfigError(f"context key {name}: {value} is not a CloudWatch Logs retention; use one of {choices}")
        return value

    return parse


def _boolean(name: str, raw: Any) -> bool:
    text = str(raw).strip().lower()
    if text in {"true", "yes", "on", "1"}:
        return True
    if text in {"false", "no", "off", "0"}:
        return False
    raise ConfigError(f"context key {name}: expected true or false, got {raw!r}")


def _source_mode(name: str, raw: Any) -> SourceMode:
    text = str(raw).strip().lower()
    try:
        return SourceMode(text)
    except ValueError:
        choices = ", ".join(mode.value for mode in SourceMode)
        raise ConfigError(f"context key {name}: expected one of {choices}, got {raw!r}") from None


def _prefix(name: str, raw: Any) -> str:
    value = _text(_PREFIX, "an S3 key prefix such as 'org/' (letters, digits, !_.*'()/-)")(name, raw).strip("/")
    return f"{value}/" if value else ""


def _event_names(name: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    names = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    bad = [item for item in names if not _EVENT_NAME.fullmatch(item)]
    if bad or not names:
        raise ConfigError(f"context key {name}: expected comma-separated CloudTrail eventNames, got {raw!r}")
    return names


def _event_names_or_none(name: str, raw: Any) -> tuple[str, ...]:
    """Like ``_event_names``, and ``none`` for the empty list."""
    if str(raw).strip().lower() == "none":
        return ()
    return _event_names(name, raw)


def _consumers(name: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    values = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    bad = [item for item in values if not _CONSUMER.fullmatch(item)]
    if bad:
        raise ConfigError(
            f"context key {name}: expected comma-separated account IDs, consumer ARNs or keywords (ADX), got {raw!r}"
        )
    return values


_FIELD_PATH = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")


def _field_paths(name: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    paths = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    bad = [item for item in paths if not _FIELD_PATH.fullmatch(item)]
    if bad:
        raise ConfigError(f"context key {name}: expected comma-separated dotted field paths, got {raw!r}")
    return paths


@dataclass(frozen=True, slots=True)
class ContextKey:
    """One documented context key and the StackConfig field it sets."""

    name: str
    field: str
    parse: Callable[[str, Any], Any]
    meaning: str
    unset: str = ""  # what an absent value means, for keys whose default is None or empty


CONTEXT_KEYS: tuple[ContextKey, ...] = (
    ContextKey("stackName", "stack_name", _text(_STACK_NAME, "a CloudFormation stack name"), "Name of the stack."),
    ContextKey(
        "trailBucketName",
        "trail_bucket_name",
        _text(_BUCKET_NAME, "an S3 bucket name (3-63 characters: a-z, 0-9, dots, hyphens)"),
        "Existing bucket that a CloudTrail trail delivers to. The stack adds its S3 notification and keeps the "
        "bucket's other notifications.",
        unset="none: the stack creates an encrypted, TLS-only, versioned, access-logged bucket and a multi-region "
        "trail with log file validation that records management events, read events included (KMS `Decrypt` is a "
        "read event). If the account already has a trail, this second trail's management events are billed.",
    ),
    ContextKey(
        "trailPrefix",
        "trail_prefix",
        _prefix,
        "S3 key prefix of the trail (the part before `AWSLogs/`). The function may read only "
        "`<prefix>AWSLogs/*`; with the stack's own trail, it is the trail's prefix.",
        unset="none (`AWSLogs/` at the bucket root)",
    ),
    ContextKey(
        "trailKmsKeyArn",
        "trail_kms_key_arn",
        _text(_KMS_KEY_ARN, "a KMS key ARN"),
        "KMS key that encrypts the existing trail's files (SSE-KMS); the function may decrypt with this key only. "
        "Needs `trailBucketName`; the key policy must let IAM policies of the account grant its use.",
        unset="none (files are not KMS-encrypted)",
    ),
    ContextKey(
        "sourceMode",
        "source_mode",
        _source_mode,
        "How new trail files reach the ingest queue: `notification` (an S3 event notification, "
        "`s3:ObjectCreated:*` on `<prefix>AWSLogs/` keys ending `.json.gz`; the bucket in this account and region, "
        "no overlapping notification), `eventbridge` (a rule on the bucket's EventBridge `Object Created` events; "
        "the stack turns EventBridge on for its own bucket, an existing bucket's owner turns it on) or `sns` (the "
        "existing trail's SNS topic, `trailSnsTopicArn`; needs `trailBucketName`).",
    ),
    ContextKey(
        "trailSnsTopicArn",
        "trail_sns_topic_arn",
        _text(_SNS_TOPIC_ARN, "an SNS topic ARN"),
        "SNS topic the existing trail notifies of each log file it delivers; the ingest queue subscribes to it and "
        "accepts messages from that topic only. Needs `sourceMode=sns`.",
        unset="none",
    ),
    ContextKey(
        "retentionDays",
        "retention_days",
        _whole(1, 36500),
        "Days to keep each event: the function sets the table's TTL attribute to event time + N days.",
        unset="none: keep forever",
    ),
    ContextKey(
        "sensitiveEventNames",
        "sensitive_event_names",
        _event_names,
        "Comma-separated eventNames that count as sensitive; any one of them raises the sensitive-operations alarm "
        "(5-minute period).",
    ),
    ContextKey(
        "redactFields",
        "redact_fields",
        _field_paths,
        "Comma-separated dotted paths whose values are replaced by REDACTED in the stored event (CloudTrail's own "
        "HIDDEN_DUE_TO_SECURITY_REASONS stays as is).",
    ),
    ContextKey(
        "alarmEmail",
        "alarm_email",
        _text(_EMAIL, "an email address"),
        "Email address subscribed to the alarm topic (confirm the subscription email).",
        unset="none: no subscription",
    ),
    ContextKey(
        "writeEventsThreshold",
        "write_events_threshold",
        _whole(1, 1_000_000),
        "Write-type Redshift events in one period that raise the write-events alarm.",
    ),
    ContextKey(
        "writeEventsPeriodMinutes",
        "write_events_period_minutes",
        _whole(1, 1440),
        "Period of the write-events alarm, in minutes.",
    ),
    ContextKey(
        "queueAgeAlarmMinutes",
        "queue_age_alarm_minutes",
        _whole(1, 20160),
        "Age of the oldest message in the ingest queue that raises the queue-age alarm, in minutes.",
    ),
    ContextKey("batchSize", "batch_size", _whole(1, 10), "SQS messages per function invocation."),
    ContextKey(
        "maxConcurrency",
        "max_concurrency",
        _whole(2, 1000),
        "Maximum concurrent function invocations the SQS event source starts.",
    ),
    ContextKey(
        "maxReceiveCount",
        "max_receive_count",
        _whole(1, 1000),
        "Attempts per message before it moves to the dead-letter queue.",
    ),
    ContextKey(
        "functionTimeoutSeconds",
        "function_timeout_seconds",
        _whole(10, 900),
        "Function timeout; the queue's visibility timeout is 6 times this.",
    ),
    ContextKey("functionMemoryMb", "function_memory_mb", _whole(128, 10240), "Function memory, in MB."),
    ContextKey(
        "maxInflatedMb",
        "max_inflated_mb",
        _whole(1, 10240),
        "Size in MB a trail file may inflate to: a larger one (a zip bomb: 1 MB of gzip can inflate to 1 GB) is "
        "refused as it inflates, before it can exhaust the function's memory, and goes to the dead-letter queue "
        "with the reason `inflates beyond N MB` (the function's `MAX_INFLATED_MB`).",
        unset="a quarter of `functionMemoryMb` (128 for 512)",
    ),
    ContextKey(
        "logRetentionDays",
        "log_retention_days",
        _whole(1, 3653, frozenset(LOG_RETENTION)),
        "Retention of the function's log group, in days (a CloudWatch Logs retention value).",
    ),
    ContextKey(
        "tracing",
        "tracing",
        _boolean,
        "X-Ray tracing of the function (Lambda active tracing and the Powertools Tracer's subsegments for its AWS "
        "calls); `false` leaves the X-Ray SDK unloaded, which shortens cold starts (docs/architecture.md).",
    ),
    ContextKey(
        "powertoolsVersion",
        "powertools_version",
        _text(_POWERTOOLS_VERSION, "a Powertools for AWS Lambda (Python) release such as 3.23.0, or latest"),
        "Powertools layer release, read from its public SSM parameter "
        "`/aws/service/powertools/python/<arch>/<runtime>/<version>` at each deploy: `latest` moves to each new "
        "release; a version such as `3.23.0` pins the layer.",
    ),
    ContextKey(
        "digestHeartbeatMinutes",
        "digest_heartbeat_minutes",
        _whole(61, 10080),
        "Minutes without a digest file from a trail's chain (CloudTrail delivers one every hour) after which the "
        "`DigestLate` heartbeat alarm fires: logging was stopped, validation turned off, or delivery broke.",
    ),
    ContextKey(
        "logGraceMinutes",
        "log_grace_minutes",
        _whole(5, 10080),
        "Minutes a log file listed by a digest may take to arrive before it is `LOG_NOT_DELIVERED` (and a digest "
        "its successor names, before the chain has a gap).",
    ),
    ContextKey(
        "routineWriteEventNames",
        "routine_write_event_names",
        _event_names_or_none,
        "Comma-separated write-type eventNames the write-events alarm does not count (`none`: count every write): "
        "routine data-plane calls, still stored and queryable. `redtrail query --alarmed` lists what it counts.",
    ),
    ContextKey(
        "datashareConsumers",
        "datashare_consumers",
        _consumers,
        "Comma-separated datashare consumers (account IDs, consumer ARNs, or keywords such as ADX) that a "
        "datashare may be authorized to without a `redshift-datashare-external-consumer` detection.",
        unset="none: every authorization is detected",
    ),
    ContextKey(
        "alertEmail",
        "alert_email",
        _text(_EMAIL, "an email address"),
        "Email address subscribed to the alerts topic (one message per detected event; confirm the subscription).",
        unset="none: no subscription",
    ),
    ContextKey(
        "alertMaxAgeHours",
        "alert_max_age_hours",
        _whole(1, 8760),
        "Events older than this many hours when they arrive (a backfill) are detected and recorded, not alerted.",
    ),
)


def _default_text(key: ContextKey, defaults: Mapping[str, Any]) -> str:
    default = defaults[key.field]
    if default is None or default in ("", ()):
        return key.unset
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple):
        return ", ".join(f"`{item}`" for item in default)
    return f"`{default}`"


def context_keys_markdown() -> str:
    """The context-key table of docs/context-keys.md, generated from CONTEXT_KEYS."""
    defaults = {item.name: item.default for item in fields(StackConfig)}
    lines = [
        "# Context keys",
        "",
        "Set with `npx cdk deploy -c KEY=VALUE` (or in `cdk.json` under `context`). Generated from `infra/config.py`.",
        "",
        "| Key | Default | Meaning |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{key.name}` | {_default_text(key, defaults)} | {key.meaning} |" for key in CONTEXT_KEYS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m infra.config > docs/context-keys.md
    print(context_keys_markdown(), end="")
