"""Bounds on what input can make redtrail do: how far a trail file may inflate, which times the CLI accepts, how many
Queries a query may make unasked, and what the stack's state means for files arriving now."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from redtrail.adapters.dynamodb import EventTable
from redtrail.cli import main as main_module
from redtrail.cli.main import main
from redtrail.cli.status import stack_state_problem
from redtrail.contracts.settings import DEFAULT_MAX_INFLATED_MB, Env, PipelineOptions, Settings

# --- how far a trail file may inflate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param({}, DEFAULT_MAX_INFLATED_MB, id="the CLI: no function memory"),
        pytest.param({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}, 128, id="Lambda, 512 MB"),
        pytest.param({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"}, 752, id="Lambda, 3008 MB"),
        pytest.param({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "MAX_INFLATED_MB": "300"}, 300, id="configured"),
        pytest.param({"MAX_INFLATED_MB": " 64 "}, 64, id="configured, the CLI"),
    ],
)
def test_the_inflate_limit_is_a_quarter_of_the_function_memory_unless_configured(environment, expected):
    # Given the environment of a function (Lambda states its memory), or of the CLI
    # When the function's settings and the pipeline options are read from it
    options = PipelineOptions.from_env(environment)
    settings = Settings.from_env({"TABLE_NAME": "t", **environment})
    # Then the limit is the configured one, else a quarter of the function's memory, else the fixed default (that of
    # the function's default memory); and it survives the trip through the environment the stack writes
    assert options.max_inflated_mb == settings.options.max_inflated_mb == expected
    assert options.max_inflated_bytes == expected << 20
    assert PipelineOptions.from_env(options.environment()) == options
    assert DEFAULT_MAX_INFLATED_MB == 128


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "lots"])
def test_a_bad_inflate_limit_is_refused_naming_the_variable(value):
    # Given a limit that is not a positive whole number of MB
    # When the options are read
    # Then the error names the variable
    with pytest.raises(ValueError, match=f"{Env.MAX_INFLATED_MB} must be a positive whole number"):
        PipelineOptions.from_env({"MAX_INFLATED_MB": value})


# --- times the CLI accepts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["query", "--table", "t", "--since", "3000000d"], id="query --since 3000000d"),
        pytest.param(["query", "--table", "t", "--until", "9999-12-31T23:00:00-05:00"], id="query --until past 9999"),
        pytest.param(["backfill", "s3://bucket/AWSLogs/", "--since", "5000000d"], id="backfill --since 5000000d"),
        pytest.param(["alerts", "--table", "t", "--since", "3000000d"], id="alerts --since 3000000d"),
        pytest.param(["verify", "--table", "t", "--since", "99999999w"], id="verify --since 99999999w"),
    ],
)
def test_a_time_beyond_the_calendar_is_a_one_line_error(arguments, capsys):
    # Given a relative time so far back that it falls before year 1 (or an ISO time past year 9999 in UTC)
    # When a command reads it
    status = main(arguments)
    # Then it ends in one line that says so, exit status 2, without a traceback (it used to be an OverflowError)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "is out of range: times run from year 1 to year 9999" in err
    assert "Traceback" not in err


def test_a_relative_time_of_absurd_length_is_no_time(capsys):
    # Given a relative time with more digits than any date needs (int() would refuse 4,300 of them)
    # When a query reads it
    status = main(["query", "--table", "t", "--since", "9" * 5000 + "d"])
    # Then it is a one-line error naming the accepted forms
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "use ISO 8601" in err


# --- Queries a query may make unasked -------------------------------------------------------------------------------


def test_a_query_of_more_than_100_queries_says_so_before_it_runs(capsys, monkeypatch):
    # Given a query of twenty years for one eventSource, which is a filter, not a key, on a table whose Queries are
    # recorded with what stderr held when each was made
    said_before: list[str] = []

    def query(_table: object, request: dict[str, object]) -> Iterator[dict[str, object]]:
        said_before.append(capsys.readouterr().err)
        return iter(())

    monkeypatch.setattr(EventTable, "query", query)
    monkeypatch.setattr(main_module, "aws", lambda _args: SimpleNamespace(dynamodb=object))
    arguments = ["query", "--table", "t", "--source", "redshift-data.amazonaws.com"]
    arguments += ["--since", "2006-01-01", "--until", "2025-12-31T23:59:59Z"]
    # When it runs
    status = main(arguments)
    # Then before the first Query, one line says how many it may make and why, and what would narrow it
    assert status == 0
    first = said_before[0]
    assert first.count("\n") == 1
    assert "this query may make 960 DynamoDB Queries (240 months x 4 shards of the byTime index" in first
    assert "--source only filters what they return" in first
    assert "narrow --since/--until" in first
    assert "--event-name" in first
    assert all(not later for later in said_before[1:])


# --- the stack's state ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "says"),
    [
        ("CREATE_COMPLETE", None),
        ("UPDATE_COMPLETE", None),
        ("CREATE_IN_PROGRESS", "its bucket notification may not exist yet; files uploaded now may not be processed"),
        ("UPDATE_IN_PROGRESS", "its bucket notification may not exist yet; files uploaded now may not be processed"),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "its bucket notification may not exist yet"),
        ("ROLLBACK_IN_PROGRESS", "its bucket notification may not exist yet"),
        ("UPDATE_ROLLBACK_COMPLETE", "its last update failed and was rolled back"),
        ("ROLLBACK_COMPLETE", "its deployment did not complete"),
        ("CREATE_FAILED", "files uploaded now may not be processed"),
        ("", "in an unknown state"),
    ],
)
def test_a_stack_that_is_not_complete_is_said_to_be(state, says):
    # Given a stack in some state
    # When what it means for new files is asked
    found = stack_state_problem("Redtrail", state)
    # Then only CREATE_COMPLETE and UPDATE_COMPLETE are settled; every other state is named, with what it means
    if says is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(f"stack Redtrail is {state or 'in an unknown state'}: ")
        assert says in found
