"""The CLI's detection views: query requests for --actor/--detection/--severity/--alarmed, and rendering of
``rules``, ``alerts`` and ``show``."""

import copy
import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from redtrail.cli import alerts, output, rules, show
from redtrail.cli.main import main
from redtrail.contracts import schema
from redtrail.contracts.settings import DEFAULT_ROUTINE_WRITE_EVENT_NAMES
from redtrail.core import queries
from redtrail.core.detections import RULES, RULES_BY_ID, Severity
from redtrail.core.queries import AlertQuery, EventQuery
from tests.support import event

SINCE = datetime(2024, 5, 1, 10, tzinfo=UTC)
UNTIL = datetime(2024, 5, 2, 10, tzinfo=UTC)
ALICE = "alice@corp.example"


def detection(event_id: str, rule: str, severity: str, time: str, **copied: str) -> dict[str, Any]:
    """A detection item as DynamoDB returns it (contracts/alerts.py)."""
    item = {
        "eventID": {"S": schema.alert_key(event_id, rule)},
        "alertEvent": {"S": event_id},
        "alertRule": {"S": rule},
        "alertSeverity": {"S": severity},
        "alertState": {"S": "sent"},
        "alertSubject": {"S": f"[{severity.upper()}] {rule}"},
        "alertTime": {"S": time},
        "isWrite": {"BOOL": True},
    }
    return item | {name: {"S": value} for name, value in copied.items()}


def modify_cluster() -> dict[str, Any]:
    """ModifyCluster by alice, making cluster analytics public and changing its admin password."""
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(
        eventName="ModifyCluster",
        requestParameters={"clusterIdentifier": "analytics", "publiclyAccessible": True, "masterUserPassword": "***"},
        responseElements=None,
    )
    record["userIdentity"]["arn"] = f"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0a1b/{ALICE}"
    return record


def stored(record: dict[str, Any], rules_found: list[str], *, compress: bool = False) -> dict[str, Any]:
    """The event item of ``record`` as DynamoDB returns it."""
    text = json.dumps(record)
    item: dict[str, Any] = {
        "eventID": {"S": record["eventID"]},
        "eventTime": {"S": record["eventTime"]},
        "eventName": {"S": record["eventName"]},
        "eventSource": {"S": record["eventSource"]},
        "actor": {"S": ALICE},
        "resource": {"S": "cluster:analytics"},
        "isWrite": {"BOOL": True},
        "timeBucket": {"S": "2021-08#1"},
        "severity": {"S": "high"},
        "detections": {"L": [{"S": rule} for rule in rules_found]},
    }
    if compress:
        item |= {"eventGzip": {"B": gzip.compress(text.encode())}, "eventEncoding": {"S": "gzip"}}
    else:
        item["event"] = {"S": text}
    return item


# --- query requests ------------------------------------------------------------------------------------


def test_an_actor_is_a_key_on_by_actor_and_a_filter_under_a_more_selective_key():
    # Given a query by actor, and one by principal and actor
    by_actor = EventQuery(SINCE, UNTIL, actor=ALICE)
    by_principal = EventQuery(SINCE, UNTIL, principal="arn:aws:iam::1:role/admin", actor=ALICE)
    # When their requests are built
    (actor_request,) = queries.requests(by_actor)
    (principal_request,) = queries.requests(by_principal)
    # Then the actor is byActor's key in the first, a filter in the second
    assert actor_request["IndexName"] == "byActor"
    assert actor_request["ExpressionAttributeValues"][":pk"] == {"S": ALICE}
    assert "FilterExpression" not in actor_request
    assert principal_request["IndexName"] == "byPrincipal"
    assert principal_request["FilterExpression"] == "#f0 = :f0"
    assert principal_request["ExpressionAttributeNames"]["#f0"] == "actor"


