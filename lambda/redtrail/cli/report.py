"""``redtrail report``: one self-contained HTML file for an audit review. Pure: rendering only.

Charts are inline SVG drawn here, styles inline, and a Content-Security-Policy forbids every load: the page
opens offline and fetches nothing.
"""

import html
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redtrail.cli.verify import Report as VerifyReport

Row = Mapping[str, Any]
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Chart colours, each used for one thing only (the browser test finds them in the screenshot).
WRITE_COLOUR = "#2f6fb0"
DETECTION_COLOUR = "#c0392b"
ACTOR_COLOUR = "#7d5ba6"
SEVERITY_COLOURS = {"critical": "#7b1010", "high": "#c0392b", "medium": "#e67e22", "low": "#95a5a6"}
RESOURCE_KINDS = ("cluster", "namespace", "workgroup")
TOP_ACTORS = 10
_MAX_DAYS = 120  # a longer range is drawn by week


@dataclass(frozen=True, slots=True)
class Health:
    """The pipeline's own health for the period."""

    log_files: int  # log files the function read (the ledger's entries in the period)
    dead_letters: int  # messages in the dead-letter queue now
    verify: VerifyReport


@dataclass(frozen=True, slots=True)
class ReportData:
    """What the report shows: the period, its events and detections, datashares, and the pipeline's health."""

    since: datetime
    until: datetime
    events: Sequence[Row]  # plain rows: the summary attributes of every event in the period
    detections: Sequence[Row]  # plain detection items of the period
    datashares: Sequence[Row] = ()  # plain rows of datashare calls, with their consumer (``consumer``)
    health: Health | None = None
    scope: str | None = None  # ``kind:name`` when the report is about one resource
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))


def render(data: ReportData) -> str:
    """The whole report as one HTML document."""
    writes = [row for row in data.events if row.get("isWrite")]
    failed = [row for row in data.events if row.get("errorCode")]
    title = f"redtrail audit report: {data.scope or 'all Redshift resources'}"
    sections = [
        _summary(data, writes, failed),
        _resources(data, writes),
        _actors(writes),
        _detections(data.detections),
        _datashares(data.datashares),
        _failed(failed),
        _health(data.health),
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            f"<title>{_text(title)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{_text(title)}</h1>",
            f"<p class=meta>{_text(_day(data.since))} to {_text(_day(data.until))}; generated "
            f"{_text(data.generated.strftime('%Y-%m-%d %H:%M UTC'))} by redtrail report</p>",
            *sections,
            "</body></html>",
        ]
    )


def _summary(data: ReportData, writes: Sequence[Row], failed: Sequence[Row]) -> str:
    severities = Counter(str(row.get("alertSeverity", "")) for row in data.detections)
    figures = [
        ("events", len(data.events)),
        ("write-type events", len(writes)),
        ("detections", len(data.detections)),
        ("high or critical", severities["high"] + severities["critical"]),
        ("failed attempts", len(failed)),
        ("actors", len({row.get("actor") for row in writes if row.get("actor")})),
    ]
    cells = "".join(f"<div class=figure><b>{value}</b>{_text(label)}</div>" for label, value in figures)
    return f"<section><div class=figures>{cells}</div></section>"


