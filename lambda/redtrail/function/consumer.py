"""The SQS batch consumer: queue messages (or a direct S3 notification) → trail objects → the pipeline."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from redtrail.adapters.cloudtrail import CloudTrailPublicKeys
from redtrail.adapters.dynamodb import DetectionTable, EventTable, table_client
from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.adapters.s3 import TrailStore
from redtrail.adapters.sns import AlertTopic
from redtrail.adapters.sqs import Queue
from redtrail.contracts.integrity import ProblemCode
from redtrail.contracts.metric_names import MetricName
from redtrail.contracts.settings import Settings
from redtrail.core.alerts import Alerting
from redtrail.core.errors import (
    AlertPublishError,
    NotificationError,
    ObjectNotFoundError,
    RedtrailError,
    TrailFileError,
)
from redtrail.core.integrity import Clock, Integrity, IntegrityReport
from redtrail.core.ledger import Problem, now_text
from redtrail.core.pipeline import FileOutcome, Status, process_object
from redtrail.core.s3_events import TrailObject, objects_in_message, objects_in_notification
from redtrail.core.trail_file import SkipReason, outside_trail_logs
from redtrail.core.trail_keys import LogKind, is_digest_folder, parse_log_key
from redtrail.function.observability import (
    count,
    logger,
    report,
    report_alerts,
    report_integrity,
    report_sweep,
    tracer,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Failures that no retry can mend: the message goes straight to the dead-letter queue (with its reason)
# instead of burning maxReceiveCount receives. Anything else (S3 or DynamoDB trouble, access denied, which
# an operator may fix) fails the message, and SQS retries it until its redrive policy dead-letters it.
PERMANENT_ERRORS = (TrailFileError, ObjectNotFoundError, NotificationError)


@dataclass(frozen=True, slots=True)
class Dependencies:
    settings: Settings
    store: TrailStore
    table: EventTable
    integrity: Integrity
    dead_letters: Queue | None = None
    alerting: Alerting | None = None  # None: no alerts topic (detections still on the items)


@cache
def default_dependencies() -> Dependencies:
    """Settings from the environment and boto3 clients, made once per execution environment."""
    settings = Settings.from_env()
    dead_letters = Queue(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None
    dynamodb = table_client()  # one client (standard retries) for the events, the ledger and the detections
    table = EventTable(settings.table_name, dynamodb)
    ledger = DynamoDBLedger(settings.table_name, dynamodb)
    return Dependencies(
        settings,
        TrailStore(),
        table,
        integrity(settings, ledger, CloudTrailPublicKeys()),
        dead_letters,
        alerting(settings, dynamodb),
    )


def alerting(settings: Settings, dynamodb: "DynamoDBClient") -> Alerting | None:
    """Detections recorded in the table, alerts published to the topic the stack made."""
    if settings.alerts.topic_arn is None:
        return None
    return Alerting(
        DetectionTable(settings.table_name, dynamodb),
        AlertTopic(settings.alerts.topic_arn),
        timedelta(hours=settings.alerts.max_age_hours),
    )


def integrity(settings: Settings, ledger: DynamoDBLedger, public_keys: CloudTrailPublicKeys) -> Integrity:
    """The ledger's checks with the grace periods the stack set."""
    clock = Clock(
        heartbeat=timedelta(minutes=settings.integrity.heartbeat_minutes),
        grace=timedelta(minutes=settings.integrity.grace_minutes),
    )
    return Integrity(ledger, public_keys, clock)


def handle_event(
    event: Mapping[str, Any], context: LambdaContext, dependencies: Dependencies | None = None
) -> dict[str, Any]:
    """Process an SQS batch with partial batch responses, or a direct S3 notification."""
    deps = dependencies or default_dependencies()
    if _is_schedule(event):
        sweep(deps)
        return {"batchItemFailures": []}
    records = event.get("Records")
    if isinstance(records, list) and records and all(_is_sqs(record) for record in records):
        return handle_batch(records, deps)
    for trail_object in objects_in_notification(event):
        ingest_object(trail_object, deps)
    return {"batchItemFailures": []}


def _is_sqs(record: object) -> bool:
    return isinstance(record, Mapping) and record.get("eventSource") == "aws:sqs"


def _is_schedule(event: Mapping[str, Any]) -> bool:
    return event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"


@tracer.capture_method
def sweep(dependencies: Dependencies) -> None:
    """The ledger's periodic checks: late chains (the heartbeat), gaps, log files never delivered."""
    found, stale = dependencies.integrity.sweep()
    report_sweep(found, stale)


