"""``make demo``: the real stack on an embedded local AWS, from signed sample trail files to a verified record.

Deploys the stack into a local AWS (``redtrail local``), delivers the sample events as CloudTrail would (the
reference document's Redshift examples, a Redshift sample and a real third-party trail file: one log file per
account and region, and a signed digest of each), waits until the pipeline has processed them, prints
``redtrail query`` and ``redtrail verify``; then tampers with one log file, and shows ``redtrail verify`` find it.
"""

import gzip
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from redtrail.cli.main import main as redtrail
from redtrail_devtools.cloudtrail_signer import Delivered, SigningKey, TrailWriter
from redtrail_devtools.command import banner
from redtrail_devtools.deploy import REPO, Clients
from redtrail_devtools.pipeline import LocalPipeline, running

EVENTS = REPO / "tests" / "events"
REAL_TRAILS = REPO / "tests" / "data" / "cloudtrail"
REAL_FILE = (
    REAL_TRAILS / "invictus-ir-aws_dataset" / "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json"
)
REDSHIFT_SAMPLE = REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json"
TAMPERED_EVENT = "1dbee944-f889-4beb-b228-7ad0f3124640"  # the reference document's CreateNamespace


def sample_records() -> list[dict[str, Any]]:
    """The reference examples, the Redshift sample and the real file's records."""
    examples = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
    records = [record for record in examples if "eventVersion" in record]
    records.append(json.loads(REDSHIFT_SAMPLE.read_text()))
    records += json.loads(REAL_FILE.read_text())["Records"]
    return records


def deliveries(bucket: str, key_prefix: str, signing_key: SigningKey, now: datetime) -> list[Delivered]:
    """The records as CloudTrail delivers them: per account and region a log file, then its signed digest."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in sample_records():
        groups.setdefault((str(record["recipientAccountId"]), str(record["awsRegion"])), []).append(record)
    prefix = key_prefix.removesuffix("AWSLogs/").strip("/")
    delivered: list[Delivered] = []
    for number, ((account, region), records) in enumerate(sorted(groups.items())):
        writer = TrailWriter(bucket, account, signing_key, region=region, trail="demo", prefix=prefix)
        log = writer.log_file(records, now, f"demo{number:012d}")
        delivered += [log, writer.digest(now - timedelta(minutes=30), now + timedelta(minutes=30), [log])]
    return delivered


def tampered(log: Delivered) -> bytes:
    """The log file holding the reference CreateNamespace, with that event's source address rewritten."""
    document = json.loads(log.text)
    for record in document["Records"]:
        if record.get("eventID") == TAMPERED_EVENT:
            record["sourceIPAddress"] = "203.0.113.66"
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode())


def upload(pipeline: LocalPipeline, files: Sequence[Delivered]) -> None:
    s3 = Clients(pipeline.endpoint, pipeline.region).s3
    for file in files:
        s3.put_object(Bucket=pipeline.resources.bucket, Key=file.key, Body=file.body, Metadata=file.metadata)
        print(f"uploaded s3://{pipeline.resources.bucket}/{file.key}")


def main(port: int = 0) -> int:
    with running(port=port) as pipeline:
        resources = pipeline.resources
        print("\n".join(banner(pipeline)[:6]))
        assert pipeline.signing_key is not None  # no public keys given: the demo key pair signs
        files = deliveries(resources.bucket, resources.key_prefix, pipeline.signing_key, datetime.now(UTC))
        upload(pipeline, [file for file in files if "CloudTrail-Digest" not in file.key])
        pipeline.wait_until_drained(timeout=120)
        upload(pipeline, [file for file in files if "CloudTrail-Digest" in file.key])
        pipeline.wait_until_drained(timeout=120)
        pipeline.sweep()
        stats = pipeline.poller.stats
        print(f"processed: {stats.succeeded} messages ok, {stats.failed} failed attempts")
        common = ["--endpoint-url", pipeline.endpoint, "--stack-name", resources.stack_name]
        print("\n$ redtrail query --since 2015-01-01")
        query = redtrail(["query", *common, "--region", pipeline.region, "--since", "2015-01-01"])
        print("\n$ redtrail verify")
        clean = redtrail(["verify", *common, "--stack-region", pipeline.region])
        log = next(file for file in files if TAMPERED_EVENT.encode() in file.text)
        print(f"\n# tampering with {log.key}: one event's sourceIPAddress rewritten, uploaded again")
        s3 = Clients(pipeline.endpoint, pipeline.region).s3
        s3.put_object(Bucket=resources.bucket, Key=log.key, Body=tampered(log))
        pipeline.wait_until_drained(timeout=120)
        print("\n$ redtrail verify")
        found = redtrail(["verify", *common, "--stack-region", pipeline.region])
    print("local AWS stopped")
    # The demo worked when the query ran, the signed record verified, and the tampering was found.
    return 0 if (query, clean, found) == (0, 0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
