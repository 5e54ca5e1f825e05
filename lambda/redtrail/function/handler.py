"""Lambda entry point: Powertools decorators around one call."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from redtrail.function.consumer import handle_event
from redtrail.function.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, context)
