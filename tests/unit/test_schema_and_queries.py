from datetime import UTC, date, datetime

import pytest

from redtrail.contracts import schema
from redtrail.core import queries
from redtrail.core.detections import Severity
from redtrail.core.queries import EventQuery

SINCE = datetime(2024, 5, 1, 10, tzinfo=UTC)
UNTIL = datetime(2024, 5, 2, 10, tzinfo=UTC)


def test_create_table_request_follows_the_definition():
    # Given the table definition
    # When the CreateTable request is built
    request = schema.create_table_request("events")
    # Then it has the eventID key, one GSI per index keyed by its attribute and eventTime, and no event in GSIs
    assert request["KeySchema"] == [{"AttributeName": "eventID", "KeyType": "HASH"}]
    indexes = {index["IndexName"]: index for index in request["GlobalSecondaryIndexes"]}
    events = {"byTime", "byWrite", "byEventName", "byPrincipal", "byActor", "byResource", "byAccount", "byRejected"}
    events.add("byParentResource")
    small_items = {"byLedger", "byDetection", "bySeverity"}  # the ledger's and the detections'
    assert set(indexes) == events | small_items
    for index in schema.INDEXES:
        keys = indexes[index.name]["KeySchema"]
        sort_key = {
            "byRejected": "ingestedAt",
            "byLedger": "ledgerSort",
            "byDetection": "alertTime",  # no eventTime, so that detections are in no event index
            "bySeverity": "alertTime",
        }.get(index.name, "eventTime")
        assert keys == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": sort_key, "KeyType": "RANGE"},
        ]
        if index.projects_all:  # the ledger's and the detections' indexes: their small items whole, never an event's
            assert index.name in small_items
            assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}
            continue
        if index is schema.BY_PARENT_RESOURCE:  # keys only: an event found there is read from the table
            assert indexes[index.name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
            continue
        projected = indexes[index.name]["Projection"]["NonKeyAttributes"]
        assert "event" not in projected
        assert index.partition_key not in projected
    defined = {definition["AttributeName"] for definition in request["AttributeDefinitions"]}
    assert defined == set(schema.key_attributes())


def test_index_projections_fit_dynamodbs_limit():
    # Given every secondary index of the table
    # When their projected non-key attributes are added up
    total = sum(len(schema.projected_attributes(index)) for index in schema.INDEXES)
    # Then they stay within DynamoDB's 100 (CreateTable fails above it), and no index projects the event
    assert total <= schema.MAX_PROJECTED_ATTRIBUTES
    assert not any("event" in schema.projected_attributes(index) for index in schema.INDEXES)
    assert "rejectReason" in schema.projected_attributes(schema.BY_REJECTED)


def test_time_buckets_are_months_split_into_stable_shards():
    # Given an event time and ID
    # When its bucket is computed twice
    bucket = schema.time_bucket("2024-05-01T12:00:00Z", "abc")
    # Then it is the month plus a shard that does not change between runs
    assert bucket == schema.time_bucket("2024-05-01T12:00:00Z", "abc")
    month, shard = bucket.split("#")
    assert month == "2024-05"
    assert 0 <= int(shard) < schema.TIME_SHARDS
    assert schema.time_bucket("May 1, 2024", "abc") is None


def test_shards_spread_events_evenly():
    # Given many event IDs
    # When they are sharded
    counts = [0] * schema.TIME_SHARDS
    for number in range(4000):
        counts[schema.shard_of(f"event-{number}")] += 1
    # Then no shard gets much more than its share
    assert max(counts) < 1.2 * 4000 / schema.TIME_SHARDS


def test_buckets_between_lists_every_month_and_shard_newest_first():
    # Given a range over a year end
    # When its buckets are listed
    buckets = schema.buckets_between(date(2023, 11, 30), date(2024, 1, 2))
    # Then each month appears with every shard, newest month first
    assert len(buckets) == 3 * schema.TIME_SHARDS
    assert buckets[0] == "2024-01#0"
    assert buckets[schema.TIME_SHARDS] == "2023-12#0"
    assert buckets[-1] == f"2023-11#{schema.TIME_SHARDS - 1}"
    assert schema.buckets_between(date(2024, 6, 1), date(2024, 5, 1)) == []
    with pytest.raises(ValueError, match="months"):
        schema.buckets_between(date(1990, 1, 1), date(2024, 1, 1))


@pytest.mark.parametrize(
    ("query", "index", "partitions"),
    [
        (EventQuery(SINCE, UNTIL), "byTime", schema.TIME_SHARDS),
        (EventQuery(SINCE, datetime(2024, 7, 1, tzinfo=UTC), writes_only=True), "byWrite", 3 * schema.TIME_SHARDS),
        (EventQuery(SINCE, UNTIL, event_name="Decrypt", writes_only=True), "byEventName", 1),
        (EventQuery(SINCE, UNTIL, principal="arn:aws:iam::1:role/r"), "byPrincipal", 1),
        (EventQuery(SINCE, UNTIL, actor="alice@corp.example"), "byActor", 1),
        (EventQuery(SINCE, UNTIL, detection="redshift-cluster-public", actor="alice"), "byDetection", 1),
        (EventQuery(SINCE, UNTIL, severities=(Severity.HIGH, Severity.CRITICAL)), "bySeverity", 2),
        (EventQuery(SINCE, UNTIL, resource="cluster:c"), "byResource byParentResource", 2),
        (EventQuery(SINCE, UNTIL, account="111122223333"), "byAccount", 1),
    ],
)
def test_each_access_pattern_is_served_by_an_index(query, index, partitions):
    # Given a query
    # When its requests are built
    built = queries.requests(query)
    # Then they are Queries on the right index (a resource: on its own and its children's) with the time range on
    # the sort key
    assert {request["IndexName"] for request in built} == set(index.split())
    assert len(built) == partitions
    first = built[0]
    assert first["KeyConditionExpression"] == "#pk = :pk AND #t BETWEEN :since AND :until"
    assert first["ExpressionAttributeValues"][":since"] == {"S": "2024-05-01T10:00:00Z"}
    assert first["ScanIndexForward"] is False


def test_other_filters_narrow_the_chosen_index():
    # Given a query by event name that also asks for writes from one source
    query = EventQuery(
        SINCE, UNTIL, event_name="ExecuteStatement", source="redshift-data.amazonaws.com", writes_only=True
    )
    # When its request is built
    (request,) = queries.requests(query)
    # Then the other conditions are a filter
    assert request["FilterExpression"] == "#f0 = :f0 AND #w = :w"
    assert request["ExpressionAttributeNames"]["#f0"] == "eventSource"


TWENTY_YEARS = (datetime(2006, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, tzinfo=UTC))


@pytest.mark.parametrize(
    ("query", "count", "why", "asks"),
    [
        pytest.param(
            EventQuery(*TWENTY_YEARS, source="redshift-data.amazonaws.com"),
            960,
            "240 months x 4 shards of the byTime index; --source only filters what they return",
            True,
            id="20 years of one eventSource",
        ),
        pytest.param(
            EventQuery(*TWENTY_YEARS, writes_only=True, excluded_event_names=("ExecuteStatement",)),
            960,
            "240 months x 4 shards of the byWrite index; --alarmed only filters what they return",
            True,
            id="20 years of --alarmed",
        ),
        pytest.param(EventQuery(*TWENTY_YEARS, rejected=True), 240, "240 months of the byRejected index", True),
        pytest.param(
            EventQuery(datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC)),
            100,
            "25 months x 4 shards of the byTime index",
            False,
            id="25 months: 100 Queries, the most unasked",
        ),
        pytest.param(EventQuery(SINCE, UNTIL), schema.TIME_SHARDS, "1 month x 4 shards of the byTime index", False),
        pytest.param(
            EventQuery(*TWENTY_YEARS, event_name="DeleteCluster", source="redshift.amazonaws.com"),
            1,
            "1 value of the byEventName index",
            False,
            id="20 years of one eventName",
        ),
        pytest.param(
            EventQuery(*TWENTY_YEARS, severities=(Severity.HIGH, Severity.CRITICAL)),
            2,
            "2 values of the bySeverity index",
            False,
        ),
        pytest.param(
            EventQuery(*TWENTY_YEARS, resource="cluster:c", event_name="DeleteClusterSnapshot"),
            2,
            "1 value of the byResource and byParentResource indexes",
            False,
            id="20 years of one resource",
        ),
    ],
)
def test_what_a_query_costs_is_said_before_it_runs(query, count, why, asks):
    # Given a query: a time range on the time-bucket indexes is one Query per month and shard, whatever filters
    # that are not keys (an eventSource) keep; a key is one Query per value
    # When its cost is worked out
    cost = queries.cost(query)
    # Then it is the number of requests the query will make, with the reason, and more than 100 needs consent
    assert cost.queries == count == len(queries.requests(query))
    assert cost.why == why
    assert cost.is_costly is asks
    assert cost.describe() == f"this query may make {count} DynamoDB Queries ({why})"


def test_a_reversed_range_is_an_error():
    # Given a range whose start is after its end
    # When it is planned
    # Then it is refused
    with pytest.raises(ValueError, match="since"):
        queries.requests(EventQuery(UNTIL, SINCE))


def test_run_merges_shards_newest_first_and_stops_at_the_limit():
    # Given results spread over the shards of two months, one per day at noon
    def fake_query(request):
        month, shard = request["ExpressionAttributeValues"][":pk"]["S"].split("#")
        times = [f"{month}-{day:02d}T12:00:00Z" for day in range(28, 0, -1) if day % schema.TIME_SHARDS == int(shard)]
        return iter([{"eventTime": {"S": time}} for time in times])

    # When the query runs with a limit
    query = EventQuery(datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 5, 31, tzinfo=UTC))
    found = list(queries.run(query, fake_query, limit=30))
    # Then the results are in time order, newest first, across shards and months
    times = [item["eventTime"]["S"] for item in found]
    assert len(times) == 30
    assert times == sorted(times, reverse=True)
    assert times[0] == "2024-05-28T12:00:00Z"
    assert times[27] == "2024-05-01T12:00:00Z"
    assert times[-1] == "2024-04-27T12:00:00Z"
