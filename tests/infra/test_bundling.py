"""Local bundling of the Lambda asset: the package and the manylinux wheels for the function's platform."""

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra import bundling
from infra.bundling import LocalBundling, lambda_code

PYTHON = "3.14"


@pytest.fixture(scope="module")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of its own, so that the first bundle really runs pip (from PyPI)."""
    return tmp_path_factory.mktemp("wheels")


def wheel_tags(output: Path, distribution: str) -> list[str]:
    (info,) = output.glob(f"{distribution}-*.dist-info")
    return [line.split(": ", 1)[1] for line in (info / "WHEEL").read_text().splitlines() if line.startswith("Tag: ")]


@pytest.mark.parametrize(("architecture", "machine"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_a_bundle_holds_the_package_and_the_wheels_for_its_platform(tmp_path, wheel_cache, architecture, machine):
    # Given the bundler for an architecture and the function's Python version
    bundler = LocalBundling(architecture=architecture, python_version=PYTHON, cache=wheel_cache)
    # When it bundles into an empty directory
    bundled = bundler.try_bundle(str(tmp_path), image=None)
    # Then the package is there without byte code, with isal and msgspec built for that platform and Python
    assert bundled is True
    assert (tmp_path / "redtrail" / "handler.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    for distribution in ("isal", "msgspec"):
        tags = wheel_tags(tmp_path, distribution)
        assert tags
        assert all(tag.startswith("cp314-cp314-manylinux") and tag.endswith(machine) for tag in tags)
    assert list((tmp_path / "msgspec").glob(f"_core.cpython-314-{machine}-linux-gnu.so"))
    assert list((tmp_path / "isal").glob(f"isal_zlib.cpython-314-{machine}-linux-gnu.so"))


def test_cached_wheels_are_reused_without_pip(tmp_path, wheel_cache, monkeypatch):
    # Given wheels already fetched once for this platform
    LocalBundling(architecture="arm64", python_version=PYTHON, cache=wheel_cache).wheels()

    def no_pip(*args, **kwargs):
        raise AssertionError("pip ran again")

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


def synthesize(outdir: Path, architecture: lambda_.Architecture, cache: Path) -> tuple[str, Path]:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = Stack(app, "Bundled")
    lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=architecture,
        handler="redtrail.handler.lambda_handler",
        code=lambda_code(architecture, lambda_.Runtime.PYTHON_3_14, cache=cache),
    )
    assembly = app.synth()
    template = json.loads((Path(assembly.directory) / "Bundled.template.json").read_text())
    (function,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    asset_hash = function["Metadata"]["aws:asset:path"].removeprefix("asset.")
    return asset_hash, Path(assembly.directory) / f"asset.{asset_hash}"


def test_synth_bundles_locally_into_a_source_hashed_asset(tmp_path, wheel_cache):
    # Given stacks whose function code comes from lambda_code, for each architecture
    # When they are synthesized (twice for ARM, into separate directories)
    arm_hash, arm_asset = synthesize(tmp_path / "arm", lambda_.Architecture.ARM_64, wheel_cache)
    again_hash, _ = synthesize(tmp_path / "again", lambda_.Architecture.ARM_64, wheel_cache)
    x86_hash, x86_asset = synthesize(tmp_path / "x86", lambda_.Architecture.X86_64, wheel_cache)
    # Then each asset holds the package and its platform's wheels, without Docker; the hash follows the
    # source and the platform, not the run
    assert (arm_asset / "redtrail" / "fastpath.py").is_file()
    assert list((arm_asset / "msgspec").glob("*aarch64*.so"))
    assert list((x86_asset / "msgspec").glob("*x86_64*.so"))
    assert arm_hash == again_hash != x86_hash
