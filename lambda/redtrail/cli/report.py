"""``redtrail report``: one self-contained HTML file for an audit review. Pure: rendering only.

Charts are inline SVG drawn here, styles inline, and a Content-Security-Policy forbids every load: the page
opens offline and fetches nothing. Every value from event data is escaped (HTML, then control and bidi
characters as for the terminal), so a record cannot add markup or reorder what the page shows.
"""

import html
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redtrail.cli.output import escape, plural
from redtrail.cli.verify import Report as VerifyReport
from redtrail.contracts.integrity import Provenance
from redtrail.core.resources import Kind

Row = Mapping[str, Any]
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Chart colours, each used for one thing only (the browser test finds them in the screenshot).
WRITE_COLOUR = "#2f6fb0"
DETECTION_COLOUR = "#c0392b"
ACTOR_COLOUR = "#7d5ba6"
FAILED_COLOUR = "#d35400"
SEVERITY_COLOURS = {"critical": "#7b1010", "high": "#c0392b", "medium": "#e67e22", "low": "#95a5a6"}
RESOURCE_KINDS = (Kind.CLUSTER.value, Kind.NAMESPACE.value, Kind.WORKGROUP.value)
TOP_ACTORS = 10
ROWS_PER_RESOURCE = 20
FAILED_SHOWN = 50  # failed attempts listed (with their user agent, read from the stored records)
RESOURCES_NAMED = 5  # in the command's one-line summary
_MAX_DAYS = 120  # a longer range is drawn by week,
_MAX_WEEKS = 104  # and a longer one still by month
_LONG_CELL = 40  # characters: a longer cell may wrap
_TICKS = 5  # dates under a timeline


@dataclass(frozen=True, slots=True)
class Health:
    """The pipeline's own health for the period."""

    # Log files that hold the period's events, by the provenance the ledger gives each (``Provenance`` values).
    log_files: Mapping[str, int]
    dead_letters: int  # messages in the dead-letter queue when the report was made
    verify: VerifyReport


@dataclass(frozen=True, slots=True)
class ReportData:
    """What the report shows: the period, its events and detections, datashares, and the pipeline's health."""

    since: datetime
    until: datetime
    events: Sequence[Row]  # plain rows: the summary attributes of every event in the period (failed ones with
    # their ``userAgent``, from the stored record)
    detections: Sequence[Row]  # plain detection items of the period
    datashares: Sequence[Row] = ()  # plain rows of datashare calls, with their consumer (``consumer``)
    health: Health | None = None
    scope: str | None = None  # ``kind:name`` when the report is about one resource
    origin: str = ""  # where the data was read: the table, stack and region
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def writes(self) -> list[Row]:
        return [row for row in self.events if row.get("isWrite")]

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.events if row.get("errorCode")]


def changed_resources(data: ReportData) -> dict[str, tuple[list[Row], list[Row]]]:
    """The clusters, namespaces and workgroups with a write-type event or a detection in the period, busiest
    first: each with its write-type events and its detections."""
    writes: dict[str, list[Row]] = defaultdict(list)
    detected: dict[str, list[Row]] = defaultdict(list)
    for rows, into in ((data.writes, writes), (data.detections, detected)):
        for row in rows:
            resource = str(row.get("resource") or "")
            if resource.partition(":")[0] in RESOURCE_KINDS:
                into[resource].append(row)
    names = sorted(writes.keys() | detected.keys(), key=lambda name: (-len(writes[name]), -len(detected[name]), name))
    return {name: (writes[name], detected[name]) for name in names}


def summary_line(data: ReportData) -> str:
    """The report in one line (not escaped: the caller prints it)."""
    resources = list(changed_resources(data))
    named = ", ".join(resources[:RESOURCES_NAMED]) + (
        f" and {len(resources) - RESOURCES_NAMED} more" if len(resources) > RESOURCES_NAMED else ""
    )
    return (
        f"{plural(len(data.events), 'event')} ({len(data.writes)} write-type, "
        f"{plural(len(data.detections), 'detection')}, {plural(len(data.failed), 'failed attempt')}) "
        f"from {_day(data.since)} to {_day(data.until)}; "
        f"{plural(len(resources), 'cluster, namespace or workgroup', 'clusters, namespaces and workgroups')} "
        f"changed{': ' + named if resources else ''}"
    )


