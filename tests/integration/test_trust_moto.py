"""Trust through the real handler on moto: signed digests, the ledger, forged files, overwrite attempts.

CloudTrail is played by ``TrailWriter`` (files named, hashed, signed and chained as CloudTrail writes them); the
function fetches the public key from the ListPublicKeys stand-in, as it would from CloudTrail.
"""

import gzip
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from redtrail.adapters.ledger import DynamoDBLedger
from redtrail.core.integrity import Integrity
from redtrail.core.ledger import LogStatus
from redtrail.function import consumer
from redtrail.function.handler import lambda_handler
from redtrail.function.observability import metrics
from redtrail_devtools.cloudtrail_signer import TrailWriter, hours
from redtrail_devtools.poller import scheduled_event
from tests.integration.conftest import BUCKET, CLOUDTRAIL_KEY, REGION, TABLE, emf_metrics
from tests.support import event, trail_file

ACCOUNT = "111122223333"  # the reference AuthorizeDataShare's account
EPOCH = "2010-01-01T00:00:00Z"
FOREVER = "2029-01-01T00:00:00Z"


def _process(pipeline, context) -> dict:
    """Run the handler on every waiting notification (the test event dropped); its response."""
    messages = [message for message in pipeline.receive() if "s3:TestEvent" not in message["Body"]]
    return lambda_handler(pipeline.event(messages), context)


def _problems(pipeline) -> list[tuple[str, str]]:
    ledger = DynamoDBLedger(TABLE, pipeline.dynamodb)
    return sorted((problem.code.value, problem.object) for problem in ledger.problems(EPOCH, FOREVER))


def _sweep_at(context, moment: datetime) -> None:
    """The scheduled sweep, run by the handler's consumer with its clock at ``moment``."""
    dependencies = consumer.default_dependencies()
    integrity = dependencies.integrity
    later = Integrity(integrity.ledger, integrity.public_keys, replace(integrity.clock, now=lambda: moment))
    consumer.handle_event(scheduled_event(REGION, ACCOUNT), context, replace(dependencies, integrity=later))
    metrics.flush_metrics()  # what the handler's decorator does at the end of an invocation


def _window(hours_ago: int = 3, count: int = 2) -> list[tuple[datetime, datetime]]:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return hours(now - timedelta(hours=hours_ago), count)


def test_a_signed_chain_with_an_empty_digest_is_verified(pipeline, context, capsys):
    # Given a log file and the two hourly digests after it, the second listing nothing, signed as CloudTrail signs
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    (start, middle), (_, end) = _window()
    log = writer.log_file([event("authorize_datashare")], start + timedelta(minutes=5))
    pipeline.deliver(log, writer.digest(start, middle, [log]), writer.digest(middle, end, []))
    # When the function processes their notifications
    response = _process(pipeline, context)
    # Then the digests are verified, the log file with them, and nothing is a problem
    assert response == {"batchItemFailures": []}
    ledger = DynamoDBLedger(TABLE, pipeline.dynamodb)
    entry = ledger.log(f"s3://{BUCKET}/{log.key}")
    assert entry is not None
    assert entry.status is LogStatus.VERIFIED
    assert entry.seen_sha256 == entry.listed_sha256 == log.sha256
    (chain,) = ledger.chains()
    assert chain.last_end == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _problems(pipeline) == []
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["DigestsVerified"], metrics["LogsVerified"]) == (2, 1)
    assert "IntegrityProblems" not in metrics


def test_a_file_under_awslogs_outside_cloudtrails_layout_is_skipped_and_counted(pipeline, context, capsys):
    # Given a forged file whose key is simply under AWSLogs/ (what anyone with write access could put there)
    pipeline.put("AWSLogs/forged.json.gz", trail_file([event("authorize_datashare")]))
    # When the function processes its notification
    response = _process(pipeline, context)
    # Then it is acknowledged, counted as skipped, and nothing from it is stored
    assert response == {"batchItemFailures": []}
    assert pipeline.item_count() == 0
    assert emf_metrics(capsys.readouterr().out)["FilesSkipped"] == 1


