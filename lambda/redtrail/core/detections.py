"""The Redshift detection catalogue: risky control-plane changes found in single CloudTrail records. Pure.

Each rule names the ``(eventSource, eventName)`` pairs it reads and a predicate over ``requestParameters``
(``responseElements`` is often null for Redshift, even on success). The field names and types of every rule
were checked against the Redshift and Redshift Serverless API references and the sample events under
tests/events: the provisioned API (Query protocol) writes its members with only the first letter lower-cased
(``cIDRIP``, ``dBName``), the serverless API (JSON protocol) exactly as documented.

A failed call (``errorCode`` present) matches only the rules that ask for failures (``on_failure``).
"""

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from redtrail.core.resources import resource_of

PROVISIONED = "redshift.amazonaws.com"
SERVERLESS = "redshift-serverless.amazonaws.com"
# In a rule's ``names``: every eventName of the rule's sources.
ANY_EVENT_NAME = "*"

_ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# Parameter values are strings in both APIs; these say "off".
_OFF_VALUES = frozenset({"false", "0", "off"})
_LISTED_SNAPSHOTS = 5  # snapshot ids a batch deletion's title shows before "and N more"
_MISSING = "-"


class Severity(StrEnum):
    """How urgent a detection is. As text the values sort alphabetically: compare by ``rank``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = tuple(Severity)


def highest(severities: Iterable[Severity]) -> Severity | None:
    """The most urgent of ``severities``; None when there are none."""
    return max(severities, key=lambda severity: severity.rank, default=None)


@dataclass(frozen=True, slots=True)
class DetectionContext:
    """What the rules may know beyond the record.

    ``datashare_consumer_allowlist``: consumer identifiers (account IDs, or keywords such as ``ADX``), exactly as
    CloudTrail writes them, that datashares may be authorized to.
    """

    datashare_consumer_allowlist: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Finding:
    """A predicate's answer: the severity for this record, and the fields its rule's title reads."""

    severity: Severity
    fields: Mapping[str, str]


Predicate = Callable[[Mapping[str, Any], DetectionContext], Finding | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection: which calls it reads, its default severity, and how it tells and words a match.

    ``names`` holding ``ANY_EVENT_NAME`` reads every call of ``sources``; ``on_failure`` rules also read failed calls.
    """

    id: str
    severity: Severity
    sources: frozenset[str]
    names: frozenset[str]
    title: str
    reference: str
    predicate: Predicate
    on_failure: bool = False


@dataclass(frozen=True, slots=True)
class Detection:
    """A rule that matched a record."""

    rule: Rule
    severity: Severity
    fields: Mapping[str, str]

    def title(self, actor: str) -> str:
        """The rule's title on one line, ``{actor}`` being ``actor``; fields the finding lacks read "-"."""
        values = _TitleValues({key: _one_line(value) for key, value in self.fields.items()})
        values["actor"] = _one_line(actor)
        return self.rule.title.format_map(values)


