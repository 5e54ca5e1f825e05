"""The Lambda asset: the function's runtime only (handler, the modules it imports, the two wheels), byte-compiled."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra import bundling
from infra.bundling import LAMBDA_SOURCE, LocalBundling, lambda_code, runtime_modules
from infra.constructs.ingestion import RUNTIME

PYTHON = RUNTIME.name.removeprefix("python")
TAG = f"cp{PYTHON.replace('.', '')}"
# What the Lambda runtime (boto3 and its dependencies) and the Powertools layer provide: never bundled.
PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "aws_lambda_powertools"}
PROVIDED |= {"aws_xray_sdk", "wrapt", "typing_extensions"}
PROVIDED |= {"certifi"}  # optional for botocore, which falls back to its own CA bundle
# The interpreter's and this virtual environment's own (the script, setuptools' hooks, editable installs).
NOT_CODE = {"__main__", "__mp_main__", "_distutils_hack"}


@pytest.fixture(scope="module")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of its own, so that the first bundle really runs pip (from PyPI)."""
    return tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> Path:
    """An arm64 bundle, as the stack makes it."""
    output = tmp_path_factory.mktemp("bundle")
    assert LocalBundling(architecture="arm64", python_version=PYTHON, cache=wheel_cache).try_bundle(
        str(output), image=None
    )
    return output


def shipped_files(output: Path) -> set[str]:
    return {str(path.relative_to(output)) for path in output.rglob("*") if path.is_file()}


def handler_imports() -> set[str]:
    """Every module a fresh interpreter holds after importing the handler, that neither the runtime nor the
    layer provides (measured, not read from the source)."""
    code = (
        "import json, sys; import redtrail.function.handler; "
        "print(json.dumps(sorted(name for name in sys.modules if name not in sys.stdlib_module_names)))"
    )
    environment = {"POWERTOOLS_METRICS_NAMESPACE": "x", "AWS_DEFAULT_REGION": "us-east-1", "PATH": ""}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    names = json.loads(output.stdout)
    return {
        name
        for name in names
        if name.split(".")[0] not in PROVIDED | NOT_CODE | set(sys.stdlib_module_names)
        and not name.startswith("__editable__")
    }


def module_file(name: str, output: Path) -> Path | None:
    """Where ``name`` lives in the bundle (a module or a package's ``__init__``), or None."""
    base = output.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    extensions = list(base.parent.glob(f"{base.name}.cpython-{TAG[2:]}-*.so"))
    return extensions[0] if extensions else None


def test_the_asset_holds_every_module_the_handler_imports_byte_compiled(bundle):
    # Given the bundle and the modules a real import of the handler loads (ours and the two wheels')
    imported = handler_imports()
    assert {"redtrail.function.handler", "redtrail.core.pipeline", "msgspec", "isal"} <= imported
    # When each is looked up in the bundle
    missing = [name for name in sorted(imported) if module_file(name, bundle) is None]
    # Then every one is there, and every Python module has byte code for the runtime's Python
    assert missing == []
    for path in bundle.rglob("*.py"):
        compiled = path.parent / "__pycache__" / f"{path.stem}.cpython-{TAG[2:]}.pyc"
        assert compiled.is_file(), f"{path.relative_to(bundle)} is not byte-compiled for {PYTHON}"


def test_the_asset_holds_nothing_but_the_runtime(bundle):
    # Given the bundle
    files = shipped_files(bundle)
    # When its files are sorted by kind
    ours = {name for name in files if name.startswith("redtrail/") and name.endswith(".py")}
    # Then no CLI or dev-tool module is there, no stubs, docs or dist-info, and of ours only what the handler imports
    assert not [name for name in files if name.startswith(("redtrail/cli", "redtrail_devtools"))]
    assert not [name for name in files if name.endswith((".pyi", ".md", ".txt", "py.typed"))]
    assert not [name for name in files if ".dist-info" in name and not name.startswith("licenses/")]
    assert ours == {str(path.relative_to(LAMBDA_SOURCE)) for path in runtime_modules()}
    assert "redtrail/function/handler.py" in ours
    # And the wheels' licences travel with their code
    assert {"isal", "msgspec"} <= {name.split("/")[1].split("-")[0] for name in files if name.startswith("licenses/")}


def test_byte_code_is_valid_for_the_runtime_and_needs_no_source_check(bundle):
    # Given one compiled module of the bundle
    compiled = bundle / "redtrail" / "core" / "__pycache__" / f"pipeline.cpython-{TAG[2:]}.pyc"
    header = compiled.read_bytes()[:16]
    # When its header is read (PEP 552: magic, flags)
    flags = int.from_bytes(header[4:8], "little")
    # Then it is hash-based and unchecked (the read-only /var/task cannot be rewritten, mtimes may change)
    assert flags == 0b01
    if sys.version_info[:2] == tuple(map(int, PYTHON.split("."))):
        assert header[:4] == importlib.util.MAGIC_NUMBER


