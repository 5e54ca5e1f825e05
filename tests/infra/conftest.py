"""Synthesized stacks shared by the infra tests: each configuration is synthesized once per session."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# `infra` lives at the repo root next to app.py (not an installed package); infra_support sits here.
for path in (HERE.parents[1], HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from infra_support import (  # noqa: E402
    CONTEXTS,
    EVENTBRIDGE_EXISTING_CONTEXT,
    EVENTBRIDGE_OWN_CONTEXT,
    EXISTING_BUCKET_CONTEXT,
    SNS_CONTEXT,
    Synth,
    synthesize,
)


@pytest.fixture(scope="session")
def new_trail(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default deployment: a new bucket and trail."""
    return synthesize({}, tmp_path_factory.mktemp("new-trail"))


@pytest.fixture(scope="session")
def existing_bucket(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """An existing trail bucket with a prefix and SSE-KMS, an alarm email, and non-default settings."""
    return synthesize(EXISTING_BUCKET_CONTEXT, tmp_path_factory.mktemp("existing-bucket"))


@pytest.fixture(scope="session")
def eventbridge_own(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A new bucket and trail (with a prefix), announced through the bucket's EventBridge events."""
    return synthesize(EVENTBRIDGE_OWN_CONTEXT, tmp_path_factory.mktemp("eventbridge-own"))


@pytest.fixture(scope="session")
def eventbridge_existing(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """An existing (log-archive) bucket with SSE-KMS in another region, announced through EventBridge."""
    return synthesize(EVENTBRIDGE_EXISTING_CONTEXT, tmp_path_factory.mktemp("eventbridge-existing"))


@pytest.fixture(scope="session")
def sns_existing(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """An existing trail whose SNS topic (another account and region) announces its log files."""
    return synthesize(SNS_CONTEXT, tmp_path_factory.mktemp("sns-existing"))


@pytest.fixture(params=["new_trail", "existing_bucket"])
def synth(request: pytest.FixtureRequest) -> Synth:
    """Each configuration in turn, for properties that hold in both."""
    result: Synth = request.getfixturevalue(request.param)
    return result


@pytest.fixture(params=list(CONTEXTS))
def any_mode(request: pytest.FixtureRequest) -> Synth:
    """Every configuration, each source mode included, for the invariants that hold in all of them."""
    result: Synth = request.getfixturevalue(request.param)
    return result
