"""Property-based tests: arbitrary JSON never crashes the pipeline; classification reads only its four fields.

The fast path and the reference path are compared with each other in test_fast_path.py; here each is held to
the promise on its own: whatever JSON a file holds, the pipeline answers with an Analysis, None (no Records)
or a TrailFileError, and never with any other exception.
"""

import copy
import gzip
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redtrail.contracts.settings import DEFAULT_SENSITIVE_EVENT_NAMES, PipelineOptions
from redtrail.core.classify import REDSHIFT_SOURCES, classify
from redtrail.core.errors import TrailFileError
from redtrail.core.pipeline import Analysis, analyze, analyze_body
from redtrail.core.service_accounts import SERVICE_ACCOUNT_REGIONS

SOURCE = "s3://bucket/AWSLogs/1/CloudTrail/us-east-1/2024/05/01/file.json.gz"
SENSITIVE = DEFAULT_SENSITIVE_EVENT_NAMES
OPTIONS = PipelineOptions(retention_days=30, sensitive_event_names=SENSITIVE, redact_fields=())
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values classification and items look for, so that drawn records are often kept, not only ignored.
INTERESTING = st.sampled_from(
    [
        *sorted(REDSHIFT_SOURCES),
        *sorted(SERVICE_ACCOUNT_REGIONS)[:3],
        "kms.amazonaws.com",
        "aws:redshift:arn",
        "CreateNamespace",
        "2024-05-01T00:00:00Z",
        "true",
    ]
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    INTERESTING,
)
KEY = st.one_of(
    st.sampled_from(
        [
            "eventID",
            "eventSource",
            "eventName",
            "eventTime",
            "readOnly",
            "userIdentity",
            "accountId",
            "invokedBy",
            "arn",
            "type",
            "sessionContext",
            "sessionIssuer",
            "requestParameters",
            "responseElements",
            "encryptionContext",
            "aws:redshift:arn",
            "clusterIdentifier",
            "Records",
        ]
    ),
    st.text(max_size=4),
)
# Any JSON, with containers for the fields classification reads: what a hostile or broken file may hold.
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=4))
# Records shaped like CloudTrail's, so that the classification fields (any JSON in them) are often present.
RECORD_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "eventID": JSON,
        "eventSource": JSON,
        "eventName": JSON,
        "readOnly": JSON,
        "userIdentity": st.fixed_dictionaries({}, optional={"accountId": JSON, "invokedBy": JSON, "arn": JSON}) | JSON,
        "requestParameters": st.fixed_dictionaries({}, optional={"encryptionContext": JSON}) | JSON,
    },
)
ANY_RECORD = RECORD_LIKE | JSON


def _bodies(document: Any, ascii_only: bool) -> list[bytes]:
    text = json.dumps(document, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return [text, gzip.compress(text), json.dumps(document, indent=1).encode()]


def _answer(body: bytes) -> Analysis | None:
    """analyze_body's answer, or None for a TrailFileError (the one exception it may raise)."""
    try:
        return analyze_body(body, source=SOURCE, options=OPTIONS)
    except TrailFileError:
        return None


def _check_analysis(analysis: Analysis | None) -> None:
    """Exactly once: the items of one file have distinct keys; every kept event is one of them."""
    if analysis is None:
        return
    outcome = analysis.outcome
    keys = [item["eventID"]["S"] for item in analysis.items]
    assert len(keys) == len(set(keys))
    assert outcome.kept <= len(keys)
    assert outcome.kept + outcome.rejected + outcome.duplicates <= outcome.records


@FAST
@given(
    document=st.one_of(
        JSON,
        st.fixed_dictionaries({"Records": st.lists(ANY_RECORD, max_size=8)}),
        st.lists(ANY_RECORD, max_size=8),
    ),
    ascii_only=st.booleans(),
)
def test_arbitrary_json_files_are_analyzed_or_refused_with_a_trail_file_error(document, ascii_only):
    # Given any JSON document (an object with Records, a bare array, a scalar...) as compact, gzip and pretty text
    for body in _bodies(document, ascii_only):
        # When the pipeline analyzes it
        analysis = _answer(body)
        # Then it gives an Analysis (or None for a file without Records) whose items are unique and counted,
        # or a TrailFileError; nothing else escapes (an unexpected exception would fail the test)
        _check_analysis(analysis)


@FAST
@given(st.binary(max_size=64) | st.binary(max_size=64).map(gzip.compress))
def test_arbitrary_bytes_are_analyzed_or_refused_with_a_trail_file_error(body):
    # Given any bytes, plain or gzipped (corrupt, truncated, empty, not UTF-8...)
    # When the pipeline analyzes them
    analysis = _answer(body)
    # Then the answer is an Analysis, None or a TrailFileError, never another exception
    _check_analysis(analysis)


@FAST
@given(st.lists(ANY_RECORD, max_size=10))
def test_arbitrary_records_are_kept_rejected_or_ignored(records):
    # Given any list of JSON values as a file's records
    # When they are analyzed directly (the reference path)
    analysis = analyze(records, source=SOURCE, options=OPTIONS)
    # Then every kept item is unique, counted and carries its event as JSON
    _check_analysis(analysis)
    assert analysis.outcome.records == len(records)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"eventID": "e", "eventSource": ["redshift.amazonaws.com"]}, id="eventSource-array"),
        pytest.param({"eventID": "e", "userIdentity": {"invokedBy": {}}}, id="invokedBy-object"),
        pytest.param({"eventID": "e", "eventSource": "redshift.amazonaws.com", "eventName": []}, id="eventName-array"),
    ],
)
def test_records_with_array_or_object_classification_fields_do_not_crash(record):
    # Given a Redshift event, then a record whose eventSource, userIdentity.invokedBy or eventName is an array
    # or an object (valid JSON; these once raised TypeError: unhashable, failing the whole file)
    body = json.dumps(
        {
            "Records": [
                {"eventID": "ok", "eventSource": "redshift.amazonaws.com", "eventTime": "2024-01-01T00:00:00Z"},
                record,
            ]
        }
    ).encode()
    # When the file is analyzed
    analysis = analyze_body(body, source=SOURCE, options=replace(OPTIONS, retention_days=None))
    # Then the odd record is ignored or quarantined, and the good event is still kept
    assert analysis is not None
    assert "ok" in [item["eventID"]["S"] for item in analysis.items]


