"""The function's settings: the environment the stack sets, and the one ``PipelineOptions`` built from it.

The stack writes the environment with :meth:`PipelineOptions.environment`; the function and ``redtrail ingest``
read it back with :meth:`PipelineOptions.from_env`, so the two cannot disagree on an option.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_SENSITIVE_EVENT_NAMES: tuple[str, ...] = (
    "AuthorizeDataShare",
    "DeauthorizeDataShare",
    "AssociateDataShareConsumer",
    "ModifyClusterIamRoles",
    "DeleteCluster",
    "DeleteNamespace",
    "DeleteWorkgroup",
    "ModifyCluster",
    "DisableLogging",
    "CreateCluster",
    "CreateNamespace",
    "ModifyClusterSnapshot",
    "RestoreFromClusterSnapshot",
    "RestoreTableFromClusterSnapshot",
    "AuthorizeSnapshotAccess",
    "ModifyNamespace",
    "UpdateWorkgroup",
    "DeleteClusterSnapshot",
)


DEFAULT_REDACT_FIELDS: tuple[str, ...] = (
    "requestParameters.password",
    "requestParameters.masterUserPassword",
    "requestParameters.adminUserPassword",
    "requestParameters.newMasterUserPassword",
    "requestParameters.dbPassword",
    "requestParameters.secretString",
)
"""Dotted paths replaced by REDACTED in stored events (CloudTrail hides most secrets itself, not all)."""

DEFAULT_ROUTINE_WRITE_EVENT_NAMES: tuple[str, ...] = (
    # The Data API's statement calls: a Data API workload makes them all day.
    "ExecuteStatement",
    "BatchExecuteStatement",
    "CancelStatement",
    # Query editor v2's session calls (sqlworkbench): running queries and keeping tabs.
    "DriverExecute",
    "GenerateSession",
    "PutTab",
    "DeleteTab",
    "AssociateConnectionWithTab",
    "AssociateQueryWithTab",
    "AssociateNotebookWithTab",
)
"""Write-type eventNames the write alarm does not count: routine data-plane calls, not changes to Redshift."""

DEFAULT_ALERT_MAX_AGE_HOURS = 24
# The inflated size a trail file may reach (a zip bomb inflates 1 MB to 1 GB): a quarter of the function's memory,
# as the reader may hold the text and, when every record is a candidate, about twice as much again in picks.
INFLATED_SHARE_OF_MEMORY = 4
DEFAULT_MAX_INFLATED_MB = 128  # a quarter of the function's default 512 MB; also the CLI's, which has no such memory
LAMBDA_MEMORY_VARIABLE = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"  # set by Lambda itself (MB), not by the stack
SWEEP_MINUTES = 15  # how often the schedule runs the ledger's sweep (the heartbeat alarm's period is two sweeps)


class Env(StrEnum):
    """The function's environment variables (set by infra, read here)."""

    TABLE_NAME = "TABLE_NAME"
    RETENTION_DAYS = "RETENTION_DAYS"
    SENSITIVE_EVENT_NAMES = "SENSITIVE_EVENT_NAMES"
    REDACT_FIELDS = "REDACT_FIELDS"
    DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
    TRACING = "REDTRAIL_TRACING"
    DIGEST_HEARTBEAT_MINUTES = "DIGEST_HEARTBEAT_MINUTES"
    LOG_GRACE_MINUTES = "LOG_GRACE_MINUTES"
    ROUTINE_WRITE_EVENT_NAMES = "ROUTINE_WRITE_EVENT_NAMES"
    DATASHARE_CONSUMERS = "DATASHARE_CONSUMERS"
    ALERT_TOPIC_ARN = "ALERT_TOPIC_ARN"
    ALERT_MAX_AGE_HOURS = "ALERT_MAX_AGE_HOURS"
    MAX_INFLATED_MB = "MAX_INFLATED_MB"


DEFAULT_DIGEST_HEARTBEAT_MINUTES = 90
DEFAULT_LOG_GRACE_MINUTES = 60


