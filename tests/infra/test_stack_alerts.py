"""The alerts topic: encrypted, TLS-only, published to by the function alone; its output and its alarm."""

from aws_cdk.assertions import Match
from infra_support import Synth, function, only, ref, resources

from redtrail.contracts import stack_outputs
from redtrail.contracts.metric_names import NAMESPACE, SERVICE, MetricName

ALERTS_TOPIC = {"DisplayName": "redtrail alerts"}


def test_the_alerts_topic_uses_its_own_rotating_key_and_refuses_requests_without_tls(synth: Synth) -> None:
    # Given either configuration
    topic_id, topic = only(synth, "AWS::SNS::Topic", **ALERTS_TOPIC)
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    # Then its key is a customer managed key of its own, rotated, and the topic denies requests without TLS
    assert synth.json["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    alarm_topic = only(synth, "AWS::SNS::Topic", DisplayName="redtrail alarms")[1]
    assert alarm_topic["KmsMasterKeyId"] != topic["KmsMasterKeyId"]
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref(topic_id)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
        },
    )


def test_the_function_knows_the_alerts_topic_and_how_old_an_alerted_event_may_be(
    new_trail: Synth, existing_bucket: Synth
) -> None:
    # Given the default configuration and one with alertMaxAgeHours=48
    topic_id, _ = only(new_trail, "AWS::SNS::Topic", **ALERTS_TOPIC)
    default_env = function(new_trail)[1]["Environment"]["Variables"]
    custom_env = function(existing_bucket)[1]["Environment"]["Variables"]
    # Then the function publishes to that topic, and alerts events up to 24 (or 48) hours old
    assert default_env["ALERT_TOPIC_ARN"] == ref(topic_id)
    assert (default_env["ALERT_MAX_AGE_HOURS"], custom_env["ALERT_MAX_AGE_HOURS"]) == ("24", "48")


def test_the_detection_options_reach_the_function(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration and one with its own routine names and datashare consumers
    default_env = function(new_trail)[1]["Environment"]["Variables"]
    custom_env = function(existing_bucket)[1]["Environment"]["Variables"]
    # Then the Data API and query editor calls are routine by default, and the consumers are the context's
    assert default_env["ROUTINE_WRITE_EVENT_NAMES"].startswith("ExecuteStatement,BatchExecuteStatement,")
    assert default_env["DATASHARE_CONSUMERS"] == ""
    assert custom_env["ROUTINE_WRITE_EVENT_NAMES"] == "ExecuteStatement"
    assert custom_env["DATASHARE_CONSUMERS"] == "444455556666,ADX"


def test_the_alerts_topic_is_an_output_and_takes_the_alert_email(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration (no email) and one with alertEmail
    topic_id, _ = only(existing_bucket, "AWS::SNS::Topic", **ALERTS_TOPIC)
    # Then its ARN is the AlertTopicArn output, and only the latter subscribes the address to it
    outputs = new_trail.json["Outputs"]
    assert outputs[stack_outputs.ALERT_TOPIC]["Value"] == ref(only(new_trail, "AWS::SNS::Topic", **ALERTS_TOPIC)[0])
    existing_bucket.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "alerts@example.com", "TopicArn": ref(topic_id)}
    )


def test_high_severity_detections_raise_an_alarm_and_the_write_alarm_says_what_lists_its_events(
    synth: Synth,
) -> None:
    # Given either configuration
    high = only(synth, "AWS::CloudWatch::Alarm", MetricName=MetricName.HIGH_SEVERITY_EVENTS)[1]
    writes = only(synth, "AWS::CloudWatch::Alarm", MetricName=MetricName.WRITE_EVENTS)[1]
    # Then one high or critical detection in five minutes is an alarm, and each alarm names its command
    assert (high["Namespace"], high["Statistic"], high["Threshold"], high["Period"]) == (NAMESPACE, "Sum", 1, 300)
    assert high["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert "redtrail alerts --severity high+" in high["AlarmDescription"]
    assert "redtrail query --alarmed" in writes["AlarmDescription"]
    assert len(resources(synth, "AWS::SNS::Topic")) == 2