# --- classification depends only on its four fields -----------------------------------------------------------

ENCRYPTION_CONTEXT = st.dictionaries(
    st.one_of(st.sampled_from(["aws:redshift:arn", "aws:redshift-serverless:arn", "aws:s3:arn"]), st.text(max_size=6)),
    JSON,
    max_size=3,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "eventSource": JSON,
        "userIdentity": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"accountId": JSON, "invokedBy": JSON, "arn": JSON, "type": JSON, "x": JSON}
            ),
            JSON,
        ),
        "requestParameters": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"encryptionContext": st.one_of(ENCRYPTION_CONTEXT, JSON), "clusterIdentifier": JSON}
            ),
            JSON,
        ),
        "eventID": JSON,
        "eventName": JSON,
        "responseElements": JSON,
    },
)


def _classified_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Only what classify is defined on: eventSource, userIdentity.{accountId,invokedBy}, encryptionContext keys."""
    kept: dict[str, Any] = {}
    if "eventSource" in record:
        kept["eventSource"] = record["eventSource"]
    identity = record.get("userIdentity")
    if isinstance(identity, Mapping):
        kept["userIdentity"] = {name: identity[name] for name in ("accountId", "invokedBy") if name in identity}
    parameters = record.get("requestParameters")
    if isinstance(parameters, Mapping) and "encryptionContext" in parameters:
        context = parameters["encryptionContext"]
        # The context's values are not read: only its keys.
        kept["requestParameters"] = {
            "encryptionContext": {key: None for key in context} if isinstance(context, Mapping) else context
        }
    return kept


def _mutated(record: dict[str, Any], noise: dict[str, Any], value: Any) -> dict[str, Any]:
    """``record`` with every field classify does not read changed or added (its four fields left as they are)."""
    mutated = copy.deepcopy(record)
    for name in list(mutated):
        if name not in {"eventSource", "userIdentity", "requestParameters"}:
            mutated[name] = value
    for name, extra in noise.items():
        if name not in {"eventSource", "userIdentity", "requestParameters"}:
            mutated[name] = extra
    identity = mutated.get("userIdentity")
    if isinstance(identity, dict):
        identity.update({name: value for name in ("arn", "type", "sessionContext", "principalId")})
    parameters = mutated.get("requestParameters")
    if isinstance(parameters, dict):
        parameters.update({"clusterIdentifier": value, "bucketName": "redshift-logs"})
        context = parameters.get("encryptionContext")
        if isinstance(context, dict):
            for key in context:
                context[key] = value
    return mutated


@settings(max_examples=300, deadline=None)
@given(record=RECORD, noise=st.dictionaries(KEY, JSON, max_size=4), value=JSON)
def test_classification_depends_only_on_the_fields_it_is_defined_on(record, noise, value):
    # Given any record, the same record reduced to the four classification fields, and the same record with
    # every other field changed (names, times, identity ARNs, request parameters, encryption-context values)
    reduced = _classified_fields(record)
    mutated = _mutated(record, noise, value)
    # When each is classified
    match = classify(record)
    # Then the three answers are the same rule (and the same service-account region)
    assert classify(reduced) == match
    assert classify(mutated) == match


@settings(max_examples=200, deadline=None)
@given(
    source=st.sampled_from(sorted(REDSHIFT_SOURCES)),
    record=RECORD,
)
def test_a_redshift_event_source_is_kept_whatever_else_the_record_holds(source, record):
    # Given any record whose eventSource is one of the four Redshift services
    record = {**record, "eventSource": source}
    # When it is classified
    match = classify(record)
    # Then it is kept by the eventSource rule, the first in precedence
    assert match is not None
    assert match.matched_by.value == "eventSource"