def test_a_detection_is_one_query_on_by_detection_within_the_range():
    # Given events of one rule, by one actor, of two severities
    query = EventQuery(
        SINCE, UNTIL, actor=ALICE, detection="redshift-cluster-deleted", severities=(Severity.HIGH, Severity.CRITICAL)
    )
    # When the request is built
    (request,) = queries.requests(query)
    # Then it is one Query of the rule's detection items in the range, the rest filtered on their copies
    assert request["IndexName"] == "byDetection"
    assert request["ExpressionAttributeNames"]["#pk"] == "alertRule"
    assert request["ExpressionAttributeValues"][":pk"] == {"S": "redshift-cluster-deleted"}
    assert request["KeyConditionExpression"] == "#pk = :pk AND #t BETWEEN :since AND :until"
    assert request["ExpressionAttributeNames"]["#t"] == "alertTime"
    assert request["ExpressionAttributeValues"][":until"] == {"S": "2024-05-02T10:00:00Z"}
    assert request["FilterExpression"] == "#f0 = :f0 AND #s IN (:s0, :s1)"
    assert request["ExpressionAttributeNames"]["#s"] == "alertSeverity"
    assert request["ExpressionAttributeValues"][":s1"] == {"S": "critical"}


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("high", ["high"]),
        ("HIGH", ["high"]),
        ("high+", ["high", "critical"]),
        ("low+", ["low", "medium", "high", "critical"]),
        ("critical+", ["critical"]),
    ],
)
def test_a_severity_is_exact_and_a_plus_takes_the_levels_above(text, levels):
    # Given a severity as typed
    # When it is read and queried
    severities = queries.severity_levels(text)
    built = queries.requests(EventQuery(SINCE, UNTIL, severities=severities))
    # Then it is one Query on bySeverity per level, keyed by the level
    assert [severity.value for severity in severities] == levels
    assert {request["IndexName"] for request in built} == {"bySeverity"}
    assert sorted(request["ExpressionAttributeValues"][":pk"]["S"] for request in built) == sorted(levels)


@pytest.mark.parametrize("text", ["urgent", "high++", "+", ""])
def test_an_unknown_severity_names_the_valid_ones(text):
    # Given a severity no detection has
    # When it is read
    # Then the error lists the levels and the + form
    with pytest.raises(ValueError, match="low, medium, high, critical") as raised:
        queries.severity_levels(text)
    assert "high+" in str(raised.value)


def test_an_unknown_rule_names_the_valid_ones():
    # Given a rule id the catalogue does not have
    # When events of it are asked for
    # Then the error lists every rule id
    with pytest.raises(ValueError, match="unknown rule 'redshift-nope'") as raised:
        queries.requests(EventQuery(SINCE, UNTIL, detection="redshift-nope"))
    assert all(rule.id in str(raised.value) for rule in RULES)


def test_alarmed_events_are_writes_without_the_routine_names():
    # Given the write-type events the alarm counts: writes, without the routine names
    query = EventQuery(SINCE, UNTIL, writes_only=True, excluded_event_names=DEFAULT_ROUTINE_WRITE_EVENT_NAMES)
    # When the requests are built
    built = queries.requests(query)
    # Then they query byWrite's shards, leaving the routine eventNames out with one NOT IN
    assert {request["IndexName"] for request in built} == {"byWrite"}
    assert len(built) == schema.TIME_SHARDS
    count = len(DEFAULT_ROUTINE_WRITE_EVENT_NAMES)
    expected = "NOT #n IN (" + ", ".join(f":n0_{number}" for number in range(count)) + ")"
    assert built[0]["FilterExpression"] == expected
    assert built[0]["ExpressionAttributeNames"]["#n"] == "eventName"
    excluded = {value["S"] for name, value in built[0]["ExpressionAttributeValues"].items() if name.startswith(":n")}
    assert excluded == set(DEFAULT_ROUTINE_WRITE_EVENT_NAMES)


def test_more_routine_names_than_one_in_takes_are_split():
    # Given more excluded names than DynamoDB allows in one IN
    names = tuple(f"Call{number}" for number in range(queries.MAX_IN_OPERANDS + 1))
    query = EventQuery(SINCE, UNTIL, event_name="Call7", writes_only=True, excluded_event_names=names)
    # When the request is built
    (request,) = queries.requests(query)
    # Then the names are left out by two NOT INs, after the write filter the event name's index needs
    conditions = request["FilterExpression"].split(" AND ")
    assert conditions[0] == "#w = :w"
    assert conditions[1].count(",") == queries.MAX_IN_OPERANDS - 1
    assert conditions[2] == "NOT #n IN (:n1_0)"
    assert request["ExpressionAttributeValues"][":n1_0"] == {"S": f"Call{queries.MAX_IN_OPERANDS}"}


