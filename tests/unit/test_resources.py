"""The resource an event concerns: per operation family, on the recorded samples, and on arbitrary input."""

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redtrail.core.resources import PARENT_KINDS, Kind, Resource, parse_resource_key, resource_of
from tests.support import EVENTS, REAL_TRAILS, event, real_records

ACCOUNT = "arn:aws:redshift:us-east-1:111122223333"
SERVERLESS_ARN = "arn:aws:redshift-serverless:us-east-1:111122223333"
WORKGROUP_ID = "0b4e4f1c-9a1e-4c55-8f5e-2d4c3b2a1f00"
NAMESPACE_ID = "4c64c6ec-73d5-42be-869b-b7f7c43c7a53"
CONNECTION_ARN = "arn:aws:sqlworkbench:ca-central-1:123456789012:connection/ce56b1be-dd65-4bfb-8b17-12345123456"


def _record(service: str, name: str, request: Any = None, response: Any = None) -> dict[str, Any]:
    return {
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "requestParameters": request,
        "responseElements": response,
    }


def redshift(name: str, request: Any = None, response: Any = None) -> dict[str, Any]:
    return _record("redshift", name, request, response)


def serverless(name: str, request: Any = None, response: Any = None) -> dict[str, Any]:
    return _record("redshift-serverless", name, request, response)


def data_api(name: str, request: Any = None, response: Any = None) -> dict[str, Any]:
    return _record("redshift-data", name, request, response)


def query_editor(name: str, request: Any = None, response: Any = None) -> dict[str, Any]:
    return _record("sqlworkbench", name, request, response)


def sumologic_reboot() -> dict[str, Any]:
    path = REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json"
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def keys(resource: Resource | None) -> tuple[str | None, str | None]:
    """The resource's key and its parent's, or None for each that is absent."""
    if resource is None:
        return None, None
    return resource.key, resource.parent.key if resource.parent else None


CLUSTERS = [
    pytest.param(redshift("RebootCluster", {"clusterIdentifier": "c1"}), "cluster:c1", None, id="RebootCluster"),
    pytest.param(
        redshift(
            "CreateCluster",
            {
                "clusterIdentifier": "c1",
                "dBName": "dev",
                "clusterParameterGroupName": "pg",
                "clusterSubnetGroupName": "sn",
                "hsmClientCertificateIdentifier": "hsm",
                "masterUserPassword": "****",
            },
            {"clusterIdentifier": "c1", "clusterSubnetGroupName": "sn", "dBName": "dev"},
        ),
        "cluster:c1",
        None,
        id="CreateCluster-names-its-settings-too",
    ),
    pytest.param(
        redshift("DeleteCluster", {"clusterIdentifier": "c1", "finalClusterSnapshotIdentifier": "final"}, None),
        "cluster:c1",
        None,
        id="DeleteCluster-null-response",
    ),
    pytest.param(
        redshift("ModifyCluster", {"clusterIdentifier": "c1", "newClusterIdentifier": "c2"}),
        "cluster:c1",
        None,
        id="ModifyCluster-rename-keys-on-the-old-name",
    ),
    pytest.param(redshift("PauseCluster", {}, {"clusterIdentifier": "c1"}), "cluster:c1", None, id="from-response"),
    pytest.param(
        redshift("EnableSnapshotCopy", {"clusterIdentifier": "c1", "snapshotCopyGrantName": "g"}),
        "cluster:c1",
        None,
        id="EnableSnapshotCopy",
    ),
    pytest.param(
        redshift("ModifyClusterSnapshotSchedule", {"clusterIdentifier": "c1", "scheduleIdentifier": "daily"}),
        "cluster:c1",
        None,
        id="ModifyClusterSnapshotSchedule",
    ),
    pytest.param(
        redshift("GetClusterCredentials", {"clusterIdentifier": "c1", "dbUser": "u", "dbName": "dev"}),
        "cluster:c1",
        None,
        id="GetClusterCredentials",
    ),
    pytest.param(
        redshift("AddPartner", {"accountId": "1", "clusterIdentifier": "c1", "partnerName": "p", "databaseName": "d"}),
        "cluster:c1",
        None,
        id="AddPartner",
    ),
    pytest.param(
        redshift("CreateCustomDomainAssociation", {"customDomainName": "db.example.com", "clusterIdentifier": "c1"}),
        "cluster:c1",
        None,
        id="CreateCustomDomainAssociation",
    ),
    pytest.param(
        redshift("DescribeCustomDomainAssociations", {"customDomainName": "db.example.com"}),
        "customdomain:db.example.com",
        None,
        id="DescribeCustomDomainAssociations",
    ),
    pytest.param(
        redshift(
            "RegisterNamespace",
            {"namespaceIdentifier": {"provisionedIdentifier": {"clusterIdentifier": "c1"}}, "consumerIdentifiers": []},
        ),
        "cluster:c1",
        None,
        id="RegisterNamespace-provisioned",
    ),
    pytest.param(
        redshift(
            "DeregisterNamespace",
            {
                "namespaceIdentifier": {
                    "serverlessIdentifier": {"namespaceIdentifier": "ns", "workgroupIdentifier": "w"}
                }
            },
        ),
        "namespace:ns",
        None,
        id="DeregisterNamespace-serverless",
    ),
    pytest.param(
        redshift("GetIdentityCenterAuthToken", {"clusterIds": ["c1"]}), "cluster:c1", None, id="one-of-a-list"
    ),
    pytest.param(
        redshift("GetIdentityCenterAuthToken", {"clusterIds": ["c1", "c2"]}), None, None, id="several-of-a-list"
    ),
    pytest.param(redshift("DescribeAccountAttributes", {}), None, None, id="no-resource"),
]

