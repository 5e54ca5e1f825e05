"""CloudWatch: the states of the stack's alarms."""

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.errors import RedtrailError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


def alarm_states(name_prefix: str, client: "CloudWatchClient | None" = None) -> dict[str, str]:
    """Alarm name → state for the alarms whose names start with ``name_prefix``."""
    cloudwatch = client or boto3.client("cloudwatch")
    try:
        pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=name_prefix)
        return {alarm["AlarmName"]: alarm["StateValue"] for page in pages for alarm in page.get("MetricAlarms", [])}
    except ClientError as error:
        raise RedtrailError(f"alarms {name_prefix}*: {error_code(error) or error}") from error
