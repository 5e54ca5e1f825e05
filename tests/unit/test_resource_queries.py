"""``--resource``: a resource's own events (byResource) and those of what belongs to it (byParentResource)."""

import re
from datetime import UTC, datetime

from redtrail.contracts import schema
from redtrail.core import queries
from redtrail.core.detections import Severity
from redtrail.core.queries import EventQuery

SINCE = datetime(2024, 5, 1, tzinfo=UTC)
UNTIL = datetime(2024, 5, 31, tzinfo=UTC)


def _placeholders(request, sign):
    """The placeholders the request's expressions use, of names (#) or values (:)."""
    expressions = " ".join(
        request.get(name, "")
        for name in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")
        if name in request
    )
    return set(re.findall(rf"{sign}[A-Za-z0-9_]+", expressions))


def _well_formed(request):
    """DynamoDB refuses a request that defines a placeholder it does not use, or uses one it does not define."""
    return _placeholders(request, "#") == set(request["ExpressionAttributeNames"]) and _placeholders(
        request, ":"
    ) == set(request["ExpressionAttributeValues"])


def test_a_resource_is_the_key_before_an_event_name_and_asks_both_indexes():
    # Given a query by a cluster that also names an eventName and asks for writes
    query = EventQuery(SINCE, UNTIL, resource="cluster:c1", event_name="DeleteClusterSnapshot", writes_only=True)
    # When its requests are built
    own, parent = queries.requests(query)
    # Then the cluster's own index is asked with the other conditions as a filter
    assert own["IndexName"] == "byResource"
    assert own["ExpressionAttributeValues"][":pk"] == {"S": "cluster:c1"}
    assert own["FilterExpression"] == "#f0 = :f0 AND #w = :w"
    assert own["ExpressionAttributeNames"]["#f0"] == "eventName"
    # and so is the index of what belongs to it, by the same key and range, unfiltered: it holds the keys only
    assert parent["IndexName"] == "byParentResource"
    assert parent["ExpressionAttributeNames"] == {"#pk": "parentResource", "#t": "eventTime"}
    assert parent["ExpressionAttributeValues"] == {
        ":pk": {"S": "cluster:c1"},
        ":since": {"S": "2024-05-01T00:00:00Z"},
        ":until": {"S": "2024-05-31T00:00:00Z"},
    }
    assert "FilterExpression" not in parent
    assert parent["ScanIndexForward"] is False
    assert _well_formed(own)
    assert _well_formed(parent)


def test_an_event_found_by_its_parent_is_read_from_the_table_with_the_filter():
    # Given the byResource Query of a filtered query by a cluster
    query = EventQuery(SINCE, UNTIL, resource="cluster:c1", event_name="DeleteClusterSnapshot", writes_only=True)
    own, _ = queries.requests(query)
    # When the read of one event the parent index found is built
    fetch = queries.fetch_request(own, "e1")
    # Then it is a Query of the table by eventID, with the same filter, of the attributes byResource shows
    assert "IndexName" not in fetch
    assert fetch["KeyConditionExpression"] == "#id = :id"
    assert fetch["ExpressionAttributeValues"][":id"] == {"S": "e1"}
    assert fetch["FilterExpression"] == own["FilterExpression"]
    shown = [fetch["ExpressionAttributeNames"][name] for name in fetch["ProjectionExpression"].split(", ")]
    assert shown == ["eventID", *schema.SUMMARY_ATTRIBUTES, "parentResource"]
    assert "event" not in shown
    assert _well_formed(fetch)
    # and an unfiltered query reads it unfiltered
    bare, _ = queries.requests(EventQuery(SINCE, UNTIL, resource="cluster:c1"))
    assert "FilterExpression" not in queries.fetch_request(bare, "e1")
    assert _well_formed(queries.fetch_request(bare, "e1"))


def _event(event_id, day, event_name, resource, parent=None):
    item = {
        "eventID": {"S": event_id},
        "eventTime": {"S": f"2024-05-{day:02d}T12:00:00Z"},
        "eventName": {"S": event_name},
        "resource": {"S": resource},
    }
    if parent:
        item["parentResource"] = {"S": parent}
    return item


