"""Lambda: a deployed function's environment (what ``redtrail ingest`` reads the pipeline options from)."""

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.errors import AccessDeniedError, RedtrailError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


def function_environment(function_name: str, client: "LambdaClient | None" = None) -> dict[str, str]:
    """The environment variables of a deployed function; AccessDeniedError or RedtrailError when unreadable."""
    functions = client or boto3.client("lambda")
    try:
        configuration = functions.get_function_configuration(FunctionName=function_name)
    except ClientError as error:
        code = error_code(error)
        if code in {"AccessDeniedException", "AccessDenied"}:
            raise AccessDeniedError(f"function {function_name}: {code}") from error
        raise RedtrailError(f"function {function_name}: {code or error}") from error
    except BotoCoreError as error:
        raise RedtrailError(f"function {function_name}: {error}") from error
    return dict(configuration.get("Environment", {}).get("Variables", {}))