RESTORES = [
    pytest.param(
        redshift(
            "RestoreFromClusterSnapshot",
            {"clusterIdentifier": "new", "snapshotIdentifier": "s1", "snapshotClusterIdentifier": "old"},
            {"clusterIdentifier": "new"},
        ),
        "cluster:new",
        None,
        id="RestoreFromClusterSnapshot",
    ),
    pytest.param(
        redshift(
            "RestoreFromClusterSnapshot", {"clusterIdentifier": "new", "snapshotArn": f"{ACCOUNT}:snapshot:old/s1"}
        ),
        "cluster:new",
        None,
        id="RestoreFromClusterSnapshot-by-arn",
    ),
    pytest.param(
        redshift(
            "RestoreTableFromClusterSnapshot",
            {"clusterIdentifier": "c1", "snapshotIdentifier": "s1", "sourceTableName": "t", "newTableName": "t2"},
            {"tableRestoreRequestId": "r1", "snapshotIdentifier": "s1", "clusterIdentifier": "c1"},
        ),
        "cluster:c1",
        None,
        id="RestoreTableFromClusterSnapshot",
    ),
    pytest.param(
        serverless("RestoreFromSnapshot", {"namespaceName": "ns", "workgroupName": "wg", "snapshotName": "s1"}),
        "namespace:ns",
        None,
        id="serverless-RestoreFromSnapshot",
    ),
    pytest.param(
        serverless("RestoreFromRecoveryPoint", {"namespaceName": "ns", "workgroupName": "wg", "recoveryPointId": "r"}),
        "namespace:ns",
        None,
        id="serverless-RestoreFromRecoveryPoint",
    ),
    pytest.param(
        serverless(
            "RestoreTableFromSnapshot",
            {"namespaceName": "ns", "workgroupName": "wg", "snapshotName": "s1", "sourceTableName": "t"},
            {"tableRestoreStatus": {"snapshotName": "s1", "namespaceName": "ns", "workgroupName": "wg"}},
        ),
        "namespace:ns",
        None,
        id="serverless-RestoreTableFromSnapshot",
    ),
    pytest.param(
        serverless("RestoreTableFromRecoveryPoint", {"namespaceName": "ns", "workgroupName": "wg"}),
        "namespace:ns",
        None,
        id="serverless-RestoreTableFromRecoveryPoint",
    ),
]

SNAPSHOTS = [
    pytest.param(
        redshift("CreateClusterSnapshot", {"snapshotIdentifier": "s1", "clusterIdentifier": "c1"}),
        "snapshot:s1",
        "cluster:c1",
        id="CreateClusterSnapshot",
    ),
    pytest.param(
        redshift("DeleteClusterSnapshot", {"snapshotIdentifier": "s1", "snapshotClusterIdentifier": "c1"}),
        "snapshot:s1",
        "cluster:c1",
        id="DeleteClusterSnapshot",
    ),
    pytest.param(
        redshift("DeleteClusterSnapshot", {"snapshotIdentifier": "s1"}, None),
        "snapshot:s1",
        None,
        id="DeleteClusterSnapshot-no-cluster-named",
    ),
    pytest.param(
        redshift(
            "ModifyClusterSnapshot",
            {"snapshotIdentifier": "s1", "manualSnapshotRetentionPeriod": 7},
            {"snapshotIdentifier": "s1", "clusterIdentifier": "c1"},
        ),
        "snapshot:s1",
        "cluster:c1",
        id="ModifyClusterSnapshot-cluster-from-response",
    ),
    pytest.param(
        redshift(
            "AuthorizeSnapshotAccess",
            {"snapshotArn": f"{ACCOUNT}:snapshot:c1/s1", "accountWithRestoreAccess": "444455556666"},
        ),
        "snapshot:s1",
        "cluster:c1",
        id="AuthorizeSnapshotAccess-by-arn",
    ),
    pytest.param(
        redshift(
            "CopyClusterSnapshot",
            {
                "sourceSnapshotIdentifier": "rs:c1-2024-01-01",
                "sourceSnapshotClusterIdentifier": "c1",
                "targetSnapshotIdentifier": "copy1",
            },
            {"snapshotIdentifier": "copy1", "clusterIdentifier": "c1"},
        ),
        "snapshot:copy1",
        "cluster:c1",
        id="CopyClusterSnapshot-keys-on-the-copy",
    ),
    pytest.param(
        redshift(
            "BatchDeleteClusterSnapshots",
            {"identifiers": [{"snapshotIdentifier": "s1", "snapshotClusterIdentifier": "c1"}]},
        ),
        "snapshot:s1",
        "cluster:c1",
        id="BatchDeleteClusterSnapshots-one",
    ),
    pytest.param(
        redshift(
            "BatchDeleteClusterSnapshots", {"identifiers": [{"snapshotIdentifier": "s1"}, {"snapshotIdentifier": "s2"}]}
        ),
        None,
        None,
        id="BatchDeleteClusterSnapshots-several",
    ),
    pytest.param(
        redshift("BatchModifyClusterSnapshots", {"snapshotIdentifierList": ["s1"], "manualSnapshotRetentionPeriod": 1}),
        "snapshot:s1",
        None,
        id="BatchModifyClusterSnapshots-one",
    ),
]

