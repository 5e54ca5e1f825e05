"""Alerts: worded for a person, one per detected (event, rule), published once, retried when publishing fails."""

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from redtrail.contracts import alerts as names
from redtrail.contracts import schema
from redtrail.contracts.alerts import AlertState
from redtrail.core.alerts import LEASE, Alert, alert_for, raise_alerts
from redtrail.core.classify import classify
from redtrail.core.detections import DetectionContext, detect
from redtrail.core.errors import AlertPublishError
from redtrail.core.items import actor_of, build_item
from redtrail.core.pipeline import Detected
from tests.support import event

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SSO_ROLE = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d"
SOURCE = "s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/f.json.gz"


def public_cluster(event_id: str = "e-public", *, actor: str = "alice@corp.example", at: datetime = NOW) -> Detected:
    """alice, through IAM Identity Center, makes cluster sales-dw publicly accessible."""
    record = copy.deepcopy(event("authorize_datashare"))
    record.update(
        eventID=event_id,
        eventName="ModifyCluster",
        eventTime=(at - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        sourceIPAddress="203.0.113.7",
        requestParameters={"clusterIdentifier": "sales-dw", "publiclyAccessible": True},
        responseElements=None,
    )
    record["userIdentity"] = {
        "type": "AssumedRole",
        "arn": f"{SSO_ROLE}/{actor}",
        "accountId": "111122223333",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/SSOAdmin"}},
    }
    detections = tuple(detect(record, DetectionContext()))
    match = classify(record)
    assert match is not None
    return Detected(build_item(record, match, source_object=SOURCE, detections=detections), detections)


@dataclass
class Records:
    """An in-memory ``AlertRecords``: the detection items by key."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def claim(self, record: dict[str, Any]) -> tuple[AlertState, str] | None:
        key = record[schema.PARTITION_KEY]["S"]
        if key in self.items:
            stored = self.items[key]
            return AlertState(stored[names.ALERT_STATE]["S"]), stored[names.DETECTED_AT]["S"]
        self.items[key] = dict(record)
        return None

    def mark(self, key: str, state: AlertState, at: str) -> None:
        self.items[key][names.ALERT_STATE] = {"S": state.value}

    def states(self) -> list[str]:
        return [item[names.ALERT_STATE]["S"] for item in self.items.values()]


@dataclass
class Topic:
    """An ``AlertSink`` that keeps what it was given, and fails while ``failing``."""

    published: list[Alert] = field(default_factory=list)
    failing: bool = False

    def publish(self, alert: Alert) -> None:
        if self.failing:
            raise AlertPublishError("sns:Publish to topic: InternalError")
        self.published.append(alert)


def test_the_actor_is_the_person_behind_a_role_session_else_the_user_or_the_service():
    # Given the identities CloudTrail writes for an Identity Center session, an IAM user, a service and root
    identities = {
        "alice@corp.example": {"type": "AssumedRole", "arn": f"{SSO_ROLE}/alice@corp.example"},
        "janedoe": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/janedoe", "userName": "janedoe"},
        "redshift.amazonaws.com": {"type": "AWSService", "invokedBy": "redshift.amazonaws.com"},
        "root": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"},
    }
    # When each one's actor is read
    # Then it is the name a person would give
    assert {expected: actor_of(identity) for expected, identity in identities.items()} == {
        name: name for name in identities
    }


def test_two_people_through_one_sso_role_are_two_actors_of_one_principal():
    # Given alice and bob, both through the same Identity Center permission set
    alice, bob = public_cluster("e-a").item, public_cluster("e-b", actor="bob@corp.example").item
    # When their items are compared
    # Then the principal (the role) is shared, the actor is not
    assert alice["principal"] == bob["principal"]
    assert (alice["actor"]["S"], bob["actor"]["S"]) == ("alice@corp.example", "bob@corp.example")


def test_a_detected_event_carries_its_rules_and_highest_severity():
    # Given a cluster made public (a high detection)
    item = public_cluster().item
    # When its item is read
    # Then it names the rule and the severity
    assert item["detections"] == {"L": [{"S": "redshift-cluster-public"}]}
    assert item["severity"] == {"S": "high"}


def test_an_alert_says_who_did_what_to_which_resource_where_and_when():
    # Given the detected event
    found = public_cluster()
    # When its alert is worded
    alert = alert_for(found.item, found.detections[0], now=NOW)
    # Then the subject is the example, and the body has who (the person and the role), what, the
    # resource, account, region, source IP, time, rule and reference, and how to see the whole event
    assert alert.subject == "[HIGH] alice@corp.example made cluster sales-dw publicly accessible"
    for expected in (
        "Who:       alice@corp.example (" + f"{SSO_ROLE}/alice@corp.example; arn:aws:iam::111122223333:role/SSOAdmin)",
        "What:      alice@corp.example made cluster sales-dw publicly accessible",
        "Call:      ModifyCluster (redshift.amazonaws.com)",
        "Resource:  cluster:sales-dw",
        "Account:   111122223333",
        "Region:    us-east-1",
        "Source IP: 203.0.113.7",
        f"When:      {found.item['eventTime']['S']}",
        "Rule:      redshift-cluster-public (high): https://",
        "The whole event: redtrail show e-public",
    ):
        assert expected in alert.body, expected
    assert alert.attributes == {
        "severity": "high",
        "rule": "redshift-cluster-public",
        "eventName": "ModifyCluster",
        "account": "111122223333",
    }
    assert alert.record[schema.PARTITION_KEY] == {"S": "alert#e-public#redshift-cluster-public"}
    assert alert.record[names.ALERT_TIME] == found.item["eventTime"]
    assert "eventTime" not in alert.record  # so that no event index holds it


def test_a_subject_is_printable_ascii_under_100_characters_whatever_the_record_holds():
    # Given an actor with accents, a line break and a very long name
    found = public_cluster(actor="jos\u00e9.\u00e5ngstr\u00f6m\n" + "x" * 150)
    # When its alert is worded
    alert = alert_for(found.item, found.detections[0], now=NOW)
    # Then the subject is one line of printable ASCII within SNS's limit, and the body has no injected line
    assert len(alert.subject) <= 99
    assert alert.subject.isascii()
    assert alert.subject.isprintable()
    assert alert.subject.startswith("[HIGH] jose.angstrom x")
    assert all(line.isprintable() for line in alert.body.splitlines())


def test_each_detection_is_published_once_even_when_its_file_comes_again():
    # Given two detected events
    records, topic = Records(), Topic()
    detected = [public_cluster("e-1"), public_cluster("e-2")]
    # When their file is processed twice
    first = raise_alerts(detected, records, topic, now=NOW, max_age=timedelta(hours=24))
    again = raise_alerts(detected, records, topic, now=NOW, max_age=timedelta(hours=24))
    # Then each alert went out once, both are recorded as sent, and only the first pass counted them
    assert [alert.event_id for alert in topic.published] == ["e-1", "e-2"]
    assert records.states() == ["sent", "sent"]
    assert (first.detections, first.high, first.published) == (2, 2, 2)
    assert (again.detections, again.high, again.published) == (0, 0, 0)


def test_a_failed_publish_is_reported_and_published_by_the_next_delivery():
    # Given a topic that fails
    records, topic = Records(), Topic(failing=True)
    detected = [public_cluster()]
    # When the file is processed, then (the topic working again) delivered again
    failed = raise_alerts(detected, records, topic, now=NOW, max_age=timedelta(hours=24))
    topic.failing = False
    retried = raise_alerts(detected, records, topic, now=NOW + timedelta(minutes=1), max_age=timedelta(hours=24))
    # Then the failure is in the report (the caller fails the message), and the retry publishes it once
    assert (failed.failed, failed.published, failed.errors) == (1, 0, ["sns:Publish to topic: InternalError"])
    assert (retried.failed, retried.published, retried.detections) == (0, 1, 0)
    assert len(topic.published) == 1
    assert records.states() == ["sent"]


def test_a_detection_another_invocation_is_publishing_is_left_to_it_until_its_lease_ends():
    # Given a detection recorded as pending by an invocation that has not finished (or died)
    records, topic = Records(), Topic()
    found = public_cluster()
    record = alert_for(found.item, found.detections[0], now=NOW).record
    records.claim(record | {names.ALERT_STATE: {"S": "pending"}})
    # When the same file is processed meanwhile, and again after the lease
    during = raise_alerts([found], records, topic, now=NOW + timedelta(minutes=1), max_age=timedelta(days=1))
    after = raise_alerts([found], records, topic, now=NOW + LEASE + timedelta(minutes=1), max_age=timedelta(days=1))
    # Then the first leaves it alone, the second publishes it
    assert (during.published, after.published) == (0, 1)


@pytest.mark.parametrize("age_hours", [25, 24 * 365])
def test_an_old_event_is_recorded_but_not_alerted(age_hours):
    # Given a detected event older than the age limit (a backfill of last year's files)
    records, topic = Records(), Topic()
    old = public_cluster(at=NOW - timedelta(hours=age_hours))
    # When it is processed
    found = raise_alerts([old], records, topic, now=NOW, max_age=timedelta(hours=24))
    # Then it is recorded as old, counted as a detection, and nobody is paged (no alert, no alarm)
    assert records.states() == ["old"]
    assert (found.detections, found.old, found.published, found.high) == (1, 1, 0, 0)
    assert topic.published == []
