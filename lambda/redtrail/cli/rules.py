"""``redtrail rules``: the detection catalogue, as text or JSON. Pure: no AWS call."""

from collections.abc import Sequence
from typing import Any

from redtrail.cli.output import JSON, as_json, escape, plural
from redtrail.core.detections import ANY_EVENT_NAME, RULES, Rule


def catalogue(rules: Sequence[Rule] = RULES) -> list[dict[str, Any]]:
    """Each rule's id, default severity, the calls it reads, its title template and reference."""
    return [
        {
            "id": rule.id,
            "severity": rule.severity.value,
            "sources": sorted(rule.sources),
            "eventNames": sorted(rule.names),
            "onFailure": rule.on_failure,
            "title": rule.title,
            "reference": rule.reference,
        }
        for rule in rules
    ]


def reads(rule: Rule) -> str:
    """The calls a rule reads, in words."""
    names = "every call" if ANY_EVENT_NAME in rule.names else ", ".join(sorted(rule.names))
    failed = " (failed calls too)" if rule.on_failure else ""
    return f"{names} of {', '.join(sorted(rule.sources))}{failed}"


def render(fmt: str, rules: Sequence[Rule] = RULES) -> str:
    """The catalogue as JSON, or as text."""
    return as_json(catalogue(rules), sort_keys=False) if fmt == JSON else text(rules)


def text(rules: Sequence[Rule] = RULES) -> str:
    """One block per rule (a table of five columns would be far too wide)."""
    blocks = [
        "\n".join(
            (
                f"{escape(rule.id)} ({rule.severity.value})",
                f"  reads      {escape(reads(rule))}",
                f"  title      {escape(rule.title)}",
                f"  reference  {escape(rule.reference)}",
            )
        )
        for rule in rules
    ]
    return "\n\n".join([*blocks, f"({plural(len(rules), 'rule')})"])


def markdown(rules: Sequence[Rule] = RULES) -> str:
    """The catalogue as the README's table (tests hold the README to it)."""
    lines = ["| rule | severity | reads | title |", "| --- | --- | --- | --- |"]
    for rule in rules:
        names = "every call" if ANY_EVENT_NAME in rule.names else ", ".join(f"`{name}`" for name in sorted(rule.names))
        failed = " (failed calls too)" if rule.on_failure else ""
        lines.append(f"| `{rule.id}` | {rule.severity.value} | {names}{failed} | {rule.title} |")
    return "\n".join(lines)