def render(data: ReportData) -> str:
    """The whole report as one HTML document."""
    title = f"redtrail audit report: {data.scope or 'all Redshift resources'}"
    origin = f"; {data.origin}" if data.origin else ""
    sections = [
        _summary(data),
        _resources(data),
        _actors(data.writes),
        _detections(data.detections),
        _datashares(data.datashares),
        _failed(data.failed),
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
            f"<p class=meta>{_text(_day(data.since))} to {_text(_day(data.until))}{_text(origin)}; generated "
            f"{_text(data.generated.strftime('%Y-%m-%d %H:%M UTC'))} by redtrail report</p>",
            *sections,
            "</body></html>",
        ]
    )


def _summary(data: ReportData) -> str:
    severities = Counter(str(row.get("alertSeverity", "")) for row in data.detections)
    figures = [
        ("events", len(data.events)),
        ("write-type events", len(data.writes)),
        ("detections", len(data.detections)),
        ("high or critical", severities["high"] + severities["critical"]),
        ("failed attempts", len(data.failed)),
        ("actors", len({row.get("actor") for row in data.writes if row.get("actor")})),
    ]
    overview = _timeline(data.since, data.until, data.writes, data.detections, "overview") if data.writes else ""
    return f"<section>{_figures(figures)}{overview}</section>"


def _resources(data: ReportData) -> str:
    """Per cluster, namespace and workgroup: a timeline of write-type events and detections."""
    changed = changed_resources(data)
    parts = ["<section><h2>Changes per cluster, namespace and workgroup</h2>"]
    if not changed:
        parts.append("<p>No write-type event on a cluster, namespace or workgroup in the period.</p>")
    for resource, (writes, detections) in changed.items():
        parts.append(f"<h3>{_text(resource)}</h3>")
        parts.append(_timeline(data.since, data.until, writes, detections, "timeline"))
        parts.append(
            _table(
                ("eventTime", "eventName", "errorCode", "actor", "principal", "severity"), writes[:ROWS_PER_RESOURCE]
            )
        )
        if len(writes) > ROWS_PER_RESOURCE:
            parts.append(
                f"<p class=meta>and {len(writes) - ROWS_PER_RESOURCE} more: redtrail query --writes-only "
                f"--resource {_text(resource)}</p>"
            )
    parts.append("</section>")
    return "\n".join(parts)


def _actors(writes: Sequence[Row]) -> str:
    """Who changed what: the actors with the most write-type events, with the principal behind each."""
    by_actor: dict[str, list[Row]] = defaultdict(list)
    for row in writes:
        by_actor[str(row.get("actor") or row.get("principal") or "-")].append(row)
    top = sorted(by_actor, key=lambda actor: (-len(by_actor[actor]), actor))[:TOP_ACTORS]
    chart = _bars([(actor, len(by_actor[actor])) for actor in top], ACTOR_COLOUR, "actor-chart")
    rows = []
    for actor in top:
        found = by_actor[actor]
        calls = Counter(str(row.get("eventName") or "-") for row in found).most_common(3)
        rows.append(
            {
                "actor": actor,
                "writes": len(found),
                "calls": ", ".join(f"{name} ({count})" for name, count in calls),
                "resources": len({row.get("resource") for row in found if row.get("resource")}),
                "principal": Counter(str(row.get("principal") or "-") for row in found).most_common(1)[0][0],
            }
        )
    body = chart + _table(("actor", "writes", "calls", "resources", "principal"), rows) if rows else "<p>None.</p>"
    return (
        "<section><h2>Who changed what</h2><p class=meta>Write-type events per actor: the person behind a role "
        f"session (an Identity Center user, say), else the IAM user or the service.</p>{body}</section>"
    )


