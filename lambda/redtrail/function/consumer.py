"""The SQS batch consumer: queue messages (or a direct S3 notification) → trail objects → the pipeline."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from redtrail.adapters.dynamodb import EventTable
from redtrail.adapters.s3 import TrailStore
from redtrail.adapters.sqs import Queue
from redtrail.contracts.metric_names import MetricName
from redtrail.contracts.settings import Settings
from redtrail.core.errors import NotificationError, ObjectNotFoundError, RedtrailError, TrailFileError
from redtrail.core.pipeline import FileOutcome, Status, process_object
from redtrail.core.s3_events import TrailObject, objects_in_message, objects_in_notification
from redtrail.core.trail_file import SkipReason, outside_trail_logs
from redtrail.function.observability import count, logger, report, tracer

# A batch whose every message failed is still a partial response: SQS retries exactly those messages.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

# Failures that no retry can mend: the message goes straight to the dead-letter queue (with its reason)
# instead of burning maxReceiveCount receives. Anything else (S3 or DynamoDB trouble, access denied, which
# an operator may fix) fails the message, and SQS retries it until its redrive policy dead-letters it.
PERMANENT_ERRORS = (TrailFileError, ObjectNotFoundError, NotificationError)


@dataclass(frozen=True, slots=True)
class Dependencies:
    settings: Settings
    store: TrailStore
    table: EventTable
    dead_letters: Queue | None = None


@cache
def default_dependencies() -> Dependencies:
    """Settings from the environment and boto3 clients, made once per execution environment."""
    settings = Settings.from_env()
    dead_letters = Queue(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None
    return Dependencies(settings, TrailStore(), EventTable(settings.table_name), dead_letters)


def handle_event(
    event: Mapping[str, Any], context: LambdaContext, dependencies: Dependencies | None = None
) -> dict[str, Any]:
    """Process an SQS batch with partial batch responses, or a direct S3 notification."""
    deps = dependencies or default_dependencies()
    records = event.get("Records")
    if isinstance(records, list) and records and all(_is_sqs(record) for record in records):
        response = process_partial_response(
            event=dict(event),
            record_handler=partial(handle_message, dependencies=deps),
            processor=processor,
            context=context,
        )
        return dict(response)
    for trail_object in objects_in_notification(event):
        ingest_object(trail_object, deps)
    return {"batchItemFailures": []}


def _is_sqs(record: object) -> bool:
    return isinstance(record, Mapping) and record.get("eventSource") == "aws:sqs"


def handle_message(record: SQSRecord, dependencies: Dependencies) -> None:
    """One queue message: every object it names; a permanent failure is dead-lettered, others raise."""
    try:
        try:
            trail_objects = objects_in_message(record.body)
        except RedtrailError as error:
            count(MetricName.FILES_FAILED)
            logger.error("message is not an S3 notification", message_id=record.message_id, reason=str(error))
            raise
        if not trail_objects:
            logger.info("message names no created object", message_id=record.message_id)
        for trail_object in trail_objects:
            ingest_object(trail_object, dependencies)
    except PERMANENT_ERRORS as error:
        if dependencies.dead_letters is None:
            raise
        dead_letter(record, error, dependencies.dead_letters)


def dead_letter(record: SQSRecord, error: Exception, dead_letters: Queue) -> None:
    """Copy the message to the dead-letter queue with its reason; raises (so SQS retries) if that fails."""
    reason = str(error)[:1000]
    dead_letters.send([record.body], {"redtrailReason": reason, "redtrailErrorType": type(error).__name__})
    count(MetricName.FILES_DEAD_LETTERED)
    logger.error("message sent to the dead-letter queue", message_id=record.message_id, reason=reason)


@tracer.capture_method
def ingest_object(trail_object: TrailObject, dependencies: Dependencies) -> FileOutcome:
    """Run the pipeline on one object, log and count the outcome; re-raises failures."""
    if outside_trail_logs(trail_object.key):
        skipped = FileOutcome(trail_object.uri, Status.SKIPPED, SkipReason.OUTSIDE_AWSLOGS)
        report(skipped)
        return skipped
    try:
        outcome = process_object(
            trail_object,
            read=dependencies.store.read,
            write=dependencies.table.write,
            options=dependencies.settings.options,
        )
    except RedtrailError as error:
        count(MetricName.FILES_FAILED)
        logger.error("trail object failed", object=trail_object.uri, error_type=type(error).__name__, reason=str(error))
        raise
    report(outcome)
    return outcome