GROUPS = [
    pytest.param(
        redshift("ModifyClusterParameterGroup", {"parameterGroupName": "pg", "parameters": [{"parameterName": "x"}]}),
        "parametergroup:pg",
        None,
        id="ModifyClusterParameterGroup",
    ),
    pytest.param(
        redshift("ResetClusterParameterGroup", {"parameterGroupName": "pg", "resetAllParameters": True}),
        "parametergroup:pg",
        None,
        id="ResetClusterParameterGroup",
    ),
    pytest.param(
        redshift("DescribeDefaultClusterParameters", {"parameterGroupFamily": "redshift-1.0"}),
        None,
        None,
        id="DescribeDefaultClusterParameters-family-only",
    ),
    pytest.param(
        redshift("CreateClusterSubnetGroup", {"clusterSubnetGroupName": "sn", "subnetIds": ["subnet-1"]}),
        "subnetgroup:sn",
        None,
        id="CreateClusterSubnetGroup",
    ),
    pytest.param(
        redshift("DeleteClusterSubnetGroup", {"clusterSubnetGroupName": "sn"}),
        "subnetgroup:sn",
        None,
        id="DeleteClusterSubnetGroup",
    ),
    pytest.param(
        redshift(
            "AuthorizeClusterSecurityGroupIngress",
            {"clusterSecurityGroupName": "sg", "eC2SecurityGroupName": "web", "eC2SecurityGroupOwnerId": "1"},
        ),
        "securitygroup:sg",
        None,
        id="AuthorizeClusterSecurityGroupIngress",
    ),
    pytest.param(
        redshift("CreateTags", {"resourceName": f"{ACCOUNT}:securitygroup:sg/ec2securitygroup/111122223333/sg-0a1b"}),
        "securitygroup:sg",
        None,
        id="security-group-arn-names-the-group-not-the-ec2-group",
    ),
    pytest.param(
        redshift("DeleteTags", {"resourceName": f"{ACCOUNT}:securitygroupingress:sg/cidrip/10.0.0.0/8"}),
        "securitygroup:sg",
        None,
        id="security-group-ingress-arn",
    ),
]

DATASHARES = [
    pytest.param(event("authorize_datashare"), "datashare:testshare", f"namespace:{NAMESPACE_ID}", id="sample"),
    pytest.param(
        redshift("DeauthorizeDataShare", {"dataShareArn": f"{ACCOUNT}:datashare:{NAMESPACE_ID}/sales"}),
        "datashare:sales",
        f"namespace:{NAMESPACE_ID}",
        id="DeauthorizeDataShare",
    ),
    pytest.param(
        redshift("DescribeDataSharesForProducer", {"producerArn": f"{ACCOUNT}:namespace:{NAMESPACE_ID}"}),
        f"namespace:{NAMESPACE_ID}",
        None,
        id="DescribeDataSharesForProducer",
    ),
]

TAGS = [
    pytest.param(
        redshift("CreateTags", {"resourceName": f"{ACCOUNT}:cluster:c1", "tags": [{"key": "k", "value": "v"}]}),
        "cluster:c1",
        None,
        id="CreateTags-cluster",
    ),
    pytest.param(
        redshift("DeleteTags", {"resourceName": f"{ACCOUNT}:snapshot:c1/s1", "tagKeys": ["k"]}),
        "snapshot:s1",
        "cluster:c1",
        id="DeleteTags-snapshot",
    ),
    pytest.param(
        redshift("DescribeTags", {"resourceName": f"{ACCOUNT}:parametergroup:pg", "resourceType": "parametergroup"}),
        "parametergroup:pg",
        None,
        id="DescribeTags-parameter-group",
    ),
    pytest.param(
        redshift("CreateTags", {"resourceName": "arn:aws:s3:::bucket"}), None, None, id="CreateTags-not-redshift"
    ),
    pytest.param(
        redshift("PutResourcePolicy", {"resourceArn": f"{ACCOUNT}:namespace:{NAMESPACE_ID}", "policy": "{}"}),
        f"namespace:{NAMESPACE_ID}",
        None,
        id="PutResourcePolicy",
    ),
    pytest.param(
        serverless("TagResource", {"resourceArn": f"{SERVERLESS_ARN}:workgroup/{WORKGROUP_ID}", "tags": []}),
        f"workgroup:{WORKGROUP_ID}",
        None,
        id="serverless-TagResource-holds-an-id",
    ),
    pytest.param(
        serverless("UntagResource", {"resourceArn": f"{SERVERLESS_ARN}:managedvpcendpoint/{WORKGROUP_ID}"}),
        f"endpoint:{WORKGROUP_ID}",
        None,
        id="serverless-UntagResource-endpoint",
    ),
]