def handle_batch(records: list[Mapping[str, Any]], dependencies: Dependencies) -> dict[str, Any]:
    """A partial batch response: each message that failed, alone; SQS retries exactly those.

    Written here rather than taken from Powertools' batch utility, whose import (asyncio, every event data
    class) cost 40 % of the function's cold import (docs/scaling.md).
    """
    failures = []
    for record in records:
        try:
            handle_message(record, dependencies)
        except Exception as error:  # any failure fails this message only
            if not isinstance(error, RedtrailError):  # a bug: its traceback, never the message body
                logger.exception("message failed", message_id=record.get("messageId"), error_type=type(error).__name__)
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


def handle_message(record: Mapping[str, Any], dependencies: Dependencies) -> None:
    """One queue message: every object it names; a permanent failure is dead-lettered, others raise."""
    message_id = record.get("messageId")
    try:
        try:
            trail_objects = objects_in_message(str(record.get("body", "")))
        except RedtrailError as error:
            count(MetricName.FILES_FAILED)
            logger.error("message is not an S3 notification", message_id=message_id, reason=str(error))
            raise
        if not trail_objects:
            logger.info("message names no created object", message_id=message_id)
        for trail_object in trail_objects:
            ingest_object(trail_object, dependencies)
    except PERMANENT_ERRORS as error:
        if dependencies.dead_letters is None:
            raise
        dead_letter(record, error, dependencies.dead_letters)


def dead_letter(record: Mapping[str, Any], error: Exception, dead_letters: Queue) -> None:
    """Copy the message to the dead-letter queue with its reason; raises (so SQS retries) if that fails."""
    reason = str(error)[:1000]
    dead_letters.send(
        [str(record.get("body", ""))], {"redtrailReason": reason, "redtrailErrorType": type(error).__name__}
    )
    count(MetricName.FILES_DEAD_LETTERED)
    logger.error("message sent to the dead-letter queue", message_id=record.get("messageId"), reason=reason)


@tracer.capture_method
def ingest_object(trail_object: TrailObject, dependencies: Dependencies) -> FileOutcome:
    """One object by its key: a digest is verified, a log file processed and recorded in the ledger, anything
    else skipped; outcomes logged and counted, failures re-raised."""
    key = trail_object.key
    if outside_trail_logs(key):
        return _skipped(trail_object, SkipReason.OUTSIDE_AWSLOGS)
    if is_digest_folder(key):
        return verify_digest(trail_object, dependencies)
    log_key = parse_log_key(key)
    if log_key is None:  # under AWSLogs/, but no name CloudTrail writes: not a trail file
        return _skipped(trail_object, SkipReason.NOT_TRAIL_LAYOUT)
    try:
        outcome = process_object(
            trail_object,
            read=dependencies.store.read,
            write=dependencies.table.write,
            options=dependencies.settings.options,
        )
        found = IntegrityReport()
        if outcome.status is Status.PROCESSED and outcome.sha256 and log_key.kind is LogKind.LOG:
            delivered = now_text(outcome.delivered_at) if outcome.delivered_at else now_text()
            found = dependencies.integrity.record_log(trail_object, str(log_key.namespace), outcome.sha256, delivered)
        for conflict in outcome.conflicts:
            detail = f"eventID {conflict.event_id} is stored from {conflict.stored_from}; this file says otherwise"
            problem = Problem(ProblemCode.EVENT_CONFLICT, trail_object.uri, detail, event_id=conflict.event_id)
            dependencies.integrity.report(problem, found)
    except RedtrailError as error:
        count(MetricName.FILES_FAILED)
        if error.written:  # items stored before the failure: the retry finds them unchanged
            count(MetricName.ITEMS_WRITTEN_BEFORE_FAILURE, error.written)
        logger.error(
            "trail object failed",
            object=trail_object.uri,
            error_type=type(error).__name__,
            reason=str(error),
            written_before_failure=error.written,
        )
        raise
    report(outcome)
    report_integrity(found)
    if dependencies.alerting is not None and outcome.detected:
        raised = dependencies.alerting.raise_for(outcome.detected, datetime.now(UTC))
        report_alerts(raised, trail_object.uri)
        if raised.errors:  # the events are stored; the message is retried so that the alerts go out
            raise AlertPublishError(f"{trail_object.uri}: {raised.failed} alerts not published: {raised.errors[0]}")
    return outcome


def verify_digest(trail_object: TrailObject, dependencies: Dependencies) -> FileOutcome:
    """A digest: verified and recorded in the ledger, settling the log files it lists."""
    try:
        found = dependencies.integrity.record_digest(trail_object, dependencies.store.read)
    except RedtrailError as error:
        count(MetricName.FILES_FAILED)
        logger.error("digest failed", object=trail_object.uri, error_type=type(error).__name__, reason=str(error))
        raise
    report_integrity(found)
    return FileOutcome(trail_object.uri, Status.SKIPPED, SkipReason.DIGEST)


def _skipped(trail_object: TrailObject, reason: SkipReason) -> FileOutcome:
    skipped = FileOutcome(trail_object.uri, Status.SKIPPED, reason)
    report(skipped)
    return skipped
