"""``redtrail query --detection/--severity/--actor/--alarmed``, ``alerts``, ``show`` and ``rules`` against a moto
server, on a table seeded with event items and the detection items the function writes (contracts/alerts.py)."""

import copy
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from redtrail.adapters.dynamodb import EventTable
from redtrail.cli.main import main
from redtrail.contracts import alerts, schema, stack_outputs
from redtrail.contracts.settings import Env, PipelineOptions
from redtrail.core.alerts import alert_for
from redtrail.core.classify import classify
from redtrail.core.detections import Detection, DetectionContext, detect
from redtrail.core.items import build_item
from redtrail_devtools.emulator import moto_server
from tests.support import event, local_credentials

REGION = "us-east-1"
ROLE = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0a1b"
RANGE = ["--since", "2024-05-01", "--until", "2024-05-02"]
SOURCE = "s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz"
# The deployed function counts PauseCluster as routine, and ExecuteStatement not.
FUNCTION_OPTIONS = PipelineOptions(routine_write_event_names=("PauseCluster",))


def record(event_id: str, name: str, time: str, session: str, request: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A Redshift call by an Identity Center user (the session name of the SSO role)."""
    found = copy.deepcopy(event("authorize_datashare"))
    found.update(eventID=event_id, eventName=name, eventTime=time, requestParameters=request, **top)
    found["responseElements"] = None
    found["userIdentity"]["arn"] = f"{ROLE}/{session}"
    return found


RECORDS = {
    "e-modify": record(
        "e-modify",
        "ModifyCluster",
        "2024-05-01T12:00:00Z",
        "alice@corp.example",
        {"clusterIdentifier": "analytics", "publiclyAccessible": True, "masterUserPassword": "***"},
    ),
    "e-delete": record(
        "e-delete",
        "DeleteCluster",
        "2024-05-01T11:00:00Z",
        "bob@corp.example",
        {"clusterIdentifier": "scratch", "skipFinalClusterSnapshot": True},
    ),
    "e-statement": {
        **event("execute_statement"),
        "eventID": "e-statement",
        "eventTime": "2024-05-01T10:00:00Z",
        "userIdentity": {"type": "AssumedRole", "arn": f"{ROLE}/alice@corp.example", "accountId": "111122223333"},
    },
    # Over the inline limit: stored compressed
    "e-describe": record(
        "e-describe",
        "DescribeClusters",
        "2024-05-01T09:00:00Z",
        "carol@corp.example",
        {"tagKeys": [f"tag-{number:05d}-{uuid.uuid4().hex}" for number in range(9000)]},
        readOnly=True,
    ),
    "e-pause": record(
        "e-pause", "PauseCluster", "2024-05-01T08:00:00Z", "carol@corp.example", {"clusterIdentifier": "a"}
    ),
}


def detection_item(item: dict[str, Any], found: Detection) -> dict[str, Any]:
    """The detection item of one event and rule, as the function writes it (then marked sent)."""
    record = alert_for(item, found, now=datetime(2024, 5, 1, 12, 5, tzinfo=UTC)).record
    return record | {
        alerts.ALERT_STATE: {"S": alerts.AlertState.SENT.value},
        alerts.ALERTED_AT: {"S": "2024-05-01T12:05:01Z"},
    }


@pytest.fixture(scope="module")
def deployed():
    """A moto server with a seeded table, and a stack whose function's environment holds FUNCTION_OPTIONS."""
    with local_credentials(), moto_server() as endpoint:
        clients = {
            name: boto3.client(name, endpoint_url=endpoint, region_name=REGION)
            for name in ("dynamodb", "lambda", "iam", "cloudformation")
        }
        # Unique names: moto's state outlives one server in the same process.
        suffix = uuid.uuid4().hex[:8]
        table, function, stack = f"events-{suffix}", f"ingest-{suffix}", f"Alerts{suffix}"
        EventTable(table, clients["dynamodb"]).create()
        for found in RECORDS.values():
            detections = detect(found, DetectionContext())
            item = build_item(found, classify(found), source_object=SOURCE, detections=detections)
            clients["dynamodb"].put_item(TableName=table, Item=item)
            for detected in detections:
                clients["dynamodb"].put_item(TableName=table, Item=detection_item(item, detected))
        role = clients["iam"].create_role(RoleName=f"fn-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "")
        clients["lambda"].create_function(
            FunctionName=function,
            Runtime="python3.13",
            Role=role,
            Handler="redtrail.function.handler.lambda_handler",
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": {Env.TABLE_NAME.value: table, **FUNCTION_OPTIONS.environment()}},
        )
        outputs = {
            stack_outputs.BUCKET: "unused",
            stack_outputs.QUEUE_URL: "unused",
            stack_outputs.DEAD_LETTER_QUEUE_URL: "unused",
            stack_outputs.TABLE: table,
            stack_outputs.FUNCTION: function,
        }
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        clients["cloudformation"].create_stack(StackName=stack, TemplateBody=json.dumps(template))
        yield endpoint, table, stack


@pytest.fixture
def table_args(deployed):
    endpoint, table, _ = deployed
    return ["--endpoint-url", endpoint, "--region", REGION, "--table", table]


def rows_of(argv: list[str], capsys) -> Any:
    """What a command prints as JSON; it must succeed."""
    status = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def test_query_by_detection_gives_the_events_of_one_rule(table_args, capsys):
    # Given alice's ModifyCluster, detected as making a cluster public (and as a password change)
    # When the events of the public-cluster rule are listed
    rows = rows_of(["query", *table_args, *RANGE, "--detection", "redshift-cluster-public"], capsys)
    # Then that event comes, under its own eventID, with what its detection item copied
    assert [row["eventID"] for row in rows] == ["e-modify"]
    assert rows[0]["actor"] == "alice@corp.example"
    assert rows[0]["resource"] == "cluster:analytics"
    assert rows[0]["severity"] == "high"
    assert rows[0]["detections"] == ["redshift-cluster-public"]
    assert rows[0]["provenance"] == "unverified"


@pytest.mark.parametrize(
    ("level", "events"),
    [
        ("high", ["e-modify"]),  # exactly high: the critical deletion is not in it
        ("high+", ["e-modify", "e-delete"]),
        ("critical", ["e-delete"]),
        ("medium", ["e-modify"]),
        ("low", []),
    ],
)
def test_query_by_severity_is_exact_or_from_a_level_up(table_args, capsys, level, events):
    # Given a high and medium detection of one event, and a critical one of another
    # When the events of a severity are listed
    rows = rows_of(["query", *table_args, *RANGE, "--severity", level], capsys)
    # Then each event comes once, newest first
    assert [row["eventID"] for row in rows] == events


def test_query_by_actor_names_the_person_behind_a_shared_role(table_args, capsys):
    # Given events of alice and others, all through one SSO role
    # When alice's are listed as a table
    status = main(["query", *table_args, *RANGE, "--actor", "alice@corp.example"])
    lines = capsys.readouterr().out.splitlines()
    # Then her two events come, with the actor and severity columns
    assert status == 0
    columns = lines[0].split()
    assert columns.index("actor") == columns.index("principal") + 1
    assert [line.split()[columns.index("eventName")] for line in lines[1:-1]] == ["ModifyCluster", "ExecuteStatement"]
    assert [line.split()[columns.index("severity")] for line in lines[1:-1]] == ["high", "-"]
    assert lines[-1] == "(2 events)"


def test_alarmed_with_a_table_leaves_out_the_default_routine_names(table_args, capsys):
    # Given writes, one of them a Data API statement (routine by default), and a read
    # When the alarmed events of the table are listed (this environment's options: the defaults)
    rows = rows_of(["query", *table_args, *RANGE, "--alarmed"], capsys)
    # Then they are the writes the alarm counts
    assert [row["eventName"] for row in rows] == ["ModifyCluster", "DeleteCluster", "PauseCluster"]


def test_alarmed_on_the_stack_reads_the_routine_names_of_its_function(deployed, capsys):
    endpoint, _, stack = deployed
    # Given a stack whose function counts PauseCluster as routine, and ExecuteStatement not
    # When its alarmed events are listed
    argv = ["query", "--endpoint-url", endpoint, "--region", REGION, "--stack-name", stack, *RANGE, "--alarmed"]
    rows = rows_of(argv, capsys)
    # Then they follow the function's options, not the defaults
    assert [row["eventName"] for row in rows] == ["ModifyCluster", "DeleteCluster", "ExecuteStatement"]


def test_alerts_lists_every_detection_newest_first(table_args, capsys):
    # Given three detections of two events
    # When the day's alerts are listed, as JSON and as a table
    found = rows_of(["alerts", *table_args, *RANGE], capsys)
    status = main(["alerts", *table_args, *RANGE])
    lines = capsys.readouterr().out.splitlines()
    # Then each detection is its own row, newest first, with its state and subject
    assert status == 0
    assert [item["alertEvent"] for item in found] == ["e-modify", "e-modify", "e-delete"]
    assert {item["alertRule"] for item in found[:2]} == {"redshift-cluster-public", "redshift-admin-password-changed"}
    assert found[2]["alertSubject"] == "[CRITICAL] bob@corp.example deleted cluster scratch (final snapshot: none)"
    assert lines[0].split() == ["eventTime", "severity", "rule", "state", "subject", "eventID"]
    assert lines[3].split()[:4] == ["2024-05-01T11:00:00Z", "critical", "redshift-cluster-deleted", "sent"]
    assert lines[3].endswith("e-delete")
    assert lines[-1] == "(3 detections)"


@pytest.mark.parametrize(
    ("options", "rules"),
    [
        (["--rule", "redshift-admin-password-changed"], ["redshift-admin-password-changed"]),
        (["--severity", "high+"], ["redshift-cluster-public", "redshift-cluster-deleted"]),
        (["--rule", "redshift-cluster-public", "--severity", "critical"], []),
    ],
)
def test_alerts_of_one_rule_or_severity(table_args, capsys, options, rules):
    # Given the seeded detections
    # When the alerts of a rule or a severity are listed
    found = rows_of(["alerts", *table_args, *RANGE, *options], capsys)
    # Then only those come
    assert [item["alertRule"] for item in found] == rules


def test_alerts_outside_the_range_are_not_listed(table_args, capsys):
    # Given detections of 1 May only
    # When the alerts of the next day are listed
    status = main(["alerts", *table_args, "--since", "2024-05-02", "--until", "2024-05-03"])
    # Then there are none
    assert status == 0
    assert capsys.readouterr().out.strip() == "(no detections)"


def test_show_gives_an_event_with_its_detections(table_args, capsys):
    # Given alice's ModifyCluster
    # When it is shown as text and as JSON
    status = main(["show", "e-modify", *table_args])
    text = capsys.readouterr().out
    found = rows_of(["show", "e-modify", *table_args], capsys)
    # Then its summary, its detections worded from the record, and the record come
    assert status == 0
    assert ["actor", "alice@corp.example"] in [line.split() for line in text.splitlines()]
    assert "  high      redshift-cluster-public: alice@corp.example made cluster analytics publicly accessible" in text
    assert "  medium    redshift-admin-password-changed: " in text
    assert '    "clusterIdentifier": "analytics",' in text
    assert found["event"] == RECORDS["e-modify"]
    assert found["item"]["severity"] == "high"
    assert "event" not in found["item"]


def test_show_inflates_a_compressed_event(table_args, capsys):
    # Given an event too large to store inline
    # When it is shown
    found = rows_of(["show", "e-describe", *table_args], capsys)
    status = main(["show", "e-describe", *table_args])
    text = capsys.readouterr().out
    # Then the whole record comes back
    assert status == 0
    assert found["event"] == RECORDS["e-describe"]
    assert "event (stored compressed):" in text
    assert "detections: none" in text


@pytest.mark.parametrize("event_id", ["e-nowhere", schema.alert_key("e-modify", "redshift-cluster-public")])
def test_show_of_no_event_is_a_one_line_error(deployed, table_args, capsys, event_id):
    _, table, _ = deployed
    # Given an eventID the table has no event of (a detection item's key is none either)
    # When it is shown
    status = main(["show", event_id, *table_args])
    # Then one line says so, with exit status 1
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err == f"redtrail: error: no event {event_id} in table {table}\n"


def test_rules_lists_the_catalogue(capsys):
    # Given no table at all
    # When the rules are listed
    status = main(["rules"])
    # Then the catalogue is printed
    out = capsys.readouterr().out
    assert status == 0
    assert "redshift-cluster-deleted (high)" in out
    assert "  reads      DeleteCluster of redshift.amazonaws.com" in out
