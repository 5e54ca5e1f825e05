"""``redtrail local``: the real stack deployed into an embedded local AWS, plus stand-ins for what it can't run.

The moto server runs CloudFormation, S3, SQS, DynamoDB and the rest, but it cannot run Lambda code
without Docker. So this module (1) answers the stack's S3-notification custom resource by applying the
notification itself, as CDK's handler would, and (2) stands in for Lambda's SQS event source mapping:
it polls the ingest queue and calls the real handler with Lambda-shaped SQS events, deleting what
succeeded and leaving failures to SQS (its visibility timeout and redrive policy move a poison file's
message to the dead-letter queue after ``maxReceiveCount`` receives).
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from redtrail.errors import RedtrailError
from redtrail.local_aws import moto_server, use_local_credentials
from redtrail.sqs_events import lambda_event
from redtrail.stack_outputs import DEFAULT_STACK_NAME, StackResources

ACCOUNT = "123456789012"  # moto's default account
REPO = Path(__file__).resolve().parents[2]
WORK_DIR = REPO / ".local"
NOTIFICATIONS_RESOURCE = "Custom::S3BucketNotifications"
POLLER_THREAD = "queue-poller"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Log = Callable[[str], None]


class LocalError(RedtrailError):
    """The local stack could not be started or deployed."""


# --- deploying the synthesized stack -----------------------------------------------------------------


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


def deploy(endpoint: str, *, stack_name: str, region: str, clients: "Clients", log: Log) -> StackResources:
    """Synthesize the app, bootstrap the local account and ``cdk deploy`` the stack into it."""
    environment = cdk_environment(endpoint, region)
    with tempfile.TemporaryDirectory(dir=WORK_DIR, prefix="cdk.out-") as assembly_dir:
        return _deploy(Path(assembly_dir), environment, stack_name=stack_name, region=region, clients=clients, log=log)


def _deploy(
    assembly: Path, environment: dict[str, str], *, stack_name: str, region: str, clients: "Clients", log: Log
) -> StackResources:
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
    from redtrail.aws import stack_outputs

    resources = StackResources.from_outputs(stack_name, stack_outputs(stack_name, clients.cloudformation))
    configured = clients.lambda_.get_function_configuration(FunctionName=resources.function)
    if configured.get("Environment", {}).get("Variables", {}).get("TABLE_NAME") != resources.table:
        raise LocalError("the local AWS deployed an inconsistent stack (function and outputs name different tables)")
    disable_event_source_mappings(resources, clients)
    return resources


def seed_public_parameters(template: dict[str, Any], region: str) -> None:
    """Put the AWS-published SSM parameters the template reads (e.g. a layer ARN) into the local AWS.

    AWS publishes these under ``/aws/service/``; moto has few of them and refuses writes there through
    the API, so they go straight into the embedded server's store. The value is a placeholder: the local
    stand-in runs the handler in this process, with this package's own dependencies.
    """
    from moto.ssm.models import Parameter, ssm_backends

    store = ssm_backends[ACCOUNT][region]
    for parameter in template.get("Parameters", {}).values():
        name = str(parameter.get("Default", ""))
        if not parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value") or not name.startswith("/aws/"):
            continue
        if store._parameters[name]:
            continue
        placeholder = f"arn:aws:lambda:{region}:{ACCOUNT}:layer:redtrail-local-placeholder:1"
        store._parameters[name].append(
            Parameter(  # type: ignore[abstract]
                account_id=ACCOUNT,
                name=name,
                value=placeholder,
                parameter_type="String",
                description="placeholder for an AWS-published parameter (redtrail local)",
                allowed_pattern=None,
                keyid=None,
                last_modified_date=__import__("datetime").datetime.now(),
                version=1,
                data_type="text",
            )
        )


_CREATION = threading.RLock()


def finish_creation_before_readiness() -> None:
    """Make moto check a stack's readiness only after its CreateStack has built every resource.

    moto builds resources lazily, in the CreateStack request. A custom resource's answer (ours, below)
    can arrive while that request is still building; moto then checks readiness by walking the template,
    and builds the resources not built yet a second time, from the other thread: two tables, one in the
    function's environment and one in the outputs. CloudFormation itself never does that, so the two
    steps are serialized here, in the embedded server's process.
    """
    from moto.cloudformation.models import Stack

    if getattr(Stack, "_redtrail_serialized", False):
        return
    create_resources, verify_readiness = Stack.create_resources, Stack.verify_readiness

    def create_serialized(stack: Stack) -> None:
        with _CREATION:
            create_resources(stack)

    def verify_serialized(stack: Stack) -> None:
        with _CREATION:
            verify_readiness(stack)

    setattr(Stack, "create_resources", create_serialized)  # noqa: B010 (moto's method, replaced on purpose)
    setattr(Stack, "verify_readiness", verify_serialized)  # noqa: B010
    setattr(Stack, "_redtrail_serialized", True)  # noqa: B010


@dataclass
class Clients:
    """boto3 clients for the local AWS."""

    endpoint: str
    region: str

    def __post_init__(self) -> None:
        import boto3

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region)

        self.cloudformation = client("cloudformation")
        self.s3 = client("s3")
        self.sqs = client("sqs")
        self.lambda_ = client("lambda")


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


# --- standing in for the SQS event source mapping ----------------------------------------------------


@dataclass
class LambdaContext:
    """The parts of a Lambda context object the handler and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + 120)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class PollStats:
    received: int = 0
    succeeded: int = 0
    failed: int = 0