def _detections(detections: Sequence[Row]) -> str:
    severities = Counter(str(row.get("alertSeverity", "")) for row in detections)
    levels = [level for level in SEVERITY_COLOURS if severities[level]]
    chart = _bars(
        [(level, severities[level]) for level in levels], [SEVERITY_COLOURS[n] for n in levels], "severity-chart"
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
    """Each datashare with the consumers its calls named (the latest call first), then the calls."""
    consumers: dict[tuple[str, str], Row] = {}
    for row in datashares:  # newest first: the first call of a pair is its latest
        consumers.setdefault((str(row.get("resource") or "-"), str(row.get("consumer") or "-")), row)
    pairs = [
        {
            "datashare": datashare,
            "consumer": consumer,
            "latest call": row.get("eventName"),
            "at": row.get("eventTime"),
            "by": row.get("actor") or row.get("principal"),
        }
        for (datashare, consumer), row in sorted(consumers.items())
    ]
    calls = [
        {
            "eventTime": row.get("eventTime"),
            "eventName": row.get("eventName"),
            "datashare": row.get("resource"),
            "consumer": row.get("consumer"),
            "actor": row.get("actor"),
            "error": row.get("errorCode"),
        }
        for row in datashares
    ]
    body = (
        _table(("datashare", "consumer", "latest call", "at", "by"), pairs)
        + _table(("eventTime", "eventName", "datashare", "consumer", "actor", "error"), calls)
        if calls
        else "<p>None.</p>"
    )
    return f"<section><h2>Datashares and their consumers</h2>{body}</section>"


def _failed(failed: Sequence[Row]) -> str:
    codes = Counter(str(row.get("errorCode")) for row in failed)
    columns = ("eventTime", "eventName", "errorCode", "actor", "resource", "sourceIPAddress", "userAgent")
    more = f"<p class=meta>and {len(failed) - FAILED_SHOWN} more, not listed.</p>" if len(failed) > FAILED_SHOWN else ""
    body = (
        _bars(codes.most_common(8), FAILED_COLOUR, "failed-chart") + _table(columns, failed[:FAILED_SHOWN]) + more
        if failed
        else "<p>None.</p>"
    )
    return f"<section><h2>Failed attempts</h2>{body}</section>"


# What each number of the pipeline's health counts, in the page itself.
_LOG_FILES_MEANING = (
    "the log files the period's events came from, by what the digests proved of each (files that held no "
    "Redshift event are checked too, but not counted: the ledger indexes a file by time only until it is settled)"
)
_PROVENANCE_WORDS = {
    Provenance.VERIFIED.value: "verified: a verified digest lists it with the same SHA-256",
    Provenance.PENDING.value: "pending: its digest has not arrived yet",
    Provenance.PROBLEM.value: "problem: a problem names it",
    Provenance.UNVERIFIED.value: "unverified: no ledger entry (ingested by hand, or before its chain began)",
}


def _health(health: Health | None) -> str:
    if health is None:
        return "<section><h2>The pipeline</h2><p>Not read.</p></section>"
    report = health.verify
    figures = [
        ("log files", sum(health.log_files.values())),
        *((f"{name} files", health.log_files.get(name, 0)) for name in _PROVENANCE_WORDS),
        ("in the dead-letter queue now", health.dead_letters),
        ("digest chains", len(report.chains)),
        ("digests verified", sum(chain.digests_verified for chain in report.chains)),
        ("integrity problems", len(report.problems)),
    ]
    meanings = [
        ("log files", _LOG_FILES_MEANING),
        *((f"{name} files", words) for name, words in _PROVENANCE_WORDS.items()),
        (
            "in the dead-letter queue now",
            "messages of files that failed every delivery, waiting when the report was made (redtrail redrive "
            "sends them back)",
        ),
        ("digest chains", "chains of digest files (one per account, region and trail) the ledger knows"),
        ("digests verified", "signed digest files overlapping the period whose signature and chain held"),
        ("integrity problems", "problems the ledger found in the period (redtrail verify lists the same)"),
    ]
    counts = "".join(f"<dt>{_text(name)}</dt><dd>{_text(words)}</dd>" for name, words in meanings)
    chains = [
        {
            "chain": c.chain,
            "digests verified": c.digests_verified,
            "last digest": c.last_digest_end,
            "problems": c.problems,
        }
        for c in report.chains
    ]
    problems = [
        {"code": p.code.value, "object": p.object, "detail": p.detail, "detected": p.detected_at}
        for p in report.problems
    ]
    no_chain = "" if chains else "<p>No chain of digest files: is log file validation on for the trail?</p>"
    return (
        f"<section><h2>The pipeline</h2>{_figures(figures)}<dl class=counts>{counts}</dl>{no_chain}"
        f"{_table(('chain', 'digests verified', 'last digest', 'problems'), chains)}"
        f"{_table(('code', 'object', 'detail', 'detected'), problems)}</section>"
    )


def _figures(figures: Sequence[tuple[str, int]]) -> str:
    cells = "".join(f"<div class=figure><b>{value}</b>{_text(label)}</div>" for label, value in figures)
    return f"<div class=figures>{cells}</div>"


# --- charts --------------------------------------------------------------------------------------------


def _buckets(since: datetime, until: datetime) -> tuple[list[date], str]:
    """The days of the period, oldest first, or for long ranges its weeks or months; and that unit."""
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    days = (last - first).days
    if days <= _MAX_DAYS:
        return [first + timedelta(days=n) for n in range(days + 1)], "day"
    if days <= _MAX_WEEKS * 7:
        return [first + timedelta(days=n) for n in range(0, days + 1, 7)], "week"
    months = [first]
    while (following := _next_month(months[-1])) <= last:
        months.append(following)
    return months, "month"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _bucket_of(buckets: Sequence[date], text: object) -> int | None:
    try:
        day = datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC).date()
    except ValueError:
        return None
    index = bisect_right(buckets, day) - 1
    return index if index >= 0 else None


