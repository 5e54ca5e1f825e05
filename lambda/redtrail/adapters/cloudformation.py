"""CloudFormation: a deployed stack's outputs."""

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.errors import RedtrailError, StackNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


def stack_outputs(stack_name: str, client: "CloudFormationClient | None" = None) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of a deployed stack; raises StackNotFoundError."""
    cloudformation = client or boto3.client("cloudformation")
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackNotFoundError(f"stack {stack_name} does not exist") from error
        raise RedtrailError(f"stack {stack_name}: {error_code(error) or error}") from error
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