OTHER_REDSHIFT = [
    pytest.param(
        redshift(
            "CreateUsageLimit",
            {"clusterIdentifier": "c1", "featureType": "spectrum", "limitType": "data-scanned", "amount": 1},
            {"usageLimitId": "ul-1", "clusterIdentifier": "c1"},
        ),
        "usagelimit:ul-1",
        "cluster:c1",
        id="CreateUsageLimit-id-from-response",
    ),
    pytest.param(
        redshift("CreateUsageLimit", {"clusterIdentifier": "c1", "featureType": "spectrum"}, None),
        "cluster:c1",
        None,
        id="CreateUsageLimit-failed",
    ),
    pytest.param(
        redshift("CreateEndpointAccess", {"endpointName": "e1", "clusterIdentifier": "c1", "subnetGroupName": "sn"}),
        "endpoint:e1",
        "cluster:c1",
        id="CreateEndpointAccess",
    ),
    pytest.param(
        redshift("DeleteEndpointAccess", {"endpointName": "e1"}, {"endpointName": "e1", "clusterIdentifier": "c1"}),
        "endpoint:e1",
        "cluster:c1",
        id="DeleteEndpointAccess",
    ),
    pytest.param(
        redshift(
            "CreateScheduledAction",
            {"scheduledActionName": "nightly", "targetAction": {"pauseCluster": {"clusterIdentifier": "c1"}}},
        ),
        "scheduledaction:nightly",
        "cluster:c1",
        id="CreateScheduledAction",
    ),
    pytest.param(
        redshift("CreateSnapshotSchedule", {"scheduleDefinitions": ["rate(12 hours)"]}, {"scheduleIdentifier": "sch"}),
        "snapshotschedule:sch",
        None,
        id="CreateSnapshotSchedule-generated-id",
    ),
    pytest.param(
        redshift("CreateEventSubscription", {"subscriptionName": "sub", "sourceIds": ["c1"], "sourceType": "cluster"}),
        "eventsubscription:sub",
        None,
        id="CreateEventSubscription",
    ),
    pytest.param(
        redshift("CreateHsmClientCertificate", {"hsmClientCertificateIdentifier": "cert"}),
        "hsmclientcertificate:cert",
        None,
        id="CreateHsmClientCertificate",
    ),
    pytest.param(
        redshift("DeleteHsmConfiguration", {"hsmConfigurationIdentifier": "conf"}),
        "hsmconfiguration:conf",
        None,
        id="DeleteHsmConfiguration",
    ),
    pytest.param(
        redshift(
            "CreateAuthenticationProfile", {"authenticationProfileName": "ap", "authenticationProfileContent": "{}"}
        ),
        "authenticationprofile:ap",
        None,
        id="CreateAuthenticationProfile",
    ),
    pytest.param(
        redshift("CreateSnapshotCopyGrant", {"snapshotCopyGrantName": "grant", "kMSKeyId": "k"}),
        "snapshotcopygrant:grant",
        None,
        id="CreateSnapshotCopyGrant",
    ),
    pytest.param(
        redshift(
            "CreateIntegration",
            {"integrationName": "zero-etl", "targetArn": f"{ACCOUNT}:namespace:{NAMESPACE_ID}"},
            {"integrationArn": f"{ACCOUNT}:integration:9d1c", "integrationName": "zero-etl"},
        ),
        "integration:9d1c",
        f"namespace:{NAMESPACE_ID}",
        id="CreateIntegration-id-from-response-in-its-target-namespace",
    ),
    pytest.param(
        redshift("CreateIntegration", {"integrationName": "zero-etl", "sourceArn": "arn:aws:dynamodb:::table/t"}),
        "integration:zero-etl",
        None,
        id="CreateIntegration-failed",
    ),
    pytest.param(
        redshift("DescribeEvents", {"sourceIdentifier": "s1", "sourceType": "cluster-snapshot", "duration": 60}),
        "snapshot:s1",
        None,
        id="DescribeEvents-of-a-snapshot",
    ),
    pytest.param(
        redshift("DescribeEvents", {"sourceIdentifier": "pg", "sourceType": "cluster-parameter-group"}),
        "parametergroup:pg",
        None,
        id="DescribeEvents-of-a-parameter-group",
    ),
    pytest.param(
        redshift("DescribeEvents", {"sourceIdentifier": "x", "sourceType": "something-new"}),
        None,
        None,
        id="DescribeEvents-of-an-unknown-type",
    ),
    pytest.param(redshift("DescribeEvents", {"sourceIdentifier": "c1"}), None, None, id="DescribeEvents-untyped"),
    pytest.param(
        redshift(
            "CreateRedshiftIdcApplication",
            {"redshiftIdcApplicationName": "app", "idcInstanceArn": "arn:aws:sso:::instance/ssoins-1"},
            {"redshiftIdcApplicationArn": f"{ACCOUNT}:redshiftidcapplication:a1"},
        ),
        "redshiftidcapplication:a1",
        None,
        id="CreateRedshiftIdcApplication",
    ),
    pytest.param(
        redshift("DeleteQev2IdcApplication", {"qev2IdcApplicationArn": f"{ACCOUNT}:qev2idcapplication:q1"}),
        "qev2idcapplication:q1",
        None,
        id="DeleteQev2IdcApplication",
    ),
    pytest.param(
        redshift(
            "PurchaseReservedNodeOffering",
            {"reservedNodeOfferingId": "off-1", "nodeCount": 2},
            {"reservedNodeId": "rn-1"},
        ),
        "reservednode:rn-1",
        None,
        id="PurchaseReservedNodeOffering",
    ),
]

