"""``redtrail local``: the real stack deployed into an embedded local AWS, with stand-ins for what it can't run.

The moto server runs CloudFormation, S3, SQS, DynamoDB and the rest, but it cannot run Lambda code without
Docker: ``deploy`` applies the stack's bucket notification itself, and ``poller`` stands in for the SQS event
source mapping, calling the real handler.
"""

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from redtrail.adapters.sqs import Queue
from redtrail.contracts.stack_outputs import DEFAULT_STACK_NAME, StackResources
from redtrail_devtools.deploy import WORK_DIR, Clients, LocalError, Log, deploy
from redtrail_devtools.emulator import ACCOUNT, moto_server, use_local_credentials
from redtrail_devtools.poller import FunctionOutput, PollStats, QueuePoller, function

POLLER_THREAD = "queue-poller"


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
        handler, context = function(resources, clients, output)
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
