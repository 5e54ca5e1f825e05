"""``redtrail ingest``'s summary: skipped files counted by reason, counts in the singular when there is one."""

import pytest

from redtrail.cli.ingest import SKIP_REASONS, Failure, IngestSummary
from redtrail.cli.main import main
from redtrail.core.pipeline import Conflict, FileOutcome, Status
from redtrail.core.trail_file import SkipReason
from tests.support import EVENTS


def _skipped(reason):
    return FileOutcome("file", Status.SKIPPED, reason)


def test_skipped_files_are_counted_by_reason_most_first():
    # Given files skipped for several reasons, and one read
    summary = IngestSummary()
    for reason in [SkipReason.DIGEST] * 2 + [SkipReason.OUTSIDE_AWSLOGS] * 7 + [SkipReason.NO_RECORDS]:
        summary.add(_skipped(reason))
    summary.add(FileOutcome("read"))
    # When the summary is written
    # Then the skips are counted per reason, the most frequent first
    assert summary.lines()[0] == (
        "files: 1 read, 10 skipped (7 not under AWSLogs/, 2 in CloudTrail-Digest/, 1 without Records), 0 failed"
    )
    assert summary.skipped == 10
    assert summary.files == 11


def test_nothing_skipped_says_no_reasons():
    # Given a read file only
    summary = IngestSummary()
    summary.add(FileOutcome("read"))
    # When the summary is written
    # Then no reasons are listed
    assert summary.lines()[0] == "files: 1 read, 0 skipped, 0 failed"


@pytest.mark.parametrize("reason", [*SkipReason, None])
def test_every_skip_reason_is_worded(reason):
    # Given a file skipped for a reason (or none given)
    summary = IngestSummary()
    summary.add(_skipped(reason))
    # When the summary is written
    # Then the reason has its words
    assert summary.lines()[0] == f"files: 0 read, 1 skipped (1 {SKIP_REASONS[reason]}), 0 failed"


def test_counts_of_one_are_in_the_singular():
    # Given one of each thing the summary counts
    summary = IngestSummary()
    outcome = FileOutcome("f", quarantined=1, duplicates=1, rejected=1, conflicts=(Conflict("e1", "other"),))
    summary.add(outcome)
    summary.fail(Failure("bad", "throttled", written=1))
    # When the summary is written
    lines = summary.lines()
    # Then every count of one reads in the singular
    assert "quarantined: 1 record kept with its reason, not as events (list them: redtrail query --rejected)" in lines
    assert "duplicates: 1 record repeats an eventID of its file (the first one is kept)" in lines
    assert "not objects: 1 record is not a JSON object (counted, not stored)" in lines
    assert "conflicts: 1 eventID already stored with other content (the stored ones stay)" in lines
    assert (
        "partly written: 1 failed file wrote 1 item before it failed (counted above; ingesting them again leaves"
        " those as they are)"
    ) in lines
    assert "failed: bad: throttled (1 item written before)" in lines


def test_counts_of_several_are_in_the_plural():
    # Given two of each
    summary = IngestSummary()
    summary.add(FileOutcome("f", quarantined=2, duplicates=2, rejected=2))
    summary.fail(Failure("a", "x", written=2))
    summary.fail(Failure("b", "y", written=1))
    # When the summary is written
    text = "\n".join(summary.lines())
    # Then they read in the plural
    assert "quarantined: 2 records kept with their reason" in text
    assert "duplicates: 2 records repeat an eventID" in text
    assert "not objects: 2 records are not JSON objects" in text
    assert "partly written: 2 failed files wrote 3 items before they failed" in text


def test_ingesting_the_sample_events_says_why_files_were_skipped(capsys):
    # Given the sample events: single records (not trail files) and two files that are not JSON
    # When they are ingested without writing
    status = main(["ingest", "--dry-run", "--workers", "1", str(EVENTS)])
    # Then the skips say why
    out = capsys.readouterr().out
    assert status == 0
    assert "files: 1 read, 9 skipped (7 without Records, 2 not named *.json or *.json.gz), 0 failed" in out
