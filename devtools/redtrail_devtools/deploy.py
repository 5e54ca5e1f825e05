"""Deploying the synthesized stack into the local AWS, and the bucket notification that moto cannot apply.

CDK applies S3 notifications through a custom resource whose Lambda code moto cannot run: the
``NotificationStandIn`` resolves that resource's properties from the template, applies the notification
(keeping the bucket's others, as CDK's handler does) and answers CloudFormation.
"""

import contextlib
import io
import json
import os
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redtrail.adapters.cloudformation import stack_outputs
from redtrail.adapters.connection import Connection
from redtrail.contracts.stack_outputs import FUNCTION, StackResources
from redtrail.core.errors import RedtrailError
from redtrail_devtools.emulator import ACCOUNT
from redtrail_devtools.moto_internals import finish_creation_before_readiness, seed_public_parameters

REPO = Path(__file__).resolve().parents[2]
WORK_DIR = REPO / ".local"
NOTIFICATIONS_RESOURCE = "Custom::S3BucketNotifications"
Log = Callable[[str], None]


class LocalError(RedtrailError):
    """The local stack could not be started or deployed."""


def cdk_environment(endpoint: str, region: str) -> dict[str, str]:
    """The environment for the CDK CLI talking to the local AWS."""
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "NODE_NO_WARNINGS": "1",
    }


def _cdk(arguments: list[str], environment: dict[str, str]) -> None:
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    if not (REPO / "cdk.json").is_file() or not cdk.is_file():
        raise LocalError(f"the CDK app or CLI is missing under {REPO}: run `make setup` in the repository first")
    result = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [str(cdk), *arguments], cwd=REPO, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise LocalError(f"cdk {arguments[0]} failed:\n{tail}")


@dataclass(frozen=True)
class Deployment:
    """The deployed stack's resources, and the synthesized template it was deployed from."""

    resources: StackResources
    template: dict[str, Any]


def deploy(endpoint: str, *, stack_name: str, region: str, clients: "Clients", log: Log) -> Deployment:
    """Synthesize the app, bootstrap the local account and ``cdk deploy`` the stack into it."""
    environment = cdk_environment(endpoint, region)
    with tempfile.TemporaryDirectory(dir=WORK_DIR, prefix="cdk.out-") as assembly_dir:
        return _deploy(Path(assembly_dir), environment, stack_name=stack_name, region=region, clients=clients, log=log)


def _deploy(
    assembly: Path, environment: dict[str, str], *, stack_name: str, region: str, clients: "Clients", log: Log
) -> Deployment:
    # Each run synthesizes into its own directory: two local stacks may deploy at the same time.
    log("synthesizing the CDK app (cdk synth)")
    _cdk(["synth", "--quiet", "--output", str(assembly), "-c", f"stackName={stack_name}"], environment)
    template = json.loads((assembly / f"{stack_name}.template.json").read_text())
    seed_public_parameters(template, region)
    finish_creation_before_readiness()
    log(f"bootstrapping aws://{ACCOUNT}/{region} (cdk bootstrap)")
    _cdk(["bootstrap", f"aws://{ACCOUNT}/{region}", "--app", str(assembly)], environment)
    log(f"deploying stack {stack_name} (cdk deploy)")
    stand_in = NotificationStandIn(stack_name, template, clients)
    stand_in.start()
    try:
        # moto prints a note when it looks for Docker to run the custom resource's code: keep it off stdout.
        with contextlib.redirect_stdout(io.StringIO()):
            # Direct CreateStack: moto computes stack outputs for it, not for change sets.
            _cdk(
                ["deploy", stack_name, "--app", str(assembly), "--require-approval", "never", "--method=direct"],
                environment,
            )
    finally:
        stand_in.stop()
    if stand_in.error:
        raise LocalError(f"applying the bucket notification failed: {stand_in.error}")

    resources = StackResources.from_outputs(stack_name, stack_outputs(stack_name, clients.cloudformation))
    if not resources.function:
        raise LocalError(f"stack {stack_name} has no {FUNCTION} output")
    configured = clients.lambda_.get_function_configuration(FunctionName=resources.function)
    if configured.get("Environment", {}).get("Variables", {}).get("TABLE_NAME") != resources.table:
        raise LocalError("the local AWS deployed an inconsistent stack (function and outputs name different tables)")
    disable_event_source_mappings(resources, clients)
    return Deployment(resources, template)


@dataclass
class Clients:
    """boto3 clients for the local AWS."""

    endpoint: str
    region: str

    def __post_init__(self) -> None:
        connection = Connection(region=self.region, endpoint_url=self.endpoint)
        self.cloudformation = connection.cloudformation()
        self.s3 = connection.s3()
        self.sqs = connection.sqs()
        self.lambda_ = connection.lambda_()
        self.cloudwatch = connection.cloudwatch()
        self.sns = connection.session.client("sns", endpoint_url=self.endpoint)


class _NotYet(Exception):
    """A resource the custom resource needs is not created yet: try again on the next tick."""


