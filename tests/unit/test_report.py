"""The audit report: its HTML (every section, hostile values escaped, nothing loaded from anywhere), the data it
reads, and the command's checks of what was typed."""

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from redtrail.cli import report, report_data, show, verify
from redtrail.cli.main import main
from redtrail.cli.report import Health, ReportData
from redtrail.contracts import schema
from redtrail.core.ledger import LogStatus
from tests.memory_ledger import MemoryLedger

SINCE, UNTIL = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src="https://evil.example/x.png">'
BIDI = "admin\u202egpj.exe"  # right-to-left override: would show the name reversed


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
        _event("e5", "DescribeClusters", 12, "carol", isWrite=False),
        _event("e4", "AuthorizeDataShare", 12, HOSTILE, resource="datashare:sales"),
        _event("e3", "ModifyClusterIamRoles", 9, "mallory", errorCode="AccessDenied", userAgent=HOSTILE),
        _event("e2", "DeleteCluster", 9, "bob@corp.example", severity="critical"),
        _event("e1", "ModifyCluster", 3, "alice@corp.example", severity="high"),
    ]
    detections = [
        {"alertTime": "2026-11-09T10:00:00Z", "alertSeverity": "critical", "alertRule": "redshift-cluster-deleted",
         "alertSubject": HOSTILE, "alertState": "sent", "resource": "cluster:sales-dw"},
        {"alertTime": "2026-11-03T10:00:00Z", "alertSeverity": "high", "alertRule": "redshift-cluster-public",
         "alertSubject": "[HIGH] alice@corp.example made cluster sales-dw publicly accessible",
         "alertState": "sent", "resource": "cluster:sales-dw"},
    ]  # fmt: skip
    values = {
        "since": SINCE,
        "until": UNTIL,
        "events": events,
        "detections": detections,
        "datashares": [{**events[1], "consumer": "444455556666"}],
        "health": Health({"verified": 3, "pending": 1}, 1, verify.Report([], [])),
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
    # the overview's timeline and the cluster's, actors, severities, failure codes
    assert page.count("<svg") == 5
    for chart in ("overview", "timeline", "actor-chart", "severity-chart", "failed-chart"):
        assert f'class="chart {chart}"' in page
    assert report.WRITE_COLOUR in page
    assert report.DETECTION_COLOUR in page
    assert "444455556666" in page
    assert "AccessDenied" in page
    assert "<div class=figure><b>4</b>write-type events</div>" in page
    # who changed what: each actor with their calls, resources and the role behind their session
    role = "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin"
    alice = "<td>alice@corp.example</td><td>1</td><td>ModifyCluster (1)</td><td>1</td>"
    assert f"<tr>{alice}<td class=long>{role}</td></tr>" in page
    assert "<div class=figure><b>4</b>log files</div>" in page
    assert "<div class=figure><b>3</b>verified files</div>" in page


def test_values_from_records_are_escaped_and_the_page_loads_nothing():
    # Given records holding markup and an external image (an actor, an alert subject, a failed call's user agent)
    # and a bidi override
    page = report.render(data(events=[*data().events, _event("e6", "ModifyCluster", 14, BIDI)]))
    # When the report is rendered
    # Then the markup is text, the override is shown as an escape, and no element refers outside the page
    assert HOSTILE not in page
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    assert "\u202e" not in page
    assert "admin\\u202egpj.exe" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "url(" not in page
    assert "@import" not in page
    assert f'content="{report.POLICY}"' in page
    assert "default-src 'none'" in report.POLICY


def test_a_quiet_period_says_so_instead_of_drawing_empty_charts():
    # Given a period with no event at all
    # When the report is rendered
    page = report.render(data(events=[], detections=[], datashares=[]))
    # Then each section says there is nothing, and no chart is drawn
    assert "No write-type event on a cluster, namespace or workgroup in the period." in page
    assert page.count("<p>None.</p>") == 4
    assert "<svg" not in page


def test_a_resource_with_only_a_detection_has_its_timeline():
    # Given a detection on a workgroup whose event was no write-type one (a denied read)
    detection = {"alertTime": "2026-11-05T10:00:00Z", "alertSeverity": "low", "resource": "workgroup:etl"}
    # When the report is rendered
    page = report.render(data(detections=[*data().detections, detection]))
    # Then the workgroup has its section, after the busier cluster
    assert page.index("<h3>cluster:sales-dw</h3>") < page.index("<h3>workgroup:etl</h3>")


@pytest.mark.parametrize(
    ("since", "unit", "count"),
    [
        (datetime(2026, 11, 1, tzinfo=UTC), "day", 31),
        (datetime(2025, 12, 1, tzinfo=UTC), "week", 53),
        (datetime(2015, 1, 1, tzinfo=UTC), "month", 144),
    ],
)
def test_a_long_range_is_drawn_by_week_or_month(since, unit, count):
    # Given a period of a month, a year, or twelve years
    # When its timeline's buckets are made
    buckets, found = report._buckets(since, UNTIL)
    # Then they are days, weeks or months, oldest first, each event in one of them
    assert (found, len(buckets)) == (unit, count)
    assert buckets == sorted(buckets)
    assert report._bucket_of(buckets, "2026-12-01T00:00:00Z") == len(buckets) - 1
    assert report._bucket_of(buckets, since.strftime("%Y-%m-%dT%H:%M:%SZ")) == 0
    assert report._bucket_of(buckets, "2014-01-01T00:00:00Z") is None


def test_the_summary_line_counts_and_names_the_resources():
    # Given the month's report
    # When it is summed up in one line
    line = report.summary_line(data())
    # Then it counts the events and names the changed resources
    assert line == (
        "5 events (4 write-type, 2 detections, 1 failed attempt) from 2026-11-01 to 2026-12-01; "
        "1 cluster, namespace or workgroup changed: cluster:sales-dw"
    )


# --- what the report reads ------------------------------------------------------------------------------


def _item(row: dict[str, Any]) -> dict[str, Any]:
    """A plain row as a low-level DynamoDB item."""
    return {name: {"BOOL": value} if isinstance(value, bool) else {"S": str(value)} for name, value in row.items()}


class MemoryTable:
    """Items answering Query requests on their index (key condition only: the report asks no filter) and
    BatchGetItem-like reads of stored records."""

    def __init__(self, items: list[dict[str, Any]], records: dict[str, dict[str, Any]]) -> None:
        self.items, self.stored, self.asked_records = items, records, []

    def query(self, request: dict[str, Any]):
        assert "FilterExpression" not in request
        index = next(index for index in schema.INDEXES if index.name == request["IndexName"])
        values = request["ExpressionAttributeValues"]
        found = [
            item
            for item in self.items
            if item.get(index.partition_key, {}).get("S") == values[":pk"]["S"]
            and values[":since"]["S"] <= item.get(index.sort_key, {}).get("S", "") <= values[":until"]["S"]
        ]
        return iter(sorted(found, key=lambda item: item[index.sort_key]["S"], reverse=True))

    def records(self, event_ids):
        self.asked_records.append(list(event_ids))
        return {event_id: self.stored[event_id] for event_id in event_ids if event_id in self.stored}


def _stored_event(event_id: str, **record: Any) -> dict[str, Any]:
    return {"eventID": {"S": event_id}, "event": {"S": json.dumps({"eventID": event_id, **record})}}


@pytest.fixture
def table() -> MemoryTable:
    rows = [
        _event("e1", "ModifyCluster", 3, "alice@corp.example", severity="high"),
        _event("e2", "AuthorizeDataShare", 4, "alice@corp.example", resource="datashare:sales"),
        _event("e3", "AssociateDataShareConsumer", 5, "dave", resource="datashare:sales", recipientAccountId="4444"),
        _event("e4", "ModifyClusterIamRoles", 6, "mallory", errorCode="AccessDenied"),
        _event("e5", "UpdateWorkgroup", 7, "bob@corp.example", resource="workgroup:etl"),
    ]
    items = []
    for row in rows:
        item = _item(row)
        item["timeBucket"] = {"S": schema.time_bucket(row["eventTime"], row["eventID"])}
        items.append(item)
    detection = _item(
        {"eventID": "alert#e1#redshift-cluster-public", "alertTime": "2026-11-03T10:00:00Z", "alertSeverity": "high",
         "alertRule": "redshift-cluster-public", "resource": "cluster:sales-dw"}
    )  # fmt: skip
    records = {
        "e2": _stored_event("e2", requestParameters={"consumerIdentifier": "555555555555"}),
        "e3": _stored_event("e3", requestParameters={"associateEntireAccount": True, "consumerRegion": "eu-west-1"}),
        "e4": _stored_event("e4", userAgent=HOSTILE),
    }
    return MemoryTable([*items, detection], records)


def _ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    for event_id, status in (("e1", LogStatus.VERIFIED), ("e2", LogStatus.VERIFIED), ("e4", LogStatus.PENDING)):
        entry = ledger.note_seen(f"s3://trail/{event_id}.json.gz", "AWSLogs/111122223333/us-east-1", "0" * 64, "")
        ledger.settle(entry, status)
    return ledger


def test_collect_reads_the_consumers_user_agents_and_file_provenance(table):
    # Given a month of events: datashare calls, a failed attempt, files proved or not by digests
    # When the report's data is collected
    found = report_data.collect(table.query, table.records, _ledger(), 2, since=SINCE, until=UNTIL)
    # Then every event and detection is there; the datashare calls' consumers and the failed attempt's user agent
    # come from their stored records, read in one batch; and the files are counted by provenance
    assert [row["eventID"] for row in found.events] == ["e5", "e4", "e3", "e2", "e1"]
    assert [row["alertRule"] for row in found.detections] == ["redshift-cluster-public"]
    assert table.asked_records == [["e3", "e2", "e4"]]
    consumers = {row["eventID"]: row["consumer"] for row in found.datashares}
    assert consumers == {"e2": "555555555555", "e3": "account 4444 (entire account) (eu-west-1)"}
    (failed,) = found.failed
    assert failed["userAgent"] == HOSTILE
    assert found.health is not None
    assert found.health.log_files == {"verified": 2, "pending": 1, "unverified": 2}
    assert found.health.dead_letters == 2


def test_collect_of_one_resource_reads_its_index_and_its_detections(table):
    # Given events on a cluster, a workgroup and a datashare
    # When the report is about the workgroup
    found = report_data.collect(
        table.query, table.records, _ledger(), 0, since=SINCE, until=UNTIL, scope="workgroup:etl"
    )
    # Then only its events are there, and none of the cluster's detections; nothing else is read
    assert [row["eventID"] for row in found.events] == ["e5"]
    assert found.detections == []
    assert table.asked_records == []
    assert list(report.changed_resources(found)) == ["workgroup:etl"]


# --- what the command checks before any AWS call --------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--html", "{tmp}/missing/report.html"], "cannot write {tmp}/missing/report.html: directory "),
        (["--html", "{tmp}"], "--html {tmp} is a directory: name the file to write"),
        (["--html", "{tmp}/r.html", "--resource", "sales-dw"], "--resource takes kind:name, e.g. cluster:my-cluster"),
        (["--html", "{tmp}/r.html", "--since", "1d", "--until", "2d"], "--since is after --until"),
    ],
)
def test_what_was_typed_is_checked_before_any_aws_call(tmp_path, capsys, monkeypatch, argv, message):
    # Given no AWS to call at all
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    # When the report is asked for a file it cannot write, a resource that is no kind:name, or a reversed range
    status = main(["report", *(part.format(tmp=tmp_path) for part in argv)])
    # Then one line says what is wrong, exit status 2, and no file is written
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith(f"redtrail: error: {message.format(tmp=tmp_path)}")
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    assert not (tmp_path / "r.html").exists()


def test_show_asks_the_table_for_events_only():
    # Given a table that answers every key
    class Table:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def item(self, event_id: str) -> dict[str, Any]:
            self.asked.append(event_id)
            return {"eventID": {"S": event_id}}

    table = Table()
    # When an event, a detection item's key and a ledger key are fetched
    found = [show.fetch(table, key) for key in ("e1", schema.alert_key("e1", "r"), "log#s3://b/k", "")]  # type: ignore[arg-type]
    # Then only the event is asked for
    assert found == [{"eventID": {"S": "e1"}}, None, None, None]
    assert table.asked == ["e1"]