SERVERLESS = [
    pytest.param(event("create_namespace"), "namespace:testnamespace", None, id="CreateNamespace-sample"),
    pytest.param(
        serverless("CreateWorkgroup", {"workgroupName": "wg", "namespaceName": "ns", "baseCapacity": 8}),
        "workgroup:wg",
        "namespace:ns",
        id="CreateWorkgroup",
    ),
    pytest.param(
        serverless(
            "DeleteWorkgroup", {"workgroupName": "wg"}, {"workgroup": {"workgroupName": "wg", "namespaceName": "ns"}}
        ),
        "workgroup:wg",
        "namespace:ns",
        id="DeleteWorkgroup-namespace-in-the-wrapped-response",
    ),
    pytest.param(
        serverless("GetWorkgroup", {}, {"workgroup": {"workgroupName": "wg", "workgroupId": WORKGROUP_ID}}),
        "workgroup:wg",
        None,
        id="wrapped-response-only",
    ),
    pytest.param(
        serverless("CreateSnapshot", {"snapshotName": "s1", "namespaceName": "ns", "retentionPeriod": 7}),
        "snapshot:s1",
        "namespace:ns",
        id="CreateSnapshot",
    ),
    pytest.param(
        serverless(
            "DeleteSnapshot", {"snapshotName": "s1"}, {"snapshot": {"snapshotName": "s1", "namespaceName": "ns"}}
        ),
        "snapshot:s1",
        "namespace:ns",
        id="DeleteSnapshot",
    ),
    pytest.param(
        serverless(
            "GetSnapshot",
            {"snapshotArn": f"{SERVERLESS_ARN}:snapshot/{WORKGROUP_ID}"},
            {"snapshot": {"snapshotName": "s1", "namespaceName": "ns"}},
        ),
        "snapshot:s1",
        "namespace:ns",
        id="GetSnapshot-name-from-response-before-the-arn-id",
    ),
    pytest.param(
        serverless("CreateEndpointAccess", {"endpointName": "e1", "workgroupName": "wg", "subnetIds": []}),
        "endpoint:e1",
        "workgroup:wg",
        id="CreateEndpointAccess",
    ),
    pytest.param(
        serverless(
            "CreateUsageLimit",
            {"resourceArn": f"{SERVERLESS_ARN}:workgroup/{WORKGROUP_ID}", "usageType": "serverless-compute"},
            {"usageLimit": {"usageLimitId": "ul-1", "resourceArn": f"{SERVERLESS_ARN}:workgroup/{WORKGROUP_ID}"}},
        ),
        "usagelimit:ul-1",
        f"workgroup:{WORKGROUP_ID}",
        id="CreateUsageLimit",
    ),
    pytest.param(
        serverless(
            "CreateScheduledAction",
            {
                "scheduledActionName": "hourly",
                "namespaceName": "ns",
                "targetAction": {"createSnapshot": {"namespaceName": "ns", "snapshotNamePrefix": "h"}},
            },
        ),
        "scheduledaction:hourly",
        "namespace:ns",
        id="CreateScheduledAction",
    ),
    pytest.param(
        serverless(
            "UpdateSnapshotCopyConfiguration",
            {"snapshotCopyConfigurationId": "cfg", "snapshotRetentionPeriod": 7},
            {"snapshotCopyConfiguration": {"snapshotCopyConfigurationId": "cfg", "namespaceName": "ns"}},
        ),
        "namespace:ns",
        None,
        id="UpdateSnapshotCopyConfiguration-is-the-namespace's",
    ),
    pytest.param(
        serverless(
            "GetRecoveryPoint",
            {"recoveryPointId": "rp"},
            {"recoveryPoint": {"recoveryPointId": "rp", "namespaceName": "ns", "workgroupName": "wg"}},
        ),
        "namespace:ns",
        None,
        id="GetRecoveryPoint",
    ),
    pytest.param(
        serverless(
            "GetTableRestoreStatus",
            {"tableRestoreRequestId": "t"},
            {"tableRestoreStatus": {"snapshotName": "s1", "namespaceName": "ns", "workgroupName": "wg"}},
        ),
        "namespace:ns",
        None,
        id="GetTableRestoreStatus",
    ),
    pytest.param(
        serverless("CreateReservation", {"offeringId": "o", "capacity": 8}, {"reservation": {"reservationId": "r1"}}),
        "reservation:r1",
        None,
        id="CreateReservation",
    ),
    pytest.param(serverless("GetCredentials", {"workgroupName": "wg"}), "workgroup:wg", None, id="GetCredentials"),
]

DATA_API = [
    pytest.param(event("execute_statement"), "cluster:example-cluster-identifier", None, id="ExecuteStatement-sample"),
    pytest.param(
        data_api("ExecuteStatement", {"WorkgroupName": "wg", "Database": "dev", "Sql": "***OMITTED***"}),
        "workgroup:wg",
        None,
        id="WorkgroupName-PascalCase",
    ),
    pytest.param(
        data_api("BatchExecuteStatement", {"ClusterIdentifier": "c1", "Sqls": []}),
        "cluster:c1",
        None,
        id="ClusterIdentifier-PascalCase",
    ),
    pytest.param(
        data_api("ListSchemas", {"workgroupName": "wg", "database": "dev"}), "workgroup:wg", None, id="workgroupName"
    ),
    pytest.param(
        data_api("ExecuteStatement", {"workgroupName": f"{SERVERLESS_ARN}:workgroup/{WORKGROUP_ID}"}),
        f"workgroup:{WORKGROUP_ID}",
        None,
        id="workgroup-arn",
    ),
    pytest.param(
        data_api("ExecuteStatement", {"sessionId": "s", "sql": "***OMITTED***"}, {"workgroupName": "wg", "id": "x"}),
        "workgroup:wg",
        None,
        id="session-reuse-from-response",
    ),
    pytest.param(
        data_api("DescribeStatement", {"id": "5c52b37b"}, {"id": "5c52b37b", "clusterIdentifier": "c1"}),
        "cluster:c1",
        None,
        id="DescribeStatement-from-response",
    ),
    pytest.param(data_api("CancelStatement", {"id": "5c52b37b"}, {"status": True}), None, None, id="statement-id-only"),
]

