"""Alerts: one per detected (event, rule), worded for a person, recorded so that it goes out once. Pure.

The function records each detection as a small item (``contracts.alerts``) with a conditional put; only the
invocation that recorded it publishes its alert (or, after a failed publish, the next delivery of its file).
"""

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from redtrail.contracts import alerts as names
from redtrail.contracts import schema
from redtrail.contracts.alerts import AlertState
from redtrail.core.detections import Detection, Severity
from redtrail.core.errors import AlertPublishError
from redtrail.core.items import Item
from redtrail.core.ledger import now_text, parse_time
from redtrail.core.pipeline import Detected

LEASE = timedelta(minutes=15)  # a pending alert older than this was left by an invocation that died
_MISSING = "-"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: what a person reads, the attributes subscriptions filter on, and the item that records it."""

    event_id: str
    rule: str
    severity: Severity
    subject: str
    body: str
    attributes: Mapping[str, str]
    record: Item

    @property
    def key(self) -> str:
        return str(self.record[schema.PARTITION_KEY]["S"])


class AlertRecords(Protocol):
    """Where detections are recorded (``redtrail.adapters.dynamodb.DetectionTable``)."""

    def claim(self, record: Item) -> tuple[AlertState, str] | None:
        """Put ``record`` if no item has its key: None; else the stored item's state and detection time."""

    def mark(self, key: str, state: AlertState, at: str) -> None:
        """Set the state of a recorded detection."""


class AlertSink(Protocol):
    """Where alerts are published (``redtrail.adapters.sns.AlertTopic``); raises AlertPublishError."""

    def publish(self, alert: Alert) -> None: ...


@dataclass(frozen=True, slots=True)
class Alerting:
    """The function's alerting: where detections are recorded, where alerts go, how old an event may be."""

    records: AlertRecords
    sink: AlertSink
    max_age: timedelta

    def raise_for(self, detected: Sequence[Detected], now: datetime) -> "AlertReport":
        return raise_alerts(detected, self.records, self.sink, now=now, max_age=self.max_age)


@dataclass(slots=True)
class AlertReport:
    """What raising a file's alerts did."""

    detections: int = 0  # newly recorded (event, rule) pairs
    high: int = 0  # of those, high or critical
    published: int = 0
    failed: int = 0
    old: int = 0  # recorded without an alert: the event was older than the age limit
    errors: list[str] = field(default_factory=list)


def raise_alerts(
    detected: Sequence[Detected],
    records: AlertRecords,
    sink: AlertSink,
    *,
    now: datetime,
    max_age: timedelta,
) -> AlertReport:
    """Record every detection and publish the alerts not published yet; a failed publish is in the report's
    ``errors`` (the caller fails the message, so that the next delivery publishes it)."""
    report = AlertReport()
    for found in detected:
        old = _older_than(found.item, now - max_age)
        for detection in found.detections:
            alert = alert_for(found.item, detection, now=now)
            state = AlertState.OLD if old else AlertState.PENDING
            alert.record[names.ALERT_STATE] = {"S": state.value}
            stored = records.claim(alert.record)
            if stored is None:
                report.detections += 1
                # The alarm is for what happens now: an old event (a backfill) is counted, not alarmed.
                report.high += not old and detection.severity.rank >= Severity.HIGH.rank
                report.old += old
                if old:
                    continue
            elif not _to_publish(*stored, now):
                continue
            try:
                sink.publish(alert)
            except AlertPublishError as error:
                records.mark(alert.key, AlertState.FAILED, now_text(now))
                report.failed += 1
                report.errors.append(str(error))
                continue
            records.mark(alert.key, AlertState.SENT, now_text(now))
            report.published += 1
    return report


def _to_publish(state: AlertState, detected_at: str, now: datetime) -> bool:
    """Whether a detection recorded before is still to be published by this invocation."""
    if state is AlertState.FAILED:
        return True
    return state is AlertState.PENDING and now - parse_time(detected_at) > LEASE


def _older_than(item: Item, limit: datetime) -> bool:
    text = item.get("eventTime", {}).get("S")
    try:
        return parse_time(text) < limit if text else False
    except ValueError:
        return False


def alert_for(item: Item, detection: Detection, *, now: datetime) -> Alert:
    """The alert for one detection of the event ``item``."""
    value = _values(item)
    event_id = value("eventID")
    title = detection.title(value("actor"))
    subject = _subject(f"[{detection.severity.value.upper()}] {title}")
    rule = detection.rule
    lines = [
        subject,
        "",
        f"Who:       {_who(value)}",
        f"What:      {title}",
        f"Call:      {value('eventName')} ({value('eventSource')}){_failed(value)}",
        f"Resource:  {value('resource')}",
        f"Account:   {value('recipientAccountId')}",
        f"Region:    {value('awsRegion')}",
        f"Source IP: {value('sourceIPAddress')}",
        f"When:      {value('eventTime')}",
        f"Rule:      {rule.id} ({detection.severity.value}): {rule.reference}",
        f"Event:     {event_id}, from {value('sourceObject')}",
        "",
        f"The whole event: redtrail show {event_id}",
    ]
    record: Item = {
        schema.PARTITION_KEY: {"S": schema.alert_key(event_id, rule.id)},
        names.ALERT_EVENT: {"S": event_id},
        names.ALERT_RULE: {"S": rule.id},
        names.ALERT_SEVERITY: {"S": detection.severity.value},
        names.ALERT_SUBJECT: {"S": subject},
        names.ALERT_REFERENCE: {"S": rule.reference},
        names.DETECTED_AT: {"S": now_text(now)},
        **{name: item[name] for name in names.COPIED_ATTRIBUTES if name in item},
    }
    if "eventTime" in item:
        record[names.ALERT_TIME] = item["eventTime"]
    if schema.TTL_ATTRIBUTE in item:
        record[schema.TTL_ATTRIBUTE] = item[schema.TTL_ATTRIBUTE]
    attributes = {
        names.MESSAGE_SEVERITY: detection.severity.value,
        names.MESSAGE_RULE: rule.id,
        names.MESSAGE_EVENT_NAME: value("eventName"),
        names.MESSAGE_ACCOUNT: value("recipientAccountId"),
    }
    return Alert(event_id, rule.id, detection.severity, subject, "\n".join(lines), attributes, record)


def _values(item: Item) -> Any:
    def value(name: str) -> str:
        found = item.get(name, {}).get("S")
        return _one_line(found) if isinstance(found, str) and found else _MISSING

    return value


def _who(value: Any) -> str:
    actor, principal, arn = value("actor"), value("principal"), value("principalArn")
    behind = [text for text in (arn, principal if principal != arn else _MISSING) if text != _MISSING]
    return f"{actor} ({'; '.join(behind)})" if behind else actor


def _failed(value: Any) -> str:
    code = value("errorCode")
    return "" if code == _MISSING else f", failed: {code}"


def _subject(text: str) -> str:
    # SNS takes only printable ASCII subjects under 100 characters: accents are dropped, the rest is "?".
    ascii_text = "".join(
        unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?" if not char.isascii() else char
        for char in text
    )
    limit = names.MAX_SUBJECT_LENGTH
    return ascii_text if len(ascii_text) <= limit else ascii_text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    # Values come from the record: no line breaks or control characters into a mail or a chat message.
    return "".join(char if char.isprintable() else " " for char in " ".join(text.split())) or _MISSING
