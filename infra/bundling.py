"""The Lambda asset, bundled without Docker: the ``redtrail`` package plus the wheels of lambda/requirements.txt.

The wheels are the manylinux ones for the function's architecture and Python version, fetched by pip once per
(requirements, architecture, Python version) into a cache outside cdk.out, so later synths (and test synths
into temporary directories) copy them instead of calling pip. The asset hash comes from the source, the
requirements and these bundling options, so an unchanged asset is not bundled again in the same cdk.out.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

LAMBDA_SOURCE = Path(__file__).resolve().parents[1] / "lambda"
PACKAGE = "redtrail"
REQUIREMENTS = "requirements.txt"
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64", "aarch64": "manylinux2014_aarch64"}
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "redtrail" / "lambda-wheels"


@jsii.implements(ILocalBundling)
class LocalBundling:
    """Copies the package and pip-installs the runtime wheels for one architecture and Python version."""

    def __init__(
        self,
        *,
        architecture: str = "x86_64",
        python_version: str = "3.14",
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
        shutil.copytree(self.wheels(), output, dirs_exist_ok=True)
        shutil.copytree(self.source / PACKAGE, output / PACKAGE, ignore=_IGNORED, dirs_exist_ok=True)
        return True

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


def lambda_code(
    architecture: lambda_.Architecture, runtime: lambda_.Runtime, *, cache: Path | None = None
) -> lambda_.Code:
    """The function's code asset for ``architecture`` and ``runtime`` (a Python runtime), bundled locally."""
    python_version = runtime.name.removeprefix("python")
    bundler = LocalBundling(architecture=architecture.name, python_version=python_version, cache=cache)
    return lambda_.Code.from_asset(
        str(LAMBDA_SOURCE),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=["**/__pycache__", "*.egg-info", "*.pyc"],
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),
            local=bundler,
            # Part of the asset hash: a new architecture or Python version is a new asset.
            command=["local-bundling-only", bundler.platform, python_version],
        ),
    )
