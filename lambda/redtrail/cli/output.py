"""Rendering query results for people (table) and programs (json, jsonl). Pure."""

import gzip
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

INTERNAL_ATTRIBUTES = frozenset({"timeBucket", "writeBucket", "rejectedMonth", "eventEncoding", "eventSha256"})
REJECTED_COLUMNS = ("ingestedAt", "eventID", "rejectReason", "sourceObject")
COLUMNS = (
    "eventTime",
    "eventName",
    "eventSource",
    "principal",
    "actor",
    "resource",
    "severity",
    "matchedBy",
    "isWrite",
    "awsRegion",
    "provenance",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A low-level DynamoDB item as plain JSON values, without the index-only attributes.

    A large event stored compressed (``eventGzip``) comes back as its ``event`` text.
    """
    row = {name: _value(value) for name, value in item.items() if name not in INTERNAL_ATTRIBUTES}
    packed = row.pop("eventGzip", None)
    if isinstance(packed, bytes):
        row["event"] = gzip.decompress(packed).decode("utf-8")
    return row


def _value(value: Mapping[str, Any]) -> Any:
    (kind, raw), *_ = value.items()
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_value(element) for element in raw]
    if kind == "M":
        return plain(raw)
    return raw


def escape(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes, so it cannot steer a terminal."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def render(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str] = COLUMNS, noun: str = "events") -> str:
    """Rows as an aligned text table (counted in ``noun``), one JSON array, or JSON lines (JSON escapes control
    characters)."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2, sort_keys=True)
    if fmt == "jsonl":
        return "\n".join(json.dumps(row, sort_keys=True) for row in rows)
    if not rows:
        return f"(no {noun})"
    cells = [[_cell(row, column) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(widths[i]) for i, column in enumerate(columns)).rstrip()]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in cells]
    lines.append(f"({len(rows)} {noun})")
    return "\n".join(lines)


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None:
        return "-"
    if column == "matchedBy" and row.get("redshiftServiceAccountRegion"):
        return escape(f"{value}({row['redshiftServiceAccountRegion']})")
    if isinstance(value, bool):
        return "write" if value else "read"
    return escape(str(value))
