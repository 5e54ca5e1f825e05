"""The detection catalogue: each rule on events that should and should not match, and detect() on junk."""

import copy
import json
import re
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redtrail.core.detections import (
    ANY_EVENT_NAME,
    PROVISIONED,
    RULES,
    RULES_BY_ID,
    SERVERLESS,
    Detection,
    DetectionContext,
    Severity,
    detect,
    highest,
    rules_for,
)
from redtrail.core.resources import resource_of
from tests.support import REAL_TRAILS, event

CONTEXT = DetectionContext(datashare_consumer_allowlist=frozenset({"444455556666", "ADX"}))
ACCOUNT = "111122223333"  # the sample events' own account (recipientAccountId)
ROLE = "arn:aws:iam::111122223333:role/redshift-etl"
REBOOT_CLUSTER = json.loads(
    (REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json").read_text()
)
# From the AWS Redshift Management Guide's CloudTrail examples (CreateCluster, DeleteCluster).
DOC_CREATE_CLUSTER = {
    "clusterIdentifier": "my-dw-instance",
    "allowVersionUpgrade": True,
    "enhancedVpcRouting": False,
    "encrypted": False,
    "clusterVersion": "1.0",
    "masterUsername": "awsuser",
    "masterUserPassword": "****",
    "automatedSnapshotRetentionPeriod": 1,
    "port": 5439,
    "dBName": "mydbtest",
    "clusterType": "single-node",
    "nodeType": "dc1.large",
    "publiclyAccessible": True,
    "vpcSecurityGroupIds": ["sg-95f606fc"],
}
DOC_DELETE_CLUSTER = {"clusterIdentifier": "my-dw-instance", "skipFinalClusterSnapshot": True}


def _call(name: str, request: Any, *, source: str = PROVISIONED, response: Any = None, **top: Any) -> dict[str, Any]:
    """A realistic record of ``name``: a sample event of the same service with this call's parameters."""
    record = copy.deepcopy(event("create_namespace" if source == SERVERLESS else "authorize_datashare"))
    record.update(eventSource=source, eventName=name, requestParameters=request, responseElements=response, **top)
    return record


def _serverless(name: str, request: Any, **top: Any) -> dict[str, Any]:
    return _call(name, request, source=SERVERLESS, **top)


def _failed(record: dict[str, Any], code: str = "AccessDenied") -> dict[str, Any]:
    """``record`` as CloudTrail writes it when the call fails with ``code``."""
    failed = copy.deepcopy(record)
    failed.update(errorCode=code, errorMessage="User is not authorized to perform this action", responseElements=None)
    return failed


def _parameters(name: str, value: Any) -> dict[str, Any]:
    return {"parameterGroupName": "sales-params", "parameters": [{"parameterName": name, "parameterValue": value}]}


def _config(key: str, value: Any) -> dict[str, Any]:
    return {"workgroupName": "analytics", "configParameters": [{"parameterKey": key, "parameterValue": value}]}


def _batch(*snapshots: str) -> dict[str, Any]:
    return {"identifiers": [{"snapshotIdentifier": s, "snapshotClusterIdentifier": "sales-dw"} for s in snapshots]}


H, M, L, C = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.CRITICAL

# (rule id, record, expected severity; None: the rule must not match)
CASES = [
    # redshift-cluster-public
    pytest.param("redshift-cluster-public", _call("CreateCluster", DOC_CREATE_CLUSTER), H, id="public-create-doc"),
    pytest.param(
        "redshift-cluster-public",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True}),
        H,
        id="public-modify",
    ),
    pytest.param(
        "redshift-cluster-public",
        _call(
            "RestoreFromClusterSnapshot",
            {"clusterIdentifier": "sales-dw", "snapshotIdentifier": "nightly", "publiclyAccessible": True},
        ),
        H,
        id="public-restore",
    ),
    pytest.param(
        "redshift-cluster-public",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": False}),
        None,
        id="public-false",
    ),
    pytest.param(
        "redshift-cluster-public",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": "true"}),
        None,
        id="public-as-string",
    ),
    pytest.param("redshift-cluster-public", REBOOT_CLUSTER, None, id="public-only-in-response-sumo-reboot"),
    # redshift-serverless-workgroup-public
    pytest.param(
        "redshift-serverless-workgroup-public",
        _serverless("UpdateWorkgroup", {"workgroupName": "analytics", "publiclyAccessible": True}),
        H,
        id="workgroup-public-update",
    ),
    pytest.param(
        "redshift-serverless-workgroup-public",
        _serverless(
            "CreateWorkgroup",
            {"workgroupName": "analytics", "namespaceName": "testnamespace", "publiclyAccessible": True},
        ),
        H,
        id="workgroup-public-create",
    ),
    pytest.param(
        "redshift-serverless-workgroup-public",
        _serverless("UpdateWorkgroup", {"workgroupName": "analytics", "publiclyAccessible": False}),
        None,
        id="workgroup-private",
    ),
    pytest.param(
        "redshift-serverless-workgroup-public",
        _serverless("CreateWorkgroup", {"workgroupName": "analytics", "namespaceName": "testnamespace"}),
        None,
        id="workgroup-default-private",
    ),
    pytest.param(
        "redshift-serverless-workgroup-public",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True}),
        None,
        id="workgroup-rule-ignores-clusters",
    ),
    # redshift-audit-logging-disabled
    pytest.param(
        "redshift-audit-logging-disabled",
        _call("DisableLogging", {"clusterIdentifier": "sales-dw"}, response={"loggingEnabled": False}),
        H,
        id="logging-disabled",
    ),
    pytest.param(
        "redshift-audit-logging-disabled",
        _call("DisableLogging", {"clusterIdentifier": "sales-dw"}),
        H,
        id="logging-disabled-null-response",
    ),
    pytest.param(
        "redshift-audit-logging-disabled",
        _serverless("UpdateNamespace", {"namespaceName": "testnamespace", "logExports": []}),
        H,
        id="namespace-exports-nothing",
    ),
    pytest.param(
        "redshift-audit-logging-disabled",
        _serverless("UpdateNamespace", {"namespaceName": "testnamespace", "logExports": ["useractivitylog"]}),
        None,
        id="namespace-exports-some",
    ),
    pytest.param(
        "redshift-audit-logging-disabled",
        _serverless("UpdateNamespace", {"namespaceName": "testnamespace", "kmsKeyId": "alias/x"}),
        None,
        id="namespace-exports-unchanged",
    ),
    pytest.param(
        "redshift-audit-logging-disabled",
        _call("EnableLogging", {"clusterIdentifier": "sales-dw", "bucketName": "audit"}),
        None,
        id="logging-enabled",
    ),
    pytest.param("redshift-audit-logging-disabled", event("create_namespace"), None, id="namespace-created"),
    # redshift-require-ssl-off
    pytest.param(
        "redshift-require-ssl-off",
        _call("ModifyClusterParameterGroup", _parameters("require_ssl", "false")),
        H,
        id="ssl-false",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call("ModifyClusterParameterGroup", _parameters("require_ssl", " OFF ")),
        H,
        id="ssl-off-any-case",
    ),
    pytest.param(
        "redshift-require-ssl-off", _call("ModifyClusterParameterGroup", _parameters("require_ssl", "0")), H, id="ssl-0"
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call(
            "ModifyClusterParameterGroup",
            {
                "parameterGroupName": "sales-params",
                "parameters": [
                    {"parameterName": "datestyle", "parameterValue": "ISO, MDY"},
                    {"parameterName": "require_ssl", "parameterValue": "false", "applyType": "static"},
                ],
            },
        ),
        H,
        id="ssl-false-among-others",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call("ResetClusterParameterGroup", {"parameterGroupName": "sales-params", "resetAllParameters": True}),
        H,
        id="ssl-reset-all",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call("ResetClusterParameterGroup", {"parameterGroupName": "sales-params"}),
        H,
        id="ssl-reset-all-by-default",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call(
            "ResetClusterParameterGroup",
            {
                "parameterGroupName": "sales-params",
                "resetAllParameters": False,
                "parameters": [{"parameterName": "require_ssl"}],
            },
        ),
        H,
        id="ssl-reset-named",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _serverless("UpdateWorkgroup", _config("require_ssl", "false")),
        H,
        id="ssl-workgroup-false",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _serverless("CreateWorkgroup", {**_config("require_ssl", "FALSE"), "namespaceName": "testnamespace"}),
        H,
        id="ssl-workgroup-created-false",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call("ModifyClusterParameterGroup", _parameters("require_ssl", "true")),
        None,
        id="ssl-true",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call("ModifyClusterParameterGroup", _parameters("enable_user_activity_logging", "false")),
        None,
        id="ssl-other-parameter",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call(
            "ModifyClusterParameterGroup",
            {"parameterGroupName": "sales-params", "parameters": "require_ssl=false"},
        ),
        None,
        id="ssl-parameters-not-a-list",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call(
            "ResetClusterParameterGroup",
            {
                "parameterGroupName": "sales-params",
                "resetAllParameters": False,
                "parameters": [{"parameterName": "datestyle"}],
            },
        ),
        None,
        id="ssl-reset-other",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _call(
            "ResetClusterParameterGroup",
            {"parameterGroupName": "sales-params", "parameters": [{"parameterName": "datestyle"}]},
        ),
        None,
        id="ssl-reset-other-flag-absent",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _serverless("UpdateWorkgroup", _config("require_ssl", "true")),
        None,
        id="ssl-workgroup-true",
    ),
    pytest.param(
        "redshift-require-ssl-off",
        _serverless(
            "UpdateWorkgroup",
            {
                "workgroupName": "analytics",
                "configParameters": [{"parameterName": "require_ssl", "parameterValue": "false"}],
            },
        ),
        None,
        id="ssl-workgroup-keys-are-parameterKey",
    ),
    # redshift-user-activity-logging-off
    pytest.param(
        "redshift-user-activity-logging-off",
        _call("ModifyClusterParameterGroup", _parameters("enable_user_activity_logging", "false")),
        M,
        id="activity-logging-false",
    ),
    pytest.param(
        "redshift-user-activity-logging-off",
        _serverless("UpdateWorkgroup", _config("enable_user_activity_logging", "false")),
        M,
        id="activity-logging-workgroup-false",
    ),
    pytest.param(
        "redshift-user-activity-logging-off",
        _call("ResetClusterParameterGroup", {"parameterGroupName": "sales-params", "resetAllParameters": True}),
        M,
        id="activity-logging-reset-all",
    ),
    pytest.param(
        "redshift-user-activity-logging-off",
        _call("ModifyClusterParameterGroup", _parameters("enable_user_activity_logging", "true")),
        None,
        id="activity-logging-true",
    ),
    # redshift-snapshot-shared
    pytest.param(
        "redshift-snapshot-shared",
        _call(
            "AuthorizeSnapshotAccess",
            {
                "snapshotIdentifier": "nightly",
                "snapshotClusterIdentifier": "sales-dw",
                "accountWithRestoreAccess": "444455556666",
            },
        ),
        H,
        id="snapshot-shared-out",
    ),
    pytest.param(
        "redshift-snapshot-shared",
        _call(
            "AuthorizeSnapshotAccess",
            {
                "snapshotArn": "arn:aws:redshift:us-east-1:111122223333:snapshot:sales-dw/nightly",
                "accountWithRestoreAccess": "amazon-redshift-support",
            },
        ),
        H,
        id="snapshot-shared-with-support-by-arn",
    ),
    pytest.param(
        "redshift-snapshot-shared",
        _call("AuthorizeSnapshotAccess", {"snapshotIdentifier": "nightly", "accountWithRestoreAccess": ACCOUNT}),
        None,
        id="snapshot-shared-own-account",
    ),
    pytest.param(
        "redshift-snapshot-shared",
        _call("AuthorizeSnapshotAccess", {"snapshotIdentifier": "nightly"}),
        None,
        id="snapshot-shared-no-account",
    ),
    # redshift-datashare-external-consumer
    pytest.param("redshift-datashare-external-consumer", event("authorize_datashare"), H, id="datashare-sample"),
    pytest.param(
        "redshift-datashare-external-consumer",
        _call("AuthorizeDataShare", {**event("authorize_datashare")["requestParameters"], "allowWrites": True}),
        C,
        id="datashare-writes",
    ),
    pytest.param(
        "redshift-datashare-external-consumer",
        _call("AuthorizeDataShare", {**event("authorize_datashare")["requestParameters"], "allowWrites": "true"}),
        H,
        id="datashare-writes-as-string",
    ),
    pytest.param(
        "redshift-datashare-external-consumer",
        _call(
            "AuthorizeDataShare",
            {**event("authorize_datashare")["requestParameters"], "consumerIdentifier": "444455556666"},
        ),
        None,
        id="datashare-allowed-consumer",
    ),
    pytest.param(
        "redshift-datashare-external-consumer",
        _call("AuthorizeDataShare", {**event("authorize_datashare")["requestParameters"], "consumerIdentifier": "ADX"}),
        None,
        id="datashare-allowed-keyword",
    ),
    # redshift-iam-roles-attached
    pytest.param(
        "redshift-iam-roles-attached",
        _call("ModifyClusterIamRoles", {"clusterIdentifier": "sales-dw", "addIamRoles": [ROLE]}),
        M,
        id="roles-added",
    ),
    pytest.param(
        "redshift-iam-roles-attached",
        _call("ModifyClusterIamRoles", {"clusterIdentifier": "sales-dw", "addIamRoles": [], "removeIamRoles": [ROLE]}),
        None,
        id="roles-removed",
    ),
    pytest.param(
        "redshift-iam-roles-attached",
        _call("ModifyClusterIamRoles", {"clusterIdentifier": "sales-dw", "addIamRoles": ROLE}),
        None,
        id="roles-not-a-list",
    ),
    # redshift-cluster-deleted
    pytest.param(
        "redshift-cluster-deleted", _call("DeleteCluster", DOC_DELETE_CLUSTER), C, id="deleted-doc-skip-final"
    ),
    pytest.param(
        "redshift-cluster-deleted",
        _call(
            "DeleteCluster",
            {
                "clusterIdentifier": "sales-dw",
                "skipFinalClusterSnapshot": False,
                "finalClusterSnapshotIdentifier": "last",
            },
        ),
        H,
        id="deleted-with-final",
    ),
    pytest.param(
        "redshift-cluster-deleted",
        _call("DeleteCluster", {"clusterIdentifier": "sales-dw", "skipFinalClusterSnapshot": "true"}),
        H,
        id="deleted-skip-as-string",
    ),
    pytest.param(
        "redshift-cluster-deleted", _failed(_call("DeleteCluster", DOC_DELETE_CLUSTER)), None, id="deleted-denied"
    ),
    pytest.param(
        "redshift-cluster-deleted",
        _call("DeleteClusterSnapshot", {"snapshotIdentifier": "nightly"}),
        None,
        id="deleted-only-a-snapshot",
    ),
    # redshift-serverless-namespace-deleted
    pytest.param(
        "redshift-serverless-namespace-deleted",
        _serverless("DeleteNamespace", {"namespaceName": "testnamespace"}),
        C,
        id="namespace-deleted-no-final",
    ),
    pytest.param(
        "redshift-serverless-namespace-deleted",
        _serverless("DeleteNamespace", {"namespaceName": "testnamespace", "finalSnapshotName": "last"}),
        H,
        id="namespace-deleted-with-final",
    ),
    pytest.param(
        "redshift-serverless-namespace-deleted",
        _serverless("DeleteWorkgroup", {"workgroupName": "analytics"}),
        None,
        id="namespace-rule-ignores-workgroups",
    ),
    pytest.param(
        "redshift-serverless-namespace-deleted",
        _failed(_serverless("DeleteNamespace", {"namespaceName": "testnamespace"}), "ConflictException"),
        None,
        id="namespace-delete-failed",
    ),
    # redshift-snapshots-deleted
    pytest.param(
        "redshift-snapshots-deleted",
        _call("DeleteClusterSnapshot", {"snapshotIdentifier": "nightly", "snapshotClusterIdentifier": "sales-dw"}),
        M,
        id="snapshot-deleted",
    ),
    pytest.param(
        "redshift-snapshots-deleted",
        _call("BatchDeleteClusterSnapshots", _batch("a", "b", "c"), response={"resources": ["a", "b", "c"]}),
        M,
        id="snapshots-batch-deleted",
    ),
    pytest.param(
        "redshift-snapshots-deleted",
        _serverless("DeleteSnapshot", {"snapshotName": "nightly"}),
        M,
        id="serverless-snapshot-deleted",
    ),
    pytest.param(
        "redshift-snapshots-deleted",
        _call("BatchDeleteClusterSnapshots", {"identifiers": []}),
        None,
        id="snapshots-batch-empty",
    ),
    pytest.param(
        "redshift-snapshots-deleted",
        _call("CreateClusterSnapshot", {"snapshotIdentifier": "nightly", "clusterIdentifier": "sales-dw"}),
        None,
        id="snapshot-created",
    ),
    # redshift-admin-password-changed
    pytest.param(
        "redshift-admin-password-changed",
        _call(
            "ModifyCluster", {"clusterIdentifier": "misconfig-maker", "masterUserPassword": "****", "encrypted": True}
        ),
        M,
        id="password-modify-cluster",
    ),
    pytest.param(
        "redshift-admin-password-changed",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "masterUserPassword": None}),
        M,
        id="password-key-present-value-null",
    ),
    pytest.param(
        "redshift-admin-password-changed",
        _serverless(
            "UpdateNamespace",
            {
                "namespaceName": "testnamespace",
                "adminUsername": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "adminUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS",
            },
        ),
        M,
        id="password-update-namespace",
    ),
    pytest.param(
        "redshift-admin-password-changed",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "nodeType": "ra3.xlplus"}),
        None,
        id="password-not-sent",
    ),
    pytest.param("redshift-admin-password-changed", event("create_namespace"), None, id="password-set-at-creation"),
    # redshift-cross-region-snapshot-copy
    pytest.param(
        "redshift-cross-region-snapshot-copy",
        _call(
            "EnableSnapshotCopy",
            {"clusterIdentifier": "sales-dw", "destinationRegion": "us-west-2", "retentionPeriod": 7},
        ),
        M,
        id="copy-enabled",
    ),
    pytest.param(
        "redshift-cross-region-snapshot-copy",
        _serverless(
            "CreateSnapshotCopyConfiguration", {"namespaceName": "testnamespace", "destinationRegion": "eu-west-1"}
        ),
        M,
        id="copy-configured-serverless",
    ),
    pytest.param(
        "redshift-cross-region-snapshot-copy",
        _call("DisableSnapshotCopy", {"clusterIdentifier": "sales-dw"}),
        None,
        id="copy-disabled",
    ),
    # redshift-automated-snapshots-off
    pytest.param(
        "redshift-automated-snapshots-off",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "automatedSnapshotRetentionPeriod": 0}),
        H,
        id="retention-0",
    ),
    pytest.param(
        "redshift-automated-snapshots-off",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "automatedSnapshotRetentionPeriod": "0"}),
        H,
        id="retention-0-as-string",
    ),
    pytest.param(
        "redshift-automated-snapshots-off",
        _call("CreateCluster", {**DOC_CREATE_CLUSTER, "automatedSnapshotRetentionPeriod": 0}),
        H,
        id="retention-0-at-creation",
    ),
    pytest.param(
        "redshift-automated-snapshots-off",
        _call(
            "RestoreFromClusterSnapshot",
            {"clusterIdentifier": "sales-dw", "snapshotIdentifier": "nightly", "automatedSnapshotRetentionPeriod": 0},
        ),
        H,
        id="retention-0-at-restore",
    ),
    pytest.param(
        "redshift-automated-snapshots-off", _call("CreateCluster", DOC_CREATE_CLUSTER), None, id="retention-1-doc"
    ),
    pytest.param(
        "redshift-automated-snapshots-off",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "automatedSnapshotRetentionPeriod": False}),
        None,
        id="retention-false-is-not-0",
    ),
    pytest.param(
        "redshift-automated-snapshots-off",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw"}),
        None,
        id="retention-unchanged",
    ),
    # redshift-cluster-unencrypted
    pytest.param("redshift-cluster-unencrypted", _call("CreateCluster", DOC_CREATE_CLUSTER), H, id="unencrypted-doc"),
    pytest.param(
        "redshift-cluster-unencrypted",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "encrypted": False}),
        H,
        id="decrypted",
    ),
    pytest.param(
        "redshift-cluster-unencrypted",
        _call(
            "ModifyCluster", {"clusterIdentifier": "misconfig-maker", "masterUserPassword": "****", "encrypted": True}
        ),
        None,
        id="encrypted",
    ),
    pytest.param(
        "redshift-cluster-unencrypted",
        _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "encrypted": "false"}),
        None,
        id="encrypted-as-string",
    ),
    pytest.param(
        "redshift-cluster-unencrypted",
        _call(
            "RestoreFromClusterSnapshot",
            {"clusterIdentifier": "sales-dw", "snapshotIdentifier": "n", "encrypted": False},
        ),
        None,
        id="restore-not-encrypting",
    ),
    # redshift-security-group-open-ingress
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": "0.0.0.0/0"}),
        H,
        id="ingress-any-ipv4",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": "::/0"}),
        H,
        id="ingress-any-ipv6",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "CIDRIP": "0.0.0.0/0"}),
        H,
        id="ingress-key-other-case",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": "10.1.2.3/0"}),
        H,
        id="ingress-host-bits-set",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": "10.0.0.0/8"}),
        None,
        id="ingress-private-range",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": "anywhere"}),
        None,
        id="ingress-not-an-address",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cIDRIP": 0}),
        None,
        id="ingress-number",
    ),
    pytest.param(
        "redshift-security-group-open-ingress",
        _call(
            "AuthorizeClusterSecurityGroupIngress",
            {"clusterSecurityGroupName": "default", "eC2SecurityGroupName": "app", "eC2SecurityGroupOwnerId": ACCOUNT},
        ),
        None,
        id="ingress-from-security-group",
    ),
    # redshift-access-denied
    pytest.param(
        "redshift-access-denied",
        _failed(_call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True})),
        L,
        id="denied-modify",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_serverless("UpdateWorkgroup", {"workgroupName": "analytics"}), "AccessDeniedException"),
        L,
        id="denied-serverless",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_call("DeleteCluster", DOC_DELETE_CLUSTER), "UnauthorizedOperation"),
        L,
        id="denied-unauthorized-operation",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_call("CreateCluster", DOC_CREATE_CLUSTER), "Client.AccessDenied"),
        L,
        id="denied-code-suffix",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_call("DescribeClusters", {"clusterIdentifier": "sales-dw"}, readOnly=True)),
        None,
        id="denied-read-only",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_call("DescribeClusters", {}, readOnly="true")),
        None,
        id="denied-read-only-as-string",
    ),
    pytest.param(
        "redshift-access-denied",
        _failed(_call("DeleteCluster", DOC_DELETE_CLUSTER), "InvalidClusterState"),
        None,
        id="failed-not-denied",
    ),
    pytest.param("redshift-access-denied", _call("DeleteCluster", DOC_DELETE_CLUSTER), None, id="denied-succeeded"),
]


