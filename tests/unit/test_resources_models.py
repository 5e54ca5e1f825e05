"""Every operation of the botocore service models, mapped: the resource ``resource_of`` reads from its request.

For each operation of Redshift, Redshift Serverless and the Data API, a request is built from the operation's input
shape as CloudTrail writes it (member names with the first letter lower-cased), every string member holding its own
name (an ARN member: an ARN whose name is the member's), so the pinned answer says which field was read. A new or
changed operation in a botocore upgrade fails here until it is looked at and pinned.
"""

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from botocore.loaders import create_loader

from redtrail.core.resources import resource_of

SOURCES = {
    "redshift": "redshift.amazonaws.com",
    "redshift-serverless": "redshift-serverless.amazonaws.com",
    "redshift-data": "redshift-data.amazonaws.com",
}
REDSHIFT = "arn:aws:redshift:us-east-1:111122223333"
SERVERLESS = "arn:aws:redshift-serverless:us-east-1:111122223333"
# The ARN members that name a Redshift resource, by service: the ARN's beginning (the member's name ends it). Tags
# and resource policies are on a cluster here (other kinds: test_resources.py); every other ARN is not Redshift's.
ARNS = {
    "redshift": {
        "dataShareArn": f"{REDSHIFT}:datashare:producer/",
        "snapshotArn": f"{REDSHIFT}:snapshot:owner/",
        "resourceName": f"{REDSHIFT}:cluster:",
        "resourceArn": f"{REDSHIFT}:cluster:",
        "integrationArn": f"{REDSHIFT}:integration:",
        "redshiftIdcApplicationArn": f"{REDSHIFT}:redshiftidcapplication:",
        "qev2IdcApplicationArn": f"{REDSHIFT}:qev2idcapplication:",
        "namespaceArn": f"{REDSHIFT}:namespace:",
        "producerArn": f"{REDSHIFT}:namespace:",
        "consumerArn": f"{REDSHIFT}:namespace:",
        "targetArn": f"{REDSHIFT}:namespace:",
    },
    "redshift-serverless": {
        "resourceArn": f"{SERVERLESS}:workgroup/",
        "snapshotArn": f"{SERVERLESS}:snapshot/",
        "namespaceArn": f"{SERVERLESS}:namespace/",
    },
    "redshift-data": {},
}
OTHER_ARN = "arn:aws:iam::111122223333:role/"
MAX_DEPTH = 6

