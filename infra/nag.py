"""cdk-nag: the AwsSolutions checks run at every synth, and helpers to acknowledge one finding on one construct."""

from typing import Any

from aws_cdk import Acknowledgment, Stack, Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(stage: Stage) -> None:
    """Run the AwsSolutions rule pack when ``stage`` synthesizes; any unacknowledged finding fails the synth."""
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage))


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding (``RuleId`` or ``RuleId[FindingId]``) on ``construct`` and its children."""
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def wildcard_resource(scope: IConstruct, arn: str) -> str:
    """The AwsSolutions-IAM5 finding for a policy resource ``arn`` (a token string), as cdk-nag spells it."""
    return f"AwsSolutions-IAM5[Resource::{_flatten(Stack.of(scope).resolve(arn))}]"


def _flatten(node: Any) -> str:
    """cdk-nag's flattenCfnReference: intrinsics as ``<Ref>``/``<Logical.Attr>``, joins concatenated."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot flatten {node!r}")
