"""`make bench`: redtrail's per-file path next to the decompression floor and a naive pipeline, on the same files.

Everything is measured in this one run on one core (variants interleaved, best of N rounds), so the ratios are
the result and the absolute numbers only describe this machine. It prints, then checks the targets (issues 6 and 12):

* per file: records/s and MB/s (uncompressed) for the decompression floor (isal into one buffer, as in the
  issue; isal streamed, faster, is shown too), redtrail's per-file path (decompress, hash, parse, classify,
  items; no network), the naive pipeline (bench/naive.py), redtrail's reference path (whole-file
  ``json.loads``) and the SHA-256 alone (what the ledger's hash costs inside the path);
* extra peak memory on the big file (fresh process each);
* DynamoDB requests against moto, for a first delivery and the same files again (nothing is overwritten);
* the function's cold start (bench/cold_start.py): imports in a Lambda-shaped environment against boto3 +
  Powertools alone, where they go, the first invocation's clients, what byte code saves;
* the whole process: ``redtrail ingest --dry-run --workers 1`` against ``python bench/naive.py``.

    python -m bench.run [--rounds N] [--strict]    # --strict: exit 1 when a target is missed
"""

import argparse
import gzip
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cold_start, naive
from bench.generate import CACHE, Corpus, corpus
from redtrail.contracts.settings import PipelineOptions
from redtrail.core.pipeline import analyze, analyze_body, process_object
from redtrail.core.s3_events import StoredObject, TrailObject
from redtrail.core.selective_reader import select
from redtrail.core.trail_file import decompress, inflated_chunks, records_of

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "cloudtrail"
MB = 1e6
OPTIONS = PipelineOptions()  # the function's defaults


@dataclass
class Sample:
    """Files measured together: one round processes each once."""

    name: str
    files: int
    records: int
    raw_bytes: int
    gzip_bytes: int
    bodies: list[bytes] = field(default_factory=list, repr=False)

    @property
    def describe(self) -> str:
        size = self.raw_bytes / self.files / MB
        return (
            f"{self.files} files, {self.records:,} records, {size:.2f} MB raw each"
            f" (gzip {self.raw_bytes / self.gzip_bytes:.1f}x)"
        )


@dataclass
class Results:
    when: str
    machine: str
    per_file: dict[str, dict[str, float]] = field(default_factory=dict)  # sample -> variant -> seconds/round
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)  # variant -> extra peak MiB (big file)
    dynamodb: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)  # what -> ms (and "breakdown": package -> ms)
    whole_process: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)


# --- the variants ---------------------------------------------------------------------------------------


def streamed(body: bytes) -> None:
    """Decompression only: isal, streamed through a small buffer (the fastest way to get the text)."""
    for _ in inflated_chunks(body):
        pass


def redtrail_path(body: bytes) -> None:
    analyze_body(body, source="s3://bench/key.json.gz", options=OPTIONS)


def unhashed_path(body: bytes) -> None:
    """The path without the ledger's SHA-256 (what `redtrail ingest` runs: it keeps no ledger)."""
    analyze_body(body, source="s3://bench/key.json.gz", options=OPTIONS, hashed=False)


def reference_path(body: bytes) -> None:
    records = records_of(body)
    if records is not None:
        analyze(records, source="s3://bench/key.json.gz", options=OPTIONS)


def naive_path(body: bytes) -> None:
    naive.kept_events(body)


_TEXTS: dict[int, bytes] = {}  # body id → its text, inflated once outside the timed rounds


def hash_only(body: bytes) -> None:
    """The SHA-256 the path computes for the ledger, alone: over the text, already inflated."""
    text = _TEXTS.get(id(body))
    if text is None:
        text = _TEXTS[id(body)] = decompress(body)
    hashlib.sha256(text).digest()


# "floor" is issue 6's "decompression only (isal)": one isal call into one buffer, sized by the gzip trailer, as
# redtrail inflates files up to 8 MB. "streamed" is faster on big files (the text never leaves the CPU's cache);
# redtrail reads files over 8 MB that way, so both are shown.
VARIANTS: dict[str, tuple[str, Callable[[bytes], None]]] = {
    "floor": ("decompression floor (isal, one buffer)", decompress),  # type: ignore[dict-item]
    "streamed": ("decompression, isal streamed", streamed),
    "path": ("redtrail per-file path (SHA-256 included)", redtrail_path),
    "unhashed": ("redtrail per-file path, no SHA-256", unhashed_path),
    "naive": ("naive: gzip + json.loads + filter", naive_path),
    "reference": ("redtrail reference (stdlib json)", reference_path),
    "hash": ("SHA-256 of the text (part of the path)", hash_only),
}