class QueuePoller:
    """Lambda's SQS event source mapping, in-process: receive a batch, invoke, delete what succeeded."""

    def __init__(
        self,
        queue: Any,
        *,
        queue_arn: str,
        region: str,
        handler: Handler,
        context: Callable[[], Any],
        batch_size: int = 10,
        retry_after_seconds: int = 1,
    ) -> None:
        self.queue = queue
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self.context = context
        self.batch_size = batch_size
        self.retry_after_seconds = retry_after_seconds
        self.stats = PollStats()

    def poll_once(self, *, wait_seconds: int = 1) -> PollStats:
        """One batch: what was received, and how many messages succeeded or failed."""
        messages = self.queue.receive(max_messages=min(self.batch_size, 10), wait_seconds=wait_seconds)
        batch = PollStats(received=len(messages))
        if not messages:
            return batch
        try:
            response = self.handler(
                lambda_event(messages, queue_arn=self.queue_arn, region=self.region), self.context()
            )
            failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception:  # an invocation error fails the whole batch, as on Lambda
            failed_ids = {message["MessageId"] for message in messages}
        succeeded = [message for message in messages if message["MessageId"] not in failed_ids]
        failed = [message for message in messages if message["MessageId"] in failed_ids]
        if succeeded:
            self.queue.delete(succeeded)
        if failed:
            # On Lambda a failed message reappears after the queue's visibility timeout (minutes); locally
            # it is retried sooner. Either way SQS counts the receives and dead-letters it at maxReceiveCount.
            self.queue.release(failed, after_seconds=self.retry_after_seconds)
        batch.succeeded, batch.failed = len(succeeded), len(failed)
        self.stats.received += batch.received
        self.stats.succeeded += batch.succeeded
        self.stats.failed += batch.failed
        return batch

    def run(self, stop: threading.Event, report: Callable[[PollStats], None] = lambda _: None) -> None:
        """Poll until ``stop`` is set, reporting every non-empty batch."""
        while not stop.is_set():
            try:
                batch = self.poll_once()
            except RedtrailError as error:
                report(PollStats(failed=-1))
                print(f"redtrail local: polling failed: {error}", flush=True)
                stop.wait(2)
                continue
            if batch.received:
                report(batch)


# --- the whole local pipeline ------------------------------------------------------------------------


