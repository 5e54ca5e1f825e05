"""``make demo``: the real stack on an embedded local AWS, from signed sample trail files to a verified record.

Deploys the stack into a local AWS (``redtrail local``), delivers the sample events as CloudTrail would (the
reference document's Redshift examples, a Redshift sample and a real third-party trail file: one log file per
account and region, and a signed digest of each), plus four calls made just now by two people through one
IAM Identity Center role (a cluster made public, a cluster deleted without a final snapshot, a describe, a role
change refused), waits until the pipeline has processed them, prints ``redtrail query`` and ``redtrail verify``,
the alerts as they arrive on a queue subscribed to the alerts topic, and the alarms the local evaluator fired;
then tampers with one log file, shows ``redtrail verify`` find it, and writes ``redtrail report`` of all the
demo's events (``REPORT``, ignored by git) and prints its path.
"""

import gzip
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from redtrail.cli.main import main as redtrail
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey, TrailWriter
from redtrail_devtools.command import banner
from redtrail_devtools.deploy import REPO, WORK_DIR, Clients
from redtrail_devtools.pipeline import LocalPipeline, running

EVENTS = REPO / "tests" / "events"
REAL_TRAILS = REPO / "tests" / "data" / "cloudtrail"
REAL_FILE = (
    REAL_TRAILS / "invictus-ir-aws_dataset" / "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json"
)
REDSHIFT_SAMPLE = REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json"
TAMPERED_EVENT = "1dbee944-f889-4beb-b228-7ad0f3124640"  # the reference document's CreateNamespace
LIVE_ACCOUNT = "111122223333"
SSO_ROLE = f"arn:aws:sts::{LIVE_ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_5f2a9c1e7b3d4a60"
ALARMS = ("WriteEvents", "HighSeverityEvents")  # what the demo's events fire
# One alert per detected call: the cluster made public, the one deleted without a snapshot, the refused role change.
EXPECTED_ALERTS = 3
REPORT = WORK_DIR / "redtrail-report.html"
SINCE = "2015-01-01"  # before the oldest sample event


def sample_records(now: datetime) -> list[dict[str, Any]]:
    """The reference examples, the Redshift sample, the real file's records, and four calls made just now."""
    examples = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
    records = [record for record in examples if "eventVersion" in record]
    records.append(json.loads(REDSHIFT_SAMPLE.read_text()))
    records += json.loads(REAL_FILE.read_text())["Records"]
    return records + live_records(now)


def live_records(now: datetime) -> list[dict[str, Any]]:
    """alice and bob, through one Identity Center role, minutes ago: what detections are for (bob's role change
    refused)."""
    base = json.loads((EVENTS / "authorize_datashare.json").read_text())
    calls = (
        ("alice@corp.example", "ModifyCluster", {"clusterIdentifier": "sales-dw", "publiclyAccessible": True}),
        ("bob@corp.example", "DeleteCluster", {"clusterIdentifier": "scratch", "skipFinalClusterSnapshot": True}),
        ("alice@corp.example", "DescribeClusters", {"clusterIdentifier": "sales-dw"}),
        (
            "bob@corp.example",
            "ModifyClusterIamRoles",
            {"clusterIdentifier": "sales-dw", "addIamRoles": [f"arn:aws:iam::{LIVE_ACCOUNT}:role/etl-admin"]},
        ),
    )
    refused = {"ModifyClusterIamRoles": "AccessDenied"}  # a failed attempt: stored, shown with its error, detected
    records = []
    for number, (person, name, request) in enumerate(calls):
        record = dict(base, eventName=name, requestParameters=request, responseElements=None)
        if name in refused:
            record["errorCode"] = refused[name]
            record["errorMessage"] = f"User is not authorized to perform: redshift:{name}"
        record["eventID"] = f"5e1d0c3a-9b7f-4e2d-8a6c-{number:012d}"
        record["eventTime"] = (now - timedelta(minutes=6 - number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["readOnly"] = name.startswith("Describe")
        record["sourceIPAddress"] = "203.0.113.7"
        record["userIdentity"] = {
            "type": "AssumedRole",
            "arn": f"{SSO_ROLE}/{person}",
            "accountId": LIVE_ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{LIVE_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/"
                    "AWSReservedSSO_AdministratorAccess_5f2a9c1e7b3d4a60",
                    "accountId": LIVE_ACCOUNT,
                }
            },
        }
        records.append(record)
    return records


def deliveries(bucket: str, key_prefix: str, signing_key: SigningKey, now: datetime) -> list[Delivered]:
    """The records as CloudTrail delivers them: per account and region a log file, then its signed digest."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in sample_records(now):
        groups.setdefault((str(record["recipientAccountId"]), str(record["awsRegion"])), []).append(record)
    prefix = key_prefix.removesuffix("AWSLogs/").strip("/")
    delivered: list[Delivered] = []
    for number, ((account, region), records) in enumerate(sorted(groups.items())):
        writer = TrailWriter(bucket, account, signing_key, region=region, trail="demo", prefix=prefix)
        log = writer.log_file(records, now, f"demo{number:012d}")
        delivered += [log, writer.digest(now - timedelta(minutes=30), now + timedelta(minutes=30), [log])]
    return delivered


def tampered(log: Delivered) -> bytes:
    """The log file holding the reference CreateNamespace, with that event's source address rewritten."""
    document = json.loads(log.text)
    for record in document["Records"]:
        if record.get("eventID") == TAMPERED_EVENT:
            record["sourceIPAddress"] = "203.0.113.66"
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode())