def _resources(data: ReportData, writes: Sequence[Row]) -> str:
    """Per cluster, namespace and workgroup: a timeline of write-type events and detections."""
    by_resource: dict[str, list[Row]] = defaultdict(list)
    for row in writes:
        resource = str(row.get("resource") or "")
        if resource.partition(":")[0] in RESOURCE_KINDS:
            by_resource[resource].append(row)
    detected: dict[str, list[Row]] = defaultdict(list)
    for row in data.detections:
        detected[str(row.get("resource") or "")].append(row)
    parts = ["<section><h2>Changes per cluster, namespace and workgroup</h2>"]
    if not by_resource:
        parts.append("<p>No write-type event on a cluster, namespace or workgroup in the period.</p>")
    buckets = _buckets(data.since, data.until)
    for resource in sorted(by_resource, key=lambda name: (-len(by_resource[name]), name)):
        rows = by_resource[resource]
        parts.append(f"<h3>{_text(resource)}</h3>")
        parts.append(_timeline(buckets, rows, detected.get(resource, [])))
        parts.append(_table(("eventTime", "eventName", "actor", "principal", "severity"), rows[:20]))
        if len(rows) > 20:
            parts.append(f"<p class=meta>and {len(rows) - 20} more: redtrail query --resource {_text(resource)}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _actors(writes: Sequence[Row]) -> str:
    """Who changed what: the actors with the most write-type events, with the principal behind each."""
    counts = Counter(str(row.get("actor") or row.get("principal") or "-") for row in writes)
    principals: dict[str, Counter[str]] = defaultdict(Counter)
    for row in writes:
        principals[str(row.get("actor") or row.get("principal") or "-")][str(row.get("principal") or "-")] += 1
    top = counts.most_common(TOP_ACTORS)
    chart = _bars([(actor, count) for actor, count in top], ACTOR_COLOUR, "actor-chart")
    rows = [
        {"actor": actor, "writes": count, "principal": principals[actor].most_common(1)[0][0]} for actor, count in top
    ]
    return (
        "<section><h2>Who changed what</h2><p class=meta>Write-type events per actor (the person behind a role "
        f"session, else the user or service).</p>{chart}{_table(('actor', 'writes', 'principal'), rows)}</section>"
    )


def _detections(detections: Sequence[Row]) -> str:
    severities = Counter(str(row.get("alertSeverity", "")) for row in detections)
    chart = _bars(
        [(level, severities[level]) for level in SEVERITY_COLOURS if severities[level]],
        [SEVERITY_COLOURS[level] for level in SEVERITY_COLOURS if severities[level]],
        "severity-chart",
    )
    rows = [
        {
            "eventTime": row.get("alertTime"),
            "severity": row.get("alertSeverity"),
            "rule": row.get("alertRule"),
            "alert": row.get("alertSubject"),
            "state": row.get("alertState"),
        }
        for row in detections
    ]
    body = chart + _table(("eventTime", "severity", "rule", "alert", "state"), rows) if rows else "<p>None.</p>"
    return f"<section><h2>Detections</h2>{body}</section>"


def _datashares(datashares: Sequence[Row]) -> str:
    rows = [
        {
            "eventTime": row.get("eventTime"),
            "eventName": row.get("eventName"),
            "datashare": row.get("resource"),
            "consumer": row.get("consumer"),
            "actor": row.get("actor"),
        }
        for row in datashares
    ]
    body = _table(("eventTime", "eventName", "datashare", "consumer", "actor"), rows) if rows else "<p>None.</p>"
    return f"<section><h2>Datashares and their consumers</h2>{body}</section>"


def _failed(failed: Sequence[Row]) -> str:
    codes = Counter(str(row.get("errorCode")) for row in failed)
    chart = _bars(codes.most_common(8), DETECTION_COLOUR, "failed-chart") if codes else ""
    body = (
        chart + _table(("eventTime", "eventName", "errorCode", "actor", "resource"), failed[:50])
        if failed
        else "<p>None.</p>"
    )
    return f"<section><h2>Failed attempts</h2>{body}</section>"


def _health(health: Health | None) -> str:
    if health is None:
        return "<section><h2>The pipeline</h2><p>Not read.</p></section>"
    report = health.verify
    figures = [
        ("log files read", health.log_files),
        ("in the dead-letter queue now", health.dead_letters),
        ("digest chains", len(report.chains)),
        ("digests verified", sum(chain.digests_verified for chain in report.chains)),
        ("integrity problems", len(report.problems)),
    ]
    cells = "".join(f"<div class=figure><b>{value}</b>{_text(label)}</div>" for label, value in figures)
    chains = [
        {
            "chain": c.chain,
            "digests verified": c.digests_verified,
            "last digest": c.last_digest_end,
            "problems": c.problems,
        }
        for c in report.chains
    ]
    problems = [{"code": p.code.value, "object": p.object, "detected": p.detected_at} for p in report.problems]
    return (
        f"<section><h2>The pipeline</h2><div class=figures>{cells}</div>"
        f"{_table(('chain', 'digests verified', 'last digest', 'problems'), chains)}"
        f"{_table(('code', 'object', 'detected'), problems) if problems else ''}</section>"
    )


# --- charts --------------------------------------------------------------------------------------------


def _buckets(since: datetime, until: datetime) -> list[date]:
    """The days (or, for long ranges, weeks) of the period, oldest first."""
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    step = 1 if (last - first).days <= _MAX_DAYS else 7
    return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, step)]