@pytest.mark.parametrize(
    "query",
    [
        EventQuery(SINCE, UNTIL, rejected=True, detection="redshift-cluster-public"),
        EventQuery(SINCE, UNTIL, rejected=True, severities=(Severity.LOW,)),
        EventQuery(SINCE, UNTIL, rejected=True, writes_only=True, excluded_event_names=("ExecuteStatement",)),
    ],
)
def test_the_quarantine_takes_no_detection_or_alarm_filter(query):
    # Given the quarantine with a filter its records never match
    # When it is planned
    # Then it is refused rather than answered with nothing
    with pytest.raises(ValueError, match="--rejected"):
        queries.plan(query)


def test_severity_levels_merge_newest_first_one_row_per_event():
    # Given detection items of two levels: e1 has a high and a critical one, e2 (same second) two high ones
    items = {
        "critical": [
            detection("e3", "redshift-cluster-deleted", "critical", "2024-05-01T12:00:00Z", eventName="DeleteCluster"),
            detection("e1", "redshift-cluster-deleted", "critical", "2024-05-01T11:00:00Z", actor=ALICE),
        ],
        "high": [
            detection("e1", "redshift-cluster-public", "high", "2024-05-01T11:00:00Z", actor=ALICE),
            detection("e2", "redshift-cluster-public", "high", "2024-05-01T11:00:00Z"),
            detection("e2", "redshift-automated-snapshots-off", "high", "2024-05-01T11:00:00Z"),
            detection("e4", "redshift-cluster-public", "high", "2024-05-01T10:30:00Z"),
        ],
    }
    asked = []

    def fake_query(request):
        asked.append(request["ExpressionAttributeValues"][":pk"]["S"])
        return iter(items[asked[-1]])

    # When high and above are listed, at most three
    query = EventQuery(SINCE, UNTIL, severities=queries.severity_levels("high+"))
    rows = [output.plain(item) for item in queries.run(query, fake_query, limit=3)]
    # Then each event comes once, newest first, under its own eventID, with its highest severity and its rules
    assert sorted(asked) == ["critical", "high"]
    assert [row["eventID"] for row in rows] == ["e3", "e1", "e2"]
    assert rows[0]["eventName"] == "DeleteCluster"
    assert rows[1] == {
        "eventID": "e1",
        "eventTime": "2024-05-01T11:00:00Z",
        "actor": ALICE,
        "isWrite": True,
        "severity": "critical",
        "detections": ["redshift-cluster-deleted", "redshift-cluster-public"],
    }
    assert rows[2]["detections"] == ["redshift-cluster-public", "redshift-automated-snapshots-off"]
    assert "alertState" not in rows[2]


def test_event_indexes_drop_the_detection_items_they_also_hold():
    # Given byActor's answer: alice's event, and its detection item (which copies the actor)
    event_item = {"eventID": {"S": "e1"}, "eventTime": {"S": "2024-05-01T11:00:00Z"}, "actor": {"S": ALICE}}
    found = [event_item, detection("e1", "redshift-cluster-public", "high", "2024-05-01T11:00:00Z", actor=ALICE)]
    # When alice's events are run
    rows = list(queries.run(EventQuery(SINCE, UNTIL, actor=ALICE), lambda request: iter(found)))
    # Then only the event comes
    assert rows == [event_item]


def test_alerts_query_every_level_or_one_rule():
    # Given the alerts of a day, of one rule, and of one rule at high or above
    every = queries.requests(AlertQuery(SINCE, UNTIL).as_event_query())
    (one_rule,) = queries.requests(AlertQuery(SINCE, UNTIL, rule="redshift-cluster-public").as_event_query())
    (rule_and_levels,) = queries.requests(
        AlertQuery(SINCE, UNTIL, "redshift-cluster-public", queries.severity_levels("high+")).as_event_query()
    )
    # Then all levels are one Query each on bySeverity, one rule is one Query on byDetection
    assert sorted(request["ExpressionAttributeValues"][":pk"]["S"] for request in every) == sorted(Severity)
    assert {request["IndexName"] for request in every} == {"bySeverity"}
    assert one_rule["IndexName"] == "byDetection"
    assert "FilterExpression" not in one_rule
    assert rule_and_levels["FilterExpression"] == "#s IN (:s0, :s1)"


