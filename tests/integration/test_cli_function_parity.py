"""``redtrail ingest`` and the function run the same per-object path with the same options: identical items.

The CLI reads the options from the deployed function's environment, which the stack writes with
``PipelineOptions.environment``; here the function is a moto one with that environment.
"""

import io
import json
import uuid
import zipfile

import boto3
import pytest

from redtrail.adapters.cloudtrail import CloudTrailPublicKeys
from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.adapters.s3 import TrailStore
from redtrail.cli.main import main
from redtrail.contracts import stack_outputs
from redtrail.contracts.settings import Env, PipelineOptions, Settings
from redtrail.core.s3_events import TrailObject
from redtrail.function.consumer import Dependencies, ingest_object, integrity
from redtrail_devtools.emulator import moto_server
from tests.support import event, local_credentials, trail_file

REGION = "us-east-1"
KEY = "AWSLogs/111111111111/CloudTrail/us-east-1/2022/03/21/111111111111_CloudTrail_us-east-1_20220321T2320Z_x.json.gz"
# Options away from every default: a redaction the defaults do not have, a retention, one sensitive name.
OPTIONS = PipelineOptions(
    retention_days=400,
    sensitive_event_names=("CreateNamespace",),
    redact_fields=("requestParameters.dbName", "requestParameters.masterUserPassword"),
)


@pytest.fixture
def deployed(tmp_path):
    """A moto server with a trail object, a function whose environment holds OPTIONS, and a stack naming both."""
    with local_credentials(), moto_server() as endpoint:
        clients = {
            name: boto3.client(name, endpoint_url=endpoint, region_name=REGION)
            for name in ("s3", "dynamodb", "lambda", "iam", "cloudformation")
        }
        # Unique names: moto's state outlives one server in the same process.
        suffix = uuid.uuid4().hex[:8]
        bucket, table, function, stack = f"trail-{suffix}", f"events-{suffix}", f"ingest-{suffix}", f"Parity{suffix}"
        clients["s3"].create_bucket(Bucket=bucket)
        record = event("create_namespace")
        record["requestParameters"]["masterUserPassword"] = "Sup3r-S3cret"
        datashare = {**event("authorize_datashare"), "recipientAccountId": record["recipientAccountId"]}
        clients["s3"].put_object(Bucket=bucket, Key=KEY, Body=trail_file([record, datashare]))
        EventTable(table, clients["dynamodb"]).create()
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
            Environment={"Variables": {Env.TABLE_NAME.value: table, **OPTIONS.environment()}},
        )
        outputs = {
            stack_outputs.BUCKET: bucket,
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
        yield endpoint, clients, bucket, table, function, stack


def items(dynamodb, table: str) -> dict[str, dict]:
    """The event items (the function's table also holds its ledger of the file)."""
    found = dynamodb.scan(TableName=table)["Items"]
    return {item["eventID"]["S"]: item for item in found if "#" not in item["eventID"]["S"]}


def test_the_cli_and_the_function_store_identical_items(deployed, capsys):
    endpoint, clients, bucket, table, function, stack = deployed
    # Given the function's own settings, read back from its environment as on Lambda
    environment = clients["lambda"].get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    function_table = f"{table}-function"
    settings = Settings.from_env({**environment, Env.TABLE_NAME.value: function_table})
    EventTable(function_table, clients["dynamodb"]).create()
    ledger = DynamoDBLedger(function_table, clients["dynamodb"])
    dependencies = Dependencies(
        settings,
        TrailStore(clients["s3"]),
        EventTable(function_table, clients["dynamodb"]),
        integrity(settings, ledger, CloudTrailPublicKeys()),
    )
    # When the function processes the object, and `redtrail ingest` processes it into the stack's table
    ingest_object(TrailObject(bucket, KEY), dependencies)
    status = main(["ingest", "--endpoint-url", endpoint, "--region", REGION, "--stack-name", stack, f"s3://{bucket}/"])
    # Then both wrote the same items, attribute for attribute, with the function's redaction and retention
    assert status == 0, capsys.readouterr()
    by_function, by_cli = items(clients["dynamodb"], function_table), items(clients["dynamodb"], table)
    assert len(by_cli) == 2
    assert by_cli == by_function
    stored = json.loads(by_cli["1dbee944-f889-4beb-b228-7ad0f3124640"]["event"]["S"])
    assert stored["requestParameters"]["dbName"] == "REDACTED"
    assert stored["requestParameters"]["masterUserPassword"] == "REDACTED"
    assert "expiresAt" in by_cli["1dbee944-f889-4beb-b228-7ad0f3124640"]


def test_the_cli_says_so_when_it_cannot_read_the_function_options(deployed, capsys, monkeypatch):
    endpoint, _, bucket, _, _, stack = deployed
    # Given a user who may not read the function's configuration
    from redtrail.adapters import functions
    from redtrail.core.errors import AccessDeniedError

    def denied(name, client=None):
        raise AccessDeniedError(f"function {name}: AccessDeniedException")

    monkeypatch.setattr(functions, "function_environment", denied)
    # When they ingest into the stack's table
    status = main(["ingest", "--endpoint-url", endpoint, "--region", REGION, "--stack-name", stack, f"s3://{bucket}/"])
    # Then it stops with one line naming the permission and the way around it
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "lambda:GetFunctionConfiguration" in err
    assert "--table" in err