QUERY_EDITOR = [
    pytest.param(event("create_connection"), "cluster:redshift-cluster-2", None, id="CreateConnection-sample"),
    pytest.param(
        query_editor("CreateConnection", {"clusterId": "wg", "isServerless": True, "databaseName": "***"}),
        "workgroup:wg",
        None,
        id="CreateConnection-serverless",
    ),
    pytest.param(
        query_editor(
            "GetConnection",
            {"connectionId": "ce56b1be"},
            {"result": True, "code": "", "data": {"id": CONNECTION_ARN, "clusterId": "c1", "isServerless": False}},
        ),
        "cluster:c1",
        None,
        id="GetConnection-warehouse-from-response",
    ),
    pytest.param(
        # The AWS Big Data Blog's record (2025), shortened.
        query_editor(
            "GetQSqlRecommendation",
            {
                "prompt": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "databaseConfiguration": {
                    "redshiftConfig": {"clusterIdentifier": "redshift-cluster-1", "database": "dev"}
                },
                "dbConfig": {"database": "dev"},
                "sqlworkbenchConnectionArn": "arn:aws:sqlworkbench:us-east-1:111122223333:connection/47ahg61",
            },
        ),
        "cluster:redshift-cluster-1",
        None,
        id="GetQSqlRecommendation-nested-cluster",
    ),
    pytest.param(
        query_editor("DeleteConnection", {"connectionId": CONNECTION_ARN}),
        "connection:ce56b1be-dd65-4bfb-8b17-12345123456",
        None,
        id="DeleteConnection",
    ),
    pytest.param(
        query_editor("TagResource", {"resourceArn": CONNECTION_ARN, "tags": {}}),
        "connection:ce56b1be-dd65-4bfb-8b17-12345123456",
        None,
        id="TagResource-connection",
    ),
    pytest.param(
        query_editor("TagResource", {"resourceArn": "arn:aws:sqlworkbench:us-east-1:1:notebook/n1"}),
        None,
        None,
        id="TagResource-notebook",
    ),
    pytest.param(query_editor("GetTabStates", {"tabId": "t1"}), None, None, id="tab-only"),
    pytest.param(query_editor("CreateConnection", {"clusterId": "***", "host": "***"}), None, None, id="masked"),
]

KMS = [
    pytest.param(event("kms_decrypt_by_redshift"), "cluster:my-dw-instance-2", None, id="Decrypt-sample"),
    pytest.param(
        {
            "eventSource": "kms.amazonaws.com",
            "eventName": "GenerateDataKey",
            "requestParameters": {
                "encryptionContext": {"aws:redshift-serverless:arn": f"{SERVERLESS_ARN}:namespace/{NAMESPACE_ID}"}
            },
        },
        f"namespace:{NAMESPACE_ID}",
        None,
        id="serverless-context",
    ),
    pytest.param(
        {"requestParameters": {"encryptionContext": {"aws:redshift:arn": f"{ACCOUNT}:snapshot:c1/s1"}}},
        "snapshot:s1",
        "cluster:c1",
        id="snapshot-context",
    ),
    pytest.param(
        {"requestParameters": {"encryptionContext": {"aws:redshift:arn": "arn:aws:s3:::bucket", "aws:s3:arn": "x"}}},
        None,
        None,
        id="not-a-redshift-arn",
    ),
]

REAL = [pytest.param(sumologic_reboot(), "cluster:sumologicdevbi", None, id="sumologic-RebootCluster")]

