"""Alarms (each metric, threshold and action), the alarm topic, the email subscription and the dashboard."""

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from infra_support import Synth, function, only, ref, resources

from redtrail.contracts.integrity import ProblemCode
from redtrail.contracts.metric_names import NAMESPACE, PROBLEM_DIMENSION, SERVICE, SOURCE_DIMENSION, MetricName

ALARM_TOPIC = {"DisplayName": "redtrail alarms"}


def topic_id(synth: Synth) -> str:
    """The alarm topic's logical ID."""
    return only(synth, "AWS::SNS::Topic", **ALARM_TOPIC)[0]


def alarm(synth: Synth, metric_name: str) -> dict[str, Any]:
    """The one alarm on a (non-math) metric."""
    return only(synth, "AWS::CloudWatch::Alarm", MetricName=metric_name)[1]


def test_every_alarm_notifies_the_topic(synth: Synth) -> None:
    # Given either configuration
    alarms = resources(synth, "AWS::CloudWatch::Alarm")

    # Then all alarms (3 on Redshift activity, 6 on pipeline health, the digest heartbeat, one per integrity
    # problem code) send to the one topic; only the heartbeat takes silence as an alarm
    assert len(alarms) == 9 + 1 + len(ProblemCode)
    for properties in (a["Properties"] for a in alarms.values()):
        assert properties["AlarmActions"] == [ref(topic_id(synth))]
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        breaching = properties.get("MetricName") == MetricName.STALE_CHAINS
        assert properties["TreatMissingData"] == ("breaching" if breaching else "notBreaching")


@pytest.mark.parametrize(
    ("fixture", "threshold", "period"),
    [("new_trail", 1, 300), ("existing_bucket", 5, 900)],
)
def test_write_events_alarm(request: pytest.FixtureRequest, fixture: str, threshold: int, period: int) -> None:
    # Given the default configuration, or writeEventsThreshold=5 and writeEventsPeriodMinutes=15
    synth: Synth = request.getfixturevalue(fixture)

    # Then the function's WriteEvents metric (with its service dimension) alarms at the threshold
    properties = alarm(synth, MetricName.WRITE_EVENTS)
    assert properties["Namespace"] == NAMESPACE
    assert properties["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert properties["Statistic"] == "Sum"
    assert properties["Threshold"] == threshold
    assert properties["Period"] == period


def test_sensitive_events_alarm_fires_on_any_occurrence(synth: Synth) -> None:
    # Given either configuration
    # Then one sensitive event is enough
    properties = alarm(synth, MetricName.SENSITIVE_EVENTS)
    assert properties["Namespace"] == NAMESPACE
    assert properties["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert properties["Statistic"] == "Sum"
    assert properties["Threshold"] == 1


def test_pipeline_health_alarms(synth: Synth) -> None:
    # Given either configuration
    function_id, _ = function(synth)
    queue_ids = {
        key for key, value in resources(synth, "AWS::SQS::Queue").items() if "RedrivePolicy" in value["Properties"]
    }
    [ingest_id] = queue_ids
    [dlq_id] = set(resources(synth, "AWS::SQS::Queue")) - queue_ids

    # Then messages in the DLQ, function errors and throttles, and a queue falling behind raise alarms
    dead_letters = alarm(synth, "ApproximateNumberOfMessagesVisible")
    assert dead_letters["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert dead_letters["Threshold"] == 1
    for metric in ("Errors", "Throttles"):
        properties = alarm(synth, metric)
        assert properties["Namespace"] == "AWS/Lambda"
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function_id)}]
        assert properties["Threshold"] == 1
    age = alarm(synth, "ApproximateAgeOfOldestMessage")
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [ingest_id, "QueueName"]}}]
    assert age["Threshold"] == 60 * synth.config.queue_age_alarm_minutes

    # And failed trail files are reported before they reach the DLQ
    failed = alarm(synth, MetricName.FILES_FAILED)
    assert failed["Dimensions"] == [{"Name": "service", "Value": SERVICE}]


def test_table_throttle_alarm(synth: Synth) -> None:
    # Given either configuration
    table_id, _ = only(synth, "AWS::DynamoDB::Table")
    table_dimension = {"Name": "TableName", "Value": ref(table_id)}

    # Then throttled batch writes (whole or partial) on the table raise an alarm
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Threshold": 1,
            "Metrics": Match.array_with(
                [
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": {
                                        "Namespace": "AWS/DynamoDB",
                                        "MetricName": "ThrottledRequests",
                                        "Dimensions": [
                                            {"Name": "Operation", "Value": "BatchWriteItem"},
                                            table_dimension,
                                        ],
                                    }
                                }
                            )
                        }
                    ),
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": {
                                        "Namespace": "AWS/DynamoDB",
                                        "MetricName": "WriteThrottleEvents",
                                        "Dimensions": [table_dimension],
                                    }
                                }
                            )
                        }
                    ),
                ]
            ),
        },
    )


