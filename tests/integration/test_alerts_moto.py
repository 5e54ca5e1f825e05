"""Alerts through the real handler on moto: the alerts topic, a queue subscribed to it, redeliveries, failures."""

import copy
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from redtrail.contracts.settings import Env
from redtrail.function import consumer
from redtrail.function.handler import lambda_handler
from tests.integration.conftest import REGION, emf_metrics
from tests.support import event, log_key, trail_file

ACCOUNT = "111122223333"
SSO_ROLE = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d"


def _time(minutes_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _call(event_id: str, name: str, request: dict, actor: str = "alice@corp.example") -> dict:
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(
        eventID=event_id, eventName=name, eventTime=_time(5), requestParameters=request, responseElements=None
    )
    record["userIdentity"] = {"type": "AssumedRole", "arn": f"{SSO_ROLE}/{actor}", "accountId": ACCOUNT}
    return record


PUBLIC = _call("e-public", "ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True})
DELETED = _call("e-deleted", "DeleteCluster", {"clusterIdentifier": "scratch", "skipFinalClusterSnapshot": True})
DESCRIBE = _call("e-describe", "DescribeClusters", {"clusterIdentifier": "sales-dw"}) | {"readOnly": True}


@pytest.fixture
def alerts_queue(pipeline, monkeypatch):
    """The alerts topic, a queue subscribed to it (as a user's would be), and the function told about the topic."""
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="redtrail-alerts")["TopicArn"]
    queue_url = pipeline.sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = pipeline.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
    monkeypatch.setenv(Env.ALERT_TOPIC_ARN, topic)
    consumer.default_dependencies.cache_clear()
    yield _Inbox(pipeline.sqs, queue_url, sns, topic)
    consumer.default_dependencies.cache_clear()


class _Inbox:
    def __init__(self, sqs, queue_url, sns, topic):
        self.sqs, self.queue_url, self.sns, self.topic = sqs, queue_url, sns, topic

    def alerts(self) -> list[dict]:
        """Every notification waiting, as SNS delivered it (the envelope's Subject, Message, attributes)."""
        found = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found


def _process(pipeline, context) -> dict:
    messages = [message for message in pipeline.receive() if "s3:TestEvent" not in message["Body"]]
    return lambda_handler(pipeline.event(messages), context)


def test_each_detected_event_sends_one_alert_with_its_details_and_the_rest_none(
    pipeline, context, alerts_queue, capsys
):
    # Given a file with a cluster made public, a cluster deleted without a final snapshot, and a DescribeClusters
    pipeline.put(log_key(ACCOUNT, "mixed"), trail_file([PUBLIC, DELETED, DESCRIBE]))
    # When the function processes it
    response = _process(pipeline, context)
    # Then one alert per detected event arrived on the subscribed queue, with who, what and where, and the
    # message attributes subscriptions filter on; the read-only call sent nothing
    assert response == {"batchItemFailures": []}
    received = {alert["Subject"]: alert for alert in alerts_queue.alerts()}
    assert set(received) == {
        "[HIGH] alice@corp.example made cluster sales-dw publicly accessible",
        "[CRITICAL] alice@corp.example deleted cluster scratch (final snapshot: none)",
    }
    public = received["[HIGH] alice@corp.example made cluster sales-dw publicly accessible"]
    assert "Who:       alice@corp.example (" in public["Message"]
    assert "Account:   111122223333" in public["Message"]
    assert "redtrail show e-public" in public["Message"]
    attributes = {name: value["Value"] for name, value in public["MessageAttributes"].items()}
    assert attributes == {
        "severity": "high",
        "rule": "redshift-cluster-public",
        "eventName": "ModifyCluster",
        "account": ACCOUNT,
    }
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["Detections"], metrics["HighSeverityEvents"], metrics["AlertsPublished"]) == (2, 2, 2)
    # And the events carry their detections
    assert pipeline.item("e-public")["severity"] == {"S": "high"}
    assert "detections" not in pipeline.item("e-describe")


def test_a_file_uploaded_again_sends_no_alert_again(pipeline, context, alerts_queue, capsys):
    # Given a file whose detected event was alerted
    pipeline.put(log_key(ACCOUNT, "first"), trail_file([PUBLIC]))
    _process(pipeline, context)
    assert len(alerts_queue.alerts()) == 1
    capsys.readouterr()
    # When the same file is uploaded again, and the same event comes in another file (an organization trail)
    pipeline.put(log_key(ACCOUNT, "first"), trail_file([PUBLIC]))
    pipeline.put(log_key(ACCOUNT, "copy", org="o-abc123"), trail_file([PUBLIC]))
    response = _process(pipeline, context)
    # Then nothing more is sent or counted
    assert response == {"batchItemFailures": []}
    assert alerts_queue.alerts() == []
    metrics = emf_metrics(capsys.readouterr().out)
    assert "AlertsPublished" not in metrics
    assert "HighSeverityEvents" not in metrics


def test_a_forged_copy_of_a_stored_event_raises_no_alert(pipeline, context, alerts_queue):
    # Given a stored DescribeClusters (no detection)
    pipeline.put(log_key(ACCOUNT, "genuine"), trail_file([DESCRIBE]))
    _process(pipeline, context)
    # When another file carries the same eventID as a cluster made public
    forged = PUBLIC | {"eventID": "e-describe"}
    pipeline.put(log_key(ACCOUNT, "forged"), trail_file([forged]))
    _process(pipeline, context)
    # Then it is a conflict, not an alert: the forged content is not believed
    assert alerts_queue.alerts() == []
    assert "detections" not in pipeline.item("e-describe")


def test_when_publishing_fails_the_message_fails_and_its_redelivery_sends_the_alert(
    pipeline, context, alerts_queue, capsys, logs, monkeypatch
):
    # Given a topic that refuses messages for a while
    pipeline.put(log_key(ACCOUNT, "flaky"), trail_file([PUBLIC]))
    messages = [message for message in pipeline.receive() if "s3:TestEvent" not in message["Body"]]
    topic = consumer.default_dependencies().alerting.sink  # type: ignore[union-attr]
    real_publish = topic.publish

    def refuse(alert):
        from redtrail.core.errors import AlertPublishError

        raise AlertPublishError("sns:Publish to topic: KMSAccessDenied")

    monkeypatch.setattr(topic, "publish", refuse)
    # When the function processes the file
    batch = pipeline.event(messages)
    failed = lambda_handler(batch, context)
    # Then the message fails (the event is stored), the failure is counted and logged
    assert failed == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert pipeline.item("e-public") is not None
    assert emf_metrics(capsys.readouterr().out)["AlertsFailed"] == 1
    (logged,) = [line for line in logs() if line["message"] == "alert not published"]
    assert "KMSAccessDenied" in logged["reason"]
    # When SQS redelivers it and the topic works again
    monkeypatch.setattr(topic, "publish", real_publish)
    retried = lambda_handler(batch, context)
    # Then the alert goes out, once
    assert retried == {"batchItemFailures": []}
    assert [alert["Subject"] for alert in alerts_queue.alerts()] == [
        "[HIGH] alice@corp.example made cluster sales-dw publicly accessible"
    ]