# service:Operation -> "kind:field" read from the request (" < kind:field": its parent), None: it names none.
OPERATIONS: dict[str, str | None] = {
    "redshift:AcceptReservedNodeExchange": "reservednode:reservedNodeId",
    "redshift:AddPartner": "cluster:clusterIdentifier",
    "redshift:AssociateDataShareConsumer": "datashare:dataShareArn < namespace:producer",
    "redshift:AuthorizeClusterSecurityGroupIngress": "securitygroup:clusterSecurityGroupName",
    "redshift:AuthorizeDataShare": "datashare:dataShareArn < namespace:producer",
    "redshift:AuthorizeEndpointAccess": "cluster:clusterIdentifier",
    "redshift:AuthorizeSnapshotAccess": "snapshot:snapshotIdentifier < cluster:snapshotClusterIdentifier",
    "redshift:BatchDeleteClusterSnapshots": "snapshot:snapshotIdentifier < cluster:snapshotClusterIdentifier",
    "redshift:BatchModifyClusterSnapshots": "snapshot:snapshotIdentifierList",
    "redshift:CancelResize": "cluster:clusterIdentifier",
    "redshift:CopyClusterSnapshot": "snapshot:targetSnapshotIdentifier < cluster:sourceSnapshotClusterIdentifier",
    "redshift:CreateAuthenticationProfile": "authenticationprofile:authenticationProfileName",
    "redshift:CreateCluster": "cluster:clusterIdentifier",
    "redshift:CreateClusterParameterGroup": "parametergroup:parameterGroupName",
    "redshift:CreateClusterSecurityGroup": "securitygroup:clusterSecurityGroupName",
    "redshift:CreateClusterSnapshot": "snapshot:snapshotIdentifier < cluster:clusterIdentifier",
    "redshift:CreateClusterSubnetGroup": "subnetgroup:clusterSubnetGroupName",
    "redshift:CreateCustomDomainAssociation": "cluster:clusterIdentifier",
    "redshift:CreateEndpointAccess": "endpoint:endpointName < cluster:clusterIdentifier",
    "redshift:CreateEventSubscription": "eventsubscription:subscriptionName",
    "redshift:CreateHsmClientCertificate": "hsmclientcertificate:hsmClientCertificateIdentifier",
    "redshift:CreateHsmConfiguration": "hsmconfiguration:hsmConfigurationIdentifier",
    "redshift:CreateIntegration": "integration:integrationName < namespace:targetArn",
    "redshift:CreateQev2IdcApplication": "qev2idcapplication:qev2IdcApplicationName",
    "redshift:CreateRedshiftIdcApplication": "redshiftidcapplication:redshiftIdcApplicationName",
    "redshift:CreateScheduledAction": "scheduledaction:scheduledActionName < cluster:clusterIdentifier",
    "redshift:CreateSnapshotCopyGrant": "snapshotcopygrant:snapshotCopyGrantName",
    "redshift:CreateSnapshotSchedule": "snapshotschedule:scheduleIdentifier",
    "redshift:CreateTags": "cluster:resourceName",
    "redshift:CreateUsageLimit": "cluster:clusterIdentifier",
    "redshift:DeauthorizeDataShare": "datashare:dataShareArn < namespace:producer",
    "redshift:DeleteAuthenticationProfile": "authenticationprofile:authenticationProfileName",
    "redshift:DeleteCluster": "cluster:clusterIdentifier",
    "redshift:DeleteClusterParameterGroup": "parametergroup:parameterGroupName",
    "redshift:DeleteClusterSecurityGroup": "securitygroup:clusterSecurityGroupName",
    "redshift:DeleteClusterSnapshot": "snapshot:snapshotIdentifier < cluster:snapshotClusterIdentifier",
    "redshift:DeleteClusterSubnetGroup": "subnetgroup:clusterSubnetGroupName",
    "redshift:DeleteCustomDomainAssociation": "cluster:clusterIdentifier",
    "redshift:DeleteEndpointAccess": "endpoint:endpointName",
    "redshift:DeleteEventSubscription": "eventsubscription:subscriptionName",
    "redshift:DeleteHsmClientCertificate": "hsmclientcertificate:hsmClientCertificateIdentifier",
    "redshift:DeleteHsmConfiguration": "hsmconfiguration:hsmConfigurationIdentifier",
    "redshift:DeleteIntegration": "integration:integrationArn",
    "redshift:DeletePartner": "cluster:clusterIdentifier",
    "redshift:DeleteQev2IdcApplication": "qev2idcapplication:qev2IdcApplicationArn",
    "redshift:DeleteRedshiftIdcApplication": "redshiftidcapplication:redshiftIdcApplicationArn",
    "redshift:DeleteResourcePolicy": "cluster:resourceArn",
    "redshift:DeleteScheduledAction": "scheduledaction:scheduledActionName",
    "redshift:DeleteSnapshotCopyGrant": "snapshotcopygrant:snapshotCopyGrantName",
    "redshift:DeleteSnapshotSchedule": "snapshotschedule:scheduleIdentifier",
    "redshift:DeleteTags": "cluster:resourceName",
    "redshift:DeleteUsageLimit": "usagelimit:usageLimitId",
    "redshift:DeregisterNamespace": "cluster:clusterIdentifier",
    "redshift:DescribeAccountAttributes": None,
    "redshift:DescribeAuthenticationProfiles": "authenticationprofile:authenticationProfileName",
    "redshift:DescribeClusterDbRevisions": "cluster:clusterIdentifier",
    "redshift:DescribeClusterParameterGroups": "parametergroup:parameterGroupName",
    "redshift:DescribeClusterParameters": "parametergroup:parameterGroupName",
    "redshift:DescribeClusterSecurityGroups": "securitygroup:clusterSecurityGroupName",
    "redshift:DescribeClusterSnapshots": "snapshot:snapshotIdentifier < cluster:clusterIdentifier",
    "redshift:DescribeClusterSubnetGroups": "subnetgroup:clusterSubnetGroupName",
    "redshift:DescribeClusterTracks": None,
    "redshift:DescribeClusterVersions": None,
    "redshift:DescribeClusters": "cluster:clusterIdentifier",
    "redshift:DescribeCustomDomainAssociations": "customdomain:customDomainName",
    "redshift:DescribeDataShares": "datashare:dataShareArn < namespace:producer",
    "redshift:DescribeDataSharesForConsumer": "namespace:consumerArn",
    "redshift:DescribeDataSharesForProducer": "namespace:producerArn",
    "redshift:DescribeDefaultClusterParameters": None,
    "redshift:DescribeEndpointAccess": "endpoint:endpointName < cluster:clusterIdentifier",
    "redshift:DescribeEndpointAuthorization": "cluster:clusterIdentifier",
    "redshift:DescribeEventCategories": None,
    "redshift:DescribeEventSubscriptions": "eventsubscription:subscriptionName",
    "redshift:DescribeEvents": "cluster:sourceIdentifier",
    "redshift:DescribeHsmClientCertificates": "hsmclientcertificate:hsmClientCertificateIdentifier",
    "redshift:DescribeHsmConfigurations": "hsmconfiguration:hsmConfigurationIdentifier",
    "redshift:DescribeInboundIntegrations": "integration:integrationArn < namespace:targetArn",
    "redshift:DescribeIntegrations": "integration:integrationArn",
    "redshift:DescribeLoggingStatus": "cluster:clusterIdentifier",
    "redshift:DescribeNodeConfigurationOptions": "snapshot:snapshotIdentifier < cluster:clusterIdentifier",
    "redshift:DescribeOrderableClusterOptions": None,
    "redshift:DescribePartners": "cluster:clusterIdentifier",
    "redshift:DescribeQev2IdcApplications": "qev2idcapplication:qev2IdcApplicationArn",
    "redshift:DescribeRedshiftIdcApplications": "redshiftidcapplication:redshiftIdcApplicationArn",
    "redshift:DescribeReservedNodeExchangeStatus": "reservednode:reservedNodeId",
    "redshift:DescribeReservedNodeOfferings": None,
    "redshift:DescribeReservedNodes": "reservednode:reservedNodeId",
    "redshift:DescribeResize": "cluster:clusterIdentifier",
    "redshift:DescribeScheduledActions": "scheduledaction:scheduledActionName",
    "redshift:DescribeSnapshotCopyGrants": "snapshotcopygrant:snapshotCopyGrantName",
    "redshift:DescribeSnapshotSchedules": "cluster:clusterIdentifier",
    "redshift:DescribeStorage": None,
    "redshift:DescribeTableRestoreStatus": "cluster:clusterIdentifier",
    "redshift:DescribeTags": "cluster:resourceName",
    "redshift:DescribeUsageLimits": "usagelimit:usageLimitId < cluster:clusterIdentifier",
    "redshift:DisableLogging": "cluster:clusterIdentifier",
    "redshift:DisableSnapshotCopy": "cluster:clusterIdentifier",
    "redshift:DisassociateDataShareConsumer": "datashare:dataShareArn < namespace:producer",
    "redshift:EnableLogging": "cluster:clusterIdentifier",
    "redshift:EnableSnapshotCopy": "cluster:clusterIdentifier",
    "redshift:FailoverPrimaryCompute": "cluster:clusterIdentifier",
    "redshift:GetClusterCredentials": "cluster:clusterIdentifier",
    "redshift:GetClusterCredentialsWithIAM": "cluster:clusterIdentifier",
    "redshift:GetIdentityCenterAuthToken": "cluster:clusterIds",
    "redshift:GetReservedNodeExchangeConfigurationOptions": "snapshot:snapshotIdentifier < cluster:clusterIdentifier",
    "redshift:GetReservedNodeExchangeOfferings": "reservednode:reservedNodeId",
    "redshift:GetResourcePolicy": "cluster:resourceArn",
    "redshift:ListRecommendations": "cluster:clusterIdentifier",
    "redshift:ModifyAquaConfiguration": "cluster:clusterIdentifier",
    "redshift:ModifyAuthenticationProfile": "authenticationprofile:authenticationProfileName",
    "redshift:ModifyCluster": "cluster:clusterIdentifier",
    "redshift:ModifyClusterDbRevision": "cluster:clusterIdentifier",
    "redshift:ModifyClusterIamRoles": "cluster:clusterIdentifier",
    "redshift:ModifyClusterMaintenance": "cluster:clusterIdentifier",
    "redshift:ModifyClusterParameterGroup": "parametergroup:parameterGroupName",
    "redshift:ModifyClusterSnapshot": "snapshot:snapshotIdentifier",
    "redshift:ModifyClusterSnapshotSchedule": "cluster:clusterIdentifier",
    "redshift:ModifyClusterSubnetGroup": "subnetgroup:clusterSubnetGroupName",
    "redshift:ModifyCustomDomainAssociation": "cluster:clusterIdentifier",
    "redshift:ModifyEndpointAccess": "endpoint:endpointName",
    "redshift:ModifyEventSubscription": "eventsubscription:subscriptionName",
    "redshift:ModifyIntegration": "integration:integrationArn",
    "redshift:ModifyLakehouseConfiguration": "cluster:clusterIdentifier",
    "redshift:ModifyQev2IdcApplication": "qev2idcapplication:qev2IdcApplicationArn",
    "redshift:ModifyRedshiftIdcApplication": "redshiftidcapplication:redshiftIdcApplicationArn",
    "redshift:ModifyScheduledAction": "scheduledaction:scheduledActionName < cluster:clusterIdentifier",
    "redshift:ModifySnapshotCopyRetentionPeriod": "cluster:clusterIdentifier",
    "redshift:ModifySnapshotSchedule": "snapshotschedule:scheduleIdentifier",
    "redshift:ModifyUsageLimit": "usagelimit:usageLimitId",
    "redshift:PauseCluster": "cluster:clusterIdentifier",
    "redshift:PurchaseReservedNodeOffering": None,  # the response names the reserved node
    "redshift:PutResourcePolicy": "cluster:resourceArn",
    "redshift:RebootCluster": "cluster:clusterIdentifier",
    "redshift:RegisterNamespace": "cluster:clusterIdentifier",
    "redshift:RejectDataShare": "datashare:dataShareArn < namespace:producer",
    "redshift:ResetClusterParameterGroup": "parametergroup:parameterGroupName",
    "redshift:ResizeCluster": "cluster:clusterIdentifier",
    "redshift:RestoreFromClusterSnapshot": "cluster:clusterIdentifier",
    "redshift:RestoreTableFromClusterSnapshot": "cluster:clusterIdentifier",
    "redshift:ResumeCluster": "cluster:clusterIdentifier",
    "redshift:RevokeClusterSecurityGroupIngress": "securitygroup:clusterSecurityGroupName",
    "redshift:RevokeEndpointAccess": "cluster:clusterIdentifier",
    "redshift:RevokeSnapshotAccess": "snapshot:snapshotIdentifier < cluster:snapshotClusterIdentifier",
    "redshift:RotateEncryptionKey": "cluster:clusterIdentifier",
    "redshift:UpdatePartnerStatus": "cluster:clusterIdentifier",
    "redshift-serverless:ConvertRecoveryPointToSnapshot": "snapshot:snapshotName",
    "redshift-serverless:CreateCustomDomainAssociation": "workgroup:workgroupName",
    "redshift-serverless:CreateEndpointAccess": "endpoint:endpointName < workgroup:workgroupName",
    "redshift-serverless:CreateNamespace": "namespace:namespaceName",
    "redshift-serverless:CreateReservation": None,  # the response names the reservation
    "redshift-serverless:CreateScheduledAction": "scheduledaction:scheduledActionName < namespace:namespaceName",
    "redshift-serverless:CreateSnapshot": "snapshot:snapshotName < namespace:namespaceName",
    "redshift-serverless:CreateSnapshotCopyConfiguration": "namespace:namespaceName",
    "redshift-serverless:CreateUsageLimit": "workgroup:resourceArn",
    "redshift-serverless:CreateWorkgroup": "workgroup:workgroupName < namespace:namespaceName",
    "redshift-serverless:DeleteCustomDomainAssociation": "workgroup:workgroupName",
    "redshift-serverless:DeleteEndpointAccess": "endpoint:endpointName",
    "redshift-serverless:DeleteNamespace": "namespace:namespaceName",
    "redshift-serverless:DeleteResourcePolicy": "workgroup:resourceArn",
    "redshift-serverless:DeleteScheduledAction": "scheduledaction:scheduledActionName",
    "redshift-serverless:DeleteSnapshot": "snapshot:snapshotName",
    "redshift-serverless:DeleteSnapshotCopyConfiguration": None,  # the response names the namespace
    "redshift-serverless:DeleteUsageLimit": "usagelimit:usageLimitId",
    "redshift-serverless:DeleteWorkgroup": "workgroup:workgroupName",
    "redshift-serverless:GetCredentials": "workgroup:workgroupName",
    "redshift-serverless:GetCustomDomainAssociation": "workgroup:workgroupName",
    "redshift-serverless:GetEndpointAccess": "endpoint:endpointName",
    "redshift-serverless:GetIdentityCenterAuthToken": "workgroup:workgroupNames",
    "redshift-serverless:GetNamespace": "namespace:namespaceName",
    "redshift-serverless:GetRecoveryPoint": None,  # the response names the namespace
    "redshift-serverless:GetReservation": "reservation:reservationId",
    "redshift-serverless:GetReservationOffering": None,
    "redshift-serverless:GetResourcePolicy": "workgroup:resourceArn",
    "redshift-serverless:GetScheduledAction": "scheduledaction:scheduledActionName",
    "redshift-serverless:GetSnapshot": "snapshot:snapshotName",
    "redshift-serverless:GetTableRestoreStatus": None,  # the response names the namespace
    "redshift-serverless:GetTrack": None,
    "redshift-serverless:GetUsageLimit": "usagelimit:usageLimitId",
    "redshift-serverless:GetWorkgroup": "workgroup:workgroupName",
    "redshift-serverless:ListCustomDomainAssociations": "customdomain:customDomainName",
    "redshift-serverless:ListEndpointAccess": "workgroup:workgroupName",
    "redshift-serverless:ListManagedWorkgroups": None,
    "redshift-serverless:ListNamespaces": None,
    "redshift-serverless:ListRecoveryPoints": "namespace:namespaceName",
    "redshift-serverless:ListReservationOfferings": None,
    "redshift-serverless:ListReservations": None,
    "redshift-serverless:ListScheduledActions": "namespace:namespaceName",
    "redshift-serverless:ListSnapshotCopyConfigurations": "namespace:namespaceName",
    "redshift-serverless:ListSnapshots": "namespace:namespaceName",
    "redshift-serverless:ListTableRestoreStatus": "workgroup:workgroupName < namespace:namespaceName",
    "redshift-serverless:ListTagsForResource": "workgroup:resourceArn",
    "redshift-serverless:ListTracks": None,
    "redshift-serverless:ListUsageLimits": "workgroup:resourceArn",
    "redshift-serverless:ListWorkgroups": None,
    "redshift-serverless:PutResourcePolicy": "workgroup:resourceArn",
    "redshift-serverless:RestoreFromRecoveryPoint": "namespace:namespaceName",
    "redshift-serverless:RestoreFromSnapshot": "namespace:namespaceName",
    "redshift-serverless:RestoreTableFromRecoveryPoint": "namespace:namespaceName",
    "redshift-serverless:RestoreTableFromSnapshot": "namespace:namespaceName",
    "redshift-serverless:TagResource": "workgroup:resourceArn",
    "redshift-serverless:UntagResource": "workgroup:resourceArn",
    "redshift-serverless:UpdateCustomDomainAssociation": "workgroup:workgroupName",
    "redshift-serverless:UpdateEndpointAccess": "endpoint:endpointName",
    "redshift-serverless:UpdateLakehouseConfiguration": "namespace:namespaceName",
    "redshift-serverless:UpdateNamespace": "namespace:namespaceName",
    "redshift-serverless:UpdateScheduledAction": "scheduledaction:scheduledActionName < namespace:namespaceName",
    "redshift-serverless:UpdateSnapshot": "snapshot:snapshotName",
    "redshift-serverless:UpdateSnapshotCopyConfiguration": None,  # the response names the namespace
    "redshift-serverless:UpdateUsageLimit": "usagelimit:usageLimitId",
    "redshift-serverless:UpdateWorkgroup": "workgroup:workgroupName",
    "redshift-data:BatchExecuteStatement": "cluster:clusterIdentifier",
    "redshift-data:CancelStatement": None,
    "redshift-data:DescribeStatement": None,  # the response names the cluster or workgroup
    "redshift-data:DescribeTable": "cluster:clusterIdentifier",
    "redshift-data:ExecuteStatement": "cluster:clusterIdentifier",
    "redshift-data:GetStatementResult": None,
    "redshift-data:GetStatementResultV2": None,
    "redshift-data:ListDatabases": "cluster:clusterIdentifier",
    "redshift-data:ListSchemas": "cluster:clusterIdentifier",
    "redshift-data:ListSessions": "cluster:clusterIdentifier",
    "redshift-data:ListStatements": "cluster:clusterIdentifier",
    "redshift-data:ListTables": "cluster:clusterIdentifier",
}