def test_a_forged_file_under_a_proper_key_is_found_once_its_hour_is_digested(pipeline, context):
    # Given a genuine log file and a file someone put under a name CloudTrail would use, both arriving now
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    (start, middle), (_, end) = hours(now - timedelta(minutes=30), 2)
    genuine = writer.log_file([event("authorize_datashare")], now, "genuine0000000")
    forged = writer.log_file([event("authorize_datashare") | {"eventID": "forged-1"}], now, "forged00000000")
    pipeline.deliver(genuine, forged)
    _process(pipeline, context)
    # When the digests of the hours around their arrival arrive, listing only the genuine file
    pipeline.deliver(writer.digest(start, middle, [genuine]), writer.digest(middle, end, []))
    _process(pipeline, context)
    # Then the forged file is LOG_NOT_IN_DIGEST, the genuine one verified
    assert _problems(pipeline) == [("LOG_NOT_IN_DIGEST", f"s3://{BUCKET}/{forged.key}")]
    ledger = DynamoDBLedger(TABLE, pipeline.dynamodb)
    assert ledger.log(f"s3://{BUCKET}/{genuine.key}").status is LogStatus.VERIFIED  # type: ignore[union-attr]


def test_a_different_event_under_a_stored_event_id_is_a_conflict_and_the_genuine_item_survives(
    pipeline, context, capsys
):
    # Given the genuine AuthorizeDataShare stored from its log file
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    genuine_record = event("authorize_datashare")
    genuine = writer.log_file([genuine_record], datetime(2024, 5, 1, 12, tzinfo=UTC), "genuine0000000")
    pipeline.deliver(genuine)
    _process(pipeline, context)
    before = pipeline.item(genuine_record["eventID"])
    # When another file carries the same eventID as a read-only call by the Redshift service, and a third the
    # same event again, unchanged
    rewritten = genuine_record | {"eventName": "DescribeClusters", "readOnly": True}
    forged = writer.log_file([rewritten], datetime(2024, 5, 1, 13, tzinfo=UTC), "rewrite0000000")
    again = writer.log_file([genuine_record], datetime(2024, 5, 1, 14, tzinfo=UTC), "again000000000")
    pipeline.deliver(forged, again)
    response = _process(pipeline, context)
    # Then the stored item is unchanged, one EVENT_CONFLICT names the forged file and the stored source, and the
    # unchanged copy is a no-op
    assert response == {"batchItemFailures": []}
    assert pipeline.item(genuine_record["eventID"]) == before
    ledger = DynamoDBLedger(TABLE, pipeline.dynamodb)
    (problem,) = ledger.problems(EPOCH, FOREVER)
    assert problem.code.value == "EVENT_CONFLICT"
    assert problem.object == f"s3://{BUCKET}/{forged.key}"
    assert f"s3://{BUCKET}/{genuine.key}" in problem.detail
    assert problem.event_id == genuine_record["eventID"]
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["IntegrityProblems"] == 1
    assert metrics["ItemsUnchanged"] == 1


def test_a_record_for_another_account_is_quarantined_not_stored(pipeline, context):
    # Given a file in one account's folder carrying a record whose recipient is another account
    writer = TrailWriter(BUCKET, "999988887777", CLOUDTRAIL_KEY)
    log = writer.log_file([event("authorize_datashare")], datetime(2024, 5, 1, 12, tzinfo=UTC))
    pipeline.deliver(log)
    # When the function processes it
    _process(pipeline, context)
    # Then no event item exists for it; its quarantine item says why
    record_id = event("authorize_datashare")["eventID"]
    assert pipeline.item(record_id) is None
    (quarantined,) = [event_id for event_id in pipeline.event_ids() if event_id.startswith("rejected#")]
    item = pipeline.item(quarantined)
    assert "recipientAccountId" in item["rejectReason"]["S"]


