"""The hints of an empty answer: why a key matched nothing, and what would match (probes on a fake table)."""

from datetime import UTC, datetime

import pytest

from redtrail.cli import hints
from redtrail.contracts import schema
from redtrail.core.queries import EventQuery
from redtrail.core.resources import PARENT_KINDS, Kind

SINCE = datetime(2024, 5, 1, tzinfo=UTC)
UNTIL = datetime(2024, 5, 31, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
SESSION = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com"
BY_NAME = {index.name: index for index in schema.INDEXES}


def _event(event_id, **attributes):
    item = {"eventID": {"S": event_id}, "eventTime": {"S": "2024-05-10T12:00:00Z"}}
    item.update({name: {"S": value} for name, value in attributes.items()})
    return item


class FakeTable:
    """Event indexes over a few events, answering Queries with their Limit, counting them."""

    def __init__(self, *events):
        self.events = list(events)
        self.requests = []

    def query(self, request):
        self.requests.append(request)
        index = BY_NAME[request["IndexName"]]
        key = request["ExpressionAttributeValues"][":pk"]
        found = [item for item in self.events if item.get(index.partition_key) == key]
        return iter(found[: request.get("Limit", len(found))])


def _query(**keys):
    return EventQuery(SINCE, UNTIL, **keys)


def test_a_session_arn_names_its_role_and_session():
    # Given the ARN CloudTrail shows for an assumed-role session
    session = hints.assumed_role_session(SESSION)
    # When it is read
    # Then it names the role (without its path, which the ARN leaves out) and the session
    assert session is not None
    assert session.role_arn == "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123"
    assert session.name == "alice@example.com"
    assert session.is_role(ROLE)
    assert session.is_role(session.role_arn)
    assert not session.is_role("arn:aws:iam::444455556666:role/AWSReservedSSO_Admin_0123")
    assert not session.is_role("arn:aws:iam::111122223333:role/Other")
    assert hints.assumed_role_session(ROLE) is None
    assert hints.assumed_role_session("arn:aws:sts::111122223333:assumed-role/NoSession") is None


def test_a_session_arn_hints_the_role_with_its_path_and_the_session():
    # Given the events of a session of a role with a path, keyed (as items key them) on the role
    table = FakeTable(_event("e1", principal=ROLE, actor="alice@example.com"))
    # When the session's ARN found nothing
    found = hints.empty_result_hints(_query(principal=SESSION), table.query)
    # Then the hint gives the command that has the session's events, the role's path included
    assert found == [
        "--principal is the role of an assumed-role session, not the session's ARN: "
        f"--principal {ROLE} --actor alice@example.com has this session's events"
    ]


def test_a_session_without_events_hints_its_roles_events():
    # Given the events of another session of the role
    role = "arn:aws:iam::111122223333:role/Analyst"
    table = FakeTable(_event("e1", principal=role, actor="bob"))
    # When a session of that role found nothing
    found = hints.principal_hints(_query(principal="arn:aws:sts::111122223333:assumed-role/Analyst/alice"), table.query)
    # Then the hint says the role has events, but not that session
    assert found == [
        "--principal is the role of an assumed-role session, not the session's ARN: "
        f"--principal {role} has events in this range, none of session alice"
    ]


def test_a_session_of_a_role_without_events_says_so():
    # Given no events at all
    # When a session's ARN found nothing
    found = hints.principal_hints(_query(principal="arn:aws:sts::1:assumed-role/Analyst/alice"), FakeTable().query)
    # Then the hint says what the index keys on, and that neither the role nor the session has events
    assert found == [
        "--principal is the role of an assumed-role session, not the session's ARN (arn:aws:iam::1:role/Analyst,"
        " with the role's path if it has one); neither role Analyst nor session alice has events in this range"
    ]


def test_a_name_given_as_principal_hints_the_actor():
    # Given events of a person
    table = FakeTable(_event("e1", principal=ROLE, actor="alice@example.com"))
    # When their name was given as a principal
    # Then the hint names --actor; an ARN that matched nothing has no hint
    assert hints.principal_hints(_query(principal="alice@example.com"), table.query) == [
        "--principal takes an ARN; alice@example.com is an actor: --actor alice@example.com"
    ]
    assert hints.principal_hints(_query(principal="bob"), table.query) == [
        "--principal takes an ARN (for an assumed role, the role's); --actor takes a session or user name"
    ]
    assert hints.principal_hints(_query(principal=ROLE.replace("Admin", "Other")), table.query) == []


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        pytest.param("cluster:c1", "cluster:c1", id="a-key"),
        pytest.param("Cluster:c1", "cluster:c1", id="kind-in-capitals"),
        pytest.param("arn:aws:redshift:us-east-1:1:snapshot:c1/s1", "snapshot:s1", id="an-arn"),
        pytest.param("arn:aws:redshift-serverless:us-east-1:1:workgroup/0b4e", "workgroup:0b4e", id="serverless-arn"),
        pytest.param("c1", "c1", id="no-kind-kept-as-typed"),
        pytest.param("rs:c1-2024-05-01", "rs:c1-2024-05-01", id="a-name-with-a-colon"),
        pytest.param(None, None, id="none"),
    ],
)
def test_resource_key_is_what_the_table_keys_on(typed, key):
    # Given what was typed after --resource
    # When it is made a key
    # Then it is kind:name as stored, or as typed when it names no kind
    assert hints.resource_key(typed) == key


