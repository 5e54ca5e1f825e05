import re

import pytest

from redtrail.core.classify import MatchedBy, classify
from redtrail.core.service_accounts import SERVICE_ACCOUNT_REGIONS, service_account_region
from tests.support import EVENTS, REFERENCE, event, real_records

REFERENCE_CASES = [
    ("authorize_datashare", MatchedBy.EVENT_SOURCE, None),
    ("create_namespace", MatchedBy.EVENT_SOURCE, None),
    ("execute_statement", MatchedBy.EVENT_SOURCE, None),
    ("execute_statement_client_token", MatchedBy.EVENT_SOURCE, None),
    ("create_connection", MatchedBy.EVENT_SOURCE, None),
    ("kms_decrypt_by_redshift", MatchedBy.SERVICE_ACCOUNT, "us-east-2"),
]


@pytest.mark.parametrize(("name", "matched_by", "region"), REFERENCE_CASES)
def test_every_reference_example_is_kept_by_the_right_rule(name, matched_by, region):
    # Given an example event from the AWS page
    record = event(name)
    # When it is classified
    match = classify(record)
    # Then the expected rule keeps it
    assert match is not None
    assert match.matched_by is matched_by
    assert match.service_account_region == region


def test_the_cases_cover_every_example_in_the_reference_document():
    # Given the examples printed in the reference document
    printed = [line for line in REFERENCE.read_text().splitlines() if line.strip().startswith('{ "eventVersion"')]
    # When they are compared with the sample files
    names = {case[0] for case in REFERENCE_CASES}
    # Then each printed example has its own sample file and test case
    assert len(printed) == len(names) == len(list(EVENTS.glob("*.json"))) - 2  # minus the S3 notification samples


def test_service_account_table_matches_the_reference_document():
    # Given the region table printed in the reference document
    printed = dict(
        (account, region)
        for region, account in re.findall(r"^.* Region ([a-z]{2}-[a-z]+-\d) (\d{12})$", REFERENCE.read_text(), re.M)
    )
    # When it is compared with the code's table
    # Then both hold the same 29 regions, account IDs kept as strings with their leading zeros
    assert len(printed) == 29
    assert dict(SERVICE_ACCOUNT_REGIONS) == printed
    assert service_account_region("041313461515") == "eu-south-1"
    assert service_account_region(41313461515) is None


def _kms_call(**identity):
    return {
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "userIdentity": identity,
        "requestParameters": {"encryptionContext": {"aws:s3:arn": "arn:aws:s3:::redshift-logs/x"}},
    }


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param({"eventSource": "redshift-serverless.amazonaws.com"}, MatchedBy.EVENT_SOURCE, id="serverless"),
        pytest.param({"eventSource": "redshift-data.amazonaws.com"}, MatchedBy.EVENT_SOURCE, id="data-api"),
        pytest.param(_kms_call(accountId="368064434614"), MatchedBy.SERVICE_ACCOUNT, id="service-account"),
        pytest.param(
            _kms_call(type="AWSService", invokedBy="redshift.amazonaws.com"), MatchedBy.INVOKED_BY, id="invoked-by"
        ),
        pytest.param(
            {
                "eventSource": "kms.amazonaws.com",
                "userIdentity": {"accountId": "999999999999"},
                "requestParameters": {"encryptionContext": {"aws:redshift-serverless:arn": "arn:aws:x"}},
            },
            MatchedBy.ENCRYPTION_CONTEXT,
            id="encryption-context-new-region",
        ),
        pytest.param(
            {"eventSource": "redshift.amazonaws.com", "userIdentity": {"accountId": "368064434614"}},
            MatchedBy.EVENT_SOURCE,
            id="event-source-wins-over-service-account",
        ),
        pytest.param(
            {
                "userIdentity": {"accountId": "368064434614", "invokedBy": "redshift.amazonaws.com"},
                "requestParameters": {"encryptionContext": {"aws:redshift:arn": "x"}},
            },
            MatchedBy.SERVICE_ACCOUNT,
            id="service-account-wins-over-invoked-by",
        ),
    ],
)
def test_rules_and_their_precedence(record, expected):
    # Given a record that one or more rules hold for
    # When it is classified
    match = classify(record)
    # Then the first rule in order of precedence is the one named
    assert match is not None
    assert match.matched_by is expected


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(_kms_call(accountId="111122223333"), id="bucket-named-redshift-logs"),
        pytest.param({"eventSource": "s3.amazonaws.com", "requestParameters": {"bucketName": "redshift"}}, id="decoy"),
        pytest.param({"eventSource": "REDSHIFT.amazonaws.com"}, id="wrong-case"),
        pytest.param({"eventSource": "redshift.amazonaws.com.evil"}, id="suffix"),
        pytest.param({"userIdentity": "368064434614"}, id="identity-not-an-object"),
        pytest.param({"userIdentity": {"accountId": 368064434614}}, id="account-as-number"),
        pytest.param({"requestParameters": {"encryptionContext": ["aws:redshift:arn"]}}, id="context-not-an-object"),
        pytest.param({"requestParameters": None, "userIdentity": None, "eventSource": None}, id="nulls"),
        pytest.param({}, id="empty"),
    ],
)
def test_non_redshift_records_are_not_kept(record):
    # Given a record that only looks related to Redshift, or is oddly shaped
    # When it is classified
    # Then it is not kept, and nothing raises
    assert classify(record) is None


def test_every_real_third_party_record_classifies_without_error():
    # Given every record of the real trail files (all negatives but one Sumo Logic sample)
    records = real_records()
    # When each is classified
    kept = [(name, record.get("eventName")) for name, record in records if classify(record) is not None]
    # Then only the RebootCluster sample is a Redshift event
    assert len(records) > 3000
    assert kept == [("redshift-ulm.md.RebootCluster.extracted.json", "RebootCluster")]
