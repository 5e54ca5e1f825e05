"""The table: keys, GSIs and TTL from redtrail.schema; on-demand, PITR, encryption, protected and retained."""

from infra_support import Synth, only

from redtrail.contracts import schema


def test_table_is_built_from_the_shared_schema(synth: Synth) -> None:
    # Given either configuration
    _, table = only(synth, "AWS::DynamoDB::Table")

    # Then its key, attributes, indexes and projections are those of redtrail.schema
    assert table["KeySchema"] == [{"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"}]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        ({"AttributeName": name, "AttributeType": "S"} for name in schema.key_attributes()),
        key=lambda a: a["AttributeName"],
    )
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert list(indexes) == [index.name for index in schema.INDEXES]
    for index in schema.INDEXES:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ]
        expected = (
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": schema.projected_attributes(index)}
            if index.projection_type == "INCLUDE"
            else {"ProjectionType": index.projection_type}  # ALL: the ledger's; KEYS_ONLY: byParentResource
        )
        assert indexes[index.name]["Projection"] == expected

    # And it matches the request the CLI uses to create a table locally
    request = schema.create_table_request("any")
    assert table["KeySchema"] == request["KeySchema"]
    assert table["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"]


def test_table_settings(synth: Synth) -> None:
    # Given either configuration
    logical_id, table = only(synth, "AWS::DynamoDB::Table")
    resource = synth.json["Resources"][logical_id]

    # Then it is on-demand, recoverable, encrypted, protected and kept when the stack goes
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionProtectionEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_the_index_of_what_resources_belong_to_holds_keys_only(synth: Synth) -> None:
    # Given either configuration
    _, table = only(synth, "AWS::DynamoDB::Table")
    # When its index of parent resources is looked up
    (index,) = [index for index in table["GlobalSecondaryIndexes"] if index["IndexName"] == "byParentResource"]
    # Then it is keyed by parentResource and time, and copies no event attribute (queries read the events found)
    assert index["KeySchema"] == [
        {"AttributeName": "parentResource", "KeyType": "HASH"},
        {"AttributeName": "eventTime", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "parentResource", "AttributeType": "S"} in table["AttributeDefinitions"]