def test_a_resource_without_its_kind_hints_the_kinds_it_has_events_under():
    # Given a cluster with events and a snapshot of the same name, and a cluster known only as a parent
    table = FakeTable(
        _event("e1", resource="cluster:dw"),
        _event("e2", resource="snapshot:dw", parentResource="cluster:old"),
    )
    # When the name was given without a kind
    found = hints.resource_hints(_query(resource="dw"), table.query)
    # Then the hint lists the kinds and says under which the name has events
    assert found == [
        f"--resource takes kind:name, the kind one of {', '.join(Kind)}; dw has events in this range as"
        " cluster:dw, snapshot:dw"
    ]
    # and a parent is found through the index of what belongs to it
    assert hints.resource_hints(_query(resource="old"), table.query)[0].endswith(
        "old has events in this range as cluster:old"
    )
    # and one probe per kind was made (and one more per kind that can be a parent, when its own found none), each of
    # one item
    probes = [request for request in table.requests if request["ExpressionAttributeValues"][":pk"]["S"].endswith(":dw")]
    assert len(probes) == len(Kind) + len(PARENT_KINDS) - 1  # cluster:dw's own events were enough
    assert {request["Limit"] for request in probes} == {1}


def test_a_resource_of_the_wrong_kind_hints_the_right_one():
    # Given a serverless workgroup's events
    table = FakeTable(_event("e1", resource="workgroup:wg"))
    # When it was asked for as a cluster
    # Then the hint names the kind it has events as; nothing is said when no kind has any
    assert hints.resource_hints(_query(resource="cluster:wg"), table.query) == [
        "cluster:wg has no events in this range; wg has events as workgroup:wg"
    ]
    assert hints.resource_hints(_query(resource="cluster:none"), table.query) == []
    # and a resource with events, which the query's other filters left out, has no hint
    assert hints.resource_hints(_query(resource="workgroup:wg", event_name="DeleteWorkgroup"), table.query) == []
    assert hints.resource_hints(_query(resource="none"), table.query) == [
        f"--resource takes kind:name, the kind one of {', '.join(Kind)}; no resource named none has events in"
        " this range"
    ]


def test_an_event_name_in_another_case_hints_the_right_case():
    # Given CreateCluster events
    table = FakeTable(_event("e1", eventName="CreateCluster"))
    # When the name was typed in lower case
    # Then the hint gives the case CloudTrail writes, and says it has events
    assert hints.event_name_hints(_query(event_name="createcluster"), table.query) == [
        "eventNames are case-sensitive: --event-name CreateCluster (it has events in this range)"
    ]
    assert hints.event_name_hints(_query(event_name="DELETECLUSTER"), table.query) == [
        "eventNames are case-sensitive: --event-name DeleteCluster"
    ]
    # and an unknown name in one case says the names are case-sensitive; a right one, nothing
    assert hints.event_name_hints(_query(event_name="nosuchcall"), table.query) == [
        "eventNames are case-sensitive, as CloudTrail writes them (CreateCluster, ExecuteStatement)"
    ]
    assert hints.event_name_hints(_query(event_name="CreateCluster"), table.query) == []


def test_the_known_event_names_are_the_services_calls():
    # Given the names the casing hint knows
    known = hints.known_event_names()
    # When they are looked at
    # Then they hold the calls of Redshift, Redshift Serverless, the Data API and KMS, and the rules' names
    assert {"CreateCluster", "CreateWorkgroup", "ExecuteStatement", "Decrypt", "DeleteClusterSnapshot"} <= known
    assert hints.event_name_casing("executestatement", known) == "ExecuteStatement"
    assert hints.event_name_casing("ExecuteStatement", known) is None
    assert hints.event_name_casing("nosuchcall", known) is None


def test_hints_are_printed_on_stderr_escaped(capsys):
    # Given a name with a terminal escape, typed as a principal, that is an actor
    crafted = "alice\x1b]0;pwned\x07"
    table = FakeTable(_event("e1", actor=crafted))
    # When the hints of the empty answer are printed
    hints.print_hints(_query(principal=crafted), table.query)
    # Then they are on stderr, one line each, escaped
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("redtrail: hint: --principal takes an ARN; alice")
    assert "\x1b" not in captured.err
    assert captured.err.count("\n") == 1


def test_a_query_without_those_keys_has_no_hint():
    # Given a query by account that found nothing
    table = FakeTable()
    # When its hints are asked for
    # Then there is none, and nothing was probed
    assert hints.empty_result_hints(_query(account="111122223333"), table.query) == []
    assert table.requests == []