@pytest.mark.parametrize(("rule_id", "record", "expected"), CASES)
def test_each_rule_on_its_cases(rule_id, record, expected):
    # Given a record and the rule it is a case of
    rule = RULES_BY_ID[rule_id]
    # When the catalogue reads the record
    found = [detection for detection in detect(record, CONTEXT) if detection.rule is rule]
    # Then the rule matches it at the expected severity, or not at all
    if expected is None:
        assert found == []
    else:
        assert [detection.severity for detection in found] == [expected]
        assert found[0].fields["resource"] != "-"


def test_every_rule_has_a_case_that_matches_at_its_default_severity_and_one_that_does_not_match():
    # Given the table of cases
    matched = {case.values[0] for case in CASES if case.values[2] is RULES_BY_ID[case.values[0]].severity}
    unmatched = {case.values[0] for case in CASES if case.values[2] is None}
    # Then every rule of the catalogue has both
    assert matched == unmatched == set(RULES_BY_ID)


CHANGE_RULE_HITS = [case for case in CASES if case.values[2] is not None and not RULES_BY_ID[case.values[0]].on_failure]


@pytest.mark.parametrize(("rule_id", "record", "expected"), CHANGE_RULE_HITS)
def test_a_failed_call_matches_only_the_denied_attempt_rule(rule_id, record, expected):
    # Given a change that a rule matches, refused for lack of permission
    denied = _failed(record)
    # When the catalogue reads it
    detections = detect(denied, CONTEXT)
    # Then no change rule matches, but the denied attempt is reported
    assert [detection.rule.id for detection in detections] == ["redshift-access-denied"]
    assert detections[0].severity is Severity.LOW


