import json

import pytest

from redtrail.contracts import schema
from redtrail.core.classify import Match, MatchedBy, classify
from redtrail.core.items import InvalidRecordError, build_item, expiry_epoch, resource_of
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


@pytest.mark.parametrize(
    ("record", "resource"),
    [
        ({"requestParameters": {"workgroupName": "wg"}}, "workgroup:wg"),
        ({"responseElements": {"namespaceName": "ns"}}, "namespace:ns"),
        (
            {
                "requestParameters": {
                    "encryptionContext": {
                        "aws:redshift-serverless:arn": "arn:aws:redshift-serverless:us-east-1:1:namespace/abc"
                    }
                }
            },
            "namespace:abc",
        ),
        ({"requestParameters": {"encryptionContext": {"aws:redshift:arn": "arn:aws:s3:::bucket"}}}, None),
        ({"requestParameters": {"clusterIdentifier": ""}}, None),
        ({"requestParameters": "clusterIdentifier"}, None),
    ],
)
def test_resource_of(record, resource):
    # Given a record naming (or not) a Redshift resource
    # When its resource is read
    # Then it is kind:name, or None
    assert resource_of(record) == resource
