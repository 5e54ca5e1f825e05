"""The audit report's HTML: every section, hostile values escaped, nothing loaded from anywhere."""

import re
from datetime import UTC, datetime

from redtrail.cli import report, verify
from redtrail.cli.report import Health, ReportData

SINCE, UNTIL = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src="https://evil.example/x.png">'


def _event(event_id: str, name: str, day: int, actor: str, **extra: object) -> dict:
    return {
        "eventID": event_id,
        "eventTime": f"2026-11-{day:02d}T10:00:00Z",
        "eventName": name,
        "actor": actor,
        "principal": "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin",
        "resource": "cluster:sales-dw",
        "isWrite": True,
        "sourceObject": f"s3://trail/{event_id}.json.gz",
        **extra,
    }


def data(**changes: object) -> ReportData:
    events = [
        _event("e1", "ModifyCluster", 3, "alice@corp.example", severity="high"),
        _event("e2", "DeleteCluster", 9, "bob@corp.example", severity="critical"),
        _event("e3", "ModifyClusterIamRoles", 9, "alice@corp.example", errorCode="AccessDenied"),
        _event("e4", "AuthorizeDataShare", 12, HOSTILE, resource="datashare:sales"),
        _event("e5", "DescribeClusters", 12, "carol", isWrite=False),
    ]
    detections = [
        {"alertTime": "2026-11-03T10:00:00Z", "alertSeverity": "high", "alertRule": "redshift-cluster-public",
         "alertSubject": "[HIGH] alice@corp.example made cluster sales-dw publicly accessible",
         "alertState": "sent", "resource": "cluster:sales-dw"},
        {"alertTime": "2026-11-09T10:00:00Z", "alertSeverity": "critical", "alertRule": "redshift-cluster-deleted",
         "alertSubject": HOSTILE, "alertState": "sent", "resource": "cluster:sales-dw"},
    ]  # fmt: skip
    values = {
        "since": SINCE,
        "until": UNTIL,
        "events": events,
        "detections": detections,
        "datashares": [{**events[3], "consumer": "444455556666"}],
        "health": Health(4, 1, verify.Report([], [])),
    }
    return ReportData(**(values | changes))  # type: ignore[arg-type]


def test_the_report_has_every_section_with_its_charts():
    # Given a month of events: changes to a cluster, detections, a failed attempt, a datashare call
    # When the report is rendered
    page = report.render(data())
    # Then it has the summary, a timeline for the cluster, who changed what, detections, datashares, failed
    # attempts and the pipeline, with charts drawn in the page's own SVG
    for heading in (
        "Changes per cluster, namespace and workgroup",
        "Who changed what",
        "Detections",
        "Datashares and their consumers",
        "Failed attempts",
        "The pipeline",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "<h3>cluster:sales-dw</h3>" in page
    assert page.count("<svg") == 4  # the cluster's timeline, actors, severities, failure codes
    assert report.WRITE_COLOUR in page
    assert report.DETECTION_COLOUR in page
    assert "444455556666" in page
    assert "AccessDenied" in page
    assert "<div class=figure><b>4</b>write-type events</div>" in page


def test_values_from_records_are_escaped_and_the_page_loads_nothing():
    # Given records holding markup and an external image
    # When the report is rendered
    page = report.render(data())
    # Then the markup is text, and no element refers to anything outside the page
    assert HOSTILE not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "url(" not in page
    assert f'content="{report.POLICY}"' in page
    assert "default-src 'none'" in report.POLICY


def test_a_quiet_period_says_so_instead_of_drawing_empty_charts():
    # Given a period with no event at all
    # When the report is rendered
    page = report.render(data(events=[], detections=[], datashares=[]))
    # Then each section says there is nothing, and no chart is drawn
    assert "No write-type event on a cluster, namespace or workgroup in the period." in page
    assert page.count("<p>None.</p>") == 3
    assert "<svg" not in page