def test_the_sweep_reports_a_silent_chain_and_a_file_its_digest_never_saw(pipeline, context, capsys):
    # Given a chain whose only digest ended three hours ago and lists a log file that was never delivered
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    ((start, end),) = _window(hours_ago=4, count=1)
    missing = writer.log_file([event("authorize_datashare")], start + timedelta(minutes=5))
    pipeline.deliver(writer.digest(start, end, [missing]))
    _process(pipeline, context)
    capsys.readouterr()
    # When the scheduled sweep runs two hours later
    _sweep_at(context, datetime.now(UTC) + timedelta(hours=2))
    # Then the chain is late (the heartbeat), the listed file was not delivered, and the stale chain is counted
    assert _problems(pipeline) == sorted(
        [("DIGEST_LATE", f"s3://{BUCKET}/{writer.previous.key}"), ("LOG_NOT_DELIVERED", f"s3://{BUCKET}/{missing.key}")]  # type: ignore[union-attr]
    )
    assert emf_metrics(capsys.readouterr().out)["StaleChains"] == 1


def test_a_digest_with_a_forged_signature_is_a_problem_and_proves_nothing(pipeline, context):
    # Given a log file and a digest of it whose text was edited after signing (one more file listed)
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    ((start, end),) = _window(count=1)
    log = writer.log_file([event("authorize_datashare")], start + timedelta(minutes=5))
    digest = writer.digest(start, end, [log])
    document = json.loads(digest.text)
    document["logFiles"].append(dict(document["logFiles"][0], s3Object=document["logFiles"][0]["s3Object"] + "x"))
    pipeline.deliver(log)
    pipeline.s3.put_object(
        Bucket=BUCKET, Key=digest.key, Body=gzip.compress(json.dumps(document).encode()), Metadata=digest.metadata
    )
    # When the function processes them
    _process(pipeline, context)
    # Then the digest's signature is invalid, and the log file it claims to list is not verified by it
    assert _problems(pipeline) == [("DIGEST_SIGNATURE_INVALID", f"s3://{BUCKET}/{digest.key}")]
    ledger = DynamoDBLedger(TABLE, pipeline.dynamodb)
    assert ledger.log(f"s3://{BUCKET}/{log.key}").status is not LogStatus.VERIFIED  # type: ignore[union-attr]


def test_the_ledger_costs_a_few_requests_per_log_file_and_per_digest(pipeline, context):
    # Given twelve log files of one hour, each with one event, then the hour's digest listing them all
    writer = TrailWriter(BUCKET, ACCOUNT, CLOUDTRAIL_KEY)
    (start, end), _ = _window()
    logs = [
        writer.log_file(
            [event("authorize_datashare") | {"eventID": f"e-{n}"}], start + timedelta(minutes=n), f"u{n:013d}"
        )
        for n in range(12)
    ]
    pipeline.deliver(*logs)
    # When the function reads the log files, then the digest
    pipeline.operations.clear()
    _process(pipeline, context)
    reading = Counter(pipeline.operations)
    pipeline.deliver(writer.digest(start, end, logs))
    pipeline.operations.clear()
    _process(pipeline, context)
    settling = Counter(pipeline.operations)
    # Then each log file costs its event's read and put, one ledger update and one query for its chain's digests
    # (and the account's namespace one put, once); the digest one update, one query (the files left unlisted),
    # its chain one put, and three updates per file it settles (the listing tried as the file's first note,
    # then added to it, and its status): the numbers docs/scaling.md prices
    assert reading == {"BatchGetItem": 12, "PutItem": 12 + 1, "UpdateItem": 12, "Query": 12}
    assert settling == {"PutItem": 1, "Query": 1, "UpdateItem": 1 + 3 * 12}