@pytest.mark.parametrize(
    ("record", "actor", "expected"),
    [
        pytest.param(
            _call("ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True}),
            "arn:aws:iam::111122223333:role/admin",
            ["arn:aws:iam::111122223333:role/admin made cluster sales-dw publicly accessible"],
            id="cluster-public",
        ),
        pytest.param(
            event("authorize_datashare"),
            "janedoe",
            ["janedoe authorized datashare testshare to consumer 555555555555 (read)"],
            id="datashare-name-from-arn",
        ),
        pytest.param(
            _call("DeleteCluster", DOC_DELETE_CLUSTER),
            "alice",
            ["alice deleted cluster my-dw-instance (final snapshot: none)"],
            id="cluster-deleted",
        ),
        pytest.param(
            _call("DeleteCluster", {"clusterIdentifier": "sales-dw"}),
            "alice",
            ["alice deleted cluster sales-dw (final snapshot: -)"],
            id="missing-field-as-dash",
        ),
        pytest.param(
            _call("BatchDeleteClusterSnapshots", _batch("a", "b", "c")),
            "alice",
            ["alice deleted 3 snapshots a, b, c"],
            id="snapshots-batch",
        ),
        pytest.param(
            _call("BatchDeleteClusterSnapshots", _batch(*"abcdefg")),
            "alice",
            ["alice deleted 7 snapshots a, b, c, d, e and 2 more"],
            id="snapshots-long-batch",
        ),
        pytest.param(
            _call("ModifyClusterIamRoles", {"clusterIdentifier": "sales-dw", "addIamRoles": [ROLE, ROLE + "2"]}),
            "alice",
            [f"alice attached IAM roles {ROLE}, {ROLE}2 to cluster sales-dw"],
            id="roles-joined",
        ),
        pytest.param(
            _call("ResetClusterParameterGroup", {"parameterGroupName": "sales-params"}),
            "alice",
            [
                "alice turned off require_ssl in parameter group sales-params (all parameters reset to defaults)",
                "alice turned off enable_user_activity_logging in parameter group sales-params"
                " (all parameters reset to defaults)",
            ],
            id="reset-all-turns-both-off",
        ),
        pytest.param(
            _serverless("UpdateWorkgroup", _config("require_ssl", "False")),
            "alice",
            ["alice turned off require_ssl in workgroup analytics (set to false)"],
            id="workgroup-ssl",
        ),
        pytest.param(
            _serverless("UpdateNamespace", {"namespaceName": "testnamespace", "logExports": []}),
            "alice",
            ["alice turned off audit logging of namespace testnamespace"],
            id="namespace-logging",
        ),
        pytest.param(
            _call("AuthorizeClusterSecurityGroupIngress", {"clusterSecurityGroupName": "default", "cidrip": "::/0"}),
            "alice",
            ["alice opened cluster security group default to ::/0"],
            id="ingress",
        ),
        pytest.param(
            _failed(_serverless("UpdateWorkgroup", {"workgroupName": "analytics"}), "AccessDeniedException"),
            "bob",
            ["bob was denied UpdateWorkgroup on analytics"],
            id="denied",
        ),
        pytest.param(
            _call("ModifyCluster", {"clusterIdentifier": "sales\ndw", "publiclyAccessible": True}),
            "mallory\nforged line",
            ["mallory forged line made cluster sales dw publicly accessible"],
            id="newlines-flattened",
        ),
    ],
)
def test_titles(record, actor, expected):
    # Given a record that rules match
    # When their titles are rendered for an actor
    titles = [detection.title(actor) for detection in detect(record, CONTEXT)]
    # Then each names the actor, the resource and what the rule adds
    assert titles == expected


def test_the_allow_list_decides_whether_the_sample_datashare_is_reported():
    # Given the AWS sample that authorizes a datashare to account 555555555555
    record = event("authorize_datashare")
    # When that account is or is not in the allow-list
    # Then it is reported only when it is not
    assert [d.rule.id for d in detect(record, DetectionContext())] == ["redshift-datashare-external-consumer"]
    assert detect(record, DetectionContext(datashare_consumer_allowlist=frozenset({"555555555555"}))) == []


def test_a_record_can_match_several_rules():
    # Given the AWS doc's CreateCluster: public, unencrypted, and with a password (not a change of one)
    record = _call("CreateCluster", DOC_CREATE_CLUSTER)
    # When the catalogue reads it
    ids = {detection.rule.id for detection in detect(record, CONTEXT)}
    # Then both risky settings are reported, and nothing else
    assert ids == {"redshift-cluster-public", "redshift-cluster-unencrypted"}


@pytest.mark.parametrize(
    "error_code",
    [pytest.param("", id="empty-string"), pytest.param(None, id="null")],
)
def test_an_empty_error_code_is_a_success(error_code):
    # Given a successful call whose errorCode is written but empty
    record = _call("DeleteCluster", DOC_DELETE_CLUSTER, errorCode=error_code)
    # When the catalogue reads it
    # Then it is a deletion, not a failure
    assert [d.rule.id for d in detect(record, CONTEXT)] == ["redshift-cluster-deleted"]


def test_severities_are_ordered_by_rank_not_by_text():
    # Given the four severities
    # When they are ranked
    # Then low < medium < high < critical, and highest picks by rank
    assert [s.rank for s in (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)] == [0, 1, 2, 3]
    assert highest([Severity.HIGH, Severity.CRITICAL, Severity.LOW]) is Severity.CRITICAL
    assert highest([Severity.MEDIUM, Severity.HIGH]) is Severity.HIGH  # "high" < "medium" as text
    assert highest([]) is None
    assert highest(d.severity for d in detect(_call("DeleteCluster", DOC_DELETE_CLUSTER), CONTEXT)) is Severity.CRITICAL


def test_rule_ids_are_unique_stable_names_with_aws_references():
    # Given the catalogue
    # Then ids are unique kebab-case, and each rule cites the AWS documentation
    assert len(RULES_BY_ID) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"redshift(-[a-z0-9]+)+", rule.id), rule.id
        assert rule.reference.startswith("https://docs.aws.amazon.com/"), rule.id
        assert rule.sources, rule.id
        assert rule.sources <= {PROVISIONED, SERVERLESS}, rule.id
        assert rule.names, rule.id


