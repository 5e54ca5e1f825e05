import json
from datetime import UTC, datetime, timedelta

import pytest

from redtrail.cli.main import main
from redtrail.cli.output import escape, plain, render
from redtrail.cli.timeparse import parse_time

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("30m", NOW - timedelta(minutes=30)),
        ("now", NOW),
        ("2024-04-01", datetime(2024, 4, 1, tzinfo=UTC)),
        ("2024-04-01T10:00:00Z", datetime(2024, 4, 1, 10, tzinfo=UTC)),
        ("2024-04-01T12:00:00+02:00", datetime(2024, 4, 1, 10, tzinfo=UTC)),
    ],
)
def test_times_are_iso_or_relative(text, expected):
    # Given a time as a user types it
    # When it is parsed
    # Then it is an aware UTC time
    assert parse_time(text, NOW) == expected


def test_an_unreadable_time_says_what_is_accepted():
    # Given a time nobody can read
    # When it is parsed
    # Then the error names the accepted forms
    with pytest.raises(ValueError, match="24h"):
        parse_time("yesterday-ish", NOW)


def test_control_characters_cannot_reach_the_terminal():
    # Given a crafted event name with escape sequences and a bidi override
    row = {"eventTime": "2024-05-01T00:00:00Z", "eventName": "Evil\x1b[2J\u202eName\r", "isWrite": True}
    # When it is rendered as a table
    table = render([row], "table")
    # Then no control character is printed raw
    assert "\x1b" not in table
    assert "\u202e" not in table
    assert "\r" not in table
    assert "Evil\\u001b[2J\\u202eName\\u000d" in table
    assert escape("plain café") == "plain café"
    # and JSON output escapes them as JSON does
    assert "\x1b" not in render([row], "json")
    assert json.loads(render([row], "jsonl"))["eventName"] == row["eventName"]


def test_table_shows_reads_writes_and_service_account_regions():
    # Given a stored item as DynamoDB returns it
    item = {
        "eventTime": {"S": "2017-03-03T17:16:51Z"},
        "eventName": {"S": "Decrypt"},
        "matchedBy": {"S": "serviceAccount"},
        "redshiftServiceAccountRegion": {"S": "us-east-2"},
        "isWrite": {"BOOL": False},
        "expiresAt": {"N": "1700000000"},
    }
    # When it is rendered
    row = plain(item)
    table = render([row], "table")
    # Then the plain values and the resolved region are shown
    assert row["expiresAt"] == 1700000000
    assert "serviceAccount(us-east-2)" in table
    assert " read " in table
    assert table.endswith("(1 event)")
    assert render([], "table") == "(no events)"


def test_missing_credentials_are_a_one_line_error(monkeypatch, tmp_path, capsys):
    # Given a machine without AWS credentials or endpoint
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # When a command needs AWS
    status = main(["status", "--region", "us-east-1"])
    # Then it says so in one line, with what to do, and no traceback
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "Unable to locate credentials" in err
    assert "Traceback" not in err


def test_the_built_in_commands_are_the_parsers_own():
    # Given the parser without plugins (what `redtrail ingest ...` builds, to start fast)
    from redtrail.cli import main as cli

    parser = cli._parser(plugins=False)
    # When its subcommands are listed
    (subcommands,) = (action for action in parser._actions if action.dest == "==SUPPRESS==" or action.choices)
    # Then they are exactly the names that skip the plugin scan
    assert set(subcommands.choices) == cli.BUILT_IN_COMMANDS


def test_local_without_the_dev_tools_is_a_one_line_error(monkeypatch, capsys):
    # Given an installation without the dev tools (no `redtrail.commands` entry point)
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [])
    from redtrail.cli.main import main

    # When `redtrail local` runs
    status = main(["local"])
    # Then it says, in one line, that the dev tools are missing and how to get them
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "dev tools" in err
    assert "make setup" in err