SAMPLES = ("small", "typical", "big", "real")


def load_sample(name: str, files: Corpus) -> Sample:
    """The files of one sample: the small or typical files of the 450-file set, the big file, or the real files."""
    if name == "big":
        group = [files.big.read_bytes()]
    elif name == "real":
        group = [
            body if body[:2] == b"\x1f\x8b" else gzip.compress(body, mtime=0)
            for body in (path.read_bytes() for path in sorted(REAL.rglob("*.json*")))
        ]
    else:
        bodies = [path.read_bytes() for path in sorted(files.many.rglob("*.json.gz"))]
        group = [body for body in bodies if (len(body) > 100_000) == (name == "typical")]
    count = raw = 0
    for body in group:
        selection = select(body)
        count += selection.count if selection else len(records_of(body) or [])
        raw += len(decompress(body))
    return Sample(name, len(group), count, raw, sum(map(len, group)), group)


def time_per_file(sample: Sample, rounds: int) -> dict[str, float]:
    """Best seconds per round for each variant, after a warm-up round: every file goes through all variants in
    turn (in a rotating order), so that a busy moment on a shared machine weighs on all of them alike."""
    names = list(VARIANTS)
    totals = {name: [0.0] * (rounds + 1) for name in names}
    for round_ in range(rounds + 1):
        for index, body in enumerate(sample.bodies):
            first = (index + round_) % len(names)
            for name in names[first:] + names[:first]:
                start = time.perf_counter()
                VARIANTS[name][1](body)
                totals[name][round_] += time.perf_counter() - start
    return {name: min(times[1:]) for name, times in totals.items()}


