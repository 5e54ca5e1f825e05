"""``redtrail local``, added to the ``redtrail`` command line through the ``redtrail.commands`` entry point."""

import argparse
import contextlib
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from redtrail.cli.main import CliError
from redtrail.contracts.settings import SWEEP_MINUTES
from redtrail.contracts.stack_outputs import DEFAULT_STACK_NAME

if TYPE_CHECKING:  # imported by the command itself: every `redtrail` start loads this module
    from redtrail_devtools.pipeline import LocalPipeline
    from redtrail_devtools.poller import PollStats

DEFAULT_LOCAL_PORT = 5050
DEFAULT_REGION = "us-east-1"


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``local`` to the ``redtrail`` subcommands."""
    local = commands.add_parser("local", help="run the whole pipeline on an embedded local AWS until interrupted")
    local.add_argument("--port", type=int, default=DEFAULT_LOCAL_PORT)
    local.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    local.add_argument("--region", default=DEFAULT_REGION)
    local.add_argument(
        "--public-keys",
        type=Path,
        metavar="FILE",
        help="what the local cloudtrail:ListPublicKeys answers: a JSON list like its PublicKeyList (Value base64); "
        "default: a demo key pair",
    )
    local.add_argument(
        "--sweep-seconds",
        type=float,
        default=None,
        help=f"how often the ledger's sweep runs (on AWS: every {SWEEP_MINUTES} minutes; default: "
        f"{SWEEP_MINUTES} alarm minutes, see --alarm-minute-seconds)",
    )
    local.add_argument(
        "--alarm-minute-seconds",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long one minute of an alarm's period lasts locally (default 1: a 5-minute alarm is evaluated "
        "every 5 s)",
    )
    local.set_defaults(command=local_command)


def local_command(args: argparse.Namespace) -> int:
    """The real stack on an embedded local AWS, running until interrupted."""
    from redtrail_devtools.pipeline import running

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())

    def report(batch: "PollStats") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {batch.received} messages: {batch.succeeded} processed, {batch.failed} failed", flush=True)

    if args.public_keys is not None and not args.public_keys.is_file():
        raise CliError(f"--public-keys {args.public_keys}: no such file")
    if args.alarm_minute_seconds <= 0:
        raise CliError(f"--alarm-minute-seconds {args.alarm_minute_seconds}: must be more than 0")
    with running(
        port=args.port,
        stack_name=args.stack_name,
        region=args.region,
        report=report,
        public_keys=args.public_keys,
        sweep_every_seconds=args.sweep_seconds,
        alarm_minute_seconds=args.alarm_minute_seconds,
    ) as pipeline:
        print("\n".join(banner(pipeline)), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    print("redtrail local: stopped", flush=True)
    return 0


def banner(pipeline: "LocalPipeline") -> list[str]:
    """Where everything is, and how to use it."""
    resources = pipeline.resources
    # AWS CLI v1 reads only AWS_DEFAULT_REGION; v2, the SDKs and redtrail read AWS_REGION first
    env = (
        f"export AWS_ENDPOINT_URL={pipeline.endpoint} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
        f"AWS_REGION={pipeline.region} AWS_DEFAULT_REGION={pipeline.region}"
    )
    example = f"s3://{resources.bucket}/{resources.key_prefix}123456789012/CloudTrail/{pipeline.region}/2024/05/01/"
    return [
        "",
        f"stack {resources.stack_name} deployed on the local AWS at {pipeline.endpoint}",
        f"  bucket            s3://{resources.bucket}/{resources.key_prefix}",
        f"  ingest queue      {resources.queue_url}",
        f"  dead-letter queue {resources.dead_letter_queue_url}",
        f"  table             {resources.table}",
        f"  function log      {pipeline.function_log}",
        f"  alarms            {len(pipeline.alarms.alarms)}, one alarm minute lasting "
        f"{pipeline.alarms.minute_seconds:g} s (redtrail status shows their states)",
        "try, in another shell:",
        f"  {env}",
        f"  aws s3 cp FILE.json.gz {example}FILE.json.gz",
        "  .venv/bin/redtrail query --since 30d",
        "  .venv/bin/redtrail status",
        "redtrail local is ready; polling the ingest queue (Ctrl-C to stop)",
    ]
