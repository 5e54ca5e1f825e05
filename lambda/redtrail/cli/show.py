"""``redtrail show``: one stored event, its summary, its detections and the whole record."""

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redtrail.cli.output import escape, plain
from redtrail.contracts import schema
from redtrail.core.detections import RULES_BY_ID, Detection, DetectionContext

if TYPE_CHECKING:
    from redtrail.adapters.dynamodb import EventTable

Item = dict[str, Any]
# Shown first, in this order; the other attributes follow by name.
_LEADING = (schema.PARTITION_KEY, *schema.SUMMARY_ATTRIBUTES)
_APART = frozenset({"event", "detections"})


def fetch(table: "EventTable", event_id: str) -> Item | None:
    """The item of ``event_id`` (GetItem), or None: no such event (redtrail's own keys are no events)."""
    if not event_id or event_id.startswith(schema.NOT_EVENT_PREFIXES):
        return None
    return table.item(event_id)


def missing(event_id: str, table: str) -> str:
    """The one-line error for an event that is not in the table."""
    return f"no event {escape(event_id)} in table {escape(table)}"


def render(item: Mapping[str, Any], fmt: str) -> str:
    """``item`` (a low-level DynamoDB item) as text for people, or as ``{"item": ..., "event": ...}`` JSON."""
    attributes = plain(item)
    record = _record(attributes.pop("event", None))
    if fmt == "json":
        return json.dumps({"item": attributes, "event": record}, indent=2, sort_keys=True)
    return "\n".join(
        [
            *_summary(attributes),
            "",
            *_detections(attributes, record),
            "",
            "event (stored compressed):" if "eventGzip" in item else "event:",
            # JSON text holds raw newlines only between its lines: each line is escaped on its own
            *map(escape, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).split("\n")),
        ]
    )


def _record(text: Any) -> Any:
    """The stored event parsed; its text as it is when it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _summary(attributes: Mapping[str, Any]) -> list[str]:
    names = [name for name in _LEADING if name in attributes]
    names += sorted(name for name in attributes if name not in _APART and name not in names)
    width = max((len(name) for name in names), default=0)
    return [f"{escape(name).ljust(width)}  {escape(_text(attributes[name]))}" for name in names]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _detections(attributes: Mapping[str, Any], record: Any) -> list[str]:
    rules = [str(rule) for rule in attributes.get("detections") or ()]
    if not rules:
        return ["detections: none"]
    actor = str(attributes.get("actor") or attributes.get("principal") or "-")
    lines = [f"detections ({len(rules)}):"]
    for rule_id in rules:
        severity, title = _detection(rule_id, record, actor)
        lines.append(f"  {severity:<8}  {escape(rule_id)}: {escape(title)}")
    return lines


def _detection(rule_id: str, record: Any, actor: str) -> tuple[str, str]:
    """The severity and title of one detection of ``record``, from the catalogue and the record itself."""
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        return "?", "(a rule this version of redtrail does not know)"
    # The rule read the record once; reading it again gives the fields of its title and its exact severity.
    finding = rule.predicate(record, DetectionContext()) if isinstance(record, Mapping) else None
    if finding is None:  # the rule changed since, or a redaction hid what it read: its defaults
        return rule.severity.value, Detection(rule, rule.severity, {}).title(actor)
    return finding.severity.value, Detection(rule, finding.severity, finding.fields).title(actor)