# Members whose names look like a resource's but are not one (of the operations that name no resource).
NOT_RESOURCES = {
    "attributeNames": "account attribute names",
    "maintenanceTrackName": "a release track, the same for every account",
    "trackName": "a release track, the same for every account",
    "reservedNodeOfferingId": "an offering on sale, not something the account has",
    "offeringId": "an offering on sale, not something the account has",
    "snapshotCopyConfigurationId": "a setting of a namespace (the response names the namespace)",
    "recoveryPointId": "a recovery point of a namespace (the response names the namespace)",
    "tableRestoreRequestId": "a request of a namespace (the response names the namespace)",
    "sourceArn": "the catalog of managed workgroups, not a Redshift ARN",
    "id": "a Data API statement (DescribeStatement's response names its cluster or workgroup)",
}
RESOURCE_LIKE = re.compile(r"(?:Identifiers?|Names?|Arn|Ids?)$|^id$")


@cache
def _model(service: str) -> dict[str, Any]:
    model: dict[str, Any] = create_loader().load_service_model(service, "service-2")
    return model


def _cloudtrail(member: str) -> str:
    """A member's name as CloudTrail writes it: the first letter lower-cased."""
    return member[:1].lower() + member[1:]


def _value(service: str, shape_name: str, member: str, depth: int = 0) -> Any:
    """A value of ``shape_name`` for the member ``member``: strings hold their member's name (or the first value of
    their enum); lists hold one element; other scalars are left out."""
    shape = _model(service)["shapes"][shape_name]
    if depth > MAX_DEPTH:
        return None
    if shape["type"] == "structure":
        built = {}
        for name, ref in shape.get("members", {}).items():
            value = _value(service, ref["shape"], _cloudtrail(name), depth + 1)
            if value is not None:
                built[_cloudtrail(name)] = value
        return built
    if shape["type"] == "list":
        element = _value(service, shape["member"]["shape"], member, depth + 1)
        return None if element is None else [element]
    if shape["type"] != "string":
        return None
    if shape.get("enum"):
        return shape["enum"][0]
    if member in ARNS[service]:
        return ARNS[service][member] + member
    return OTHER_ARN + member if member.endswith("Arn") else member


