"""The local alarms in moto: created from the template, set by the function's metrics, notifying through SNS."""

import json

import boto3
import pytest
from moto import mock_aws

from redtrail.adapters.cloudwatch import alarm_states
from redtrail.contracts.metric_names import NAMESPACE, SERVICE, MetricName
from redtrail_devtools.alarms import LocalAlarms, State, subject

REGION = "us-east-1"
STACK_NAME = "Redtrail"
START = 1_714_564_800.0
WRITE_EVENTS_ALARM = "MonitoringWriteEvents6720D761"
ERRORS_ALARM = "MonitoringFunctionErrors40FB895E"
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "redtrail alarms"}}
TEMPLATE = {
    "Resources": {
        "MonitoringTopic2EDA8B02": TOPIC,
        WRITE_EVENTS_ALARM: {
            "Type": "AWS::CloudWatch::Alarm",
            "Metadata": {"aws:cdk:path": "Redtrail/Monitoring/WriteEvents/Resource"},
            "Properties": {
                "AlarmActions": [{"Ref": "MonitoringTopic2EDA8B02"}],
                "OKActions": [{"Ref": "MonitoringTopic2EDA8B02"}],
                "AlarmDescription": "Write-type Redshift events: 3 or more in 5 minutes.",
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Dimensions": [{"Name": "service", "Value": SERVICE}],
                "EvaluationPeriods": 1,
                "MetricName": MetricName.WRITE_EVENTS.value,
                "Namespace": NAMESPACE,
                "Period": 300,
                "Statistic": "Sum",
                "Threshold": 3,
                "TreatMissingData": "notBreaching",
            },
        },
        ERRORS_ALARM: {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmActions": [{"Ref": "MonitoringTopic2EDA8B02"}],
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Dimensions": [{"Name": "FunctionName", "Value": "redtrail-ingest"}],
                "EvaluationPeriods": 1,
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Period": 300,
                "Statistic": "Sum",
                "Threshold": 1,
                "TreatMissingData": "notBreaching",
            },
        },
    }
}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def emf_line(name: str, values: list[float]) -> str:
    """What Powertools prints for one metric with the service dimension."""
    blob = {
        "_aws": {
            "Timestamp": int(START * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["service"]], "Metrics": [{"Name": name, "Unit": "Count"}]}
            ],
        },
        "service": SERVICE,
        name: values,
    }
    return json.dumps(blob, separators=(",", ":"))


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield {
            service: boto3.client(service, region_name=REGION)
            for service in ("cloudformation", "cloudwatch", "sns", "sqs")
        }


@pytest.fixture
def subscribed_queue(aws):
    """The stack's topic (deployed by CloudFormation), with an SQS queue subscribed to it."""
    # moto's CloudFormation does not create alarms: the stack holds the topic, the evaluator the alarms.
    topic_only = {"Resources": {"MonitoringTopic2EDA8B02": TOPIC}}
    aws["cloudformation"].create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(topic_only))
    (topic_arn,) = [topic["TopicArn"] for topic in aws["sns"].list_topics()["Topics"]]
    url = aws["sqs"].create_queue(QueueName="alarm-inbox")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, url


def received(sqs, url) -> list[dict]:
    """The SNS envelopes waiting in the queue."""
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


def test_an_alarm_fires_on_the_functions_metrics_notifies_then_recovers(aws, subscribed_queue):
    # Given the template's alarms deployed into the local AWS, evaluated on a fake clock
    topic_arn, inbox = subscribed_queue
    clock = Clock(START)
    alarms = LocalAlarms.deploy(
        TEMPLATE,
        stack_name=STACK_NAME,
        cloudformation=aws["cloudformation"],
        cloudwatch=aws["cloudwatch"],
        sns=aws["sns"],
        region=REGION,
        account="123456789012",
        namespace=NAMESPACE,
        clock=clock,
    )
    name = f"{STACK_NAME}-{WRITE_EVENTS_ALARM}"
    assert alarm_states(f"{STACK_NAME}-", aws["cloudwatch"]) == {
        name: "INSUFFICIENT_DATA",
        f"{STACK_NAME}-{ERRORS_ALARM}": "INSUFFICIENT_DATA",
    }

    # When the function prints WriteEvents over the threshold during the first 5-minute period (5 s locally)
    clock.now = START + 1
    alarms.observe(emf_line(MetricName.WRITE_EVENTS, [2.0]))
    alarms.observe(emf_line(MetricName.WRITE_EVENTS, [1.0, 1.0]))
    alarms.observe('{"level":"INFO","message":"trail object processed"}')
    clock.now = START + 5
    alarms.evaluate_due()

    # Then the alarm is ALARM in CloudWatch, and CloudWatch's notification reached the subscribed queue
    alarms.wait_for_state("WriteEvents", State.ALARM, timeout=1)
    (described,) = aws["cloudwatch"].describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert described["StateValue"] == "ALARM"
    assert "4.0" in described["StateReason"]
    (envelope,) = received(aws["sqs"], inbox)
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == subject(State.ALARM, name, REGION)
    fired = json.loads(envelope["Message"])
    assert (fired["AlarmName"], fired["OldStateValue"], fired["NewStateValue"]) == (
        name,
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert fired["AlarmArn"] == described["AlarmArn"]
    assert fired["AlarmActions"] == [topic_arn]
    assert fired["Trigger"]["MetricName"] == MetricName.WRITE_EVENTS
    assert fired["Trigger"]["Dimensions"] == [{"value": SERVICE, "name": "service"}]
    assert fired["Trigger"]["Threshold"] == 3.0

    # When a quiet period passes: no datapoints, missing data not breaching
    clock.now = START + 10
    alarms.evaluate_due()

    # Then it is OK again, and a second notification says so
    alarms.wait_for_state("WriteEvents", State.OK, timeout=1)
    assert alarm_states(name, aws["cloudwatch"]) == {name: "OK"}
    (envelope,) = received(aws["sqs"], inbox)
    recovered = json.loads(envelope["Message"])
    assert (recovered["OldStateValue"], recovered["NewStateValue"]) == ("ALARM", "OK")
    assert envelope["Subject"] == subject(State.OK, name, REGION)


def test_alarms_on_aws_metrics_stay_insufficient_data_and_say_why(aws, subscribed_queue):
    # Given the alarms deployed, one on the function's Lambda errors
    _, inbox = subscribed_queue
    clock = Clock(START)
    alarms = LocalAlarms.deploy(
        TEMPLATE,
        stack_name=STACK_NAME,
        cloudformation=aws["cloudformation"],
        cloudwatch=aws["cloudwatch"],
        sns=aws["sns"],
        region=REGION,
        account="123456789012",
        namespace=NAMESPACE,
        clock=clock,
    )
    # When periods pass
    clock.now = START + 60
    alarms.evaluate_due()
    # Then the Lambda alarm is still INSUFFICIENT_DATA, its reason saying the local AWS has no such metrics
    (errors,) = aws["cloudwatch"].describe_alarms(AlarmNames=[f"{STACK_NAME}-{ERRORS_ALARM}"])["MetricAlarms"]
    assert errors["StateValue"] == "INSUFFICIENT_DATA"
    assert "no AWS/Lambda metrics" in errors["StateReason"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "redtrail-ingest"}]
    # And the metric alarm without data went to OK, which notified its OK action
    assert alarms.state("WriteEvents") is State.OK
    (envelope,) = received(aws["sqs"], inbox)
    assert json.loads(envelope["Message"])["NewStateValue"] == "OK"