def _bucket_of(buckets: Sequence[date], text: object) -> int | None:
    try:
        day = datetime.fromisoformat(str(text).replace("Z", "+00:00")).date()
    except ValueError:
        return None
    index = next((n for n in range(len(buckets) - 1, -1, -1) if buckets[n] <= day), None)
    return index


def _timeline(buckets: Sequence[date], writes: Iterable[Row], detections: Iterable[Row]) -> str:
    """Write-type events (blue) and detections (red) per day, as bars side by side."""
    write_counts, detection_counts = Counter[int](), Counter[int]()
    for row in writes:
        found = _bucket_of(buckets, row.get("eventTime"))
        if found is not None:
            write_counts[found] += 1
    for row in detections:
        found = _bucket_of(buckets, row.get("alertTime"))
        if found is not None:
            detection_counts[found] += 1
    width, height, bottom = 720, 120, 20
    peak = max([*write_counts.values(), *detection_counts.values(), 1])
    slot = (width - 40) / max(len(buckets), 1)
    bar = max(slot / 2 - 1, 1)
    shapes = []
    for index in range(len(buckets)):
        x = 40 + index * slot
        for offset, count, colour in (
            (0, write_counts[index], WRITE_COLOUR),
            (bar, detection_counts[index], DETECTION_COLOUR),
        ):
            if count:
                tall = (height - bottom - 10) * count / peak
                shapes.append(
                    f'<rect x="{x + offset:.1f}" y="{height - bottom - tall:.1f}" width="{bar:.1f}" '
                    f'height="{tall:.1f}" fill="{colour}"><title>{count}</title></rect>'
                )
    labels = (
        f'<text x="40" y="{height - 4}">{_text(_day(buckets[0]))}</text>'
        f'<text x="{width - 4}" y="{height - 4}" text-anchor="end">{_text(_day(buckets[-1]))}</text>'
        f'<text x="4" y="14">{peak}</text>'
        if buckets
        else ""
    )
    legend = (
        f'<span class=key style="background:{WRITE_COLOUR}"></span>write-type events '
        f'<span class=key style="background:{DETECTION_COLOUR}"></span>detections'
    )
    return (
        f'<svg class=chart role="img" aria-label="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><line x1="40" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="#888"/>{"".join(shapes)}{labels}</svg><p class=legend>{legend}</p>'
    )


def _bars(values: Sequence[tuple[str, int]], colour: str | Sequence[str], name: str) -> str:
    """Horizontal bars, one per (label, count)."""
    if not values:
        return ""
    colours = [colour] * len(values) if isinstance(colour, str) else list(colour)
    width, line = 720, 22
    peak = max(count for _, count in values) or 1
    shapes = []
    for index, ((label, count), fill) in enumerate(zip(values, colours, strict=True)):
        y = index * line
        length = 420 * count / peak
        shapes.append(
            f'<text x="0" y="{y + 15}">{_text(label[:48])}</text>'
            f'<rect x="280" y="{y + 3}" width="{length:.1f}" height="{line - 6}" fill="{fill}"/>'
            f'<text x="{284 + length:.1f}" y="{y + 15}">{count}</text>'
        )
    height = line * len(values)
    return (
        f'<svg class=chart id="{name}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(shapes)}</svg>'
    )


def _table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{_text(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_text(_cell(row.get(column)))}</td>" for column in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "write" if value else "read"
    return str(value)


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _day(moment: date) -> str:
    return moment.strftime("%Y-%m-%d")


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#666}.figures{display:flex;gap:1em;flex-wrap:wrap}
.figure{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:8em}
.figure b{display:block;font-size:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:12px}th,td{border-bottom:1px solid #eee;padding:3px 8px;
text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f6f6f6}
svg.chart{display:block;margin:.6em 0;font-size:11px}.legend{font-size:12px;color:#555}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""
