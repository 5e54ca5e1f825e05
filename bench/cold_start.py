"""The function's cold start, measured in an environment shaped like Lambda's (``LAMBDA_TASK_ROOT`` set: the X-Ray
SDK then uses its local sampler, as on Lambda, instead of building a botocore client at import).

* imports (fresh process, ``-X importtime``, median): the handler with tracing on and off, the baseline (boto3
  and Powertools' Logger, Metrics and Tracer imported), the CLI;
* where the handler's import time goes, by top-level package;
* the first invocation's construction: the settings and the boto3 clients (``default_dependencies``);
* what byte code saves: compiling the shipped modules from source, as Lambda would at every cold start
  without the asset's ``.pyc`` (its ``/var/task`` is read-only).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TASK_ROOT = tempfile.mkdtemp(prefix="redtrail-task-root-")
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": _TASK_ROOT,
    "AWS_LAMBDA_FUNCTION_NAME": "redtrail-bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "redtrail",
    "POWERTOOLS_METRICS_NAMESPACE": "Redtrail",
    "TABLE_NAME": "redtrail-bench",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
HANDLER = "import redtrail.function.handler"
BASELINE = "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer"
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S.*)$")


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**kept, **LAMBDA_ENV, **(extra or {})}


def _imports(statement: str, extra: dict[str, str] | None = None) -> list[tuple[int, int, int, str]]:
    """(depth, own µs, cumulative µs, module) for every import of ``statement`` in a fresh process."""
    command = [sys.executable, "-X", "importtime", "-c", statement]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=_environment(extra))  # noqa: S603
    found = []
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found.append((len(match.group(3)) // 2, int(match.group(1)), int(match.group(2)), match.group(4)))
    return found


def import_ms(statement: str, extra: dict[str, str] | None = None, runs: int = 7) -> float:
    """Median milliseconds of the top-level imports ``statement`` adds to a bare interpreter's own."""
    interpreter = {name for depth, _, _, name in _imports("pass") if depth == 0}
    times = []
    for _ in range(runs):
        found = _imports(statement, extra)
        times.append(sum(total for depth, _, total, name in found if depth == 0 and name not in interpreter) / 1000)
    return statistics.median(times)


def import_breakdown(statement: str = HANDLER, runs: int = 5) -> dict[str, float]:
    """Median milliseconds of the handler's import by top-level package (the first to import each module)."""
    interpreter = {name for depth, _, _, name in _imports("pass") if depth == 0}
    per_run: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        own: dict[str, float] = defaultdict(float)
        skipped = 0  # inside a top-level import the bare interpreter makes too (site and its children)
        for depth, micros, _, name in reversed(_imports(statement)):  # parents before their children
            if depth == 0:
                skipped = name in interpreter
            if not skipped:
                own[_package(name)] += micros / 1000
        for package, ms in own.items():
            per_run[package].append(ms)
    return dict(sorted(((p, statistics.median(v)) for p, v in per_run.items()), key=lambda kv: -kv[1]))


def _package(module: str) -> str:
    top = module.split(".")[0]
    if module.startswith("redtrail"):
        return "redtrail"
    return top if top not in sys.stdlib_module_names else "standard library"


_CONSTRUCTION = """
import json, time
import redtrail.function.handler
from redtrail.function import consumer
start = time.perf_counter()
consumer.default_dependencies()
print(json.dumps((time.perf_counter() - start) * 1000))
"""


def construction_ms(runs: int = 5) -> float:
    """Median milliseconds the first invocation spends making the settings and boto3 clients."""
    times = []
    for _ in range(runs):
        command = [sys.executable, "-c", _CONSTRUCTION]
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=_environment())  # noqa: S603
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


_COMPILING = """
import json, sys, time
sys.path.insert(0, {root!r})
from infra.bundling import runtime_modules
sources = [path.read_text() for path in runtime_modules()]
start = time.perf_counter()
for source in sources:
    compile(source, "module", "exec")
print(json.dumps([len(sources), (time.perf_counter() - start) * 1000]))
"""


def compile_ms(runs: int = 5) -> tuple[int, float]:
    """The shipped redtrail modules, and the median milliseconds to compile them from source."""
    found = []
    for _ in range(runs):
        command = [sys.executable, "-c", _COMPILING.format(root=str(ROOT))]
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return int(found[0][0]), statistics.median(ms for _, ms in found)


def measure(runs: int = 7) -> dict[str, object]:
    modules, compiling = compile_ms()
    return {
        "handler, tracing on": import_ms(HANDLER, runs=runs),
        "handler, tracing off": import_ms(HANDLER, {"REDTRAIL_TRACING": "false"}, runs=runs),
        "baseline: boto3 + Powertools Logger/Metrics/Tracer": import_ms(BASELINE, runs=runs),
        "redtrail.cli.main": import_ms("import redtrail.cli.main", runs=runs),
        "first invocation: settings and boto3 clients": construction_ms(),
        f"compiling the {modules} shipped modules from source": compiling,
        "breakdown": import_breakdown(),
    }
