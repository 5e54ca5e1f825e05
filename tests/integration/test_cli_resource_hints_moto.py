"""``redtrail query --resource`` finds what belongs to a resource, and empty answers say why (moto server)."""

import json
import uuid

import boto3
import pytest

from redtrail.cli.main import main
from redtrail.contracts import schema
from redtrail_devtools.emulator import moto_server
from tests.support import local_credentials, trail_file

REGION = "us-east-1"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/dba"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/dba/alice"
RANGE = ["--since", "2024-05-01", "--until", "2024-06-01"]


def _call(event_id, day, name, request, source="redshift"):
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": SESSION,
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE, "accountId": ACCOUNT}},
        },
        "eventID": event_id,
        "eventTime": f"2024-05-{day:02d}T12:00:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "requestParameters": request,
        "responseElements": None,
        "readOnly": False,
        "recipientAccountId": ACCOUNT,
    }


RECORDS = [
    _call("create", 1, "CreateCluster", {"clusterIdentifier": "c1", "nodeType": "ra3.xlplus"}),
    _call("snap", 2, "CreateClusterSnapshot", {"snapshotIdentifier": "s1", "clusterIdentifier": "c1"}),
    _call("drop", 3, "DeleteClusterSnapshot", {"snapshotIdentifier": "s1", "snapshotClusterIdentifier": "c1"}),
    _call("other", 4, "DeleteClusterSnapshot", {"snapshotIdentifier": "s9", "snapshotClusterIdentifier": "c9"}),
    _call("wg", 5, "CreateWorkgroup", {"workgroupName": "wg", "namespaceName": "ns"}, "redshift-serverless"),
]


@pytest.fixture(scope="module")
def table_args(tmp_path_factory):
    with local_credentials(), moto_server() as url:
        args = ["--endpoint-url", url, "--region", REGION, "--table", f"events-{uuid.uuid4().hex[:8]}"]
        path = tmp_path_factory.mktemp("trail") / "trail.json"
        path.write_bytes(trail_file(RECORDS, compress=False))
        assert main(["ingest", *args, "--create-table", "--workers", "1", str(path)]) == 0
        yield args


def _query(capsys, table_args, *flags):
    status = main(["query", *table_args, *RANGE, "--format", "json", *flags])
    captured = capsys.readouterr()
    assert status == 0
    return json.loads(captured.out), captured.err


def test_the_table_has_the_index_of_what_resources_belong_to(table_args):
    # Given the table --create-table made
    client = boto3.client("dynamodb", endpoint_url=table_args[1], region_name=REGION)
    table = client.describe_table(TableName=table_args[-1])["Table"]
    # When its indexes are listed
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    # Then byParentResource is one, keyed by parentResource and eventTime, keys only
    parent = indexes[schema.BY_PARENT_RESOURCE.name]
    assert [key["AttributeName"] for key in parent["KeySchema"]] == ["parentResource", "eventTime"]
    assert parent["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_a_snapshot_is_found_by_its_own_key(capsys, table_args):
    # Given a snapshot created and deleted
    # When it is queried, by its key and by its ARN
    rows, _ = _query(capsys, table_args, "--resource", "snapshot:s1")
    by_arn, _ = _query(capsys, table_args, "--resource", f"arn:aws:redshift:{REGION}:{ACCOUNT}:snapshot:c1/s1")
    # Then both of its events come, newest first
    assert [row["eventID"] for row in rows] == ["drop", "snap"]
    assert [row["resource"] for row in rows] == ["snapshot:s1", "snapshot:s1"]
    assert by_arn == rows


def test_a_cluster_is_found_with_its_snapshots_events(capsys, table_args):
    # Given a cluster, and its snapshot's events that name it as their cluster
    # When the cluster is queried
    rows, err = _query(capsys, table_args, "--resource", "cluster:c1")
    # Then its own event and its snapshot's come, newest first, each with its resource (and the cluster it is of)
    assert [row["eventID"] for row in rows] == ["drop", "snap", "create"]
    assert [row["resource"] for row in rows] == ["snapshot:s1", "snapshot:s1", "cluster:c1"]
    assert [row.get("parentResource") for row in rows] == ["cluster:c1", "cluster:c1", None]
    assert rows[0]["eventName"] == "DeleteClusterSnapshot"
    assert rows[0]["principal"] == ROLE
    assert err == ""


def test_other_filters_apply_to_what_belongs_to_the_cluster(capsys, table_args):
    # Given the cluster's events
    # When they are asked for by eventName too
    rows, _ = _query(capsys, table_args, "--resource", "cluster:c1", "--event-name", "DeleteClusterSnapshot")
    limited, _ = _query(capsys, table_args, "--resource", "cluster:c1", "--limit", "1")
    # Then only the snapshot's deletion comes; a limit keeps the newest
    assert [row["eventID"] for row in rows] == ["drop"]
    assert [row["eventID"] for row in limited] == ["drop"]


def test_a_workgroup_is_found_by_its_namespace(capsys, table_args):
    # Given a workgroup created in a namespace
    # When the namespace is queried
    rows, _ = _query(capsys, table_args, "--resource", "namespace:ns")
    # Then the workgroup's creation comes
    assert [row["eventID"] for row in rows] == ["wg"]


def test_a_session_arn_as_principal_hints_the_role_and_the_session(capsys, table_args):
    # Given events of an assumed-role session (keyed on the role, as CloudTrail's sessionIssuer names it)
    # When the session's ARN, as CloudTrail shows it, is the principal
    rows, err = _query(capsys, table_args, "--principal", SESSION)
    # Then nothing matches, and stderr says which query does
    assert rows == []
    assert err == (
        "redtrail: hint: --principal is the role of an assumed-role session, not the session's ARN: "
        f"--principal {ROLE} --actor alice has this session's events\n"
    )
    # and that query finds them
    found, _ = _query(capsys, table_args, "--principal", ROLE, "--actor", "alice")
    assert len(found) == len(RECORDS)


def test_a_resource_without_its_kind_hints_the_kinds_it_has_events_as(capsys, table_args):
    # Given a cluster's events
    # When its name is given without its kind, and as the wrong kind
    rows, err = _query(capsys, table_args, "--resource", "c1")
    _, wrong = _query(capsys, table_args, "--resource", "workgroup:c1")
    # Then nothing matches, and stderr says the kinds, and which the name has events as
    assert rows == []
    assert err.startswith("redtrail: hint: --resource takes kind:name, the kind one of cluster, namespace, ")
    assert err.endswith("; c1 has events in this range as cluster:c1\n")
    assert wrong == "redtrail: hint: workgroup:c1 has no events in this range; c1 has events as cluster:c1\n"


def test_an_event_name_in_lower_case_hints_the_right_case(capsys, table_args):
    # Given CreateCluster events
    # When the name is typed in lower case
    rows, err = _query(capsys, table_args, "--event-name", "createcluster")
    # Then stderr gives the right case
    assert rows == []
    assert err == (
        "redtrail: hint: eventNames are case-sensitive: --event-name CreateCluster (it has events in this range)\n"
    )


def test_an_answer_in_the_table_format_keeps_its_line_and_hints_on_stderr(capsys, table_args):
    # Given no events of a cluster
    # When it is queried as a table
    status = main(["query", *table_args, *RANGE, "--resource", "cluster:nothing"])
    captured = capsys.readouterr()
    # Then the table says there are none, and no other kind has that name either: no hint
    assert status == 0
    assert captured.out == "(no events)\n"
    assert captured.err == ""
