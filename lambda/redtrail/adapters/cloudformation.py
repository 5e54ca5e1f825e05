"""CloudFormation: a deployed stack's state and outputs."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.errors import RedtrailError, StackNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


@dataclass(frozen=True, slots=True)
class DeployedStack:
    """What DescribeStacks says of a stack: its ``StackStatus`` (``CREATE_COMPLETE``, ``UPDATE_IN_PROGRESS``…) and
    ``{OutputKey: OutputValue}`` (none until its creation is complete)."""

    status: str
    outputs: dict[str, str]


def describe_stack(stack_name: str, client: "CloudFormationClient | None" = None) -> DeployedStack:
    """The state and outputs of a deployed stack; raises StackNotFoundError."""
    cloudformation = client or boto3.client("cloudformation")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackNotFoundError(f"stack {stack_name} does not exist") from error
        raise RedtrailError(f"stack {stack_name}: {error_code(error) or error}") from error
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return DeployedStack(str(stack.get("StackStatus", "")), outputs)


def stack_outputs(stack_name: str, client: "CloudFormationClient | None" = None) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of a deployed stack; raises StackNotFoundError."""
    return describe_stack(stack_name, client).outputs
