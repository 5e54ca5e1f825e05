import json

import pytest

from redtrail.contracts import schema
from redtrail.core.classify import Match, MatchedBy, classify
from redtrail.core.items import InvalidRecordError, build_item, expiry_epoch
from tests.support import event

SOURCE = "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-2/2017/03/03/file.json.gz"


def _item(name):
    record = event(name)
    match = classify(record)
    assert match is not None
    return record, build_item(record, match, source_object=SOURCE)


def test_kms_decrypt_by_redshift_is_resolved_to_the_service_account_region():
    # Given Redshift's KMS Decrypt call from the reference document
    record, item = _item("kms_decrypt_by_redshift")
    # When it becomes an item
    # Then it names the rule, the service account's region, the role and the cluster
    assert item["eventID"] == {"S": "619bad54-1764-4de4-a786-8898b0a7f40c"}
    assert item["matchedBy"] == {"S": "serviceAccount"}
    assert item["redshiftServiceAccountRegion"] == {"S": "us-east-2"}
    assert item["eventSource"] == {"S": "kms.amazonaws.com"}
    assert item["eventName"] == {"S": "Decrypt"}
    assert item["recipientAccountId"] == {"S": "123456789012"}
    assert item["readOnly"] == {"BOOL": True}
    assert item["isWrite"] == {"BOOL": False}
    assert "writeBucket" not in item
    assert item["principal"] == {"S": "arn:aws:iam::790247189693:role/prod-23264-role-wp"}
    assert item["principalAccountId"] == {"S": "790247189693"}
    assert item["identityType"] == {"S": "AssumedRole"}
    assert item["resource"] == {"S": "cluster:my-dw-instance-2"}
    assert item["sourceObject"] == {"S": SOURCE}
    assert item["timeBucket"]["S"].startswith("2017-03#")
    # and the stored event is the original record, lossless
    assert json.loads(item["event"]["S"]) == record


@pytest.mark.parametrize(
    ("name", "resource", "principal"),
    [
        ("authorize_datashare", "datashare:testshare", "arn:aws:sts::111122223333:user/janedoe"),
        ("create_namespace", "namespace:testnamespace", "arn:aws:iam::111111111111:role/admin"),
        ("execute_statement", "cluster:example-cluster-identifier", "arn:aws:sts::123456789012:user/janedoe"),
        ("create_connection", "cluster:redshift-cluster-2", "arn:aws:iam::123456789012:role/MyRole"),
    ],
)
def test_write_type_examples(name, resource, principal):
    # Given a write-type example of the reference document
    record, item = _item(name)
    # When it becomes an item
    # Then it is a write, in the write index, with its resource and principal
    assert item["isWrite"] == {"BOOL": True}
    assert item["readOnly"] == {"BOOL": False}
    assert item["writeBucket"] == item["timeBucket"]
    assert item["resource"] == {"S": resource}
    assert item["principal"] == {"S": principal}
    assert item["matchedBy"] == {"S": "eventSource"}
    assert "redshiftServiceAccountRegion" not in item
    assert json.loads(item["event"]["S"]) == record


@pytest.mark.parametrize(
    ("read_only", "is_write"),
    [(True, False), (False, True), ("true", False), (None, True), ("missing", True)],
)
def test_a_missing_read_only_counts_as_a_write(read_only, is_write):
    # Given a record whose readOnly is true, false, a string, null or missing
    record = {"eventID": "e1", "eventTime": "2024-05-01T12:00:00Z", "eventSource": "redshift.amazonaws.com"}
    if read_only != "missing":
        record["readOnly"] = read_only
    # When it becomes an item
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then only a true readOnly makes it a read
    assert item["isWrite"] == {"BOOL": is_write}


@pytest.mark.parametrize("event_id", [None, "", 42])
def test_a_record_without_a_usable_event_id_is_invalid(event_id):
    # Given a kept record without a string eventID
    record = {"eventID": event_id, "eventSource": "redshift.amazonaws.com"}
    # When it is turned into an item
    # Then it is rejected with a reason instead of being stored under a made-up key
    with pytest.raises(InvalidRecordError, match="eventID"):
        build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)


def test_odd_values_are_left_out_and_the_event_keeps_them():
    # Given a record with nulls, numbers, non-ASCII text and a lone surrogate
    record = {
        "eventID": "e-ü",
        "eventTime": "2024-05-01T12:00:00Z",
        "awsRegion": None,
        "eventSource": "redshift.amazonaws.com",
        "eventName": 7,
        "userIdentity": {"type": "Root", "accountId": "111122223333"},
        "requestParameters": {"clusterIdentifier": "café", "n": 12345678901234567890123, "f": 1.5, "s": "\ud800"},
    }
    # When it becomes an item
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then null or non-string fields are not attributes, and the event is whole
    assert "awsRegion" not in item
    assert "eventName" not in item
    assert item["timeBucket"]["S"].startswith("2024-05#")
    assert item["principal"] == {"S": "Root:111122223333"}
    assert item["resource"] == {"S": "cluster:café"}
    item["event"]["S"].encode("utf-8")
    assert json.loads(item["event"]["S"]) == record