ODD = [
    pytest.param({}, None, None, id="empty"),
    pytest.param(redshift("RebootCluster", "clusterIdentifier"), None, None, id="request-a-string"),
    pytest.param(redshift("RebootCluster", ["clusterIdentifier", "c1"]), None, None, id="request-a-list"),
    pytest.param(redshift("RebootCluster", {"clusterIdentifier": 7}), None, None, id="number"),
    pytest.param(redshift("RebootCluster", {"clusterIdentifier": ["c1"]}), None, None, id="list"),
    pytest.param(redshift("RebootCluster", {"clusterIdentifier": {"c1": 1}}), None, None, id="object"),
    pytest.param(redshift("RebootCluster", {"clusterIdentifier": ""}), None, None, id="empty-string"),
    pytest.param(
        redshift("RebootCluster", {"clusterIdentifier": "HIDDEN_DUE_TO_SECURITY_REASONS"}), None, None, id="hidden"
    ),
    pytest.param(
        redshift("RebootCluster", {"clusterIdentifier": ""}, {"clusterIdentifier": "c1"}),
        "cluster:c1",
        None,
        id="empty-request-value-then-response",
    ),
    pytest.param(
        {"eventSource": ["redshift.amazonaws.com"], "eventName": {}, "requestParameters": {"clusterIdentifier": "c1"}},
        "cluster:c1",
        None,
        id="unhashable-source-and-name",
    ),
    pytest.param(
        redshift("BatchDeleteClusterSnapshots", {"identifiers": "s1"}), None, None, id="list-field-not-a-list"
    ),
    pytest.param(redshift("BatchDeleteClusterSnapshots", {"identifiers": []}), None, None, id="list-empty"),
    pytest.param(redshift("BatchDeleteClusterSnapshots", {"identifiers": {}}), None, None, id="list-an-object"),
    pytest.param(redshift("BatchDeleteClusterSnapshots", {"identifiers": [[]]}), None, None, id="list-of-lists"),
    pytest.param(redshift("GetIdentityCenterAuthToken", {"clusterIds": 5}), None, None, id="list-a-number"),
    pytest.param(serverless("GetIdentityCenterAuthToken", {"workgroupNames": [None]}), None, None, id="list-of-null"),
    pytest.param(
        redshift("RegisterNamespace", {"namespaceIdentifier": "c1"}), None, None, id="nested-path-through-a-string"
    ),
    pytest.param(
        redshift("CreateScheduledAction", {"scheduledActionName": "a", "targetAction": ["pauseCluster"]}),
        "scheduledaction:a",
        None,
        id="nested-parent-not-an-object",
    ),
    pytest.param(redshift("CreateTags", {"resourceName": "arn:"}), None, None, id="arn-short"),
    pytest.param(redshift("CreateTags", {"resourceName": f"{ACCOUNT}:cluster:"}), None, None, id="arn-no-name"),
    pytest.param(redshift("CreateTags", {"resourceName": f"{ACCOUNT}:cluster"}), None, None, id="arn-no-separator"),
    pytest.param(
        redshift("CreateTags", {"resourceName": f"{ACCOUNT}:snapshot:/s1"}), None, None, id="arn-snapshot-no-cluster"
    ),
    pytest.param(redshift("CreateTags", {"resourceName": f"{ACCOUNT}:dbuser:c1/u"}), None, None, id="arn-other-type"),
    pytest.param(
        redshift("RebootCluster", {"clusterIdentifier": "c" * 1_000_000}), "cluster:" + "c" * 1_000_000, None, id="huge"
    ),
]

FAMILIES = CLUSTERS + RESTORES + SNAPSHOTS + GROUPS + DATASHARES + TAGS + OTHER_REDSHIFT
FAMILIES += SERVERLESS + DATA_API + QUERY_EDITOR + KMS + REAL + ODD


@pytest.mark.parametrize(("record", "key", "parent"), FAMILIES)
def test_resource_of(record, key, parent):
    # Given a record of an operation family
    # When its resource is read
    found = resource_of(record)
    # Then it is the expected kind:name, with the parent the event names
    assert keys(found) == (key, parent)
    if found is not None:
        assert str(found) == found.key


def test_every_kind_comes_out_of_some_operation():
    # Given the expected answers of all operation families
    produced = {key.partition(":")[0] for _, key, parent in (case.values for case in FAMILIES) if key}
    # When they are compared with the kinds
    # Then each kind is used by some operation, and nothing else is produced
    assert produced == set(Kind)