@dataclass
class LocalPipeline:
    """A running local AWS with the stack deployed and the queue poller going."""

    endpoint: str
    region: str
    resources: StackResources
    poller: QueuePoller
    function_log: Path

    def wait_until_drained(self, *, timeout: float = 60) -> None:
        """Block until the ingest queue is empty (nothing waiting or in flight); LocalError on timeout."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # empty three looks in a row: no batch is between receive and delete
            if time.monotonic() > deadline:
                raise LocalError(
                    f"timed out after {timeout:.0f} s: {self.poller.stats.succeeded} messages processed, "
                    f"{self.poller.stats.failed} failed attempts (see {self.function_log})"
                )
            waiting, in_flight = self.poller.queue.depth()
            quiet = quiet + 1 if waiting == in_flight == 0 else 0
            time.sleep(0.2)


@contextlib.contextmanager
def running(
    *,
    port: int = 0,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = "us-east-1",
    log: Log = print,
    report: Callable[[PollStats], None] = lambda _: None,
) -> Iterator[LocalPipeline]:
    """Start the local AWS, deploy the stack, poll its queue; stop everything on exit."""
    use_local_credentials()
    WORK_DIR.mkdir(exist_ok=True)
    with moto_server(port) as endpoint:
        log(f"local AWS (moto server) at {endpoint}, region {region}, account {ACCOUNT}")
        clients = Clients(endpoint, region)
        resources = deploy(endpoint, stack_name=stack_name, region=region, clients=clients, log=log)
        function_log = WORK_DIR / "function.log"
        console, log_file = sys.stdout, function_log.open("a", buffering=1)
        output = FunctionOutput(console, log_file)
        sys.stdout = output
        handler, context = _function(resources, clients, output)
        from redtrail.aws import Queue

        queue = Queue(resources.queue_url, clients.sqs)
        poller = QueuePoller(
            queue,
            queue_arn=queue.attributes("QueueArn")["QueueArn"],
            region=region,
            handler=handler,
            context=context,
        )
        stop = threading.Event()
        thread = threading.Thread(target=poller.run, args=(stop, report), daemon=True, name=POLLER_THREAD)
        thread.start()
        try:
            yield LocalPipeline(endpoint, region, resources, poller, function_log)
        finally:
            stop.set()
            thread.join(timeout=15)
            sys.stdout = console
            log_file.close()


class FunctionOutput(io.TextIOBase):
    """``sys.stdout`` that sends what the function prints while it runs to its log, the rest to the console.

    Per thread, unlike ``contextlib.redirect_stdout``: what other threads print while the function runs
    stays on the console.
    """

    def __init__(self, console: TextIO, log: TextIO) -> None:
        self.console = console
        self.log = log
        self._running = threading.local()

    @contextlib.contextmanager
    def function(self) -> Iterator[None]:
        """Within this block, this thread's output is the function's."""
        self._running.active = True
        try:
            yield
        finally:
            self._running.active = False

    def _target(self) -> TextIO:
        return self.log if getattr(self._running, "active", False) else self.console

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self.console.isatty()


def _function(resources: StackResources, clients: Clients, output: FunctionOutput) -> tuple[Handler, Callable[[], Any]]:
    """The real handler, configured with the deployed function's environment, printing to its log."""
    configuration = clients.lambda_.get_function_configuration(FunctionName=resources.function)
    os.environ.update(configuration.get("Environment", {}).get("Variables", {}))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": clients.endpoint,
            "AWS_REGION": clients.region,
            "AWS_DEFAULT_REGION": clients.region,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        }
    )
    # Powertools warns (as on Lambda) when a batch, such as the s3:TestEvent alone, produced no metrics.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    from redtrail.handler import lambda_handler  # its logger binds to sys.stdout: the FunctionOutput

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with output.function():
            return dict(lambda_handler(event, context))

    def context() -> LambdaContext:
        return LambdaContext(
            function_name=str(configuration["FunctionName"]),
            invoked_function_arn=str(configuration["FunctionArn"]),
            memory_limit_in_mb=int(configuration.get("MemorySize", 512)),
            deadline=time.monotonic() + int(configuration.get("Timeout", 120)),
        )

    return handler, context