class NotificationStandIn(threading.Thread):
    """Does the work of CDK's bucket-notifications custom resource, which moto cannot run, and answers it.

    While the stack is being created it never calls DescribeStacks or ListStackResources: moto builds
    resources lazily, and those calls would build some a second time, racing the creation (two tables,
    one in the outputs and one in the function's environment). Resources are found by the names
    CloudFormation (and moto) give them, ``<stack>-<logicalId>-<suffix>``, in S3 and SQS themselves.
    """

    def __init__(self, stack_name: str, template: dict[str, Any], clients: Clients) -> None:
        super().__init__(daemon=True, name="notification-stand-in")
        self.stack_name = stack_name
        self.clients = clients
        self.resources = template.get("Resources", {})
        self.pending = {
            logical_id: resource["Properties"]
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == NOTIFICATIONS_RESOURCE
        }
        self.error: str | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)

    def run(self) -> None:
        applied: dict[str, str] = {}  # logical ID → bucket, once its notification is in place
        while self.pending and not self._halt.wait(0.5):
            try:
                stack_id = self._stack_in_progress()
                if not stack_id:
                    continue
                for logical_id, properties in list(self.pending.items()):
                    if logical_id not in applied:
                        bucket = self._resolve(properties["BucketName"])
                        apply_notification(
                            self.clients.s3, bucket, self._resolve(properties.get("NotificationConfiguration", {}))
                        )
                        applied[logical_id] = bucket
                    if self._answer(stack_id, logical_id, applied[logical_id]):
                        del self.pending[logical_id]
            except _NotYet:
                continue
            except Exception as error:  # reported by deploy(), which fails with it
                self.error = f"{type(error).__name__}: {error}"
                return

    def _stack_in_progress(self) -> str | None:
        # ListStacks: summaries only, so moto creates nothing on our behalf.
        summaries = self.clients.cloudformation.list_stacks(
            StackStatusFilter=["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"]
        )["StackSummaries"]
        return next((str(stack["StackId"]) for stack in summaries if stack["StackName"] == self.stack_name), None)

    def _answer(self, stack_id: str, logical_id: str, bucket: str) -> bool:
        """Tell CloudFormation the resource is created; False while moto has not registered it yet."""
        import urllib.error
        import urllib.request

        response = {
            "Status": "SUCCESS",
            "StackId": stack_id,
            "LogicalResourceId": logical_id,
            "RequestId": str(uuid.uuid4()),
            "PhysicalResourceId": f"{bucket}-notifications",
            "Data": {},
        }
        request = urllib.request.Request(  # noqa: S310 (the local endpoint)
            f"{self.clients.endpoint}/cloudformation_{self.clients.region}/cfnresponse?stack={stack_id}",
            data=json.dumps(response).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120):  # noqa: S310 (waits for CreateStack to finish)
                return True
        except urllib.error.HTTPError:
            return False

    def _resolve(self, value: Any) -> Any:
        """The value with ``Ref`` (to a bucket) and ``Fn::GetAtt [queue, Arn]`` replaced by local names."""
        if isinstance(value, list):
            return [self._resolve(element) for element in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and self._type(value["Ref"]) == "AWS::S3::Bucket":
            return self._bucket(value["Ref"])
        if (
            set(value) == {"Fn::GetAtt"}
            and value["Fn::GetAtt"][1] == "Arn"
            and self._type(value["Fn::GetAtt"][0]) == "AWS::SQS::Queue"
        ):
            return self._queue_arn(value["Fn::GetAtt"][0])
        if any(key == "Ref" or key.startswith("Fn::") for key in value):
            raise LocalError(f"cannot resolve {json.dumps(value)} in the notification configuration")
        return {key: self._resolve(element) for key, element in value.items()}

    def _type(self, logical_id: str) -> str:
        return str(self.resources.get(logical_id, {}).get("Type", ""))

    def _bucket(self, logical_id: str) -> str:
        suffix = f"-{logical_id}-"
        prefix = f"{self.stack_name[: 63 - len(suffix) - 12]}{suffix}".lower()  # 12: the random suffix
        for bucket in self.clients.s3.list_buckets().get("Buckets", []):
            if bucket["Name"].startswith(prefix):
                return str(bucket["Name"])
        raise _NotYet(logical_id)

    def _queue_arn(self, logical_id: str) -> str:
        urls = self.clients.sqs.list_queues(QueueNamePrefix=f"{self.stack_name}-{logical_id}-").get("QueueUrls", [])
        if not urls:
            raise _NotYet(logical_id)
        attributes = self.clients.sqs.get_queue_attributes(QueueUrl=urls[0], AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])


def apply_notification(s3: Any, bucket: str, wanted: dict[str, Any]) -> None:
    """Add the wanted notifications to the bucket's, keeping the ones it already has (as CDK's handler does)."""
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    for kind, configurations in wanted.items():
        if isinstance(configurations, dict):  # EventBridgeConfiguration: {} (sourceMode=eventbridge) is a switch
            current[kind] = configurations
            continue
        existing = current.setdefault(kind, [])
        existing.extend(configuration for configuration in configurations if configuration not in existing)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)


def disable_event_source_mappings(resources: StackResources, clients: Clients) -> None:
    """Switch off moto's own event source mapping: it would consume messages and fail to run the code."""
    if not resources.function:
        return
    mappings = clients.lambda_.list_event_source_mappings(FunctionName=resources.function)["EventSourceMappings"]
    for mapping in mappings:
        clients.lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
