"""Source modes: the bucket's S3 notification, its EventBridge events, or the trail's SNS topic feed the queue."""

from typing import Any

import pytest
from infra_support import (
    ARCHIVE_ACCOUNT,
    ARCHIVE_TOPIC_ARN,
    Synth,
    arn_of,
    ingest_queue,
    only,
    queue_service_statements,
    ref,
    resources,
)

from infra.config import ConfigError, SourceMode, StackConfig
from infra.constructs.source import trail_file_wildcard

OBJECT_CREATED_DETAIL = "Object Created"


def _object_created_rules(synth: Synth) -> list[dict[str, Any]]:
    return [
        rule["Properties"]
        for rule in resources(synth, "AWS::Events::Rule").values()
        if OBJECT_CREATED_DETAIL in rule["Properties"].get("EventPattern", {}).get("detail-type", [])
    ]


def _queue_notifications(synth: Synth) -> list[dict[str, Any]]:
    return [
        configuration
        for notification in resources(synth, "Custom::S3BucketNotifications").values()
        for configuration in notification["Properties"]["NotificationConfiguration"].get("QueueConfigurations", [])
    ]


def test_each_mode_announces_trail_files_one_way_only(any_mode: Synth) -> None:
    # Given any configuration
    # When the routes to the ingest queue are counted: queue notifications, "Object Created" rules, queue
    # subscriptions (alarmEmail and alertEmail subscribe addresses to the stack's own topics, not the queue)
    subscriptions = resources(any_mode, "AWS::SNS::Subscription").values()
    routes = {
        SourceMode.NOTIFICATION: len(_queue_notifications(any_mode)),
        SourceMode.EVENTBRIDGE: len(_object_created_rules(any_mode)),
        SourceMode.SNS: sum(s["Properties"]["Protocol"] == "sqs" for s in subscriptions),
    }
    # Then exactly the configured one exists (a file announced twice would be stored once, but read twice)
    assert routes == {mode: int(mode is any_mode.config.source_mode) for mode in SourceMode}


def test_only_the_announcing_service_may_send_for_this_source_and_account(any_mode: Synth) -> None:
    # Given any configuration and its ingest queue
    statements = queue_service_statements(any_mode, ingest_queue(any_mode))
    # When the queue policy's statements for AWS services are read
    [statement] = statements
    condition = statement["Condition"]
    # Then one service may send, and only for its one source (aws:SourceArn) in its one account
    # (aws:SourceAccount): no confused deputy
    service = {
        SourceMode.NOTIFICATION: "s3.amazonaws.com",
        SourceMode.EVENTBRIDGE: "events.amazonaws.com",
        SourceMode.SNS: "sns.amazonaws.com",
    }[any_mode.config.source_mode]
    assert statement["Principal"] == {"Service": service}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == arn_of(ingest_queue(any_mode))
    assert any("aws:SourceArn" in condition.get(operator, {}) for operator in ("ArnLike", "ArnEquals"))
    assert "aws:SourceAccount" in condition["StringEquals"]


def test_eventbridge_mode_turns_on_the_stacks_own_buckets_eventbridge_notifications(eventbridge_own: Synth) -> None:
    # Given sourceMode=eventbridge with the stack's own bucket (trail prefix `org`)
    _, trail = only(eventbridge_own, "AWS::CloudTrail::Trail")
    bucket_id = trail["S3BucketName"]["Ref"]
    # When the bucket's notification configuration and the rule are read
    _, notification = only(eventbridge_own, "Custom::S3BucketNotifications")
    [rule] = _object_created_rules(eventbridge_own)
    # Then the bucket sends its events to EventBridge and has no queue notification
    assert notification["BucketName"] == ref(bucket_id)
    assert notification["NotificationConfiguration"] == {"EventBridgeConfiguration": {}}
    # And one rule sends the bucket's new objects under org/AWSLogs/ ending .json.gz (log files and digests, any
    # way they were created) to the ingest queue
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": [OBJECT_CREATED_DETAIL],
        "detail": {
            "bucket": {"name": [ref(bucket_id)]},
            "object": {"key": [{"wildcard": "org/AWSLogs/*.json.gz"}]},
        },
    }
    assert rule["State"] == "ENABLED"
    assert [target["Arn"] for target in rule["Targets"]] == [arn_of(ingest_queue(eventbridge_own))]
    # And only that rule may send through EventBridge
    [statement] = queue_service_statements(eventbridge_own, ingest_queue(eventbridge_own))
    rule_id = next(
        key for key, value in resources(eventbridge_own, "AWS::Events::Rule").items() if value["Properties"] == rule
    )
    assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": arn_of(rule_id)}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_eventbridge_mode_leaves_an_existing_buckets_notifications_alone(eventbridge_existing: Synth) -> None:
    # Given sourceMode=eventbridge with an existing (shared) trail bucket
    # Then the stack writes no notification configuration to it (nothing of a SIEM's is rewritten) and has no
    # notifications handler; the rule matches that bucket by name
    eventbridge_existing.template.resource_count_is("Custom::S3BucketNotifications", 0)
    handlers = [
        key
        for key, value in resources(eventbridge_existing, "AWS::Lambda::Function").items()
        if key.startswith("BucketNotificationsHandler")
    ]
    assert handlers == []
    [rule] = _object_created_rules(eventbridge_existing)
    assert rule["EventPattern"]["detail"] == {
        "bucket": {"name": [eventbridge_existing.config.trail_bucket_name]},
        "object": {"key": [{"wildcard": "AWSLogs/*.json.gz"}]},
    }


