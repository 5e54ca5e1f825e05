"""The Lambda asset, bundled without Docker: the function's runtime and nothing else.

What ships: the handler and the ``redtrail`` modules it imports (found by ``modulefinder``, so never the CLI)
and the code of the wheels in lambda/requirements.txt (isal, msgspec), each byte-compiled for the runtime's
Python as unchecked-hash ``.pyc`` files (``/var/task`` is read-only: without them every cold start compiles
the modules again), plus the wheels' licence files under ``licenses/``. No stubs, no dist-info, no C sources.

The wheels are the manylinux ones for the function's architecture and Python version, fetched by pip once per
(requirements, architecture, Python version) into a cache outside cdk.out. The asset hash is computed from what
ships (the modules, the requirements, the platform and Python version), so a CLI change is not a new asset.
"""

import hashlib
import modulefinder
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

LAMBDA_SOURCE = Path(__file__).resolve().parents[1] / "lambda"
PACKAGE = "redtrail"
HANDLER_MODULE = Path(PACKAGE, "function", "handler.py")
REQUIREMENTS = "requirements.txt"
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64", "aarch64": "manylinux2014_aarch64"}
BYTECODE_PYTHON_ENV = "REDTRAIL_BYTECODE_PYTHON"  # an interpreter of the runtime's version, if not found by itself
_SHIPPED_SUFFIXES = (".py", ".so")
_LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE")


class BundlingError(RuntimeError):
    """The asset cannot be built as it must be (no interpreter to byte-compile with)."""


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "redtrail" / "lambda-wheels"


@jsii.implements(ILocalBundling)
class LocalBundling:
    """Copies the runtime and the wheels' code for one architecture and Python version, then byte-compiles."""

    def __init__(
        self,
        *,
        architecture: str = "x86_64",
        python_version: str = "3.13",
        source: Path = LAMBDA_SOURCE,
        cache: Path | None = None,
    ) -> None:
        if architecture not in PLATFORMS:
            raise ValueError(f"no manylinux platform for architecture {architecture!r}")
        self.architecture = architecture
        self.python_version = python_version
        self.source = source
        self.cache = cache or default_cache()

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        """Bundle into ``output_dir``; True, so that Docker is never needed."""
        output = Path(output_dir)
        wheels = self.wheels()
        for path in _shipped(wheels):
            _copy(path, output / path.relative_to(wheels))
        for path in _licenses(wheels):
            _copy(path, output / "licenses" / path.relative_to(wheels))
        for path in runtime_modules(self.source):
            _copy(path, output / path.relative_to(self.source))
        self.byte_compile(output)
        return True

    def byte_compile(self, output: Path) -> None:
        """Compile every module for the runtime's Python (``.pyc`` that the runtime uses without checking)."""
        command = [
            str(bytecode_python(self.python_version)),
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            str(output),
        ]
        subprocess.run(command, check=True)  # noqa: S603 (fixed arguments)

    def wheels(self) -> Path:
        """The installed requirements for this platform (pip runs only when they are not cached yet)."""
        requirements = self.source / REQUIREMENTS
        key = hashlib.sha256(
            requirements.read_bytes() + f"|{self.platform}|{self.python_version}".encode()
        ).hexdigest()[:16]
        target = self.cache / f"{self.architecture}-py{self.python_version}-{key}"
        if target.is_dir():
            return target
        self.cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.cache))
        try:
            subprocess.run(self.pip_command(requirements, staging), check=True)  # noqa: S603 (fixed arguments)
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # another synth may have won the race; anything else is a real failure
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    @property
    def platform(self) -> str:
        return PLATFORMS[self.architecture]

    def pip_command(self, requirements: Path, target: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "--platform",
            self.platform,
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "-r",
            str(requirements),
        ]


def runtime_modules(source: Path = LAMBDA_SOURCE) -> list[Path]:
    """The handler's file and every ``redtrail`` module it imports, directly or not (packages' ``__init__``
    included), in path order."""
    finder = modulefinder.ModuleFinder(path=[str(source)])  # only our package: nothing else is followed
    handler = source / HANDLER_MODULE
    finder.run_script(str(handler))
    found = {Path(vars(module)["__file__"]) for name, module in finder.modules.items() if name.split(".")[0] == PACKAGE}
    return sorted(found | {handler})


def asset_hash(source: Path, requirements: Path, platform: str, python_version: str) -> str:
    """What identifies an asset: the shipped modules' paths and contents, the requirements, platform, Python."""
    digest = hashlib.sha256(f"{platform}|{python_version}|unchecked-hash|".encode())
    for path in [*runtime_modules(source), requirements]:
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _shipped(wheels: Path) -> Iterator[Path]:
    """The wheels' code: modules and extensions of their packages, no dist-info, stubs or bundled sources."""
    for path in sorted(wheels.rglob("*")):
        parts = path.relative_to(wheels).parts
        if path.is_file() and path.suffix in _SHIPPED_SUFFIXES and not parts[0].endswith(".dist-info"):
            yield path


def _licenses(wheels: Path) -> Iterator[Path]:
    """The licence files the wheels carry (their dist-info's and bundled libraries'): they ship with the code."""
    for path in sorted(wheels.rglob("*")):
        if path.is_file() and path.name.upper().startswith(_LICENSE_NAMES):
            yield path


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def bytecode_python(version: str) -> Path:
    """An interpreter of ``version`` (the runtime's ``X.Y``): ``$REDTRAIL_BYTECODE_PYTHON``, ``pythonX.Y`` on the
    PATH, or a pyenv install; BundlingError naming what to do when there is none."""
    candidates: list[Path] = []
    if os.environ.get(BYTECODE_PYTHON_ENV):
        candidates.append(Path(os.environ[BYTECODE_PYTHON_ENV]))
    if sys.version_info[:2] == tuple(int(part) for part in version.split(".")):
        candidates.append(Path(sys.executable))
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        if _runs_as(candidate, version):
            return candidate
    raise BundlingError(
        f"byte-compiling the function's code needs Python {version} (the function's runtime), and none was found: "
        f"install it (e.g. pyenv install {version}), or set {BYTECODE_PYTHON_ENV} to its interpreter"
    )


def _runs_as(interpreter: Path, version: str) -> bool:
    try:
        found = subprocess.run(  # noqa: S603 (a candidate interpreter, fixed arguments)
            [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0 and found.stdout.strip() == version


def lambda_code(
    architecture: lambda_.Architecture, runtime: lambda_.Runtime, *, cache: Path | None = None
) -> lambda_.Code:
    """The function's code asset for ``architecture`` and ``runtime`` (a Python runtime), bundled locally."""
    python_version = runtime.name.removeprefix("python")
    bundler = LocalBundling(architecture=architecture.name, python_version=python_version, cache=cache)
    return lambda_.Code.from_asset(
        str(LAMBDA_SOURCE),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(LAMBDA_SOURCE, LAMBDA_SOURCE / REQUIREMENTS, bundler.platform, python_version),
        bundling=BundlingOptions(image=DockerImage.from_registry("local-bundling-only"), local=bundler),
    )
