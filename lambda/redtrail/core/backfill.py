"""Backfill: which historical trail files to queue, as S3-shaped notifications, on the queue port given. Pure."""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from redtrail.core.s3_events import TrailObject, notification_body
from redtrail.core.trail_file import skip_reason

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
    send: Callable[[Sequence[str]], int],
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
            sent += send(batch)
            on_sent(len(batch))
            batch = []
    if batch:
        sent += send(batch)
        on_sent(len(batch))
    return sent
