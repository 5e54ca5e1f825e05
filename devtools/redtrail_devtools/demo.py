"""``make demo``: the real stack on an embedded local AWS, from sample trail files to a query table.

Deploys the stack into a local AWS (``redtrail local``), uploads the reference document's Redshift
examples and a Redshift sample (as gzip trail files) and a real third-party trail file into the trail
bucket, waits until the pipeline has processed them, prints ``redtrail query`` and stops everything.
"""

import gzip
import json
import sys

from redtrail.cli.main import main as redtrail
from redtrail_devtools.command import banner
from redtrail_devtools.deploy import REPO, Clients
from redtrail_devtools.pipeline import running

EVENTS = REPO / "tests" / "events"
REAL_TRAILS = REPO / "tests" / "data" / "cloudtrail"
REAL_FILE = (
    REAL_TRAILS / "invictus-ir-aws_dataset" / "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json"
)
REDSHIFT_SAMPLE = REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json"
DELIVERY_PATH = "123456789012/CloudTrail/us-east-1/2024/05/01/"


def trail_files() -> dict[str, bytes]:
    """Object key (under the trail prefix) → gzip trail file."""
    examples = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
    examples = [record for record in examples if "eventVersion" in record]
    return {
        f"{DELIVERY_PATH}123456789012_CloudTrail_us-east-1_20240501T1200Z_awsdocs.json.gz": _gzip(examples),
        f"{DELIVERY_PATH}123456789012_CloudTrail_us-west-1_20240501T1205Z_sumologic.json.gz": _gzip(
            [json.loads(REDSHIFT_SAMPLE.read_text())]
        ),
        f"{DELIVERY_PATH}{REAL_FILE.name}.gz": gzip.compress(REAL_FILE.read_bytes()),
    }


def _gzip(records: list[object]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def main(port: int = 0) -> int:
    with running(port=port) as pipeline:
        resources = pipeline.resources
        print("\n".join(banner(pipeline)[:6]))
        s3 = Clients(pipeline.endpoint, pipeline.region).s3
        for key, body in trail_files().items():
            local_key = f"{resources.key_prefix}{key}"
            s3.put_object(Bucket=resources.bucket, Key=local_key, Body=body)
            print(f"uploaded s3://{resources.bucket}/{local_key}")
        pipeline.wait_until_drained(timeout=120)
        stats = pipeline.poller.stats
        print(f"processed: {stats.succeeded} messages ok, {stats.failed} failed attempts")
        common = [
            "--endpoint-url",
            pipeline.endpoint,
            "--region",
            pipeline.region,
            "--stack-name",
            resources.stack_name,
        ]
        print("\n$ redtrail query --since 2015-01-01")
        status = redtrail(["query", *common, "--since", "2015-01-01"])
    print("local AWS stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
