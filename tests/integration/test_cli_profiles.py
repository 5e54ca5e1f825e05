"""Profiles against a moto server (a real HTTP endpoint): a profile in a temporary shared config file names the
region, the endpoint (``endpoint_url``) and, in the credentials file, the keys; the CLI finds its stack with
nothing else given, lists failed calls as failed, and says where it looked when a stack is not there."""

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from redtrail.adapters.dynamodb import EventTable
from redtrail.cli.main import main
from redtrail.contracts import stack_outputs
from redtrail.core.classify import classify
from redtrail.core.items import build_item
from redtrail_devtools.emulator import moto_server
from tests.support import event

STACK_REGION = "eu-west-1"
RANGE = ["--since", "2024-05-01", "--until", "2024-05-02"]
SOURCE = "s3://trail/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/x.json.gz"
AWS_VARIABLES = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


def call(event_id: str, name: str, time: str, **fields: Any) -> dict[str, Any]:
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(eventID=event_id, eventName=name, eventTime=time, awsRegion=STACK_REGION, **fields)
    return record


RECORDS = (
    call(
        "e-denied",
        "ModifyClusterIamRoles",
        "2024-05-01T12:00:00Z",
        errorCode="AccessDenied",
        errorMessage="User is not authorized to perform: redshift:ModifyClusterIamRoles",
        requestParameters={"clusterIdentifier": "analytics"},
        responseElements=None,
    ),
    call("e-paused", "PauseCluster", "2024-05-01T11:00:00Z", requestParameters={"clusterIdentifier": "analytics"}),
)


@pytest.fixture(scope="module")
def server():
    """A moto server holding a stack in eu-west-1 (its table seeded with a failed and a successful call)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in AWS_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "seed")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "seed")
        with moto_server() as endpoint:
            clients = {
                name: boto3.client(name, endpoint_url=endpoint, region_name=STACK_REGION)
                for name in ("dynamodb", "sqs", "cloudformation")
            }
            suffix = uuid.uuid4().hex[:8]  # moto's state outlives one server in the same process
            stack, table = f"Profiles{suffix}", f"events-{suffix}"
            EventTable(table, clients["dynamodb"]).create()
            for record in RECORDS:
                item = build_item(record, classify(record), source_object=SOURCE)
                clients["dynamodb"].put_item(TableName=table, Item=item)
            queue = clients["sqs"].create_queue(QueueName=f"ingest-{suffix}")["QueueUrl"]
            outputs = {
                stack_outputs.BUCKET: "trail",
                stack_outputs.QUEUE_URL: queue,
                stack_outputs.DEAD_LETTER_QUEUE_URL: queue,
                stack_outputs.TABLE: table,
            }
            template = {
                "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
            clients["cloudformation"].create_stack(StackName=stack, TemplateBody=json.dumps(template))
            yield endpoint, stack


@pytest.fixture
def profiles(server, tmp_path, monkeypatch) -> Path:
    """A shared config whose profile ``local-eu`` names the server and eu-west-1, and its keys; nothing in the
    environment but the files' paths."""
    endpoint, _ = server
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text(f"[profile local-eu]\nregion = {STACK_REGION}\nendpoint_url = {endpoint}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[local-eu]\naws_access_key_id = local\naws_secret_access_key = local\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def run(arguments: list[str], capsys) -> tuple[int, str, str]:
    status = main(arguments)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_profile_names_the_region_endpoint_and_keys(server, profiles, capsys):
    _, stack = server
    # Given only a profile: its region, its endpoint and, in the credentials file, its keys
    # When the stack's events are listed with --profile and nothing else
    status, out, err = run(
        ["query", "--profile", "local-eu", "--stack-name", stack, *RANGE, "--output", "json"], capsys
    )
    # Then the stack in the profile's region, on the profile's endpoint, is found and read
    assert status == 0, err
    assert err == ""
    assert [row["eventID"] for row in json.loads(out)] == ["e-denied", "e-paused"]


def test_aws_profile_gives_its_region_to_status(server, profiles, monkeypatch, capsys):
    _, stack = server
    # Given the profile named by AWS_PROFILE, as a shell that `aws sso login`ed would have it
    monkeypatch.setenv("AWS_PROFILE", "local-eu")
    # When status is asked for
    status, out, err = run(["status", "--stack-name", stack, "--output", "json"], capsys)
    # Then it is the stack of the profile's region (not us-east-1)
    assert status == 0, err
    assert json.loads(out)["region"] == STACK_REGION


def test_a_stack_not_found_says_the_region_its_source_the_profile_and_the_endpoint(
    server, profiles, monkeypatch, capsys
):
    endpoint, _ = server
    # Given the profile, and AWS_REGION naming another region than the stack's
    monkeypatch.setenv("AWS_PROFILE", "local-eu")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    # When the stack is looked for
    status, _, err = run(["status"], capsys)
    # Then one line says where: the region and why, the profile and why, the endpoint and why
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith(
        "redtrail: error: stack Redtrail not found in us-west-2 (from AWS_REGION), "
        f"profile local-eu (from AWS_PROFILE), endpoint {endpoint} (from the endpoint_url of profile local-eu in "
        f"{profiles}): deploy it"
    )


def test_failed_calls_are_listed_as_failed(server, profiles, capsys):
    _, stack = server
    # Given an AccessDenied ModifyClusterIamRoles and a PauseCluster that succeeded
    common = ["query", "--profile", "local-eu", "--stack-name", stack, *RANGE]
    # When the writes are listed as a table, and the failed ones as JSON
    status, table, err = run([*common, "--writes-only"], capsys)
    _, denied, _ = run([*common, "--error-code", "AccessDenied", "--output", "json"], capsys)
    _, failed, _ = run([*common, "--errors-only", "--output", "jsonl"], capsys)
    # Then the table says which write failed and how, and the filters keep only it, its errorCode as stored
    assert status == 0, err
    header, *rows, count = table.splitlines()
    columns = header.split()
    errors = {row.split()[columns.index("eventName")]: row.split()[columns.index("error")] for row in rows}
    assert errors == {"ModifyClusterIamRoles": "AccessDenied", "PauseCluster": "-"}
    assert count == "(2 events)"
    assert [row["errorCode"] for row in json.loads(denied)] == ["AccessDenied"]
    assert [json.loads(line)["eventID"] for line in failed.splitlines()] == ["e-denied"]
