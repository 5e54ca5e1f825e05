"""The naive pipeline the benchmark compares with: stdlib gzip, ``json.loads`` of the whole file, a field filter.

What a first script would do: build every record as Python objects, keep those a Redshift rule matches,
and serialise each kept record. Only the rule constants come from redtrail (they are light imports).

    python bench/naive.py PATH...    # files or directories; prints counts like `redtrail ingest --dry-run`
"""

import gzip
import json
import sys
from pathlib import Path
from typing import Any

from redtrail.core.classify import ENCRYPTION_CONTEXT_PREFIX, REDSHIFT_SOURCES
from redtrail.core.service_accounts import SERVICE_ACCOUNT_REGIONS


def records(body: bytes) -> list[Any]:
    """Every record of a trail file (gzip or not, wrapped in ``Records`` or a bare array)."""
    document = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    found = document.get("Records", []) if isinstance(document, dict) else document
    return found if isinstance(found, list) else []


def is_redshift(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    parameters = record.get("requestParameters")
    context = parameters.get("encryptionContext") if isinstance(parameters, dict) else None
    return bool(
        str(record.get("eventSource")) in REDSHIFT_SOURCES
        or str(identity.get("accountId")) in SERVICE_ACCOUNT_REGIONS
        or str(identity.get("invokedBy")) in REDSHIFT_SOURCES
        or (isinstance(context, dict) and any(str(key).startswith(ENCRYPTION_CONTEXT_PREFIX) for key in context))
    )


def kept_events(body: bytes) -> tuple[int, list[str]]:
    """How many records the file holds, and each Redshift-family record as compact JSON."""
    found = records(body)
    return len(found), [
        json.dumps(record, ensure_ascii=False, separators=(",", ":")) for record in found if is_redshift(record)
    ]


def main(paths: list[str]) -> int:
    files = sorted(
        file
        for path in map(Path, paths)
        for file in ([path] if path.is_file() else path.rglob("*"))
        if file.is_file() and file.name.endswith((".json", ".json.gz"))
    )
    total = kept = 0
    for file in files:
        count, events = kept_events(file.read_bytes())
        total, kept = total + count, kept + len(events)
    print(f"files: {len(files)} read")
    print(f"records: {total}, events kept: {kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
