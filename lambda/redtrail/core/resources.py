"""The Redshift resource a CloudTrail event concerns: ``kind:name``, and its parent when the event names one. Pure.

The field names are the API members of the botocore service models (redshift 2012-12-01, redshift-serverless
2021-04-21, redshift-data 2019-12-20) and of the Amazon Redshift, Redshift Serverless and Data API references,
spelt as CloudTrail writes them: with only the first letter lower-cased (``DBName`` is ``dBName``). Query editor v2
(``sqlworkbench``) publishes no model; its fields are those of recorded events.

Each field is read from ``requestParameters``, then from ``responseElements`` (often null, even when the call
returned something), in a precedence per service; ``_RULES`` holds the calls that differ (a restore is about the
cluster or namespace it creates, not the snapshot it reads). A value that is an ARN names its own kind. Redshift
Serverless and query editor v2 ARNs carry ids, not names: a TagResource on a workgroup is ``workgroup:<uuid>``
where its CreateWorkgroup is ``workgroup:<name>``. ``namespace`` holds both the serverless namespace's name and
the provisioned namespace's id that datashare ARNs carry.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What a resource is (the resource type of its Redshift ARN, where it has one)."""

    CLUSTER = "cluster"
    NAMESPACE = "namespace"
    WORKGROUP = "workgroup"
    DATASHARE = "datashare"
    SNAPSHOT = "snapshot"
    PARAMETER_GROUP = "parametergroup"
    SUBNET_GROUP = "subnetgroup"
    SECURITY_GROUP = "securitygroup"
    USAGE_LIMIT = "usagelimit"
    ENDPOINT = "endpoint"  # a Redshift-managed VPC endpoint, of a cluster or a workgroup
    SCHEDULED_ACTION = "scheduledaction"
    SNAPSHOT_SCHEDULE = "snapshotschedule"
    SNAPSHOT_COPY_GRANT = "snapshotcopygrant"
    EVENT_SUBSCRIPTION = "eventsubscription"
    HSM_CLIENT_CERTIFICATE = "hsmclientcertificate"
    HSM_CONFIGURATION = "hsmconfiguration"
    AUTHENTICATION_PROFILE = "authenticationprofile"
    CUSTOM_DOMAIN = "customdomain"
    INTEGRATION = "integration"
    IDC_APPLICATION = "redshiftidcapplication"
    QEV2_IDC_APPLICATION = "qev2idcapplication"
    RESERVED_NODE = "reservednode"
    RESERVATION = "reservation"  # Redshift Serverless capacity
    CONNECTION = "connection"  # query editor v2