@pytest.mark.parametrize(("architecture", "machine"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_a_bundle_holds_the_wheels_for_its_platform(tmp_path, wheel_cache, architecture, machine):
    # Given the bundler for an architecture and the function's Python version
    bundler = LocalBundling(architecture=architecture, python_version=PYTHON, cache=wheel_cache)
    # When it bundles into an empty directory
    bundled = bundler.try_bundle(str(tmp_path), image=None)
    # Then isal and msgspec are there, built for that platform and Python
    assert bundled is True
    assert (tmp_path / "redtrail" / "function" / "handler.py").is_file()
    assert list((tmp_path / "msgspec").glob(f"_core.cpython-{TAG[2:]}-{machine}-linux-gnu.so"))
    assert list((tmp_path / "isal").glob(f"isal_zlib.cpython-{TAG[2:]}-{machine}-linux-gnu.so"))


def test_cached_wheels_are_reused_without_pip(tmp_path, wheel_cache, monkeypatch):
    # Given wheels already fetched once for this platform
    LocalBundling(architecture="arm64", python_version=PYTHON, cache=wheel_cache).wheels()
    real_run = subprocess.run

    def no_pip(command, *args, **kwargs):
        if "pip" in command:
            raise AssertionError("pip ran again")
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(bundling.subprocess, "run", no_pip)
    # When another bundle is made
    bundled = LocalBundling(architecture="arm64", python_version=PYTHON, cache=wheel_cache).try_bundle(
        str(tmp_path), image=None
    )
    # Then it is complete, and pip was not called
    assert bundled is True
    assert (tmp_path / "msgspec").is_dir()


def test_an_unknown_architecture_is_refused():
    # Given an architecture without a manylinux platform
    # When a bundler is made for it
    # Then it is refused
    with pytest.raises(ValueError, match="mips"):
        LocalBundling(architecture="mips")


def test_without_an_interpreter_of_the_runtime_version_bundling_says_what_to_do(monkeypatch):
    # Given a Python version no interpreter here has
    monkeypatch.delenv(bundling.BYTECODE_PYTHON_ENV, raising=False)
    # When one is looked for
    # Then the error names the version and the two ways out
    with pytest.raises(bundling.BundlingError, match=r"Python 2\.1 .*pyenv install 2\.1.*REDTRAIL_BYTECODE_PYTHON"):
        bundling.bytecode_python("2.1")


def synthesize(outdir: Path, architecture: lambda_.Architecture, cache: Path) -> tuple[str, Path]:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = Stack(app, "Bundled")
    lambda_.Function(
        stack,
        "Function",
        runtime=RUNTIME,
        architecture=architecture,
        handler="redtrail.function.handler.lambda_handler",
        code=lambda_code(architecture, RUNTIME, cache=cache),
    )
    assembly = app.synth()
    template = json.loads((Path(assembly.directory) / "Bundled.template.json").read_text())
    (function,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    asset_hash = function["Metadata"]["aws:asset:path"].removeprefix("asset.")
    return asset_hash, Path(assembly.directory) / f"asset.{asset_hash}"


def test_synth_bundles_locally_into_an_asset_hashed_by_what_it_ships(tmp_path, wheel_cache):
    # Given stacks whose function code comes from lambda_code, for each architecture
    # When they are synthesized (twice for ARM, into separate directories)
    arm_hash, arm_asset = synthesize(tmp_path / "arm", lambda_.Architecture.ARM_64, wheel_cache)
    again_hash, _ = synthesize(tmp_path / "again", lambda_.Architecture.ARM_64, wheel_cache)
    x86_hash, x86_asset = synthesize(tmp_path / "x86", lambda_.Architecture.X86_64, wheel_cache)
    # Then each asset holds the package and its platform's wheels, without Docker; the hash follows the
    # shipped source and the platform, not the run
    assert (arm_asset / "redtrail" / "core" / "selective_reader.py").is_file()
    assert list((arm_asset / "msgspec").glob("*aarch64*.so"))
    assert list((x86_asset / "msgspec").glob("*x86_64*.so"))
    assert arm_hash == again_hash != x86_hash


def test_the_asset_hash_ignores_what_does_not_ship(tmp_path):
    # Given a copy of the Lambda source, and its asset hash
    source = tmp_path / "lambda"
    subprocess.run(["cp", "-r", str(LAMBDA_SOURCE), str(source)], check=True)
    requirements = source / "requirements.txt"

    def hashed() -> str:
        return bundling.asset_hash(source, requirements, "manylinux2014_aarch64", PYTHON)

    before = hashed()
    # When a CLI module changes, then a module the handler imports
    (source / "redtrail" / "cli" / "main.py").write_text("# changed\n")
    after_cli = hashed()
    with (source / "redtrail" / "core" / "classify.py").open("a") as module:
        module.write("# changed\n")
    # Then only the second is a new asset
    assert after_cli == before != hashed()
