"""Lambda's SQS event source mapping, in-process: poll the ingest queue, call the real handler, delete what
succeeded and leave failures to SQS (its redrive policy dead-letters them after ``maxReceiveCount``)."""

import contextlib
import io
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from redtrail.contracts.stack_outputs import StackResources
from redtrail.core.errors import RedtrailError
from redtrail_devtools.deploy import Clients

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_event(messages: Iterable[Mapping[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The ``{"Records": [...]}`` event Lambda builds from SQS ``ReceiveMessage`` results."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": dict(message.get("MessageAttributes", {})),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


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


def scheduled_event(region: str, account: str) -> dict[str, Any]:
    """The event EventBridge sends a rule's target on schedule (what starts the function's sweep)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [],
        "detail": {},
    }


class QueuePoller:
    """Lambda's SQS event source mapping, in-process: receive a batch, invoke, delete what succeeded; and the
    sweep's schedule, run between batches (as Lambda would run it in an execution environment of its own)."""

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
        sweep_every_seconds: float = 60,
    ) -> None:
        self.queue = queue
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self.context = context
        self.batch_size = batch_size
        self.retry_after_seconds = retry_after_seconds
        self.sweep_every_seconds = sweep_every_seconds
        self.stats = PollStats()
        self.sweeps = 0
        self._sweep_asked = threading.Event()
        self._swept = threading.Condition()
        self._last_sweep = time.monotonic()

    def sweep_now(self, timeout: float = 60) -> None:
        """Ask for a sweep and wait until it has run."""
        with self._swept:
            done = self.sweeps
            self._sweep_asked.set()
            if not self._swept.wait_for(lambda: self.sweeps > done, timeout=timeout):
                raise TimeoutError(f"no sweep within {timeout:.0f} s")

    def sweep(self) -> None:
        """Invoke the function with the schedule's event; its failure is logged, as Lambda would."""
        self._sweep_asked.clear()
        self._last_sweep = time.monotonic()
        try:
            self.handler(scheduled_event(self.region, self.queue_arn.split(":")[4]), self.context())
        except Exception as error:  # the schedule retries; locally, the next sweep does
            print(f"redtrail local: the sweep failed: {type(error).__name__}: {error}", flush=True)
        with self._swept:
            self.sweeps += 1
            self._swept.notify_all()

    def _sweep_due(self) -> bool:
        return self._sweep_asked.is_set() or time.monotonic() - self._last_sweep >= self.sweep_every_seconds

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
            if self._sweep_due():
                self.sweep()
            try:
                batch = self.poll_once()
            except RedtrailError as error:
                report(PollStats(failed=-1))
                print(f"redtrail local: polling failed: {error}", flush=True)
                stop.wait(2)
                continue
            if batch.received:
                report(batch)


class FunctionOutput(io.TextIOBase):
    """``sys.stdout`` that sends what the function prints while it runs to its log, the rest to the console.

    Per thread, unlike ``contextlib.redirect_stdout``: what other threads print while the function runs
    stays on the console. Each complete line the function prints is also given to every ``line_observers``
    callable (the local alarms read its EMF metrics there).
    """

    def __init__(self, console: TextIO, log: TextIO) -> None:
        self.console = console
        self.log = log
        self.line_observers: list[Callable[[str], None]] = []
        self._running = threading.local()

    @contextlib.contextmanager
    def function(self) -> Iterator[None]:
        """Within this block, this thread's output is the function's."""
        self._running.active = True
        self._running.partial = ""
        try:
            yield
        finally:
            self._running.active = False
            if self._running.partial:  # the invocation is over: its last line is complete
                self._observe(self._running.partial)

    def _active(self) -> bool:
        return bool(getattr(self._running, "active", False))

    def _target(self) -> TextIO:
        return self.log if self._active() else self.console

    def write(self, text: str) -> int:
        written = self._target().write(text)
        if self._active() and self.line_observers:
            *lines, self._running.partial = (self._running.partial + text).split("\n")
            for line in lines:
                self._observe(line)
        return written

    def _observe(self, line: str) -> None:
        for observer in self.line_observers:
            try:
                observer(line)
            except Exception as error:  # an observer's failure must not fail the function's print
                self.console.write(f"redtrail local: reading the function's output failed: {error!r}\n")

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self.console.isatty()


def function(
    resources: StackResources, clients: Clients, output: FunctionOutput, extra: Mapping[str, str] | None = None
) -> tuple[Handler, Callable[[], Any]]:
    """The real handler, configured with the deployed function's environment (and ``extra``: the stand-ins'
    endpoints), printing to its log."""
    configuration = clients.lambda_.get_function_configuration(FunctionName=str(resources.function))
    os.environ.update(configuration.get("Environment", {}).get("Variables", {}))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": clients.endpoint,
            "AWS_REGION": clients.region,
            "AWS_DEFAULT_REGION": clients.region,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            **(extra or {}),
        }
    )
    # Powertools warns (as on Lambda) when a batch, such as the s3:TestEvent alone, produced no metrics.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    from redtrail.function.handler import lambda_handler  # its logger binds to sys.stdout: the FunctionOutput

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