def upload(pipeline: LocalPipeline, files: Sequence[Delivered]) -> None:
    s3 = Clients(pipeline.endpoint, pipeline.region).s3
    for file in files:
        s3.put_object(Bucket=pipeline.resources.bucket, Key=file.key, Body=file.body, Metadata=file.metadata)
        print(f"uploaded s3://{pipeline.resources.bucket}/{file.key}")


def subscribed_inbox(pipeline: LocalPipeline, topic: str | None, name: str) -> str:
    """A queue subscribed to ``topic``, as a user's email or chat would be; its URL."""
    clients = Clients(pipeline.endpoint, pipeline.region)
    queue_url = clients.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert topic is not None
    clients.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return queue_url


def received_alerts(pipeline: LocalPipeline, queue_url: str) -> list[dict[str, Any]]:
    """The alerts waiting in the inbox, as SNS delivered them."""
    sqs = Clients(pipeline.endpoint, pipeline.region).sqs
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        found += [json.loads(message["Body"]) for message in batch]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
        )
    return found


def show_alarms(pipeline: LocalPipeline, alarm_inbox: str) -> bool:
    """Wait for the alarms the demo's events fire; print each transition and the notification CloudWatch would
    have sent. Whether all fired."""
    fired = True
    for alarm in ALARMS:
        try:
            change = pipeline.alarms.wait_until_reached(alarm, "ALARM", timeout=30)
        except TimeoutError as error:
            print(f"alarm {alarm}: {error}")
            fired = False
            continue
        print(f"{change.alarm}: {change.old} -> {change.new}: {change.reason}")
    for notification in received_alerts(pipeline, alarm_inbox):
        print(f"on the alarm topic: {notification['Subject']}")
    return fired


def main(port: int = 0) -> int:
    with running(port=port) as pipeline:
        resources = pipeline.resources
        print("\n".join(banner(pipeline)[:6]))
        assert pipeline.signing_key is not None  # no public keys given: the demo key pair signs
        inbox = subscribed_inbox(pipeline, resources.alert_topic, "demo-alerts-inbox")
        alarm_inbox = subscribed_inbox(pipeline, resources.topic, "demo-alarms-inbox")
        files = deliveries(resources.bucket, resources.key_prefix, pipeline.signing_key, datetime.now(UTC))
        upload(pipeline, [file for file in files if "CloudTrail-Digest" not in file.key])
        pipeline.wait_until_drained(timeout=120)
        upload(pipeline, [file for file in files if "CloudTrail-Digest" in file.key])
        pipeline.wait_until_drained(timeout=120)
        pipeline.sweep()
        stats = pipeline.poller.stats
        print(f"processed: {stats.succeeded} messages ok, {stats.failed} failed attempts")
        common = ["--endpoint-url", pipeline.endpoint, "--stack-name", resources.stack_name]
        print(f"\n$ redtrail query --since {SINCE}")
        query = redtrail(["query", *common, "--region", pipeline.region, "--since", SINCE])
        print("\n$ redtrail verify")
        clean = redtrail(["verify", *common, "--stack-region", pipeline.region])
        alerts = received_alerts(pipeline, inbox)
        print(f"\n# {len(alerts)} alerts arrived on a queue subscribed to the alerts topic; the first:")
        for alert in alerts[:1]:
            print(alert["Message"])
        print("\n$ redtrail alerts --since 1h")
        listed = redtrail(["alerts", *common, "--region", pipeline.region, "--since", "1h"])
        print("\n# the local alarm evaluator, over the metrics the function emitted:")
        fired = show_alarms(pipeline, alarm_inbox)
        log = next(file for file in files if TAMPERED_EVENT.encode() in file.text)
        print(f"\n# tampering with {log.key}: one event's sourceIPAddress rewritten, uploaded again")
        s3 = Clients(pipeline.endpoint, pipeline.region).s3
        s3.put_object(Bucket=resources.bucket, Key=log.key, Body=tampered(log))
        pipeline.wait_until_drained(timeout=120)
        print("\n$ redtrail verify")
        found = redtrail(["verify", *common, "--stack-region", pipeline.region])
        print(f"\n$ redtrail report --since {SINCE} --html {REPORT.relative_to(REPO)}")
        REPORT.parent.mkdir(exist_ok=True)
        reported = redtrail(["report", *common, "--region", pipeline.region, "--since", SINCE, "--html", str(REPORT)])
    print("local AWS stopped")
    # The demo worked when the query ran, the signed record verified, the two detected calls were alerted and
    # fired their alarms, the tampering was found, and the report was written.
    alerted = len(alerts) == EXPECTED_ALERTS and listed == 0 and fired
    return 0 if (query, clean, found, alerted, reported) == (0, 0, 1, True, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