def test_retention_sets_the_ttl_from_the_event_time():
    # Given a retention of 30 days
    record = event("execute_statement")
    # When the item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE, retention_days=30)
    # Then it expires 30 days after the event
    assert item[schema.TTL_ATTRIBUTE] == {"N": str(expiry_epoch("2020-08-19T17:55:59Z", 30))}
    assert expiry_epoch("2020-08-19T17:55:59Z", 30) == 1597859759 + 30 * 86400
    # and an event whose time cannot be read is not given a time of its own: it is not an event item at all (the
    # pipeline quarantines it, tests/unit/test_record_bounds.py)
    with pytest.raises(InvalidRecordError, match="eventTime 'yesterday'"):
        build_item(
            record | {"eventTime": "yesterday"}, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE, retention_days=30
        )


REDSHIFT_ARN = "arn:aws:redshift:us-east-1:111122223333"


def _call(source, name, request, response=None):
    return {
        "eventID": "e1",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "requestParameters": request,
        "responseElements": response,
    }


@pytest.mark.parametrize(
    ("record", "resource", "parent"),
    [
        pytest.param(
            _call("redshift", "DeleteClusterSnapshot", {"snapshotIdentifier": "s1", "snapshotClusterIdentifier": "c1"}),
            "snapshot:s1",
            "cluster:c1",
            id="DeleteClusterSnapshot-names-its-cluster-in-snapshotClusterIdentifier",
        ),
        pytest.param(
            _call("redshift", "CreateClusterSnapshot", {"snapshotIdentifier": "s1", "clusterIdentifier": "c1"}),
            "snapshot:s1",
            "cluster:c1",
            id="CreateClusterSnapshot",
        ),
        pytest.param(
            _call("redshift", "CreateTags", {"resourceName": f"{REDSHIFT_ARN}:cluster:c1", "tags": []}),
            "cluster:c1",
            None,
            id="CreateTags-names-an-ARN-in-resourceName",
        ),
        pytest.param(
            _call("redshift", "DeleteTags", {"resourceName": f"{REDSHIFT_ARN}:snapshot:c1/s1", "tagKeys": ["k"]}),
            "snapshot:s1",
            "cluster:c1",
            id="DeleteTags-of-a-snapshot",
        ),
        pytest.param(
            _call("redshift", "ModifyClusterParameterGroup", {"parameterGroupName": "pg", "parameters": []}),
            "parametergroup:pg",
            None,
            id="parameterGroupName",
        ),
        pytest.param(
            _call("redshift-serverless", "CreateWorkgroup", {"workgroupName": "wg", "namespaceName": "ns"}),
            "workgroup:wg",
            "namespace:ns",
            id="serverless-workgroup-of-a-namespace",
        ),
        pytest.param(
            _call("redshift-serverless", "DeleteNamespace", {"namespaceName": "ns"}),
            "namespace:ns",
            None,
            id="serverless-namespaceName",
        ),
        pytest.param(
            _call("redshift-data", "ExecuteStatement", {"ClusterIdentifier": "c1", "Sql": "***OMITTED***"}),
            "cluster:c1",
            None,
            id="Data-API-ClusterIdentifier",
        ),
        pytest.param(
            _call("redshift-data", "ExecuteStatement", {"WorkgroupName": "wg", "Sql": "***OMITTED***"}),
            "workgroup:wg",
            None,
            id="Data-API-WorkgroupName",
        ),
        pytest.param(
            {
                "eventID": "e1",
                "eventTime": "2024-05-01T12:00:00Z",
                "requestParameters": {
                    "encryptionContext": {
                        "aws:redshift-serverless:arn": "arn:aws:redshift-serverless:us-east-1:1:namespace/abc"
                    }
                },
            },
            "namespace:abc",
            None,
            id="KMS-encryption-context",
        ),
        pytest.param(
            {
                "eventID": "e1",
                "eventTime": "2024-05-01T12:00:00Z",
                "requestParameters": {"encryptionContext": {"aws:redshift:arn": "arn:aws:s3:::bucket"}},
            },
            None,
            None,
            id="not-a-Redshift-ARN",
        ),
        pytest.param(_call("redshift", "RebootCluster", {"clusterIdentifier": ""}), None, None, id="empty"),
        pytest.param(_call("redshift", "RebootCluster", "clusterIdentifier"), None, None, id="request-a-string"),
    ],
)
def test_an_item_is_keyed_by_its_resource_and_what_that_belongs_to(record, resource, parent):
    # Given a record naming (or not) a Redshift resource, and what it belongs to
    # When it becomes an item
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then its resource is kind:name (the byResource key) and its parent's the byParentResource key, when named
    assert item.get(schema.BY_RESOURCE.partition_key) == ({"S": resource} if resource else None)
    assert item.get(schema.BY_PARENT_RESOURCE.partition_key) == ({"S": parent} if parent else None)


def test_a_parent_longer_than_a_key_is_dropped_and_the_resource_kept():
    # Given a workgroup of a namespace whose name is 2,100 UTF-8 bytes, over a partition key's 2,048
    namespace = "é" * 1050
    record = _call("redshift-serverless", "CreateWorkgroup", {"workgroupName": "wg", "namespaceName": namespace})
    # When its item is built
    item = build_item(record, Match(MatchedBy.EVENT_SOURCE), source_object=SOURCE)
    # Then the parent's key is left out and named, the workgroup's kept, the event whole
    assert "parentResource" not in item
    assert item["droppedAttributes"] == {"L": [{"S": "parentResource"}]}
    assert item["resource"] == {"S": "workgroup:wg"}
    assert json.loads(item["event"]["S"]) == record