def test_sns_mode_subscribes_the_queue_to_the_trails_topic(sns_existing: Synth) -> None:
    # Given sourceMode=sns with an existing trail whose topic is in another account and region
    queue_id = ingest_queue(sns_existing)
    # When the subscription and the queue policy are read
    [subscription] = resources(sns_existing, "AWS::SNS::Subscription").values()
    [statement] = queue_service_statements(sns_existing, queue_id)
    # Then the ingest queue subscribes to that topic, in the topic's region, with SNS's envelope (the function reads
    # CloudTrail's message inside it)
    assert subscription["Properties"] == {
        "Endpoint": arn_of(queue_id),
        "Protocol": "sqs",
        "Region": "us-west-2",
        "TopicArn": ARCHIVE_TOPIC_ARN,
    }
    # And only that topic, of that account, may send
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": ARCHIVE_TOPIC_ARN},
        "StringEquals": {"aws:SourceAccount": ARCHIVE_ACCOUNT},
    }
    # And the subscription is made once the queue accepts the topic's messages
    policy_id = next(
        key
        for key, value in resources(sns_existing, "AWS::SQS::QueuePolicy").items()
        if value["Properties"]["Queues"] == [ref(queue_id)]
    )
    assert policy_id in subscription["DependsOn"]
    # And the bucket's notifications are not touched
    sns_existing.template.resource_count_is("Custom::S3BucketNotifications", 0)


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"sourceMode": "sns"}, "sourceMode"),
        ({"sourceMode": "sns", "trailBucketName": "corp-trail"}, "sourceMode"),
        ({"sourceMode": "sns", "trailSnsTopicArn": ARCHIVE_TOPIC_ARN}, "sourceMode"),
        ({"trailBucketName": "corp-trail", "trailSnsTopicArn": ARCHIVE_TOPIC_ARN}, "trailSnsTopicArn"),
        ({"sourceMode": "eventbridge", "trailSnsTopicArn": ARCHIVE_TOPIC_ARN}, "trailSnsTopicArn"),
        ({"sourceMode": "sqs"}, "sourceMode"),
        ({"sourceMode": "sns", "trailBucketName": "corp-trail", "trailSnsTopicArn": "corp-topic"}, "trailSnsTopicArn"),
    ],
)
def test_source_mode_combinations_that_cannot_work_name_the_key(context: dict[str, str], key: str) -> None:
    # Given sns mode without an existing trail's bucket and topic, a topic in another mode, or a bad value
    # When the settings are read
    with pytest.raises(ConfigError) as raised:
        StackConfig.from_context(context.get)
    # Then the one-line error names the key
    assert str(raised.value).startswith(f"context key {key}:")


def test_source_mode_values() -> None:
    # Given the three modes, spelled as `-c` passes them
    # When they are read
    read = [StackConfig.from_context({"sourceMode": mode}.get).source_mode for mode in ("notification", "EventBridge")]
    # Then they parse case-insensitively, and notification is the default
    assert read == [SourceMode.NOTIFICATION, SourceMode.EVENTBRIDGE]
    assert StackConfig().source_mode is SourceMode.NOTIFICATION


def test_the_eventbridge_key_pattern_escapes_a_literal_star_of_the_prefix() -> None:
    # Given trail prefixes, one with a `*` (S3 allows it in a key)
    # Then the rule's wildcard matches <prefix>AWSLogs/...json.gz, the prefix's own `*` taken literally
    assert trail_file_wildcard("AWSLogs/") == "AWSLogs/*.json.gz"
    assert trail_file_wildcard("a*b/AWSLogs/") == "a\\*b/AWSLogs/*.json.gz"