def _request(service: str, operation: str) -> dict[str, Any]:
    spec = _model(service)["operations"][operation]
    return _value(service, spec["input"]["shape"], "") if "input" in spec else {}


def _members(value: Any) -> Iterator[str]:
    """Every member name in a built request, nested ones too."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield name
            yield from _members(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _members(inner)


def _answer(service: str, operation: str) -> str | None:
    record = {
        "eventSource": SOURCES[service],
        "eventName": operation,
        "requestParameters": _request(service, operation),
        "responseElements": None,
    }
    found = resource_of(record)
    if found is None:
        return None
    return found.key + (f" < {found.parent.key}" if found.parent else "")


def test_every_operation_of_the_models_is_pinned():
    # Given the service models botocore ships (pinned in requirements.txt)
    modelled = {f"{service}:{name}" for service in SOURCES for name in _model(service)["operations"]}
    # When they are compared with the table
    # Then every operation is in it, and nothing else
    assert sorted(modelled - set(OPERATIONS)) == []
    assert sorted(set(OPERATIONS) - modelled) == []


@pytest.mark.parametrize(("operation", "expected"), sorted(OPERATIONS.items()), ids=sorted(OPERATIONS))
def test_each_operation_reads_its_resource(operation, expected):
    # Given a request of the operation with every member its model has
    service, name = operation.split(":")
    # When its resource is read
    # Then it is the pinned one, read from the pinned field
    assert _answer(service, name) == expected


@pytest.mark.parametrize("operation", sorted(name for name, key in OPERATIONS.items() if key is None))
def test_an_operation_without_a_resource_names_none_in_its_request(operation):
    # Given an operation pinned as naming no resource
    service, name = operation.split(":")
    # When the members of its request are listed
    looking = {member for member in _members(_request(service, name)) if RESOURCE_LIKE.search(member)}
    # Then none looks like a resource, but those known not to be one
    assert looking <= set(NOT_RESOURCES), looking - set(NOT_RESOURCES)