class _TitleValues(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return _MISSING


def _one_line(value: object) -> str:
    # Record values reach the title: a newline in one must not start a line of its own.
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text or _MISSING


# Reading fields: anything but the expected JSON type reads as absent.


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _request(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(record.get("requestParameters"))


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    """The non-empty strings of a JSON array."""
    if not isinstance(value, list):
        return []
    return [text for text in map(_text, value) if text]


def _mappings(value: object) -> list[Mapping[str, Any]]:
    """The objects of a JSON array."""
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []


def _is_zero(value: object) -> bool:
    # bool is an int: false is not a retention period of 0.
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str) and value.strip() == "0"


def _off_text(value: object) -> str | None:
    """The value of a string-typed setting in lower case when it says "off"; None otherwise."""
    if value is False:
        return "false"
    if _is_zero(value):
        return "0"
    text = value.strip().lower() if isinstance(value, str) else None
    return text if text in _OFF_VALUES else None


def _field_ignoring_case(fields: Mapping[str, Any], key: str) -> Any:
    if key in fields:
        return fields[key]
    folded = key.casefold()
    return next((value for name, value in fields.items() if isinstance(name, str) and name.casefold() == folded), None)


def _arn_name(arn: str) -> str:
    """The last name of an ARN's resource part (``…:datashare:<namespace-id>/<name>`` gives ``<name>``)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or arn


def _name(value: object) -> str | None:
    text = _text(value)
    return _arn_name(text) if text and text.startswith("arn:") else text


def _resource_name(record: Mapping[str, Any]) -> str:
    """The name of the resource a call concerns (``resources.resource_of``, the items' own); "-" when none."""
    found = resource_of(record)
    return found.name if found is not None else _MISSING


def _finding(severity: Severity, resource: str | None, **fields: str | None) -> Finding:
    present = {key: value for key, value in fields.items() if value}
    return Finding(severity, {"resource": resource or _MISSING, **present})


def _event_name(record: Mapping[str, Any]) -> str | None:
    return _text(record.get("eventName"))


# Predicates: requestParameters decide, never responseElements (often null even on success).


def _cluster_public(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """``publiclyAccessible`` is true on a cluster created, modified or restored."""
    request = _request(record)
    if request.get("publiclyAccessible") is not True:
        return None
    return _finding(Severity.HIGH, _text(request.get("clusterIdentifier")))


def _workgroup_public(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """``publiclyAccessible`` is true on a workgroup created or updated."""
    request = _request(record)
    if request.get("publiclyAccessible") is not True:
        return None
    return _finding(Severity.HIGH, _text(request.get("workgroupName")))


def _audit_logging_off(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """DisableLogging on a cluster; or a namespace updated to export no logs (``logExports`` empty)."""
    request = _request(record)
    if _event_name(record) == "DisableLogging":
        return _finding(Severity.HIGH, _text(request.get("clusterIdentifier")), kind="cluster")
    # Absent means unchanged; only an explicit empty list stops every export.
    if request.get("logExports") == []:
        return _finding(Severity.HIGH, _text(request.get("namespaceName")), kind="namespace")
    return None


def _parameter_turned_off(parameter: str, severity: Severity) -> Predicate:
    """A predicate for ``parameter`` (a setting whose default is off) being set to off, or reset to its default.

    Cluster parameter groups: ModifyClusterParameterGroup ``parameters[].parameterName/parameterValue``, and
    ResetClusterParameterGroup, whose ``resetAllParameters`` defaults to true when the call names no parameters.
    Workgroups: ``configParameters[].parameterKey/parameterValue``. Which clusters use a group is not in the record.
    """

    def names_parameter(value: object) -> bool:
        text = _text(value)
        return text is not None and text.lower() == parameter

    def turned_off(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
        request = _request(record)
        event_name = _event_name(record)
        if event_name == "ModifyClusterParameterGroup":
            entries, name_key, kind, resource = "parameters", "parameterName", "parameter group", "parameterGroupName"
        elif event_name == "ResetClusterParameterGroup":
            return _parameter_reset(request, names_parameter, severity)
        else:
            entries, name_key, kind, resource = "configParameters", "parameterKey", "workgroup", "workgroupName"
        for entry in _mappings(request.get(entries)):
            value = _off_text(entry.get("parameterValue"))
            if value and names_parameter(entry.get(name_key)):
                return _finding(severity, _text(request.get(resource)), kind=kind, change=f"set to {value}")
        return None

    return turned_off


def _parameter_reset(
    request: Mapping[str, Any], names_parameter: Callable[[object], bool], severity: Severity
) -> Finding | None:
    reset_all = request.get("resetAllParameters")
    listed = _mappings(request.get("parameters"))
    if reset_all is True or (reset_all is None and not listed):
        change = "all parameters reset to defaults"
    elif any(names_parameter(entry.get("parameterName")) for entry in listed):
        change = "reset to default"
    else:
        return None
    return _finding(severity, _text(request.get("parameterGroupName")), kind="parameter group", change=change)


def _snapshot_shared(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """A snapshot's restore access granted to an account other than the one the event belongs to.

    ``accountWithRestoreAccess`` may also be the keyword ``amazon-redshift-support``; that is still an outside party.
    """
    request = _request(record)
    account = _text(request.get("accountWithRestoreAccess"))
    if account is None or account == _text(record.get("recipientAccountId")):
        return None
    snapshot = _name(request.get("snapshotIdentifier")) or _name(request.get("snapshotArn"))
    return _finding(Severity.HIGH, snapshot, account=account, cluster=_text(request.get("snapshotClusterIdentifier")))


def _datashare_to_outsider(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """A datashare authorized to a consumer outside ``context.datashare_consumer_allowlist``.

    Critical when ``allowWrites`` is true: the outside consumer may then change the producer's data, not only read it.
    """
    request = _request(record)
    consumer = _text(request.get("consumerIdentifier"))
    if consumer is None or consumer in context.datashare_consumer_allowlist:
        return None
    writes = request.get("allowWrites") is True
    return _finding(
        Severity.CRITICAL if writes else Severity.HIGH,
        _name(request.get("dataShareArn")),
        consumer=consumer,
        access="read and write" if writes else "read",
    )


def _iam_roles_attached(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """ModifyClusterIamRoles with roles in ``addIamRoles`` (removals alone grant nothing)."""
    request = _request(record)
    roles = _texts(request.get("addIamRoles"))
    if not roles:
        return None
    return _finding(Severity.MEDIUM, _text(request.get("clusterIdentifier")), roles=", ".join(roles))


def _cluster_deleted(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """DeleteCluster; critical when ``skipFinalClusterSnapshot`` is true, as the data is then gone for good."""
    request = _request(record)
    skipped = request.get("skipFinalClusterSnapshot") is True
    return _finding(
        Severity.CRITICAL if skipped else Severity.HIGH,
        _text(request.get("clusterIdentifier")),
        finalSnapshot="none" if skipped else _text(request.get("finalClusterSnapshotIdentifier")),
    )


def _namespace_deleted(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """DeleteNamespace; critical without ``finalSnapshotName``, since no final snapshot is then taken."""
    request = _request(record)
    final_snapshot = _text(request.get("finalSnapshotName"))
    return _finding(
        Severity.HIGH if final_snapshot else Severity.CRITICAL,
        _text(request.get("namespaceName")),
        finalSnapshot=final_snapshot or "none",
    )


def _snapshots_deleted(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """Manual snapshots deleted: one (provisioned or serverless) or a batch (``identifiers[].snapshotIdentifier``)."""
    request = _request(record)
    if _event_name(record) == "BatchDeleteClusterSnapshots":
        identifiers = _mappings(request.get("identifiers"))
        snapshots = [snapshot for entry in identifiers if (snapshot := _text(entry.get("snapshotIdentifier")))]
    else:
        snapshot = _text(request.get("snapshotIdentifier")) or _text(request.get("snapshotName"))
        snapshots = [snapshot] if snapshot else []
    if not snapshots:
        return None
    if len(snapshots) == 1:
        return _finding(Severity.MEDIUM, snapshots[0], kind="snapshot")
    shown = ", ".join(snapshots[:_LISTED_SNAPSHOTS])
    more = len(snapshots) - _LISTED_SNAPSHOTS
    return _finding(
        Severity.MEDIUM, f"{shown} and {more} more" if more > 0 else shown, kind=f"{len(snapshots)} snapshots"
    )


def _admin_password_changed(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """A new admin password sent: the key's presence tells, its value is always a placeholder."""
    request = _request(record)
    if _event_name(record) == "UpdateNamespace":
        if "adminUserPassword" not in request:
            return None
        return _finding(Severity.MEDIUM, _text(request.get("namespaceName")), kind="namespace")
    if "masterUserPassword" not in request:
        return None
    return _finding(Severity.MEDIUM, _text(request.get("clusterIdentifier")), kind="cluster")


def _snapshot_copy_enabled(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """Snapshots copied to another region: EnableSnapshotCopy (cluster), CreateSnapshotCopyConfiguration (namespace)."""
    request = _request(record)
    if _event_name(record) == "EnableSnapshotCopy":
        kind, resource = "cluster", _text(request.get("clusterIdentifier"))
    else:
        kind, resource = "namespace", _text(request.get("namespaceName"))
    return _finding(Severity.MEDIUM, resource, kind=kind, destinationRegion=_text(request.get("destinationRegion")))


def _automated_snapshots_off(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """``automatedSnapshotRetentionPeriod`` of 0, which stops automated snapshots."""
    request = _request(record)
    if not _is_zero(request.get("automatedSnapshotRetentionPeriod")):
        return None
    return _finding(Severity.HIGH, _text(request.get("clusterIdentifier")))


def _encryption_off(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """``encrypted`` false: a cluster created unencrypted, or an encrypted one decrypted."""
    request = _request(record)
    if request.get("encrypted") is not False:
        return None
    return _finding(Severity.HIGH, _text(request.get("clusterIdentifier")))


def _ingress_from_anywhere(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """A cluster security group opened to every address (``cIDRIP`` with prefix length 0).

    The key is looked up ignoring case: ``cIDRIP`` follows from the casing rule, no Redshift record shows it.
    """
    request = _request(record)
    cidr = _text(_field_ignoring_case(request, "cIDRIP"))
    if cidr is None:
        return None
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    if network.prefixlen != 0:
        return None
    return _finding(Severity.HIGH, _text(request.get("clusterSecurityGroupName")), cidr=cidr)


def _access_denied(record: Mapping[str, Any], context: DetectionContext) -> Finding | None:
    """A write call refused for lack of permission (read-only calls are too noisy to report)."""
    code = _text(record.get("errorCode"))
    if code is None or not (code in _ACCESS_DENIED_CODES or code.endswith("AccessDenied")):
        return None
    read_only = record.get("readOnly")
    # As for the items' isWrite: some records write readOnly as a string.
    if read_only is True or (isinstance(read_only, str) and read_only.strip().lower() == "true"):
        return None
    return _finding(Severity.LOW, _resource_name(record), eventName=_event_name(record), errorCode=code)


def _docs(service: str, page: str) -> str:
    return f"https://docs.aws.amazon.com/{service}/latest/APIReference/{page}.html"


_BOTH = frozenset({PROVISIONED, SERVERLESS})

RULES: tuple[Rule, ...] = (
    Rule(
        id="redshift-cluster-public",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"CreateCluster", "ModifyCluster", "RestoreFromClusterSnapshot"}),
        title="{actor} made cluster {resource} publicly accessible",
        reference=_docs("redshift", "API_ModifyCluster"),
        predicate=_cluster_public,
    ),
    Rule(
        id="redshift-serverless-workgroup-public",
        severity=Severity.HIGH,
        sources=frozenset({SERVERLESS}),
        names=frozenset({"CreateWorkgroup", "UpdateWorkgroup"}),
        title="{actor} made workgroup {resource} publicly accessible",
        reference=_docs("redshift-serverless", "API_UpdateWorkgroup"),
        predicate=_workgroup_public,
    ),
    Rule(
        id="redshift-audit-logging-disabled",
        severity=Severity.HIGH,
        sources=_BOTH,
        names=frozenset({"DisableLogging", "UpdateNamespace"}),
        title="{actor} turned off audit logging of {kind} {resource}",
        reference=_docs("redshift", "API_DisableLogging"),
        predicate=_audit_logging_off,
    ),
    Rule(
        id="redshift-require-ssl-off",
        severity=Severity.HIGH,
        sources=_BOTH,
        names=frozenset(
            {"ModifyClusterParameterGroup", "ResetClusterParameterGroup", "CreateWorkgroup", "UpdateWorkgroup"}
        ),
        title="{actor} turned off require_ssl in {kind} {resource} ({change})",
        reference=_docs("redshift", "API_ModifyClusterParameterGroup"),
        predicate=_parameter_turned_off("require_ssl", Severity.HIGH),
    ),
    Rule(
        id="redshift-user-activity-logging-off",
        severity=Severity.MEDIUM,
        sources=_BOTH,
        names=frozenset(
            {"ModifyClusterParameterGroup", "ResetClusterParameterGroup", "CreateWorkgroup", "UpdateWorkgroup"}
        ),
        title="{actor} turned off enable_user_activity_logging in {kind} {resource} ({change})",
        reference=_docs("redshift", "API_ModifyClusterParameterGroup"),
        predicate=_parameter_turned_off("enable_user_activity_logging", Severity.MEDIUM),
    ),
    Rule(
        id="redshift-snapshot-shared",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"AuthorizeSnapshotAccess"}),
        title="{actor} shared snapshot {resource} with account {account}",
        reference=_docs("redshift", "API_AuthorizeSnapshotAccess"),
        predicate=_snapshot_shared,
    ),
    Rule(
        id="redshift-datashare-external-consumer",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"AuthorizeDataShare"}),
        title="{actor} authorized datashare {resource} to consumer {consumer} ({access})",
        reference=_docs("redshift", "API_AuthorizeDataShare"),
        predicate=_datashare_to_outsider,
    ),
    Rule(
        id="redshift-iam-roles-attached",
        severity=Severity.MEDIUM,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"ModifyClusterIamRoles"}),
        title="{actor} attached IAM roles {roles} to cluster {resource}",
        reference=_docs("redshift", "API_ModifyClusterIamRoles"),
        predicate=_iam_roles_attached,
    ),
    Rule(
        id="redshift-cluster-deleted",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"DeleteCluster"}),
        title="{actor} deleted cluster {resource} (final snapshot: {finalSnapshot})",
        reference=_docs("redshift", "API_DeleteCluster"),
        predicate=_cluster_deleted,
    ),
    Rule(
        id="redshift-serverless-namespace-deleted",
        severity=Severity.HIGH,
        sources=frozenset({SERVERLESS}),
        names=frozenset({"DeleteNamespace"}),
        title="{actor} deleted namespace {resource} (final snapshot: {finalSnapshot})",
        reference=_docs("redshift-serverless", "API_DeleteNamespace"),
        predicate=_namespace_deleted,
    ),
    Rule(
        id="redshift-snapshots-deleted",
        severity=Severity.MEDIUM,
        sources=_BOTH,
        names=frozenset({"DeleteClusterSnapshot", "BatchDeleteClusterSnapshots", "DeleteSnapshot"}),
        title="{actor} deleted {kind} {resource}",
        reference=_docs("redshift", "API_DeleteClusterSnapshot"),
        predicate=_snapshots_deleted,
    ),
    Rule(
        id="redshift-admin-password-changed",
        severity=Severity.MEDIUM,
        sources=_BOTH,
        names=frozenset({"ModifyCluster", "UpdateNamespace"}),
        title="{actor} changed the admin password of {kind} {resource}",
        reference=_docs("redshift", "API_ModifyCluster"),
        predicate=_admin_password_changed,
    ),
    Rule(
        id="redshift-cross-region-snapshot-copy",
        severity=Severity.MEDIUM,
        sources=_BOTH,
        names=frozenset({"EnableSnapshotCopy", "CreateSnapshotCopyConfiguration"}),
        title="{actor} enabled copying snapshots of {kind} {resource} to {destinationRegion}",
        reference=_docs("redshift", "API_EnableSnapshotCopy"),
        predicate=_snapshot_copy_enabled,
    ),
    Rule(
        id="redshift-automated-snapshots-off",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"CreateCluster", "ModifyCluster", "RestoreFromClusterSnapshot"}),
        title="{actor} turned off automated snapshots of cluster {resource}",
        reference=_docs("redshift", "API_ModifyCluster"),
        predicate=_automated_snapshots_off,
    ),
    Rule(
        id="redshift-cluster-unencrypted",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"CreateCluster", "ModifyCluster"}),
        title="{actor} made cluster {resource} unencrypted",
        reference=_docs("redshift", "API_ModifyCluster"),
        predicate=_encryption_off,
    ),
    Rule(
        id="redshift-security-group-open-ingress",
        severity=Severity.HIGH,
        sources=frozenset({PROVISIONED}),
        names=frozenset({"AuthorizeClusterSecurityGroupIngress"}),
        title="{actor} opened cluster security group {resource} to {cidr}",
        reference=_docs("redshift", "API_AuthorizeClusterSecurityGroupIngress"),
        predicate=_ingress_from_anywhere,
    ),
    Rule(
        id="redshift-access-denied",
        severity=Severity.LOW,
        sources=_BOTH,
        names=frozenset({ANY_EVENT_NAME}),
        title="{actor} was denied {eventName} on {resource}",
        reference="https://docs.aws.amazon.com/redshift/latest/mgmt/redshift-iam-authentication-access-control.html",
        predicate=_access_denied,
        on_failure=True,
    ),
)

RULES_BY_ID: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rule in RULES})


def _index(rules: Sequence[Rule]) -> Mapping[tuple[str, str], tuple[Rule, ...]]:
    index: dict[tuple[str, str], list[Rule]] = {}
    for rule in rules:
        for source in sorted(rule.sources):
            for name in sorted(rule.names):
                index.setdefault((source, name), []).append(rule)
    return MappingProxyType({key: tuple(found) for key, found in index.items()})


_RULES_BY_EVENT = _index(RULES)


def rules_for(event_source: str, event_name: str) -> tuple[Rule, ...]:
    """The rules that read ``(event_source, event_name)`` records, in catalogue order within each kind.

    Rules naming the event come first, then those that read every event of the source.
    """
    every_event = _RULES_BY_EVENT.get((event_source, ANY_EVENT_NAME), ())
    if event_name == ANY_EVENT_NAME:  # a record that calls itself "*" gets those once
        return every_event
    return _RULES_BY_EVENT.get((event_source, event_name), ()) + every_event


def detect(record: Mapping[str, Any], context: DetectionContext) -> list[Detection]:
    """The rules ``record`` matches, with the severity and title fields of each; never raises on odd JSON."""
    if not isinstance(record, Mapping):
        return []
    source, name = record.get("eventSource"), record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        return []
    error_code = record.get("errorCode")
    failed = error_code is not None and error_code != ""
    detections = []
    for rule in rules_for(source, name):
        if failed and not rule.on_failure:
            continue
        finding = rule.predicate(record, context)
        if finding is not None:
            detections.append(Detection(rule, finding.severity, finding.fields))
    return detections
