"""Helpers for the infra tests: synthesize the app in-process and find resources without logical IDs."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import StackConfig
from infra.constructs.ingestion import HANDLER
from infra.stack import build

REPO = Path(__file__).resolve().parents[2]
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# A log-archive account's trail bucket, key and trail topic, in another region than the stack's.
ARCHIVE_ACCOUNT = "444455556666"
ARCHIVE_KEY_ARN = f"arn:aws:kms:us-west-2:{ARCHIVE_ACCOUNT}:key/0987dcba-09ba-87dc-65fe-ba0987654321"
ARCHIVE_TOPIC_ARN = f"arn:aws:sns:us-west-2:{ARCHIVE_ACCOUNT}:org-trail-notifications"

# An existing trail bucket, and every other setting away from its default.
EXISTING_BUCKET_CONTEXT: dict[str, Any] = {
    "stackName": "RedtrailExisting",
    "trailBucketName": "corp-cloudtrail-logs",
    "trailPrefix": "org",
    "trailKmsKeyArn": KEY_ARN,
    "retentionDays": "400",
    "sensitiveEventNames": "DeleteCluster, ModifyClusterIamRoles",
    "alarmEmail": "audit@example.com",
    "alertEmail": "alerts@example.com",
    "alertMaxAgeHours": "48",
    "routineWriteEventNames": "ExecuteStatement",
    "datashareConsumers": "444455556666, ADX",
    "writeEventsThreshold": "5",
    "writeEventsPeriodMinutes": "15",
    "queueAgeAlarmMinutes": "10",
    "batchSize": "4",
    "maxConcurrency": "3",
    "maxReceiveCount": "4",
    "functionTimeoutSeconds": "60",
    "functionMemoryMb": "1024",
    "logRetentionDays": "30",
    "powertoolsVersion": "3.23.0",
    "digestHeartbeatMinutes": "120",
    "logGraceMinutes": "30",
}

# The other source modes: the stack's own bucket and trail announced through EventBridge (with a trail prefix);
# an existing (log-archive) bucket through EventBridge; an existing trail's SNS topic.
EVENTBRIDGE_OWN_CONTEXT: dict[str, Any] = {
    "stackName": "RedtrailEvents",
    "sourceMode": "eventbridge",
    "trailPrefix": "org",
}
EVENTBRIDGE_EXISTING_CONTEXT: dict[str, Any] = {
    "stackName": "RedtrailEventsExisting",
    "sourceMode": "eventbridge",
    "trailBucketName": "log-archive-trail",
    "trailKmsKeyArn": ARCHIVE_KEY_ARN,
}
SNS_CONTEXT: dict[str, Any] = {
    "stackName": "RedtrailSns",
    "sourceMode": "sns",
    "trailBucketName": "log-archive-trail",
    "trailPrefix": "org",
    "trailKmsKeyArn": ARCHIVE_KEY_ARN,
    "trailSnsTopicArn": ARCHIVE_TOPIC_ARN,
}
# Every configuration the quality and security sweeps hold to the same rules (fixture name -> context).
CONTEXTS: dict[str, dict[str, Any]] = {
    "new_trail": {},
    "existing_bucket": EXISTING_BUCKET_CONTEXT,
    "eventbridge_own": EVENTBRIDGE_OWN_CONTEXT,
    "eventbridge_existing": EVENTBRIDGE_EXISTING_CONTEXT,
    "sns_existing": SNS_CONTEXT,
}


@dataclass(frozen=True)
class Synth:
    """One synthesized configuration: its template (assertions Template, JSON, file), context and settings."""

    template: Template
    json: dict[str, Any]
    template_path: Path
    context: dict[str, Any]
    config: StackConfig


def synthesize(context: dict[str, Any], outdir: Path) -> Synth:
    """Synthesize the app exactly as ``app.py`` does (cdk.json flags, cdk-nag checks) into ``outdir``."""
    flags = json.loads((REPO / "cdk.json").read_text())["context"]
    app = App(context={**flags, **context}, outdir=str(outdir))
    stack = build(app)
    assembly = app.synth()  # raises if cdk-nag (or CDK's own validation) reports anything
    artifact = assembly.get_stack_by_name(stack.stack_name)
    path = Path(assembly.directory) / artifact.template_file
    body: dict[str, Any] = json.loads(path.read_text())
    return Synth(Template.from_json(body), body, path, context, StackConfig.from_context(context.get))


def resources(synth: Synth, resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical ID -> resource, for every resource of one type."""
    return {key: value for key, value in synth.json["Resources"].items() if value["Type"] == resource_type}


def only(synth: Synth, resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    """The one resource of a type whose properties include ``properties``; its logical ID and properties."""
    found = [
        (key, value.get("Properties", {}))
        for key, value in resources(synth, resource_type).items()
        if all(value.get("Properties", {}).get(name) == expected for name, expected in properties.items())
    ]
    assert len(found) == 1, f"expected one {resource_type} with {properties}, found {len(found)}"
    return found[0]


def function(synth: Synth) -> tuple[str, dict[str, Any]]:
    """The redtrail function."""
    return only(synth, "AWS::Lambda::Function", Handler=HANDLER)


def function_statements(synth: Synth) -> list[dict[str, Any]]:
    """Every statement of every policy attached to the redtrail function's role."""
    role_id = function(synth)[1]["Role"]["Fn::GetAtt"][0]
    role = synth.json["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, "the function role must not use managed policies"
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for policy in resources(synth, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def ingest_queue(synth: Synth) -> str:
    """The ingest queue's logical ID (the queue with a redrive policy; the other is its dead-letter queue)."""
    [queue_id] = [
        key for key, value in resources(synth, "AWS::SQS::Queue").items() if "RedrivePolicy" in value["Properties"]
    ]
    return queue_id


def queue_service_statements(synth: Synth, queue_id: str) -> list[dict[str, Any]]:
    """The Allow statements of ``queue_id``'s policy that let an AWS service send to it."""
    statements = [
        statement
        for policy in resources(synth, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    return [s for s in statements if s["Effect"] == "Allow" and "Service" in s.get("Principal", {})]


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def ref(logical_id: str) -> dict[str, str]:
    """``{"Ref": logical_id}``."""
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    """``{"Fn::GetAtt": [logical_id, "Arn"]}``."""
    return {"Fn::GetAtt": [logical_id, "Arn"]}
