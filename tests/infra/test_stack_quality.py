"""Quality gates on the synthesized app: cdk-nag AwsSolutions and cfn-lint."""

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aws_cdk import Validations
from cfnlint.api import ManualArgs, lint_file
from infra_support import CONTEXTS, Synth, synthesize

import infra.nag


def _violations(outdir: Path) -> set[str]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return {violation["ruleName"] for plugin in report["pluginReports"] for violation in plugin["violations"]}


def test_cdk_nag_reports_nothing_unacknowledged(any_mode: Synth) -> None:
    # Given any configuration, synthesized with the AwsSolutions checks (a finding would fail the synth)
    outdir = any_mode.template_path.parent

    # Then the validation report has no violation
    assert _violations(outdir) == set()


class _RecordingValidations:
    """Stands in for aws_cdk.Validations in infra.nag: records acknowledgments instead of applying them."""

    acknowledged: ClassVar[set[str]] = set()

    def __init__(self, scope: Any) -> None:
        self._real = Validations.of(scope)

    @classmethod
    def of(cls, scope: Any) -> "_RecordingValidations":
        return cls(scope)

    def acknowledge(self, *rules: Any) -> None:
        type(self).acknowledged.update(rule.id for rule in rules)

    def add_plugins(self, *plugins: Any) -> None:
        self._real.add_plugins(*plugins)


@pytest.mark.parametrize("context", list(CONTEXTS.values()), ids=list(CONTEXTS))
def test_every_acknowledgment_is_needed(
    context: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app synthesized without applying its acknowledgments
    monkeypatch.setattr(infra.nag, "Validations", _RecordingValidations)
    _RecordingValidations.acknowledged = set()

    # When cdk-nag runs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(context, tmp_path)

    # Then it finds exactly what the stack acknowledges: no stale acknowledgment, and no finding without one
    assert _violations(tmp_path) == _RecordingValidations.acknowledged
    # And they are few: the runtime, the actions without resource-level permissions, the trail files' prefix and
    # (when the stack writes a bucket's notification configuration) CDK's notifications handler
    assert len(_RecordingValidations.acknowledged) <= 4


def test_cfn_lint_finds_no_problems(any_mode: Synth) -> None:
    # Given the synthesized template of any configuration
    # When cfn-lint checks it (ignoring only W3005, the redundant DependsOn that CDK itself writes)
    matches = lint_file(any_mode.template_path, config=ManualArgs(ignore_checks=["W3005"]))

    # Then it reports nothing: no error, no warning
    assert [str(match) for match in matches] == []
