"""Run-time settings of the ingest path, read from the environment the stack sets."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

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


def _names(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return tuple(name.strip() for name in value.split(",") if name.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    retention_days: int | None = None
    sensitive_event_names: frozenset[str] = frozenset(DEFAULT_SENSITIVE_EVENT_NAMES)
    redact_fields: tuple[str, ...] = DEFAULT_REDACT_FIELDS
    dead_letter_queue_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """Settings from ``TABLE_NAME``, ``RETENTION_DAYS``, ``SENSITIVE_EVENT_NAMES`` and ``REDACT_FIELDS``
        (comma-separated) and ``DEAD_LETTER_QUEUE_URL``."""
        table_name = environ.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ValueError("TABLE_NAME is not set")
        retention = environ.get("RETENTION_DAYS", "").strip()
        if retention and (not retention.isdigit() or int(retention) < 1):
            raise ValueError(f"RETENTION_DAYS must be a positive whole number, not {retention!r}")
        return cls(
            table_name,
            int(retention) if retention else None,
            frozenset(_names(environ.get("SENSITIVE_EVENT_NAMES"), DEFAULT_SENSITIVE_EVENT_NAMES)),
            _names(environ.get("REDACT_FIELDS"), DEFAULT_REDACT_FIELDS),
            environ.get("DEAD_LETTER_QUEUE_URL") or None,
        )