def test_topic_is_encrypted_tls_only_and_open_to_cloudwatch(synth: Synth) -> None:
    # Given either configuration
    topic = topic_id(synth)
    _, properties = only(synth, "AWS::SNS::Topic", **ALARM_TOPIC)
    key_id = properties["KmsMasterKeyId"]["Fn::GetAtt"][0]

    # Then the topic uses a rotating customer managed key that CloudWatch may use, for this account's alarms only
    key = synth.json["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    [cloudwatch] = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    alarms = json.dumps(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"])
    assert '":cloudwatch:"' in alarms
    assert alarms.endswith('":alarm:*"]]}')

    # And its policy denies publishing without TLS and lets this account's alarms publish
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref(topic)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                            }
                        ),
                    ]
                )
            },
        },
    )


def test_email_subscription_only_when_given(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration (no email) and one with alarmEmail
    # Then only the latter subscribes that address to the topic
    new_trail.template.resource_count_is("AWS::SNS::Subscription", 0)
    existing_bucket.template.resource_count_is("AWS::SNS::Subscription", 2)  # alarmEmail and alertEmail
    existing_bucket.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "audit@example.com", "TopicArn": ref(topic_id(existing_bucket))},
    )


def test_dashboard_shows_events_files_queue_and_function(synth: Synth) -> None:
    # Given either configuration
    _, properties = only(synth, "AWS::CloudWatch::Dashboard")
    body = json.dumps(properties["DashboardBody"])
    function_id, _ = function(synth)

    # Then it graphs Redshift and write events, events by source, files, queue age, DLQ depth, duration, errors
    for metric in (
        MetricName.EVENTS_KEPT,
        MetricName.WRITE_EVENTS,
        MetricName.FILES_PROCESSED,
        MetricName.FILES_FAILED,
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "Duration",
        "Errors",
    ):
        assert f'\\"{metric}\\"' in body, metric
    assert f"{{{NAMESPACE},{SOURCE_DIMENSION},service}}" in body
    assert MetricName.EVENTS_BY_SOURCE in body
    assert json.dumps(ref(function_id)) in body


def test_the_heartbeat_alarms_when_a_chain_is_late_or_the_sweep_stops_reporting(synth: Synth) -> None:
    # Given either configuration
    # Then the heartbeat alarm watches the most stale chains any sweep saw over two sweeps, and silence (no
    # sweep ran) is itself an alarm
    properties = alarm(synth, MetricName.STALE_CHAINS)
    assert properties["Namespace"] == NAMESPACE
    assert properties["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert properties["Statistic"] == "Maximum"
    assert properties["Period"] == 1800
    assert properties["Threshold"] == 1
    assert properties["TreatMissingData"] == "breaching"
    assert "redtrail verify" in properties["AlarmDescription"]


def test_every_integrity_problem_code_has_its_alarm(synth: Synth) -> None:
    # Given either configuration
    alarms = [
        a["Properties"]
        for a in resources(synth, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == MetricName.INTEGRITY_PROBLEMS
    ]
    # Then each problem code has one alarm on its own series, firing on the first problem, saying what it means
    by_code = {
        next(d["Value"] for d in properties["Dimensions"] if d["Name"] == PROBLEM_DIMENSION): properties
        for properties in alarms
    }
    assert set(by_code) == {code.value for code in ProblemCode}
    for code in ProblemCode:
        properties = by_code[code.value]
        assert properties["Statistic"] == "Sum"
        assert properties["Threshold"] == 1
        assert code.meaning in properties["AlarmDescription"]


def test_the_dashboard_shows_digests_verified_and_problems(synth: Synth) -> None:
    # Given either configuration
    [(_, dashboard)] = resources(synth, "AWS::CloudWatch::Dashboard").items()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # Then it charts digests and log files verified, the problems by code and the stale chains
    for name in (MetricName.DIGESTS_VERIFIED, MetricName.LOGS_VERIFIED, MetricName.INTEGRITY_PROBLEMS):
        assert name.value in body
    assert MetricName.STALE_CHAINS.value in body
    assert PROBLEM_DIMENSION in body