def measure_sample(name: str, rounds: int) -> tuple[Sample, dict[str, float]]:
    """One sample measured in a fresh process, so that no other sample's heap or caches weigh on it."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench import run; run.print_sample({name!r}, {rounds})"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = json.loads(output)
    best = found.pop("best")
    return Sample(name, **found), best


def print_sample(name: str, rounds: int) -> None:
    sample = load_sample(name, corpus(CACHE))
    best = time_per_file(sample, rounds)
    counts = {"files": sample.files, "records": sample.records, "raw_bytes": sample.raw_bytes}
    print(json.dumps({**counts, "gzip_bytes": sample.gzip_bytes, "best": best}))


# --- memory -----------------------------------------------------------------------------------------------

_MEMORY_PROBE = """
import gc, json, sys
sys.path.insert(0, {root!r})
from bench import run
body = open({path!r}, "rb").read()
variant = run.VARIANTS[{variant!r}][1]
gc.collect()
print(json.dumps(run.extra_peak(lambda: variant(body))))
"""


def _status_kib(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(name)


def extra_peak(work: Callable[[], None]) -> float:
    """MiB the resident set grew at its peak while ``work`` ran (Linux: VmHWM reset through clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    work()
    return (_status_kib("VmHWM") - before) / 1024


def measure_memory(path: Path) -> dict[str, float]:
    found = {}
    for variant in ("path", "naive", "floor", "streamed"):
        code = _MEMORY_PROBE.format(root=str(ROOT), path=str(path), variant=variant)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
        found[variant] = float(output.stdout.strip())
    return found


# --- DynamoDB ---------------------------------------------------------------------------------------------


def count_dynamodb_requests(paths: Sequence[Path]) -> dict[str, Any]:
    """Process files into a moto table twice (a first delivery, then the same files again); count requests.

    Each new event is one conditional PutItem (never an overwrite) after one BatchGetItem per 100 events of the
    file; the second delivery finds every event stored, unchanged, and writes nothing.
    """
    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from redtrail.adapters.dynamodb import READ_BATCH_SIZE, EventTable

    rounds = []
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        calls: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
        table = EventTable("redtrail-bench", client)
        table.create()
        for delivery in ("first", "again"):
            calls.clear()
            kept = written = unchanged = reads = 0
            for path in paths:
                outcome = process_object(
                    TrailObject("", str(path)),
                    read=lambda o: StoredObject(Path(o.key).read_bytes()),
                    write=table.write,
                    options=OPTIONS,
                )
                kept, written, unchanged = kept + outcome.kept, written + outcome.written, unchanged + outcome.unchanged
                reads += math.ceil(outcome.kept / READ_BATCH_SIZE)
            rounds.append(
                {
                    "delivery": delivery,
                    "kept": kept,
                    "written": written,
                    "unchanged": unchanged,
                    "BatchGetItem": calls.count("BatchGetItem"),
                    "PutItem": calls.count("PutItem"),
                    "other": len(calls) - calls.count("BatchGetItem") - calls.count("PutItem"),
                    "expected_reads": reads,
                }
            )
    return {"files": len(paths), "rounds": rounds}


# --- imports and the whole process ------------------------------------------------------------------------


def cli_imports_aws() -> list[str]:
    """The AWS packages that importing the CLI loads (none, so that local commands start fast)."""
    code = (
        "import json, sys, redtrail.cli.main; aws = {'boto3', 'botocore', 'aws_lambda_powertools'}; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & aws)))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found: list[str] = json.loads(output)
    return found


def whole_process(directory: Path, rounds: int) -> dict[str, Any]:
    """Wall time of the two commands over the same files, start-up included (best of ``rounds``)."""
    script = shutil.which("redtrail", path=str(Path(sys.executable).parent)) or ""
    redtrail = [script] if script else [sys.executable, "-m", "redtrail.cli"]
    help_text = subprocess.run([*redtrail, "ingest", "--help"], capture_output=True, text=True).stdout  # noqa: S603
    workers = ["--workers", "1"] if "--workers" in help_text else []
    commands = {
        "redtrail": [*redtrail, "ingest", "--dry-run", *workers, str(directory)],
        "naive": [sys.executable, str(ROOT / "bench" / "naive.py"), str(directory)],
    }
    # An installed package runs from bytecode; this editable one may have none, or stale (after an edit, or with
    # PYTHONDONTWRITEBYTECODE set), and would be compiled at every start. Compile it first, as pip does.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "lambda" / "redtrail")], check=True)  # noqa: S603
    best, counts, errors = dict.fromkeys(commands, math.inf), {}, {}
    for _ in range(rounds):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
            best[name] = min(best[name], time.perf_counter() - start)
            found = re.search(r"records: (\d+), events kept: (\d+)", done.stdout)
            counts[name] = list(found.groups()) if found else ["?", "?"]
            if done.returncode:
                errors[name] = (done.stderr.strip().splitlines() or ["no output"])[-1]
    shown = {name: " ".join(Path(part).name if "/" in part else part for part in c) for name, c in commands.items()}
    return {"seconds": best, "counts": counts, "commands": shown, "errors": errors}


# --- report -----------------------------------------------------------------------------------------------


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{model}, {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def print_per_file(sample: Sample, best: dict[str, float]) -> None:
    print(f"\n{sample.name}: {sample.describe}")
    print(f"  {'':42} {'records/s':>12} {'MB/s':>8} {'x floor':>8} {'x stream':>8} {'x naive':>8}")
    for name, (label, _) in VARIANTS.items():
        seconds = best[name]
        print(
            f"  {label:42} {sample.records / seconds:12,.0f} {sample.raw_bytes / MB / seconds:8,.0f}"
            f" {best['floor'] / seconds:8.2f} {best['streamed'] / seconds:8.2f} {best['naive'] / seconds:8.2f}"
        )


def check(results: Results, name: str, value: float, goal: float, *, at_most: bool = False, unit: str = "") -> None:
    met = value <= goal if at_most else value >= goal
    results.targets.append({"target": name, "value": value, "goal": goal, "met": met})
    relation = "<=" if at_most else ">="
    print(f"  {'PASS' if met else 'FAIL'}  {name}: {value:.2f}{unit} (target {relation} {goal:g}{unit})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (big file and processes: fewer)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    results = Results(when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), machine=machine())
    print(f"redtrail bench, {results.when}; {results.machine}")
    print(
        f"one core per measurement; per sample a fresh process, a warm-up round, then the best of {args.rounds}"
        f" rounds (big file: {max(2, args.rounds // 2)}), each file through every variant in turn"
    )

    files = corpus(CACHE)
    for name in SAMPLES:
        sample, best = measure_sample(name, max(2, args.rounds // 2) if name == "big" else args.rounds)
        results.per_file[name] = best
        results.samples[name] = {"files": sample.files, "records": sample.records, "raw_bytes": sample.raw_bytes}
        print_per_file(sample, best)

    big_raw = results.samples["big"]["raw_bytes"] / 2**20
    results.memory = measure_memory(files.big)
    print(f"\nextra peak memory on the big file ({big_raw:.0f} MiB raw), fresh process each:")
    for name, mib in results.memory.items():
        print(f"  {VARIANTS[name][0]:42} {mib:8.1f} MiB  ({mib / big_raw:.2f}x its raw size)")

    many = sorted(files.many.rglob("*.json.gz"))
    results.dynamodb = count_dynamodb_requests([files.small, files.typical, *many[:30]])
    db = results.dynamodb
    print(f"\nDynamoDB (moto), {db['files']} files delivered twice:")
    for row in db["rounds"]:
        print(
            f"  {row['delivery']:6} {row['kept']} kept: {row['written']} written, {row['unchanged']} unchanged;"
            f" {row['BatchGetItem']} BatchGetItem (files' ceil(kept/100): {row['expected_reads']}),"
            f" {row['PutItem']} PutItem, {row['other']} other"
        )

    results.imports = cold_start.measure()
    breakdown = results.imports.pop("breakdown")
    aws_in_cli = cli_imports_aws()
    print("\ncold start, in a Lambda-shaped environment (fresh process, median, -X importtime):")
    for name, ms in results.imports.items():
        print(f"  {name:52} {ms:8.1f} ms")
    print("  where the handler's import goes (own time by package, tracing on):")
    for package, ms in list(breakdown.items())[:8]:
        print(f"    {package:50} {ms:8.1f} ms")
    print(f"  AWS modules loaded by `import redtrail.cli.main`: {aws_in_cli or 'none'}")
    results.imports["breakdown"] = breakdown

    results.whole_process = whole_process(files.many, args.rounds)
    wp = results.whole_process
    print(f"\nwhole process over {files.many_records:,} records in 450 files (start-up included, best of runs):")
    for name, seconds in wp["seconds"].items():
        records, kept = wp["counts"][name]
        print(f"  {wp['commands'][name]:60} {seconds:7.3f} s  ({records} records, {kept} kept)")
        if name in wp["errors"]:
            print(f"    FAILED: {wp['errors'][name]}")

    print("\ntargets:")
    per_file = results.per_file
    for name, goal in (("typical", 4), ("big", 8)):
        best = per_file[name]
        check(results, f"{name}: per-file path (no SHA-256) vs naive", best["naive"] / best["unhashed"], goal, unit="x")
        print(
            f"        (SHA-256 included, as the function runs it: {best['naive'] / best['path']:.2f}x; the hash alone"
            f" is {best['hash'] / best['path']:.0%} of that path's time)"
        )
    typical = per_file["typical"]
    check(
        results, "typical: per-file path, SHA-256 included, vs naive", typical["naive"] / typical["path"], 3, unit="x"
    )
    check(results, "big: extra peak memory / raw size", results.memory["path"] / big_raw, 0.1, at_most=True, unit="x")
    first, again = db["rounds"]
    check(
        results,
        "DynamoDB, first delivery: PutItem / new events",
        first["PutItem"] / max(first["written"], 1),
        1,
        at_most=True,
    )
    check(
        results,
        "DynamoDB, first delivery: BatchGetItem - files' ceil(kept/100)",
        float(first["BatchGetItem"] - first["expected_reads"]),
        0,
        at_most=True,
    )
    check(
        results,
        "DynamoDB, again: writes (nothing overwritten)",
        float(again["PutItem"] + again["other"]),
        0,
        at_most=True,
    )
    speedup = 0.0 if wp["errors"] else wp["seconds"]["naive"] / wp["seconds"]["redtrail"]
    check(results, "whole process vs naive", speedup, 3.5, unit="x")
    check(results, "CLI imports no boto3/Powertools (modules loaded)", float(len(aws_in_cli)), 0, at_most=True)
    same = wp["counts"]["redtrail"] == wp["counts"]["naive"]
    check(results, "whole process: same records and kept counts as naive", float(same), 1)
    imports = results.imports
    baseline = imports["baseline: boto3 + Powertools Logger/Metrics/Tracer"]
    check(results, "cold import, tracing on / baseline", imports["handler, tracing on"] / baseline, 1.5, at_most=True)

    (CACHE / "results.json").write_text(json.dumps(asdict(results), indent=2))
    missed = [target["target"] for target in results.targets if not target["met"]]
    met = len(results.targets) - len(missed)
    print(f"\n{met}/{len(results.targets)} targets met; results in {CACHE / 'results.json'}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