def default_max_inflated_mb(memory_mb: int) -> int:
    """The inflated size a function of ``memory_mb`` reads a trail file up to, when not configured: a quarter."""
    return max(memory_mb // INFLATED_SHARE_OF_MEMORY, 1)


def _max_inflated_mb(environ: Mapping[str, str]) -> int:
    """``MAX_INFLATED_MB``; unset: derived from the memory Lambda reports, else (the CLI) the fixed default."""
    text = environ.get(Env.MAX_INFLATED_MB, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{Env.MAX_INFLATED_MB} must be a positive whole number of MB, not {text!r}")
        return int(text)
    memory = environ.get(LAMBDA_MEMORY_VARIABLE, "").strip()
    if memory.isdigit() and int(memory) > 0:
        return default_max_inflated_mb(int(memory))
    return DEFAULT_MAX_INFLATED_MB


def _names(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return tuple(name.strip() for name in value.split(",") if name.strip())


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How the per-object path treats what it keeps: the same for the function and ``redtrail ingest``."""

    retention_days: int | None = None
    sensitive_event_names: tuple[str, ...] = DEFAULT_SENSITIVE_EVENT_NAMES
    redact_fields: tuple[str, ...] = DEFAULT_REDACT_FIELDS
    routine_write_event_names: tuple[str, ...] = DEFAULT_ROUTINE_WRITE_EVENT_NAMES
    # Datashare consumers (account IDs, or keywords such as ADX) a datashare may be authorized to unreported.
    datashare_consumers: tuple[str, ...] = ()
    # A file inflating to more is refused (TrailFileError) as it inflates, before it can exhaust the memory.
    max_inflated_mb: int = DEFAULT_MAX_INFLATED_MB

    @property
    def max_inflated_bytes(self) -> int:
        return self.max_inflated_mb << 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "PipelineOptions":
        """From ``RETENTION_DAYS``, ``SENSITIVE_EVENT_NAMES``, ``REDACT_FIELDS``, ``ROUTINE_WRITE_EVENT_NAMES``,
        ``DATASHARE_CONSUMERS`` (comma-separated) and ``MAX_INFLATED_MB``; unset variables take the defaults (for
        ``MAX_INFLATED_MB``, a quarter of ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` in Lambda). Raises ValueError on a
        bad retention or size."""
        retention = environ.get(Env.RETENTION_DAYS, "").strip()
        if retention and (not retention.isdigit() or int(retention) < 1):
            raise ValueError(f"{Env.RETENTION_DAYS} must be a positive whole number, not {retention!r}")
        return cls(
            int(retention) if retention else None,
            _names(environ.get(Env.SENSITIVE_EVENT_NAMES), DEFAULT_SENSITIVE_EVENT_NAMES),
            _names(environ.get(Env.REDACT_FIELDS), DEFAULT_REDACT_FIELDS),
            _names(environ.get(Env.ROUTINE_WRITE_EVENT_NAMES), DEFAULT_ROUTINE_WRITE_EVENT_NAMES),
            _names(environ.get(Env.DATASHARE_CONSUMERS), ()),
            _max_inflated_mb(environ),
        )

    def environment(self) -> dict[str, str]:
        """The variables that :meth:`from_env` reads back as these options (what the stack sets)."""
        environment = {
            Env.SENSITIVE_EVENT_NAMES.value: ",".join(self.sensitive_event_names),
            Env.REDACT_FIELDS.value: ",".join(self.redact_fields),
            Env.ROUTINE_WRITE_EVENT_NAMES.value: ",".join(self.routine_write_event_names),
            Env.DATASHARE_CONSUMERS.value: ",".join(self.datashare_consumers),
            Env.MAX_INFLATED_MB.value: str(self.max_inflated_mb),
        }
        if self.retention_days is not None:
            environment[Env.RETENTION_DAYS.value] = str(self.retention_days)
        return environment


@dataclass(frozen=True, slots=True)
class IntegrityOptions:
    """How long the ledger waits: for the next digest of a chain (the heartbeat), for a listed log file."""

    heartbeat_minutes: int = DEFAULT_DIGEST_HEARTBEAT_MINUTES
    grace_minutes: int = DEFAULT_LOG_GRACE_MINUTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "IntegrityOptions":
        return cls(
            _minutes(environ, Env.DIGEST_HEARTBEAT_MINUTES, DEFAULT_DIGEST_HEARTBEAT_MINUTES),
            _minutes(environ, Env.LOG_GRACE_MINUTES, DEFAULT_LOG_GRACE_MINUTES),
        )

    def environment(self) -> dict[str, str]:
        return {
            Env.DIGEST_HEARTBEAT_MINUTES.value: str(self.heartbeat_minutes),
            Env.LOG_GRACE_MINUTES.value: str(self.grace_minutes),
        }


def _minutes(environ: Mapping[str, str], name: Env, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive whole number of minutes, not {text!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class AlertOptions:
    """Where detection alerts go, and how old an event may be and still be alerted (older: recorded only,
    so that a backfill of last year's files does not page anyone)."""

    topic_arn: str | None = None
    max_age_hours: int = DEFAULT_ALERT_MAX_AGE_HOURS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "AlertOptions":
        hours = environ.get(Env.ALERT_MAX_AGE_HOURS, "").strip()
        if hours and (not hours.isdigit() or int(hours) < 1):
            raise ValueError(f"{Env.ALERT_MAX_AGE_HOURS} must be a positive whole number of hours, not {hours!r}")
        return cls(environ.get(Env.ALERT_TOPIC_ARN) or None, int(hours) if hours else DEFAULT_ALERT_MAX_AGE_HOURS)

    def environment(self) -> dict[str, str]:
        """The variables besides the topic's ARN (which the stack sets from the topic itself)."""
        return {Env.ALERT_MAX_AGE_HOURS.value: str(self.max_age_hours)}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the function reads from its environment."""

    table_name: str
    options: PipelineOptions = field(default_factory=PipelineOptions)
    dead_letter_queue_url: str | None = None
    integrity: IntegrityOptions = field(default_factory=IntegrityOptions)
    alerts: AlertOptions = field(default_factory=AlertOptions)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """Settings from ``TABLE_NAME``, ``DEAD_LETTER_QUEUE_URL``, the pipeline options' and the ledger's
        variables."""
        table_name = environ.get(Env.TABLE_NAME, "").strip()
        if not table_name:
            raise ValueError(f"{Env.TABLE_NAME} is not set")
        return cls(
            table_name,
            PipelineOptions.from_env(environ),
            environ.get(Env.DEAD_LETTER_QUEUE_URL) or None,
            IntegrityOptions.from_env(environ),
            AlertOptions.from_env(environ),
        )
