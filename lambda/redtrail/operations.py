"""What ``redtrail status``, ``backfill`` and ``redrive`` do, on the adapters they are given."""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from redtrail.notifications import TrailObject, notification_body
from redtrail.stack_outputs import StackResources
from redtrail.trail_file import skip_reason

_KEY_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
SEND_BATCH = 10


def key_date(trail_object: TrailObject) -> date | None:
    """The delivery date in a CloudTrail key (``.../YYYY/MM/DD/...``), else the object's modification date."""
    found = _KEY_DATE.search(trail_object.key)
    if found:
        try:
            return date(*map(int, found.groups()))
        except ValueError:
            pass
    return trail_object.modified.astimezone(UTC).date() if trail_object.modified else None


def backfill_candidates(objects: Iterable[TrailObject], since: date | None) -> Iterator[TrailObject]:
    """The trail logs among ``objects`` delivered on or after ``since``."""
    for trail_object in objects:
        if skip_reason(trail_object.key) is not None:
            continue
        if since is not None:
            delivered = key_date(trail_object)
            if delivered is not None and delivered < since:
                continue
        yield trail_object


def backfill(
    objects: Iterable[TrailObject],
    queue: Any,
    *,
    region: str,
    since: date | None = None,
    on_sent: Callable[[int], None] = lambda _: None,
) -> int:
    """Send one S3-shaped notification per trail log to the ingest queue (10 a request); returns the count."""
    now = datetime.now(UTC)
    sent = 0
    batch: list[str] = []
    for trail_object in backfill_candidates(objects, since):
        batch.append(notification_body(trail_object, region=region, event_time=now))
        if len(batch) == SEND_BATCH:
            sent += queue.send(batch)
            on_sent(len(batch))
            batch = []
    if batch:
        sent += queue.send(batch)
        on_sent(len(batch))
    return sent


def redrive(
    dead_letter_queue: Any,
    queue: Any,
    *,
    started_ms: int | None = None,
    on_moved: Callable[[int], None] = lambda _: None,
) -> int:
    """Move the dead-letter messages sent before ``started_ms`` (default: now) back to the ingest queue.

    Each is sent before it is deleted (at least once). Messages that arrive while it runs, such as a file
    that is still bad and was dead-lettered again, are left in the queue: it would chase them for ever.
    """
    started = started_ms if started_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    moved, newer = 0, []
    while messages := dead_letter_queue.receive(max_messages=10, wait_seconds=0):
        older = [message for message in messages if _sent_ms(message) <= started]
        newer += [message for message in messages if _sent_ms(message) > started]
        if older:
            queue.send([message["Body"] for message in older])
            dead_letter_queue.delete(older)
            moved += len(older)
            on_moved(len(older))
    if newer:
        dead_letter_queue.release(newer, after_seconds=0)
    return moved


def _sent_ms(message: dict[str, Any]) -> int:
    return int(message.get("Attributes", {}).get("SentTimestamp", 0))


@dataclass(frozen=True, slots=True)
class Status:
    resources: StackResources
    region: str
    queue_waiting: int
    queue_in_flight: int
    dead_letters: int
    items: int
    alarms: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.resources.as_json(),
            "region": self.region,
            "queueDepth": self.queue_waiting,
            "queueInFlight": self.queue_in_flight,
            "deadLetterDepth": self.dead_letters,
            "itemCount": self.items,
            "alarms": self.alarms,
        }

    def lines(self) -> list[str]:
        rows = [
            ("stack", f"{self.resources.stack_name} ({self.region})"),
            ("bucket", f"s3://{self.resources.bucket}/{self.resources.key_prefix}"),
            (
                "ingest queue",
                f"{self.resources.queue_url}: {self.queue_waiting} waiting, {self.queue_in_flight} in flight",
            ),
            ("dead-letter queue", f"{self.resources.dead_letter_queue_url}: {self.dead_letters} waiting"),
            ("table", f"{self.resources.table}: {self.items} items"),
            ("function", self.resources.function or "-"),
            ("alarm topic", self.resources.topic or "-"),
            ("dashboard", self.resources.dashboard or "-"),
        ]
        if self.alarms:
            rows += [(f"alarm {name}", state) for name, state in sorted(self.alarms.items())]
        else:
            rows.append(("alarms", "none found"))
        return [f"{name:<18} {value}" for name, value in rows]
