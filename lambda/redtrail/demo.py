"""``make demo``: the pipeline on an embedded local AWS, from sample trail files to a query table.

Uploads the reference document's Redshift examples (as a gzip trail file) and a real third-party trail
file into a local bucket, runs ``redtrail ingest`` on the bucket, prints ``redtrail query`` and stops.
"""

import gzip
import json
import sys
from pathlib import Path

from redtrail import cli
from redtrail.local_aws import moto_server, use_local_credentials

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "events"
REAL_TRAILS = REPO / "tests" / "data" / "cloudtrail"
REAL_FILE = (
    REAL_TRAILS / "invictus-ir-aws_dataset" / "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json"
)
REDSHIFT_SAMPLE = REAL_TRAILS / "sumologic-documentation" / "redshift-ulm.md.RebootCluster.extracted.json"
BUCKET = "redtrail-demo-trail"
PREFIX = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/"
TABLE = "redtrail-demo-events"


def trail_files() -> dict[str, bytes]:
    """Object key → gzip trail file: the AWS examples, the Sumo Logic sample and a real trail file."""
    examples = [
        json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json")) if "eventVersion" in path.read_text()
    ]
    return {
        f"{PREFIX}123456789012_CloudTrail_us-east-1_20240501T1200Z_awsdocs.json.gz": _gzip({"Records": examples}),
        f"{PREFIX}123456789012_CloudTrail_us-west-1_20240501T1205Z_sumologic.json.gz": _gzip(
            {"Records": [json.loads(REDSHIFT_SAMPLE.read_text())]}
        ),
        f"{PREFIX}{REAL_FILE.name}.gz": gzip.compress(REAL_FILE.read_bytes()),
    }


def _gzip(document: object) -> bytes:
    return gzip.compress(json.dumps(document).encode())


def main() -> int:
    use_local_credentials()
    import boto3

    with moto_server() as endpoint:
        print(f"local AWS (moto server) at {endpoint}")
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key, body in trail_files().items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            print(f"uploaded s3://{BUCKET}/{key}")
        common = ["--endpoint-url", endpoint, "--region", "us-east-1", "--table", TABLE]
        print(f"\n$ redtrail ingest --create-table s3://{BUCKET}/AWSLogs/")
        status = cli.main(["ingest", *common, "--create-table", f"s3://{BUCKET}/AWSLogs/"])
        if status:
            return status
        print("\n$ redtrail query --since 2015-01-01")
        status = cli.main(["query", *common, "--since", "2015-01-01"])
        if status:
            return status
        print("\n$ redtrail query --since 2015-01-01 --writes-only --format jsonl  (first line)")
        return cli.main(
            ["query", *common, "--since", "2015-01-01", "--writes-only", "--limit", "1", "--format", "jsonl"]
        )


if __name__ == "__main__":
    sys.exit(main())
