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


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    retention_days: int | None = None
    sensitive_event_names: frozenset[str] = frozenset(DEFAULT_SENSITIVE_EVENT_NAMES)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """Settings from ``TABLE_NAME``, ``RETENTION_DAYS`` and ``SENSITIVE_EVENT_NAMES`` (comma-separated)."""
        table_name = environ.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ValueError("TABLE_NAME is not set")
        retention = environ.get("RETENTION_DAYS", "").strip()
        if retention and (not retention.isdigit() or int(retention) < 1):
            raise ValueError(f"RETENTION_DAYS must be a positive whole number, not {retention!r}")
        names = environ.get("SENSITIVE_EVENT_NAMES")
        sensitive = (
            frozenset(name.strip() for name in names.split(",") if name.strip())
            if names is not None
            else frozenset(DEFAULT_SENSITIVE_EVENT_NAMES)
        )
        return cls(table_name, int(retention) if retention else None, sensitive)