TABLE = [
    _event("create", 2, "CreateCluster", "cluster:c1"),
    _event("snap", 5, "CreateClusterSnapshot", "snapshot:s1", "cluster:c1"),
    _event("reboot", 9, "RebootCluster", "cluster:c1"),
    _event("delete", 12, "DeleteClusterSnapshot", "snapshot:s1", "cluster:c1"),
    _event("other", 14, "DeleteClusterSnapshot", "snapshot:s9", "cluster:c9"),
]


class FakeTable:
    """The table's indexes as DynamoDB answers them (keys only in byParentResource), counting the reads."""

    def __init__(self):
        self.requests = []

    def query(self, request):
        self.requests.append(request)
        values = request["ExpressionAttributeValues"]
        wanted = values.get(":f0", {}).get("S")  # the eventName filter, the only one these tests use
        if "IndexName" not in request:  # one event, by eventID
            return iter([item for item in TABLE if item["eventID"] == values[":id"] and _passes(item, wanted)])
        key = {"byResource": "resource", "byParentResource": "parentResource"}[request["IndexName"]]
        matching = sorted(
            (item for item in TABLE if item.get(key) == values[":pk"] and _passes(item, wanted)),
            key=lambda item: item["eventTime"]["S"],
            reverse=True,
        )
        if request["IndexName"] == "byParentResource":
            return iter([{name: item[name] for name in ("eventID", "eventTime", key)} for item in matching])
        return iter(matching)


def _passes(item, event_name):
    return event_name is None or item["eventName"]["S"] == event_name


def test_a_query_by_a_cluster_finds_its_snapshots_events_newest_first():
    # Given a cluster's own events and its snapshot's, and another cluster's
    table = FakeTable()
    # When the cluster is queried
    found = list(queries.run(EventQuery(SINCE, UNTIL, resource="cluster:c1"), table.query))
    # Then its events and its snapshot's come, newest first, whole
    assert [item["eventID"]["S"] for item in found] == ["delete", "reboot", "snap", "create"]
    assert found[0]["eventName"] == {"S": "DeleteClusterSnapshot"}
    # and the snapshot's own key finds the snapshot's events only
    snapshot = list(queries.run(EventQuery(SINCE, UNTIL, resource="snapshot:s1"), FakeTable().query))
    assert [item["eventID"]["S"] for item in snapshot] == ["delete", "snap"]


def test_the_filter_applies_to_the_events_found_by_their_parent():
    # Given a query by a cluster and an eventName
    table = FakeTable()
    query = EventQuery(SINCE, UNTIL, resource="cluster:c1", event_name="DeleteClusterSnapshot")
    # When it runs
    found = list(queries.run(query, table.query))
    # Then only the snapshot deletion comes (the other snapshot event was read, and filtered out)
    assert [item["eventID"]["S"] for item in found] == ["delete"]


def test_events_found_by_their_parent_are_read_only_as_the_limit_needs():
    # Given a query by a cluster with a limit of one
    table = FakeTable()
    # When it runs
    found = list(queries.run(EventQuery(SINCE, UNTIL, resource="cluster:c1"), table.query, limit=1))
    # Then one event comes, and one event was read from the table: the newest
    assert [item["eventID"]["S"] for item in found] == ["delete"]
    assert len([request for request in table.requests if "IndexName" not in request]) == 1


def test_detections_of_a_resource_are_filtered_by_it_or_by_their_parent():
    # Given a query of a severity's detections of one cluster
    query = EventQuery(SINCE, UNTIL, resource="cluster:c1", severities=(Severity.HIGH,))
    # When its request is built
    (request,) = queries.requests(query)
    # Then the detection index is asked, filtered by the resource or the parent it copies
    assert request["IndexName"] == "bySeverity"
    assert request["FilterExpression"] == "(#r = :r OR #rp = :r)"
    assert request["ExpressionAttributeNames"]["#rp"] == "parentResource"
    assert _well_formed(request)