def test_titles_are_one_line_templates_of_plain_fields_naming_actor_and_resource():
    for rule in RULES:
        fields = {name for _, name, spec, conversion in string.Formatter().parse(rule.title) if name is not None}
        assert {"actor", "resource"} <= fields, rule.id
        assert all(re.fullmatch(r"[a-zA-Z]+", name) for name in fields), rule.id
        assert "\n" not in rule.title


@given(actor=st.text(), fields=st.dictionaries(st.text(), st.text()))
@settings(max_examples=200, deadline=None)
def test_every_title_renders_with_any_actor_and_fields(actor, fields):
    for rule in RULES:
        # Given a detection of the rule with arbitrary fields, and an arbitrary actor
        detection = Detection(rule, rule.severity, fields)
        # When its title is rendered
        title = detection.title(actor)
        # Then it renders, on one line
        assert "\n" not in title
        assert "\r" not in title


def test_an_empty_detection_renders_every_field_as_a_dash():
    for rule in RULES:
        assert "{" not in Detection(rule, rule.severity, {}).title("")
        assert Detection(rule, rule.severity, {}).title("").startswith("- ")


def test_the_index_holds_each_rule_under_every_event_it_reads():
    # Given every (eventSource, eventName) pair some rule reads
    pairs = {(source, name) for rule in RULES for source in rule.sources for name in rule.names}
    for source, name in pairs:
        # When the rules for that pair are looked up
        found = rules_for(source, name)
        # Then they are exactly the rules that name it or read every event of its source, once each
        expected = {
            rule for rule in RULES if source in rule.sources and (name in rule.names or ANY_EVENT_NAME in rule.names)
        }
        assert set(found) == expected
        assert len(found) == len(expected)
    assert rules_for(PROVISIONED, "NoSuchCall") == (RULES_BY_ID["redshift-access-denied"],)
    assert rules_for("s3.amazonaws.com", "DeleteCluster") == ()


