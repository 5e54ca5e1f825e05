"""``redtrail local``: the real stack deployed into an embedded local AWS, with stand-ins for what it can't run.

The moto server runs CloudFormation, S3, SQS, DynamoDB and the rest, but it cannot run Lambda code without
Docker: ``deploy`` applies the stack's bucket notification itself, and ``poller`` stands in for the SQS event
source mapping, calling the real handler. moto does not evaluate alarms either: ``alarms`` does, over the
metrics the function prints.
"""

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from redtrail.adapters.sqs import Queue
from redtrail.contracts.metric_names import NAMESPACE
from redtrail.contracts.settings import SWEEP_MINUTES
from redtrail.contracts.stack_outputs import DEFAULT_STACK_NAME, StackResources
from redtrail_devtools.alarms import LocalAlarms
from redtrail_devtools.cloudtrail_signer import SigningKey
from redtrail_devtools.deploy import WORK_DIR, Clients, LocalError, Log, deploy
from redtrail_devtools.emulator import ACCOUNT, moto_server, use_local_credentials
from redtrail_devtools.poller import FunctionOutput, PollStats, QueuePoller, function
from redtrail_devtools.public_keys import ENDPOINT_VARIABLE, demo_keys, load_public_keys, serving

POLLER_THREAD = "queue-poller"
ALARMS_THREAD = "alarm-evaluator"


@dataclass
class LocalPipeline:
    """A running local AWS with the stack deployed and the queue poller going."""

    endpoint: str
    region: str
    resources: StackResources
    poller: QueuePoller
    function_log: Path
    signing_key: SigningKey | None  # the demo key pair's, when no public keys were given
    alarms: LocalAlarms  # the stack's alarms, evaluated over the function's metrics

    def sweep(self) -> None:
        """Run the function's scheduled sweep now (the heartbeat, gaps, files never delivered)."""
        self.poller.sweep_now()

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
    public_keys: Path | None = None,
    sweep_every_seconds: float | None = None,
    alarm_minute_seconds: float = 1.0,
) -> Iterator[LocalPipeline]:
    """Start the local AWS, deploy the stack, poll its queue, sweep its ledger and evaluate its alarms; stop
    everything on exit.

    ``public_keys``: what the local ``ListPublicKeys`` answers (a JSON list shaped like its ``PublicKeyList``);
    without it, a demo key pair is made (``LocalPipeline.signing_key`` signs digests that verify).
    ``alarm_minute_seconds``: how many real seconds one minute of an alarm's period lasts.
    """
    use_local_credentials()
    WORK_DIR.mkdir(exist_ok=True)
    signing_key = None if public_keys else SigningKey()
    keys = load_public_keys(public_keys) if public_keys else demo_keys(signing_key or SigningKey())
    with moto_server(port) as endpoint, serving(keys) as keys_endpoint:
        log(f"local AWS (moto server) at {endpoint}, region {region}, account {ACCOUNT}")
        clients = Clients(endpoint, region)
        deployment = deploy(endpoint, stack_name=stack_name, region=region, clients=clients, log=log)
        resources = deployment.resources
        function_log = WORK_DIR / "function.log"
        console, log_file = sys.stdout, function_log.open("a", buffering=1)
        output = FunctionOutput(console, log_file)
        sys.stdout = output
        handler, context = function(resources, clients, output, {ENDPOINT_VARIABLE: keys_endpoint})
        alarms = LocalAlarms.deploy(
            deployment.template,
            stack_name=stack_name,
            cloudformation=clients.cloudformation,
            cloudwatch=clients.cloudwatch,
            sns=clients.sns,
            region=region,
            account=ACCOUNT,
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),  # the function's, set by function()
            minute_seconds=alarm_minute_seconds,
        )
        output.line_observers.append(alarms.observe)
        log(
            f"{len(alarms.alarms)} alarms in the local CloudWatch, {len(alarms.evaluated)} evaluated over the "
            f"function's metrics (one alarm minute lasts {alarm_minute_seconds:g} s)"
        )
        queue = Queue(resources.queue_url, clients.sqs)
        poller = QueuePoller(
            queue,
            queue_arn=queue.attributes("QueueArn")["QueueArn"],
            region=region,
            handler=handler,
            context=context,
            # As on AWS, the sweep runs every SWEEP_MINUTES, in the alarms' local minutes: the heartbeat alarm
            # (two sweeps long) then sees every sweep's count.
            sweep_every_seconds=sweep_every_seconds or SWEEP_MINUTES * alarm_minute_seconds,
        )
        stop = threading.Event()
        thread = threading.Thread(target=poller.run, args=(stop, report), daemon=True, name=POLLER_THREAD)
        evaluator = threading.Thread(target=alarms.run, args=(stop,), daemon=True, name=ALARMS_THREAD)
        thread.start()
        evaluator.start()
        try:
            yield LocalPipeline(endpoint, region, resources, poller, function_log, signing_key, alarms)
        finally:
            stop.set()
            thread.join(timeout=15)
            evaluator.join(timeout=15)
            sys.stdout = console
            log_file.close()
