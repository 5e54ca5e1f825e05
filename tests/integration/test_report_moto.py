"""``redtrail report`` end to end against a moto server: a stack's table holding events, their detection items and
the ledger of their files (one verified by a signed digest, one tampered with), and a dead-letter queue."""

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.cli import report
from redtrail.cli.main import main
from redtrail.contracts import alerts, stack_outputs
from redtrail.core.alerts import alert_for
from redtrail.core.classify import classify
from redtrail.core.detections import DetectionContext, detect
from redtrail.core.integrity import Clock, Integrity
from redtrail.core.items import build_item
from redtrail.core.ledger import now_text
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.trail_keys import parse_log_key
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey, TrailWriter
from redtrail_devtools.emulator import moto_server
from tests.integration.test_report_browser import BROWSER, page_requests, painted, screenshot
from tests.support import event, local_credentials

REGION = "us-east-1"
BUCKET = "trail-bucket"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Admin_0a1b"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0a1b"
RANGE = ["--since", "2024-05-01", "--until", "2024-05-02"]
DELIVERED = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
USER_AGENT = "<script>alert('ua')</script> aws-cli/2.15"
CONSUMER = "555555555555"


def record(event_id: str, name: str, minute: int, session: str, request: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A Redshift call by an Identity Center user (the session name of the SSO role) on 1 May 2024."""
    found = copy.deepcopy(event("authorize_datashare"))
    found.update(eventID=event_id, eventName=name, eventTime=f"2024-05-01T11:{minute:02d}:00Z", **top)
    found.update(requestParameters=request, responseElements=None)
    found["userIdentity"]["arn"] = f"{SESSION}/{session}"
    found["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = ROLE
    return found


GENUINE = [
    record("e-modify", "ModifyCluster", 50, "alice@corp.example", {"clusterIdentifier": "analytics",
           "publiclyAccessible": True}),
    record("e-delete", "DeleteCluster", 40, "bob@corp.example", {"clusterIdentifier": "scratch",
           "skipFinalClusterSnapshot": True}),
    record("e-share", "AuthorizeDataShare", 30, "alice@corp.example", {"dataShareArn":
           f"arn:aws:redshift:us-east-1:{ACCOUNT}:datashare:4c64c6ec-73d5-42be-869b-b7f7c43c7a53/sales",
           "consumerIdentifier": CONSUMER}),
    record("e-denied", "ModifyClusterIamRoles", 20, "mallory@corp.example", {"clusterIdentifier": "analytics",
           "addIamRoles": ["arn:aws:iam::111122223333:role/exfil"]}, errorCode="AccessDenied",
           errorMessage="not authorized", userAgent=USER_AGENT),
    record("e-describe", "DescribeClusters", 10, "carol@corp.example", {"clusterIdentifier": "analytics"},
           readOnly=True),
]  # fmt: skip
# In another region's file, which is tampered with after its digest listed it.
TAMPERED = [
    record("e-workgroup", "UpdateWorkgroup", 0, "carol@corp.example", {"workgroupName": "etl",
           "publiclyAccessible": False}, awsRegion="eu-west-1", eventSource="redshift-serverless.amazonaws.com"),
]  # fmt: skip


def _seed(clients: dict[str, Any], table: str) -> None:
    """Each log file's events with their detection items, and the ledger as the function leaves it: the
    us-east-1 file verified by its signed digest, the eu-west-1 one with another hash than its digest lists."""
    signing_key = SigningKey()
    ledger = DynamoDBLedger(table, clients["dynamodb"])
    integrity = Integrity(
        ledger,
        lambda *_: {signing_key.fingerprint: signing_key.der},
        Clock(now=lambda: DELIVERED + timedelta(hours=1)),
    )
    digests: dict[str, Delivered] = {}
    for region, records, tampered in (("us-east-1", GENUINE, False), ("eu-west-1", TAMPERED, True)):
        writer = TrailWriter(BUCKET, ACCOUNT, signing_key, region=region)
        log = writer.log_file(records, DELIVERED)
        for found in records:
            detections = detect(found, DetectionContext())
            item = build_item(found, classify(found), source_object=f"s3://{BUCKET}/{log.key}", detections=detections)
            clients["dynamodb"].put_item(TableName=table, Item=item)
            for detected in detections:
                detection = alert_for(item, detected, now=DELIVERED).record
                detection[alerts.ALERT_STATE] = {"S": alerts.AlertState.SENT.value}
                clients["dynamodb"].put_item(TableName=table, Item=detection)
        key = parse_log_key(log.key)
        assert key is not None
        seen = "0" * 64 if tampered else log.sha256
        integrity.record_log(TrailObject(BUCKET, log.key), str(key.namespace), seen, now_text(DELIVERED))
        digest = writer.digest(DELIVERED - timedelta(minutes=5), DELIVERED + timedelta(minutes=55), [log])
        digests[digest.key] = digest
        integrity.record_digest(
            TrailObject(BUCKET, digest.key),
            lambda found: StoredObject(digests[found.key].body, metadata=digests[found.key].metadata),
        )


@pytest.fixture(scope="module")
def deployed():
    """A moto server with the seeded table, a dead-letter queue holding 3 messages, and a stack naming them."""
    with local_credentials(), moto_server() as endpoint:
        clients = {
            name: boto3.client(name, endpoint_url=endpoint, region_name=REGION)
            for name in ("dynamodb", "sqs", "cloudformation")
        }
        suffix = uuid.uuid4().hex[:8]  # moto's state outlives one server in the same process
        table, stack = f"events-{suffix}", f"Report{suffix}"
        EventTable(table, clients["dynamodb"]).create()
        _seed(clients, table)
        dead_letters = clients["sqs"].create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
        for number in range(3):
            clients["sqs"].send_message(QueueUrl=dead_letters, MessageBody=f"failed file {number}")
        outputs = {
            stack_outputs.BUCKET: BUCKET,
            stack_outputs.QUEUE_URL: "unused",
            stack_outputs.DEAD_LETTER_QUEUE_URL: dead_letters,
            stack_outputs.TABLE: table,
        }
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        clients["cloudformation"].create_stack(StackName=stack, TemplateBody=json.dumps(template))
        yield ["--endpoint-url", endpoint, "--region", REGION, "--stack-name", stack]


def written(argv: list[str], path, capsys) -> tuple[str, list[str]]:
    """The page a report command wrote, and what it printed; it must succeed."""
    status = main(["report", *argv, "--html", str(path)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return path.read_text(encoding="utf-8"), captured.out.splitlines()


def section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    return page[start : page.index("</section>", start)]


def test_the_report_of_a_period_shows_every_resource_failure_consumer_and_the_pipeline(deployed, tmp_path, capsys):
    # Given a day of changes to two clusters and a workgroup, a datashare authorized to an account, a denied
    # attempt whose user agent holds markup, one file proved by its digest and one tampered with, 3 dead letters
    # When the day's report is written
    path = tmp_path / "report.html"
    page, out = written([*deployed, *RANGE], path, capsys)
    # Then the command prints where it wrote it and what it holds
    assert out == [
        f"wrote {path}",
        "6 events (5 write-type, 4 detections, 1 failed attempt) from 2024-05-01 to 2024-05-02; 3 clusters, "
        "namespaces and workgroups changed: cluster:analytics, cluster:scratch, workgroup:etl",
    ]
    # and the page has a timeline per resource, drawn in its own SVG
    for resource in ("cluster:analytics", "cluster:scratch", "workgroup:etl"):
        assert f"<h3>{resource}</h3>" in page
    assert page.count('<svg class="chart timeline"') == 3
    assert report.WRITE_COLOUR in page
    assert report.DETECTION_COLOUR in page
    # who changed what: the person behind the shared role
    actors = section(page, "Who changed what")
    calls = "ModifyCluster (1), AuthorizeDataShare (1)"
    alice = f"<td>alice@corp.example</td><td>2</td><td class=long>{calls}</td><td>2</td>"
    assert f"<tr>{alice}<td class=long>{ROLE}</td></tr>" in actors
    # the detections, the datashare's consumer (read from the stored record) and the denied attempt, whose user
    # agent is text
    assert "[CRITICAL] bob@corp.example deleted cluster scratch (final snapshot: none)" in section(page, "Detections")
    assert f"<td>datashare:sales</td><td>{CONSUMER}</td><td>AuthorizeDataShare</td>" in section(
        page, "Datashares and their consumers"
    )
    failed = section(page, "Failed attempts")
    assert "<td>ModifyClusterIamRoles</td><td>AccessDenied</td><td>mallory@corp.example</td>" in failed
    assert "&lt;script&gt;alert(&#x27;ua&#x27;)&lt;/script&gt; aws-cli/2.15" in failed
    assert "<script" not in page
    # and the pipeline: the files by provenance, the dead letters, the verified chain and the tampered file
    pipeline = section(page, "The pipeline")
    for figure in ("2</b>log files", "1</b>verified files", "1</b>problem files", "3</b>in the dead-letter queue now"):
        assert f"<div class=figure><b>{figure}</div>" in pipeline
    assert "<div class=figure><b>2</b>digests verified</div>" in pipeline
    assert "<td>LOG_HASH_MISMATCH</td>" in pipeline
    assert f'content="{report.POLICY}"' in page


def test_the_report_of_one_resource_reads_only_its_events(deployed, tmp_path, capsys):
    # Given the same day
    # When the report is about one cluster
    page, out = written([*deployed, *RANGE, "--resource", "cluster:analytics"], tmp_path / "analytics.html", capsys)
    # Then only that cluster's events and detections are in it
    assert out[1].startswith("3 events (2 write-type, 2 detections, 1 failed attempt)")
    assert "<h1>redtrail audit report: cluster:analytics</h1>" in page
    assert "<h3>cluster:scratch</h3>" not in page
    assert "<p>None.</p>" in section(page, "Datashares and their consumers")
    assert "ModifyClusterIamRoles" in section(page, "Failed attempts")


def test_a_missing_stack_is_a_one_line_error(deployed, tmp_path, capsys):
    # Given a stack name that is not deployed
    argv = [*deployed[:-1], "NoSuchStack", "--html", str(tmp_path / "r.html")]
    # When the report is asked of it
    status = main(["report", *argv])
    # Then one line says so, and no file is written
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("redtrail: error: stack NoSuchStack not found")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_the_commands_report_renders_offline_in_headless_chromium(deployed, tmp_path, capsys):
    # Given the day's report, as the command writes it
    if BROWSER is None:
        pytest.fail("no chromium: `make test` installs Debian's chromium package (apt-get install chromium)")
    path = tmp_path / "report.html"
    written([*deployed, *RANGE], path, capsys)
    png, net_log = tmp_path / "report.png", tmp_path / "net.json"
    # When headless Chromium opens it
    screenshot(path, png, net_log)
    # Then its charts are painted and it asked the network for nothing
    for colour in (report.WRITE_COLOUR, report.DETECTION_COLOUR, report.ACTOR_COLOUR, report.FAILED_COLOUR):
        assert painted(png, colour) > 50, colour
    assert page_requests(net_log) == set()