def test_a_resource_reads_as_its_key():
    # Given a snapshot of a cluster
    snapshot = Resource(Kind.SNAPSHOT, "s1", Resource(Kind.CLUSTER, "c1"))
    # When it is written out
    # Then it is kind:name, its parent apart; it cannot be changed; a plain-text kind is the same kind
    assert str(snapshot) == snapshot.key == "snapshot:s1"
    assert f"{snapshot}" == "snapshot:s1"
    assert snapshot == Resource("snapshot", "s1", Resource("cluster", "c1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.name = "s2"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("cluster:c1", "cluster:c1", id="cluster"),
        pytest.param(" Workgroup:wg ", "workgroup:wg", id="kind-any-case-and-spaces"),
        pytest.param("datashare:Sales", "datashare:Sales", id="name-keeps-its-case"),
        pytest.param("snapshot:rs:c1-2024-01-01", "snapshot:rs:c1-2024-01-01", id="name-with-colon"),
        pytest.param(f"{ACCOUNT}:snapshot:c1/s1", "snapshot:s1", id="arn"),
        pytest.param("bucket:b", None, id="unknown-kind"),
        pytest.param("cluster:", None, id="no-name"),
        pytest.param("c1", None, id="no-kind"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_resource_key(text, key):
    # Given what a user types after --resource
    # When it is parsed
    found = parse_resource_key(text)
    # Then it is the resource it names, or None
    assert (found.key if found else None) == key


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_parses_back(kind):
    # Given a resource of each kind
    resource = Resource(kind, "x")
    # When its key is parsed
    # Then it is the same resource
    assert parse_resource_key(resource.key) == resource


def test_every_parent_is_of_a_parent_kind():
    # Given the expected answers of all operation families
    parents = {parent.partition(":")[0] for _, _, parent in (case.values for case in FAMILIES) if parent}
    # When their parents' kinds are listed
    # Then they are the kinds PARENT_KINDS says (what redtrail query --resource asks byParentResource for)
    assert parents == set(PARENT_KINDS)


# Every sample of tests/events, and its resource: a change of the table shows here.
SAMPLES = {
    "authorize_datashare": ("datashare:testshare", f"namespace:{NAMESPACE_ID}"),
    "create_connection": ("cluster:redshift-cluster-2", None),
    "create_namespace": ("namespace:testnamespace", None),
    "execute_statement": ("cluster:example-cluster-identifier", None),
    "execute_statement_client_token": ("cluster:example-cluster-identifier", None),
    "kms_decrypt_by_redshift": ("cluster:my-dw-instance-2", None),
    "s3_notification": (None, None),
    "s3_test_event": (None, None),
}
# The records of tests/data/cloudtrail that name a Redshift resource, by file and eventID; all others name none.
REAL_RESOURCES = {
    ("redshift-ulm.md.RebootCluster.extracted.json", "4b0a0389-b04e-4553-8946-e71d0c3cfd46"): (
        "cluster:sumologicdevbi",
        None,
    ),
}


def test_every_sample_is_pinned():
    # Given the sample events
    # When they are listed
    # Then each has its pinned answer (a new sample is pinned when it is added)
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(SAMPLES)


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLES.items()), ids=sorted(SAMPLES))
def test_the_samples_name_their_resources(name, expected):
    # Given a sample of the AWS documentation (or an S3 notification, which names nothing)
    record = event(name)
    # When its resource is read
    # Then it is the pinned kind:name and parent
    assert keys(resource_of(record)) == expected


def test_the_real_records_name_their_resources():
    # Given every record of the real third-party trail files
    records = [(source, record) for source, record in real_records() if isinstance(record, dict)]
    # When their resources are read
    found = {
        (source, record.get("eventID")): keys(resource_of(record))
        for source, record in records
        if resource_of(record) is not None
    }
    # Then only the pinned ones name one, the pinned one
    assert len(records) > 3000
    assert found == REAL_RESOURCES


JSON_KEYS = st.sampled_from(
    [
        "clusterIdentifier",
        "ClusterIdentifier",
        "clusterId",
        "isServerless",
        "workgroupName",
        "WorkgroupName",
        "workgroupNames",
        "namespaceName",
        "snapshotIdentifier",
        "snapshotClusterIdentifier",
        "targetSnapshotIdentifier",
        "snapshotArn",
        "snapshotName",
        "dataShareArn",
        "identifiers",
        "snapshotIdentifierList",
        "clusterIds",
        "namespaceIdentifier",
        "provisionedIdentifier",
        "serverlessIdentifier",
        "targetAction",
        "pauseCluster",
        "createSnapshot",
        "resourceName",
        "resourceArn",
        "usageLimitId",
        "endpointName",
        "encryptionContext",
        "aws:redshift:arn",
        "data",
        "connection",
        "connectionId",
        "databaseConfiguration",
        "redshiftConfig",
        "id",
        "workgroup",
        "snapshot",
        "sourceIdentifier",
        "sourceType",
        "targetArn",
    ]
)
ARNISH = st.sampled_from(
    [
        "arn:",
        "arn:aws:redshift",
        "arn:aws:redshift:r:a:",
        "arn:aws:redshift:r:a::",
        "arn:aws:redshift:r:a:snapshot:c/s",
        "arn:aws:redshift:r:a:snapshot:/",
        "arn:aws:redshift:r:a:securitygroup:/x",
        "arn:aws:redshift:r:a:datashare:n/",
        "arn:aws:redshift-serverless:r:a:workgroup/",
        "arn:aws:sqlworkbench:r:a:connection/c",
        "***",
        "HIDDEN_DUE_TO_SECURITY_REASONS",
        "true",
        "cluster-snapshot",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    ARNISH,
    ARNISH.flatmap(lambda prefix: st.text(max_size=8).map(lambda tail: prefix + tail)),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_KEYS | st.text(max_size=4), inner, max_size=5),
    max_leaves=20,
)
# Mostly objects keyed by the names the extractor reads, so that drawn records often name something.
SECTION = st.dictionaries(JSON_KEYS, st.sampled_from(["c1", "s1", "wg"]) | ARNISH | JSON, max_size=6) | JSON
SOURCES = st.sampled_from(
    [
        "redshift.amazonaws.com",
        "redshift-serverless.amazonaws.com",
        "redshift-data.amazonaws.com",
        "sqlworkbench.amazonaws.com",
        "kms.amazonaws.com",
        "",
    ]
)
NAMES = st.sampled_from(
    [
        "RestoreFromClusterSnapshot",
        "CopyClusterSnapshot",
        "RestoreFromSnapshot",
        "GetRecoveryPoint",
        "GetQSqlRecommendation",
        "CreateTags",
        "ExecuteStatement",
        "DescribeEvents",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=SOURCES | JSON, name=NAMES | JSON, request=SECTION, response=SECTION)
def test_resource_of_never_raises(source, name, request, response):
    # Given any JSON in a record's source, name, requestParameters and responseElements
    record = {"eventSource": source, "eventName": name, "requestParameters": request, "responseElements": response}
    # When its resource is read
    found = resource_of(record)
    # Then it is None or a known kind with a name (and so is its parent)
    while found is not None:
        assert found.kind in set(Kind)
        assert isinstance(found.name, str)
        assert found.name
        found = found.parent


def test_a_record_that_is_not_an_object_has_no_resource():
    # Given JSON that is not an object where a record should be
    # When its resource is read
    # Then there is none
    assert resource_of([{"requestParameters": {"clusterIdentifier": "c1"}}]) is None  # type: ignore[arg-type]
    assert resource_of(None) is None  # type: ignore[arg-type]
