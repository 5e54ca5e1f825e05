"""The Lambda's work: SQS batches (or direct S3 notifications) → trail objects → the pipeline."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from redtrail.aws import EventTable, Queue, TrailStore
from redtrail.errors import NotificationError, ObjectNotFoundError, RedtrailError, TrailFileError
from redtrail.metric_names import NAMESPACE, SOURCE_DIMENSION, MetricName
from redtrail.notifications import TrailObject, objects_in_message, objects_in_notification
from redtrail.observability import logger, metrics, tracer
from redtrail.pipeline import FileOutcome, Status, process_object
from redtrail.settings import Settings
from redtrail.trail_file import SkipReason, outside_trail_logs

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
            metrics.add_metric(name=MetricName.FILES_FAILED, unit=MetricUnit.Count, value=1)
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
    metrics.add_metric(name=MetricName.FILES_DEAD_LETTERED, unit=MetricUnit.Count, value=1)
    logger.error("message sent to the dead-letter queue", message_id=record.message_id, reason=reason)


@tracer.capture_method
def ingest_object(trail_object: TrailObject, dependencies: Dependencies) -> FileOutcome:
    """Run the pipeline on one object, log and count the outcome; re-raises failures."""
    settings = dependencies.settings
    if outside_trail_logs(trail_object.key):
        skipped = FileOutcome(trail_object.uri, Status.SKIPPED, SkipReason.OUTSIDE_AWSLOGS)
        publish(skipped)
        return skipped
    try:
        outcome = process_object(
            trail_object,
            read=dependencies.store.read,
            write=dependencies.table.write,
            retention_days=settings.retention_days,
            sensitive_event_names=settings.sensitive_event_names,
            redact_fields=settings.redact_fields,
        )
    except RedtrailError as error:
        metrics.add_metric(name=MetricName.FILES_FAILED, unit=MetricUnit.Count, value=1)
        logger.error("trail object failed", object=trail_object.uri, error_type=type(error).__name__, reason=str(error))
        raise
    publish(outcome)
    return outcome


def publish(outcome: FileOutcome) -> None:
    """Log and count one object's outcome (counts only: no event contents)."""
    if outcome.status is Status.SKIPPED:
        metrics.add_metric(name=MetricName.FILES_SKIPPED, unit=MetricUnit.Count, value=1)
        logger.info("trail object skipped", object=outcome.source, reason=str(outcome.skip_reason))
        return
    for name, value in (
        (MetricName.FILES_PROCESSED, 1),
        (MetricName.RECORDS_READ, outcome.records),
        (MetricName.RECORDS_REJECTED, outcome.rejected),
        (MetricName.RECORDS_QUARANTINED, outcome.quarantined),
        (MetricName.EVENTS_KEPT, outcome.kept),
        (MetricName.WRITE_EVENTS, outcome.write_events),
        (MetricName.SENSITIVE_EVENTS, outcome.sensitive_events),
        (MetricName.ENCRYPTION_CONTEXT_MATCHES, outcome.encryption_context_matches),
        (MetricName.ITEMS_WRITTEN, outcome.written),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for source, count in sorted(outcome.by_source.items()):
        with single_metric(
            name=MetricName.EVENTS_BY_SOURCE, unit=MetricUnit.Count, value=count, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name=SOURCE_DIMENSION, value=source)
    if outcome.rejected or outcome.quarantined:
        logger.warning(
            "records not stored as events",
            object=outcome.source,
            not_objects=outcome.rejected,
            quarantined=outcome.quarantined,
        )
    logger.info(
        "trail object processed",
        object=outcome.source,
        records=outcome.records,
        kept=outcome.kept,
        written=outcome.written,
        write_events=outcome.write_events,
        duplicates=outcome.duplicates,
    )