def _timeline(since: datetime, until: datetime, writes: Iterable[Row], detections: Iterable[Row], name: str) -> str:
    """Write-type events (blue) and detections (red) per day, week or month, as bars side by side."""
    buckets, unit = _buckets(since, until)
    if not buckets:  # an empty period
        return ""
    write_counts, detection_counts = Counter[int](), Counter[int]()
    for rows, counts, time in ((writes, write_counts, "eventTime"), (detections, detection_counts, "alertTime")):
        for row in rows:
            found = _bucket_of(buckets, row.get(time))
            if found is not None:
                counts[found] += 1
    width, height, bottom, left = 720, 120, 20, 40
    peak = max([*write_counts.values(), *detection_counts.values(), 1])
    slot = (width - left) / max(len(buckets), 1)
    bar = min(max(slot / 2 - 1, 2), 24)  # a month of a decade still shows; a day of two is no slab
    shapes = []
    for index in range(len(buckets)):
        x = left + index * slot
        for offset, count, colour in (
            (0.0, write_counts[index], WRITE_COLOUR),
            (bar, detection_counts[index], DETECTION_COLOUR),
        ):
            if count:
                tall = (height - bottom - 10) * count / peak
                shapes.append(
                    f'<rect x="{x + offset:.1f}" y="{height - bottom - tall:.1f}" width="{bar:.1f}" '
                    f'height="{tall:.1f}" fill="{colour}"><title>{_text(_day(buckets[index]))}: {count}</title></rect>'
                )
    ticks = sorted({round(n * (len(buckets) - 1) / (_TICKS - 1)) for n in range(_TICKS)})
    labels = f'<text x="4" y="14">{peak}</text>' + "".join(
        _tick(left + index * slot + bar, left, width, height - 4, _day(buckets[index])) for index in ticks
    )
    legend = (
        f'<span class=key style="background:{WRITE_COLOUR}"></span>write-type events '
        f'<span class=key style="background:{DETECTION_COLOUR}"></span>detections, per {unit}'
    )
    return (
        f'<svg class="chart {name}" role="img" aria-label="{name}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><line x1="{left}" y1="{height - bottom}" x2="{width}" '
        f'y2="{height - bottom}" stroke="#888"/>{"".join(shapes)}{labels}</svg><p class=legend>{legend}</p>'
    )


def _tick(x: float, left: int, width: int, y: int, text: str) -> str:
    """A date under its bucket, centred, kept inside the chart."""
    half = 32  # half a date's width at the chart's font size
    if x - half < left:
        x, anchor = left, "start"
    elif x + half > width:
        x, anchor = width - 2, "end"
    else:
        anchor = "middle"
    return f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}">{_text(text)}</text>'


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
        length = 400 * count / peak
        shapes.append(
            f'<text x="0" y="{y + 15}">{_text(label[:44])}</text>'
            f'<rect x="280" y="{y + 3}" width="{length:.1f}" height="{line - 6}" fill="{fill}"/>'
            f'<text x="{284 + length:.1f}" y="{y + 15}">{count}</text>'
        )
    height = line * len(values)
    return (
        f'<svg class="chart {name}" role="img" aria-label="{name}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(shapes)}</svg>'
    )


def _table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{_text(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(_td(_cell(row.get(column))) for column in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: str) -> str:
    """A cell: kept on one line, unless it is long (an ARN, a user agent), which may break anywhere."""
    return f"<td class=long>{_text(value)}</td>" if len(value) > _LONG_CELL else f"<td>{_text(value)}</td>"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "write" if value else "read"
    return str(value)


def _text(value: object) -> str:
    """``value`` as text of the page: markup escaped, control and bidi characters shown as escapes."""
    return html.escape(escape(str(value)), quote=True)


def _day(moment: date) -> str:
    return moment.strftime("%Y-%m-%d")


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#666}.figures{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.figure{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:8em}
.figure b{display:block;font-size:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:12px}th,td{border-bottom:1px solid #eee;padding:3px 8px;
text-align:left;vertical-align:top;white-space:nowrap}th{background:#f6f6f6}
td.long{white-space:normal;overflow-wrap:anywhere;min-width:16em}
svg.chart{display:block;margin:.6em 0;font-size:11px}.legend{font-size:12px;color:#555}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
dl.counts{display:grid;grid-template-columns:max-content auto;gap:2px 1em;font-size:12px;color:#555}
dl.counts dt{font-weight:600}dl.counts dd{margin:0}
"""