# Field names the rules read, so that drawn records reach deep into the predicates.
KEYS = sorted(
    {
        "clusterIdentifier",
        "workgroupName",
        "namespaceName",
        "parameterGroupName",
        "parameters",
        "parameterName",
        "parameterValue",
        "configParameters",
        "parameterKey",
        "resetAllParameters",
        "publiclyAccessible",
        "logExports",
        "accountWithRestoreAccess",
        "snapshotIdentifier",
        "snapshotArn",
        "snapshotName",
        "identifiers",
        "dataShareArn",
        "consumerIdentifier",
        "allowWrites",
        "addIamRoles",
        "skipFinalClusterSnapshot",
        "finalClusterSnapshotIdentifier",
        "finalSnapshotName",
        "masterUserPassword",
        "adminUserPassword",
        "destinationRegion",
        "automatedSnapshotRetentionPeriod",
        "encrypted",
        "cIDRIP",
        "CIDRIP",
        "clusterSecurityGroupName",
    }
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["require_ssl", "enable_user_activity_logging", "false", "0", "0.0.0.0/0", "::/0", "arn:"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)
NAMES = sorted({name for rule in RULES for name in rule.names})
RECORDS = st.fixed_dictionaries(
    {
        "eventSource": st.sampled_from([PROVISIONED, SERVERLESS]) | JSON,
        "eventName": st.sampled_from(NAMES) | JSON,
    },
    optional={
        "requestParameters": JSON,
        "responseElements": JSON,
        "errorCode": st.sampled_from(["AccessDenied", "ValidationException", ""]) | JSON,
        "readOnly": JSON,
        "recipientAccountId": st.sampled_from([ACCOUNT]) | JSON,
    },
)


@given(record=RECORDS, allowlist=st.frozensets(st.text(max_size=12)), actor=st.text())
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_detect_never_raises_on_junk(record, allowlist, actor):
    # Given any JSON in the fields the rules read
    # When the catalogue reads it
    detections = detect(record, DetectionContext(datashare_consumer_allowlist=allowlist))
    # Then it answers with detections whose titles render, and failed calls match failure rules only
    for detection in detections:
        assert isinstance(detection, Detection)
        assert isinstance(detection.title(actor), str)
        assert all(isinstance(value, str) for value in detection.fields.values())
        if record.get("errorCode") not in (None, ""):
            assert detection.rule.on_failure


@given(record=JSON)
@settings(max_examples=200, deadline=None)
def test_detect_never_raises_on_a_record_of_any_shape(record):
    assert isinstance(detect(record, CONTEXT), list)


@pytest.mark.parametrize(
    ("name", "request_parameters", "named"),
    [
        ("CreateTags", {"resourceName": "arn:aws:redshift:us-east-1:123456789012:cluster:sales-dw"}, "sales-dw"),
        (
            "DeleteClusterSnapshot",
            {"snapshotIdentifier": "nightly", "snapshotClusterIdentifier": "sales-dw"},
            "nightly",
        ),
        (
            "ModifyClusterIamRoles",
            {"clusterIdentifier": "sales-dw", "addIamRoles": ["arn:aws:iam::1:role/r"]},
            "sales-dw",
        ),
    ],
)
def test_a_denied_attempt_names_the_resource_its_item_names(name, request_parameters, named):
    # Given a write call refused with AccessDenied (CreateTags names its resource by an ARN in resourceName, which the
    # detections' own field list once missed: its alert said "-")
    record = event("execute_statement") | {
        "eventSource": "redshift.amazonaws.com",
        "eventName": name,
        "readOnly": False,
        "errorCode": "AccessDenied",
        "requestParameters": request_parameters,
        "responseElements": None,
    }
    # When it is detected
    (found,) = detect(record, DetectionContext())
    # Then the alert names the resource as the item's resource does (one table, core/resources.py)
    resource = resource_of(record)
    assert resource is not None
    assert found.fields["resource"] == resource.name == named