def test_alerts_are_the_detection_items_themselves():
    # Given two detections of one event
    items = [
        detection("e1", "redshift-cluster-public", "high", "2024-05-01T11:00:00Z"),
        detection("e1", "redshift-automated-snapshots-off", "high", "2024-05-01T11:00:00Z"),
    ]

    def fake_query(request):
        return iter(items if request["ExpressionAttributeValues"][":pk"]["S"] == "high" else [])

    # When the alerts are run
    found = list(queries.run_alerts(AlertQuery(SINCE, UNTIL), fake_query))
    # Then each detection is its own row
    assert found == items


def test_a_bad_alerts_option_fails_before_any_aws_call():
    # Given an alerts command with an unknown rule, and one with a reversed range
    # When their queries are made
    # Then each is refused
    with pytest.raises(ValueError, match="unknown rule"):
        alerts.alert_query("24h", None, "nope", None, UNTIL)
    with pytest.raises(ValueError, match="since"):
        alerts.alert_query("2024-05-02", "2024-05-01", None, "high", UNTIL)
    assert alerts.alert_query("24h", None, None, "medium+", UNTIL).severities == (
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    )


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["query", "--table", "t", "--severity", "urgent"], "low, medium, high, critical"),
        (["query", "--table", "t", "--detection", "nope"], "redshift-cluster-public"),
        (["alerts", "--table", "t", "--rule", "nope"], "redshift-access-denied"),
        (["alerts", "--table", "t", "--severity", "meh+"], "high+"),
        (["query", "--table", "t", "--rejected", "--alarmed"], "--rejected"),
    ],
)
def test_unknown_rules_and_severities_are_one_line_errors(argv, named, capsys):
    # Given a command line with an unknown rule or severity
    # When it runs
    status = main(argv)
    # Then it stops with one line that names what is valid
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("redtrail: error: ")
    assert named in err


# --- rendering -----------------------------------------------------------------------------------------


def test_event_table_shows_actor_after_principal_and_severity():
    # Given an event with an actor and a severity, and one with neither
    rows = [
        {"eventTime": "t1", "eventName": "ModifyCluster", "principal": "arn:role", "actor": ALICE, "severity": "high"},
        {"eventTime": "t2", "eventName": "DescribeClusters"},
    ]
    # When they are rendered
    header, first, second, _ = output.render(rows, "table").splitlines()
    # Then actor follows principal, and missing values are dashes
    columns = header.split()
    assert columns.index("actor") == columns.index("principal") + 1
    assert "severity" in columns
    assert first.split()[columns.index("actor")] == ALICE
    assert first.split()[columns.index("severity")] == "high"
    assert second.split()[columns.index("actor")] == "-"
    assert second.split()[columns.index("severity")] == "-"


def test_rules_lists_the_whole_catalogue():
    # Given the catalogue
    # When it is rendered as text and as JSON
    text = rules.render("table")
    found = json.loads(rules.render("json"))
    # Then every rule is there with its severity, calls, title and reference
    assert text.endswith(f"({len(RULES)} rules)")
    assert "redshift-cluster-public (high)" in text
    assert "  reads      CreateCluster, ModifyCluster, RestoreFromClusterSnapshot of redshift.amazonaws.com" in text
    assert "every call of redshift-serverless.amazonaws.com, redshift.amazonaws.com (failed calls too)" in text
    assert [rule["id"] for rule in found] == [rule.id for rule in RULES]
    deleted = next(rule for rule in found if rule["id"] == "redshift-cluster-deleted")
    assert deleted == {
        "id": "redshift-cluster-deleted",
        "severity": "high",
        "sources": ["redshift.amazonaws.com"],
        "eventNames": ["DeleteCluster"],
        "onFailure": False,
        "title": "{actor} deleted cluster {resource} (final snapshot: {finalSnapshot})",
        "reference": RULES_BY_ID["redshift-cluster-deleted"].reference,
    }


def test_rules_needs_no_aws(monkeypatch, capsys):
    # Given no AWS at all (an endpoint nobody listens on)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    # When the rules are listed
    status = main(["rules", "--format", "json"])
    # Then they are printed
    assert status == 0
    assert len(json.loads(capsys.readouterr().out)) == len(RULES)


