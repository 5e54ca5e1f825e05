"""The function's one logger, metrics and tracer (Powertools), and how an object's outcome is reported.

Logs carry counts, object keys and reasons, never event contents. Tracing is switchable (``REDTRAIL_TRACING``,
set from the ``tracing`` context key): when it is off, the X-Ray SDK is never imported.
"""

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from redtrail.contracts.metric_names import NAMESPACE, PROBLEM_DIMENSION, SERVICE, SOURCE_DIMENSION, MetricName
from redtrail.contracts.settings import Env
from redtrail.core.alerts import AlertReport
from redtrail.core.integrity import IntegrityReport
from redtrail.core.pipeline import FileOutcome, Status

F = TypeVar("F", bound=Callable[..., Any])
QUARANTINE_QUERY = "redtrail query --rejected"  # where quarantined records are listed, with their reasons


class Tracing(Protocol):
    """The two decorators of Powertools' Tracer that the function uses (both keep the signature)."""

    def capture_lambda_handler(self, handler: F) -> F: ...

    def capture_method(self, method: F) -> F: ...


class Untraced:
    """The Tracer's two decorators, doing nothing: what the function uses when tracing is off."""

    def capture_lambda_handler(self, handler: F) -> F:
        return handler

    def capture_method(self, method: F) -> F:
        return method


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the function traces its AWS calls (default: yes)."""
    return environ.get(Env.TRACING, "true").strip().lower() not in {"false", "0", "off", "no"}


def _tracer() -> Tracing:
    if not tracing_enabled():
        return Untraced()
    from aws_lambda_powertools import Tracer

    # Only botocore: the default patches every library the X-Ray SDK knows, importing each one at start-up.
    return cast(Tracing, Tracer(service=SERVICE, patch_modules=("botocore",)))


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = _tracer()


def count(name: MetricName, value: int = 1) -> None:
    """Add ``value`` to one of the function's metrics (published when the invocation ends)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def report(outcome: FileOutcome) -> None:
    """Log and count one object's outcome (counts only: no event contents)."""
    if outcome.status is Status.SKIPPED:
        count(MetricName.FILES_SKIPPED)
        logger.info("trail object skipped", object=outcome.source, reason=str(outcome.skip_reason))
        return
    for name, value in (
        (MetricName.FILES_PROCESSED, 1),
        (MetricName.RECORDS_READ, outcome.records),
        (MetricName.RECORDS_REJECTED, outcome.rejected),
        (MetricName.RECORDS_QUARANTINED, outcome.quarantined),
        (MetricName.RECORDS_DUPLICATED, outcome.duplicates),
        (MetricName.DUPLICATES_WITH_OTHER_CONTENT, outcome.duplicates_differing),
        (MetricName.EVENTS_KEPT, outcome.kept),
        (MetricName.WRITE_EVENTS, outcome.write_events),
        (MetricName.SENSITIVE_EVENTS, outcome.sensitive_events),
        (MetricName.ENCRYPTION_CONTEXT_MATCHES, outcome.encryption_context_matches),
        (MetricName.ITEMS_WRITTEN, outcome.written),
        (MetricName.ITEMS_UNCHANGED, outcome.unchanged),
    ):
        count(name, value)
    for source, events in sorted(outcome.by_source.items()):
        _count_by(MetricName.EVENTS_BY_SOURCE, SOURCE_DIMENSION, source, events)
    if outcome.rejected or outcome.quarantined or outcome.duplicates_differing:
        logger.warning(
            "records not stored as events",
            object=outcome.source,
            not_objects=outcome.rejected,
            quarantined=outcome.quarantined,
            duplicates=outcome.duplicates,
            duplicates_with_other_content=outcome.duplicates_differing,
            see=QUARANTINE_QUERY if outcome.quarantined else None,
        )
    logger.info(
        "trail object processed",
        object=outcome.source,
        records=outcome.records,
        kept=outcome.kept,
        written=outcome.written,
        write_events=outcome.write_events,
        quarantined=outcome.quarantined,
        not_objects=outcome.rejected,
        duplicates=outcome.duplicates,
        duplicates_with_other_content=outcome.duplicates_differing,
        unchanged=outcome.unchanged,
        conflicts=len(outcome.conflicts),
    )


def report_integrity(found: IntegrityReport) -> None:
    """Count what the ledger settled, and log and count each problem the first time it is found."""
    if found.digest_verified:
        count(MetricName.DIGESTS_VERIFIED)
    if found.verified_logs:
        count(MetricName.LOGS_VERIFIED, found.verified_logs)
    for problem in found.new_problems:
        _count_by(MetricName.INTEGRITY_PROBLEMS, PROBLEM_DIMENSION, problem.code.value, 1)
        logger.warning(
            "integrity problem",
            code=problem.code.value,
            object=problem.object,
            chain=problem.chain,
            detail=problem.detail,
        )


def report_alerts(found: AlertReport, source: str) -> None:
    """Count the detections recorded and the alerts published or not; log each failure (no event contents)."""
    for name, value in (
        (MetricName.DETECTIONS, found.detections),
        (MetricName.HIGH_SEVERITY_EVENTS, found.high),
        (MetricName.ALERTS_PUBLISHED, found.published),
        (MetricName.ALERTS_FAILED, found.failed),
    ):
        if value:
            count(name, value)
    if found.detections or found.published or found.failed:
        logger.info(
            "detections",
            object=source,
            detections=found.detections,
            high=found.high,
            published=found.published,
            failed=found.failed,
            too_old=found.old,
        )
    for error in found.errors:
        logger.error("alert not published", object=source, reason=error)


def report_sweep(found: IntegrityReport, stale_chains: int) -> None:
    """The sweep's problems, and the heartbeat: chains whose digests are late (0 when all are on time)."""
    report_integrity(found)
    count(MetricName.STALE_CHAINS, stale_chains)
    logger.info("ledger swept", stale_chains=stale_chains, problems=len(found.problems), new=len(found.new_problems))


def _count_by(name: MetricName, dimension: str, value: str, amount: int) -> None:
    """One metric with its own dimension, beside the ones every metric has."""
    with single_metric(name=name, unit=MetricUnit.Count, value=amount, namespace=NAMESPACE) as metric:
        metric.add_dimension(name=dimension, value=value)