# What a parent can be: a cluster (of snapshots, usage limits, endpoints, scheduled actions), a namespace (of
# datashares, serverless snapshots and workgroups, integrations) or a workgroup (of serverless endpoints).
PARENT_KINDS = frozenset({Kind.CLUSTER, Kind.NAMESPACE, Kind.WORKGROUP})


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource as ``kind:name``; ``parent`` is what it belongs to when the event says (a snapshot's cluster)."""

    kind: str
    name: str
    parent: "Resource | None" = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def key(self) -> str:
        """``kind:name``, as stored and as typed on the command line."""
        return f"{self.kind}:{self.name}"


_REQUEST, _RESPONSE = "requestParameters", "responseElements"
_REDSHIFT = "redshift.amazonaws.com"
_SERVERLESS = "redshift-serverless.amazonaws.com"
_DATA_API = "redshift-data.amazonaws.com"
_QUERY_EDITOR = "sqlworkbench.amazonaws.com"

# A dotted path into a section (``x[]``: the list's only element) and the kind of a name found there; None: the
# value counts only as an ARN. An ARN always names its own kind.
_Field = tuple[str, Kind | None]


@dataclass(frozen=True, slots=True)
class _Service:
    fields: tuple[_Field, ...]  # first found wins
    parents: Mapping[str, tuple[_Field, ...]]  # by the kind found
    wrapped: bool = False  # responseElements hold the result one level down ({"workgroup": {...}})


_SERVICES = {
    _REDSHIFT: _Service(
        fields=(
            ("dataShareArn", Kind.DATASHARE),
            # Objects whose calls also name their cluster come before it.
            ("scheduledActionName", Kind.SCHEDULED_ACTION),
            ("usageLimitId", Kind.USAGE_LIMIT),
            ("endpointName", Kind.ENDPOINT),
            ("snapshotIdentifier", Kind.SNAPSHOT),
            ("snapshotArn", Kind.SNAPSHOT),
            ("identifiers[].snapshotIdentifier", Kind.SNAPSHOT),
            ("snapshotIdentifierList[]", Kind.SNAPSHOT),
            ("clusterIdentifier", Kind.CLUSTER),
            ("clusterIds[]", Kind.CLUSTER),
            ("namespaceIdentifier.provisionedIdentifier.clusterIdentifier", Kind.CLUSTER),
            ("namespaceIdentifier.serverlessIdentifier.namespaceIdentifier", Kind.NAMESPACE),
            # Objects that cluster calls name as settings (CreateCluster's subnet group) come after it.
            ("parameterGroupName", Kind.PARAMETER_GROUP),
            ("clusterSubnetGroupName", Kind.SUBNET_GROUP),
            ("clusterSecurityGroupName", Kind.SECURITY_GROUP),
            ("subscriptionName", Kind.EVENT_SUBSCRIPTION),
            ("scheduleIdentifier", Kind.SNAPSHOT_SCHEDULE),
            ("authenticationProfileName", Kind.AUTHENTICATION_PROFILE),
            ("hsmClientCertificateIdentifier", Kind.HSM_CLIENT_CERTIFICATE),
            ("hsmConfigurationIdentifier", Kind.HSM_CONFIGURATION),
            ("snapshotCopyGrantName", Kind.SNAPSHOT_COPY_GRANT),
            # Create calls name these by a name; the id is in the response, when there is one.
            ("integrationArn", Kind.INTEGRATION),
            ("integrationName", Kind.INTEGRATION),
            ("redshiftIdcApplicationArn", Kind.IDC_APPLICATION),
            ("redshiftIdcApplicationName", Kind.IDC_APPLICATION),
            ("qev2IdcApplicationArn", Kind.QEV2_IDC_APPLICATION),
            ("qev2IdcApplicationName", Kind.QEV2_IDC_APPLICATION),
            ("reservedNodeId", Kind.RESERVED_NODE),
            ("resourceName", None),  # tags
            ("resourceArn", None),  # resource policies
            ("producerArn", Kind.NAMESPACE),
            ("consumerArn", Kind.NAMESPACE),
            ("namespaceArn", Kind.NAMESPACE),
            ("targetArn", None),
            ("customDomainName", Kind.CUSTOM_DOMAIN),
        ),
        parents={
            Kind.SNAPSHOT: (
                ("snapshotClusterIdentifier", Kind.CLUSTER),
                ("sourceSnapshotClusterIdentifier", Kind.CLUSTER),
                ("identifiers[].snapshotClusterIdentifier", Kind.CLUSTER),
                ("clusterIdentifier", Kind.CLUSTER),
            ),
            Kind.USAGE_LIMIT: (("clusterIdentifier", Kind.CLUSTER),),
            Kind.ENDPOINT: (("clusterIdentifier", Kind.CLUSTER),),
            Kind.SCHEDULED_ACTION: (
                ("targetAction.pauseCluster.clusterIdentifier", Kind.CLUSTER),
                ("targetAction.resumeCluster.clusterIdentifier", Kind.CLUSTER),
                ("targetAction.resizeCluster.clusterIdentifier", Kind.CLUSTER),
            ),
            # A zero-ETL integration fills a namespace (a cluster's or a serverless one's, by its ARN).
            Kind.INTEGRATION: (("targetArn", None),),
        },
    ),
    _SERVERLESS: _Service(
        fields=(
            ("scheduledActionName", Kind.SCHEDULED_ACTION),
            ("usageLimitId", Kind.USAGE_LIMIT),
            ("endpointName", Kind.ENDPOINT),
            ("snapshotName", Kind.SNAPSHOT),
            ("snapshotArn", Kind.SNAPSHOT),
            ("reservationId", Kind.RESERVATION),
            # Workgroups before namespaces: CreateWorkgroup names its namespace.
            ("workgroupName", Kind.WORKGROUP),
            ("workgroupNames[]", Kind.WORKGROUP),
            ("namespaceName", Kind.NAMESPACE),
            ("namespaceArn", Kind.NAMESPACE),
            ("resourceArn", None),  # tags, resource policies, usage limits
            ("customDomainName", Kind.CUSTOM_DOMAIN),
        ),
        parents={
            Kind.WORKGROUP: (("namespaceName", Kind.NAMESPACE),),
            Kind.SNAPSHOT: (("namespaceName", Kind.NAMESPACE),),
            Kind.SCHEDULED_ACTION: (
                ("namespaceName", Kind.NAMESPACE),
                ("targetAction.createSnapshot.namespaceName", Kind.NAMESPACE),
            ),
            Kind.ENDPOINT: (("workgroupName", Kind.WORKGROUP),),
            Kind.USAGE_LIMIT: (("resourceArn", None),),
        },
        wrapped=True,
    ),
    # The only recorded Data API events write clusterIdentifier; both spellings until a serverless one is seen.
    _DATA_API: _Service(
        fields=(
            ("clusterIdentifier", Kind.CLUSTER),
            ("ClusterIdentifier", Kind.CLUSTER),
            ("workgroupName", Kind.WORKGROUP),  # a name or an ARN
            ("WorkgroupName", Kind.WORKGROUP),
        ),
        parents={},
    ),
    _QUERY_EDITOR: _Service(
        fields=(
            ("clusterId", Kind.CLUSTER),  # a workgroup when isServerless is true beside it
            ("connection.connectableResourceIdentifier", None),
            ("connectableResourceIdentifier", None),
            ("connectionId", Kind.CONNECTION),
            ("connection.id", Kind.CONNECTION),
            ("sqlworkbenchConnectionArn", Kind.CONNECTION),
            ("resourceArn", None),
            ("id", None),  # the connection ARN in responseElements.data
        ),
        parents={},
        wrapped=True,  # {"result": true, "code": "", "data": {...}}
    ),
}
# Records of other services (the KMS calls Redshift makes) or without an eventSource: the common names.
_OTHERS = _Service(
    fields=(
        ("dataShareArn", Kind.DATASHARE),
        ("clusterIdentifier", Kind.CLUSTER),
        ("clusterId", Kind.CLUSTER),
        ("workgroupName", Kind.WORKGROUP),
        ("namespaceName", Kind.NAMESPACE),
    ),
    parents={},
)

_NEW_CLUSTER: tuple[_Field, ...] = (("clusterIdentifier", Kind.CLUSTER),)
_TARGET_NAMESPACE: tuple[_Field, ...] = (("namespaceName", Kind.NAMESPACE),)
# The calls whose resource is not the first of their service's fields; tried before those fields.
_RULES: dict[tuple[str, str], tuple[_Field, ...]] = {
    # Restores are about what they create or fill, not the snapshot or recovery point they read.
    (_REDSHIFT, "RestoreFromClusterSnapshot"): _NEW_CLUSTER,
    (_REDSHIFT, "RestoreTableFromClusterSnapshot"): _NEW_CLUSTER,
    (_REDSHIFT, "CopyClusterSnapshot"): (("targetSnapshotIdentifier", Kind.SNAPSHOT),),
    (_SERVERLESS, "RestoreFromSnapshot"): _TARGET_NAMESPACE,
    (_SERVERLESS, "RestoreFromRecoveryPoint"): _TARGET_NAMESPACE,
    (_SERVERLESS, "RestoreTableFromSnapshot"): _TARGET_NAMESPACE,
    (_SERVERLESS, "RestoreTableFromRecoveryPoint"): _TARGET_NAMESPACE,
    # Their responses name a workgroup and a snapshot too; recovery points and table restores are a namespace's.
    (_SERVERLESS, "GetRecoveryPoint"): _TARGET_NAMESPACE,
    (_SERVERLESS, "GetTableRestoreStatus"): _TARGET_NAMESPACE,
    (_QUERY_EDITOR, "GetQSqlRecommendation"): (
        ("databaseConfiguration.redshiftConfig.clusterIdentifier", Kind.CLUSTER),
        ("databaseConfiguration.redshiftConfig.workgroupName", Kind.WORKGROUP),
    ),
}

# Calls that name their resource by an identifier and its type beside it: (name field, type field, kinds by type).
_TYPED: dict[tuple[str, str], tuple[str, str, Mapping[str, Kind]]] = {
    (_REDSHIFT, "DescribeEvents"): (
        "sourceIdentifier",
        "sourceType",
        {
            "cluster": Kind.CLUSTER,
            "cluster-parameter-group": Kind.PARAMETER_GROUP,
            "cluster-security-group": Kind.SECURITY_GROUP,
            "cluster-snapshot": Kind.SNAPSHOT,
            "scheduled-action": Kind.SCHEDULED_ACTION,
        },
    ),
}

_REDSHIFT_ARN_KINDS = (
    Kind.CLUSTER,
    Kind.NAMESPACE,
    Kind.DATASHARE,
    Kind.SNAPSHOT,
    Kind.PARAMETER_GROUP,
    Kind.SUBNET_GROUP,
    Kind.SECURITY_GROUP,
    Kind.USAGE_LIMIT,
    Kind.SNAPSHOT_SCHEDULE,
    Kind.SNAPSHOT_COPY_GRANT,
    Kind.EVENT_SUBSCRIPTION,
    Kind.HSM_CLIENT_CERTIFICATE,
    Kind.HSM_CONFIGURATION,
    Kind.INTEGRATION,
    Kind.IDC_APPLICATION,
    Kind.QEV2_IDC_APPLICATION,
)
# By the ARN's service, its resource types.
_ARN_KINDS: dict[str, dict[str, Kind]] = {
    "redshift": {kind.value: kind for kind in _REDSHIFT_ARN_KINDS} | {"securitygroupingress": Kind.SECURITY_GROUP},
    "redshift-serverless": {
        "namespace": Kind.NAMESPACE,
        "workgroup": Kind.WORKGROUP,
        "snapshot": Kind.SNAPSHOT,
        "managedvpcendpoint": Kind.ENDPOINT,
        "usagelimit": Kind.USAGE_LIMIT,
    },
    "sqlworkbench": {"connection": Kind.CONNECTION},
}
# ``snapshot:<cluster>/<name>``, ``datashare:<producer namespace id>/<name>``
_OWNER_IN_ARN = {Kind.SNAPSHOT: Kind.CLUSTER, Kind.DATASHARE: Kind.NAMESPACE}
# Redshift writes ``type:name``; Redshift Serverless and query editor v2 ``type/id``.
_ARN_TYPE = re.compile(r"([^:/]*)[:/]")
_KINDS = {kind.value: kind for kind in Kind}
# What CloudTrail writes in place of a value it does not show.
_MASKS = frozenset({"HIDDEN_DUE_TO_SECURITY_REASONS", "***OMITTED***"})


def resource_of(record: Mapping[str, Any]) -> Resource | None:
    """The Redshift resource ``record`` concerns, or None when it names none. Never raises."""
    if not isinstance(record, Mapping):
        return None
    source, name = _text(record.get("eventSource")), _text(record.get("eventName"))
    service = _SERVICES.get(source, _OTHERS) if source else _OTHERS
    sections = (_views(record.get(_REQUEST), wrapped=False), _views(record.get(_RESPONSE), wrapped=service.wrapped))
    rules = _RULES.get((source, name), ()) if source and name else ()
    typed = _TYPED.get((source, name)) if source and name else None
    if typed is not None:
        rules = (*rules, *_typed_fields(record.get(_REQUEST), *typed))
    for field in (*rules, *service.fields):
        found = _find(sections, field)
        if found is not None:
            return found if found.parent is not None else _with_parent(found, sections, service)
    return _from_encryption_context(record)


def _typed_fields(request: object, name: str, type_field: str, kinds: Mapping[str, Kind]) -> tuple[_Field, ...]:
    """The field that names the resource, of the kind its type field says (none for an unknown type)."""
    kind = kinds.get(_text(request.get(type_field)) or "") if isinstance(request, Mapping) else None
    return ((name, kind),) if kind is not None else ()


def parse_resource_key(text: str) -> Resource | None:
    """The resource a user names as ``kind:name`` (``cluster:c1``) or by its ARN; None for an unknown kind."""
    text = text.strip() if isinstance(text, str) else ""
    if text.startswith("arn:"):
        return _arn_resource(text)
    kind, _, name = text.partition(":")
    known, name = _KINDS.get(kind.strip().lower()), name.strip()
    return Resource(known, name) if known and name else None


def _views(section: object, *, wrapped: bool) -> tuple[Mapping[str, Any], ...]:
    """The mappings a section's fields are looked up in: itself, then the objects it wraps."""
    if not isinstance(section, Mapping):
        return ()
    if not wrapped:
        return (section,)
    return (section, *(value for value in section.values() if isinstance(value, Mapping)))


def _find(sections: tuple[tuple[Mapping[str, Any], ...], ...], field: _Field) -> Resource | None:
    path, kind = field
    nested = "." in path or "[" in path
    for views in sections:
        for view in views:
            value = _at(view, path) if nested else view.get(path)
            found = _resource(value, kind) if value is not None else None
            if found is None:
                continue
            # Query editor v2 names a serverless workgroup in clusterId, with isServerless beside it.
            if found.kind is Kind.CLUSTER and view.get("isServerless") in (True, "true"):
                return Resource(Kind.WORKGROUP, found.name)
            return found
    return None


def _with_parent(found: Resource, sections: tuple[tuple[Mapping[str, Any], ...], ...], service: _Service) -> Resource:
    for field in service.parents.get(found.kind, ()):
        parent = _find(sections, field)
        if parent is not None:
            return Resource(found.kind, found.name, parent)
    return found


def _at(view: Mapping[str, Any], path: str) -> object:
    node: object = view
    for part in path.split("."):
        name = part.removesuffix("[]")
        node = node.get(name) if isinstance(node, Mapping) else None
        if name != part:
            # A batch call that names several resources is about none of them in particular.
            node = node[0] if isinstance(node, list | tuple) and len(node) == 1 else None
    return node


def _resource(value: object, kind: Kind | None) -> Resource | None:
    text = _text(value)
    if text is None:
        return None
    if text.startswith("arn:"):
        return _arn_resource(text)
    return Resource(kind, text) if kind is not None else None


def _arn_resource(arn: str) -> Resource | None:
    """The resource a Redshift, Redshift Serverless or query editor v2 ARN names."""
    parts = arn.split(":", 5)
    typed = _ARN_TYPE.match(parts[5]) if len(parts) == 6 else None
    kind = _ARN_KINDS.get(parts[2], {}).get(typed[1]) if typed else None
    if kind is None or typed is None:
        return None
    name = parts[5][typed.end() :]
    owner_kind = _OWNER_IN_ARN.get(kind)
    if owner_kind and "/" in name:
        owner, _, name = name.partition("/")
        return Resource(kind, name, Resource(owner_kind, owner)) if owner and name else None
    if kind is Kind.SECURITY_GROUP:
        name = name.partition("/")[0]  # <name>/ec2securitygroup/<owner>/<sg-id> or <name>/cidrip/<range>
    return Resource(kind, name) if name else None


def _from_encryption_context(record: Mapping[str, Any]) -> Resource | None:
    """What a KMS call Redshift makes is for: the ARN under ``aws:redshift:arn`` (or another ``aws:redshift…:arn``)."""
    for section in (_REQUEST, _RESPONSE):
        fields = record.get(section)
        context = fields.get("encryptionContext") if isinstance(fields, Mapping) else None
        if not isinstance(context, Mapping):
            continue
        for key, value in context.items():
            if isinstance(key, str) and key.startswith("aws:redshift") and key.endswith(":arn"):
                found = _resource(value, None)
                if found is not None:
                    return found
    return None


def _text(value: object) -> str | None:
    """A string that names something: not empty and not masked by CloudTrail (``***``)."""
    if not isinstance(value, str) or not value.strip("*") or value in _MASKS:
        return None
    return value