def test_alerts_table_escapes_what_a_record_put_in_the_subject():
    # Given a detection whose subject holds a terminal escape from a crafted cluster name
    item = detection("e1", "redshift-cluster-public", "high", "2024-05-01T11:00:00Z")
    item["alertSubject"] = {"S": "[HIGH] alice made cluster \x1b[2Jx\u202e publicly accessible"}
    # When the alerts are rendered
    table = alerts.render([item], "table")
    found = json.loads(alerts.render([item], "json"))
    # Then the columns are the detection's, the eventID the event's, and nothing raw reaches the terminal
    header, row, count = table.splitlines()
    assert header.split() == list(alerts.COLUMNS)
    assert row.split()[:4] == ["2024-05-01T11:00:00Z", "high", "redshift-cluster-public", "sent"]
    assert row.endswith("  e1")
    assert "\x1b" not in table
    assert "\u202e" not in table
    assert "\\u001b[2Jx\\u202e" in row
    assert count == "(1 detection)"
    assert alerts.render([], "table") == "(no detections)"
    # and JSON gives the item's plain attributes
    assert found[0]["alertSubject"] == item["alertSubject"]["S"]
    assert found[0]["eventID"] == schema.alert_key("e1", "redshift-cluster-public")


def test_show_gives_the_summary_detections_and_the_sorted_record():
    # Given the stored item of alice's ModifyCluster, with two detections
    record = modify_cluster()
    item = stored(record, ["redshift-cluster-public", "redshift-admin-password-changed"])
    # When it is shown as text
    text = show.render(item, "text")
    lines = text.splitlines()
    # Then the summary comes first, the eventID leading, the index-only attributes left out
    assert lines[0].split() == ["eventID", record["eventID"]]
    assert any(line.split() == ["actor", ALICE] for line in lines)
    assert any(line.split() == ["isWrite", "true"] for line in lines)
    assert "timeBucket" not in text
    # and each detection with its severity and title, worded from the record
    assert "detections (2):" in lines
    assert f"  high      redshift-cluster-public: {ALICE} made cluster analytics publicly accessible" in lines
    assert (
        f"  medium    redshift-admin-password-changed: {ALICE} changed the admin password of cluster analytics" in lines
    )
    # and the whole record, indented with sorted keys
    body = text[text.index("\nevent:\n") + len("\nevent:\n") :]
    assert json.loads(body) == record
    assert body == json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False)


def test_show_escapes_control_characters_of_the_record():
    # Given a record whose fields hold a C1 control and a bidi override (which JSON leaves as they are)
    record = modify_cluster()
    record["userAgent"] = "curl\x9b2J\u202ereversed"
    item = stored(record, [])
    # When it is shown as text
    text = show.render(item, "text")
    # Then neither reaches the terminal raw, and the lack of detections is said
    assert "\x9b" not in text
    assert "\u202e" not in text
    assert '"userAgent": "curl\\u009b2J\\u202ereversed"' in text
    assert "detections: none" in text.splitlines()


def test_show_reads_a_compressed_record_and_an_unknown_rule():
    # Given a record stored compressed, with a detection of a rule this version does not know
    record = modify_cluster()
    item = stored(record, ["redshift-retired-rule"], compress=True)
    # When it is shown
    text = show.render(item, "text")
    # Then the record is shown whole, and the rule is reported as unknown
    assert "event (stored compressed):" in text
    assert json.loads(text[text.index("event (stored compressed):\n") + 27 :]) == record
    assert "  ?         redshift-retired-rule: (a rule this version of redtrail does not know)" in text


def test_show_json_is_the_item_and_the_parsed_event():
    # Given a stored event
    record = modify_cluster()
    item = stored(record, ["redshift-cluster-public"])
    # When it is shown as JSON
    found = json.loads(show.render(item, "json"))
    # Then the item's plain attributes come without the event text, and the event parsed
    assert set(found) == {"item", "event"}
    assert found["event"] == record
    assert "event" not in found["item"]
    assert found["item"]["detections"] == ["redshift-cluster-public"]
    assert found["item"]["actor"] == ALICE


def test_the_cli_modules_load_no_aws_module():
    # Given a fresh interpreter
    code = (
        "import sys, redtrail.cli.main, redtrail.cli.rules, redtrail.cli.alerts, redtrail.cli.show; "
        "print(sorted(m for m in ('boto3', 'botocore', 'aws_lambda_powertools') if m in sys.modules))"
    )
    # When the CLI and the new command modules are imported
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then no AWS module came with them
    assert result.stdout.strip() == "[]"
