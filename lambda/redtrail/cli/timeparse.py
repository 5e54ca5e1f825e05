"""Times on the command line: ISO 8601 or relative to now (``30m``, ``24h``, ``7d``, ``2w``). Pure."""

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^(\d{1,18})\s*([smhdw])$")  # more digits: no time at all
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime) -> datetime:
    """An aware UTC datetime for ``text``; naive ISO times are taken as UTC.

    ValueError, in one line, for a text that is no time, or one before year 1 or after year 9999 (``3000000d``).
    """
    value = text.strip()
    relative = _RELATIVE.match(value)
    try:
        if relative:
            amount, unit = relative.groups()
            return now - timedelta(**{_UNITS[unit]: int(amount)})
        if value.lower() == "now":
            return now
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"cannot read time {text!r}: use ISO 8601 (2024-05-01T12:00:00Z) or 30m, 24h, 7d"
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time {text!r} is out of range: times run from year 1 to year 9999") from None
