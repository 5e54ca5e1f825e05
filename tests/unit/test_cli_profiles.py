"""Region, profile and endpoint, found as the AWS CLI finds them: options, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE,
and the profile's ``region`` and ``endpoint_url`` in the shared config file (temporary files here)."""

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest
from moto import mock_aws

from redtrail.adapters.connection import DEFAULT_REGION, Connection
from redtrail.cli import main as cli
from redtrail.cli.main import main

CONFIG = """\
[default]
region = ap-southeast-2

[profile prod]
region = eu-west-1

[profile local]
region = eu-central-1
endpoint_url = http://localhost:5050

[profile keys-only]
output = json
"""
CREDENTIALS = """\
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[prod]
aws_access_key_id = AKIAPRODUCTION
aws_secret_access_key = prod-secret

[local]
aws_access_key_id = local
aws_secret_access_key = local

[keys-only]
aws_access_key_id = AKIAKEYSONLY
aws_secret_access_key = keys-secret
"""
AWS_VARIABLES = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture
def aws_files(tmp_path, monkeypatch) -> Path:
    """A shared config and credentials file of their own, and no AWS variable inherited from the shell."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text(CONFIG)
    (tmp_path / "credentials").write_text(CREDENTIALS)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


@pytest.mark.parametrize(
    ("given", "environment", "region", "source"),
    [
        pytest.param({"region": "us-west-2"}, {"AWS_REGION": "sa-east-1"}, "us-west-2", "--region", id="option"),
        pytest.param({}, {"AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "ca-central-1"}, "sa-east-1", "AWS_REGION"),
        pytest.param({"profile": "prod"}, {"AWS_DEFAULT_REGION": "ca-central-1"}, "ca-central-1", "AWS_DEFAULT_REGION"),
        pytest.param({"profile": "prod"}, {}, "eu-west-1", "the region of profile prod in {config}", id="--profile"),
        pytest.param({}, {"AWS_PROFILE": "prod"}, "eu-west-1", "the region of profile prod in {config}", id="PROFILE"),
        pytest.param({}, {}, "ap-southeast-2", "the region of profile default in {config}", id="default-profile"),
        pytest.param({"profile": "keys-only"}, {}, DEFAULT_REGION, "nothing names a region", id="none"),
    ],
)
def test_the_region_comes_from_the_first_source_that_names_one(
    aws_files, monkeypatch, given, environment, region, source
):
    # Given a config file with profiles, and the region named (or not) by an option, a variable or a profile
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # When a connection is made
    connection = Connection(**given)
    # Then its region is the first one named, in the AWS CLI's order, with where it came from
    assert connection.where.region == region
    assert connection.where.region_source == source.format(config=aws_files)
    assert connection.session.region_name == region


def test_the_profile_gives_the_credentials_and_its_endpoint(aws_files, monkeypatch):
    # Given the credentials of the default profile and of another one, and a profile with an endpoint_url
    # When connections are made without a profile, with --profile, and with AWS_PROFILE
    default = Connection().session.get_credentials()
    named = Connection(profile="prod")
    monkeypatch.setenv("AWS_PROFILE", "local")
    local = Connection()
    # Then each uses its profile's keys, and the local profile's endpoint, saying where it came from
    assert default.access_key == "AKIADEFAULT"
    assert named.session.get_credentials().access_key == "AKIAPRODUCTION"
    assert (named.where.profile, named.where.profile_source) == ("prod", "--profile")
    assert (local.where.profile, local.where.profile_source) == ("local", "AWS_PROFILE")
    assert local.where.endpoint_url == "http://localhost:5050"
    assert local.where.endpoint_source == f"the endpoint_url of profile local in {aws_files}"
    assert local.cloudformation().meta.endpoint_url == "http://localhost:5050"
    # and an endpoint given as an option wins over the profile's
    given = Connection(profile="local", endpoint_url="http://127.0.0.1:4566")
    assert given.cloudformation().meta.endpoint_url == "http://127.0.0.1:4566"
    assert given.where.endpoint_source == "--endpoint-url"


@pytest.mark.parametrize(
    ("arguments", "environment", "said"),
    [
        (
            ["--profile", "prod"],
            {},
            "in eu-west-1 (the region of profile prod in {config}), profile prod (from --profile): deploy it",
        ),
        (
            ["--region", "us-west-2"],
            {"AWS_PROFILE": "prod"},
            "in us-west-2 (from --region), profile prod (from AWS_PROFILE)",
        ),
        ([], {"AWS_REGION": "sa-east-1"}, "in sa-east-1 (from AWS_REGION): deploy it"),
        ([], {"AWS_DEFAULT_REGION": "ca-central-1"}, "in ca-central-1 (from AWS_DEFAULT_REGION): deploy it"),
        ([], {}, "in ap-southeast-2 (the region of profile default in {config}): deploy it"),
    ],
)
def test_a_stack_not_found_says_where_it_was_looked_for(aws_files, monkeypatch, capsys, arguments, environment, said):
    # Given an account without the stack, and a region named by an option, a variable or a profile
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # When a command needs the stack
    with mock_aws():
        status = main(["status", "--stack-name", "Elsewhere", *arguments])
    # Then one line says the region it looked in, where that region came from, and the profile
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("redtrail: error: stack Elsewhere not found ")
    assert said.format(config=aws_files) in err
    assert "--profile" in err


def test_verify_names_its_own_region_option_when_its_stack_is_missing(aws_files, capsys):
    # Given an account without the stack
    # When verify looks for it in a region given with --stack-region (its --region filters chains)
    with mock_aws():
        status = main(["verify", "--stack-name", "Elsewhere", "--stack-region", "eu-north-1"])
    # Then the error names that option
    err = capsys.readouterr().err
    assert status == 2
    assert "not found in eu-north-1 (from --stack-region)" in err


def test_a_region_named_nowhere_is_the_default_and_said(aws_files, capsys):
    # Given a profile without a region, and no region variable
    # When a command reaches AWS with it
    with mock_aws():
        status = main(["status", "--profile", "keys-only"])
    # Then it goes to us-east-1 and says so, before the error about the missing stack
    warning, error = capsys.readouterr().err.splitlines()
    assert status == 2
    assert warning == (
        "redtrail: warning: no region named (--region, AWS_REGION, AWS_DEFAULT_REGION or the profile's region): "
        "using us-east-1"
    )
    assert "not found in us-east-1 (nothing names a region: the default), profile keys-only" in error


def test_an_unknown_profile_is_a_one_line_error(aws_files, capsys):
    # Given a config without the profile
    # When a command names it
    status = main(["query", "--profile", "nobody", "--table", "events"])
    # Then one line says so, and where profiles live
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "The config profile (nobody) could not be found" in err
    assert "~/.aws/config" in err


def test_every_command_takes_a_profile():
    # Given the parser of the built-in commands
    parser = cli._parser(plugins=False)
    # When each is given --profile
    # Then each takes it
    for command in sorted(cli.BUILT_IN_COMMANDS):
        required = {"ingest": ["x"], "show": ["e1"], "backfill": ["s3://b/p"], "report": ["--html", "r.html"]}.get(
            command, []
        )
        args = parser.parse_args([command, *required, "--profile", "prod"])
        assert args.profile == "prod", command


def test_ingest_hands_its_profile_to_the_worker_processes(aws_files, monkeypatch):
    # Given a shell whose AWS_PROFILE names another profile, and ingest's run recorded
    monkeypatch.setenv("AWS_PROFILE", "default")
    seen = {}

    def run_ingest(sources, options):
        seen["options"] = options
        return SimpleNamespace(lines=list, failed=[])

    monkeypatch.setattr("redtrail.cli.ingest.run_ingest", run_ingest)
    # When ingest runs a dry run with --profile
    cli.main(["ingest", "--dry-run", "--profile", "prod", "--region", "eu-west-1", "tests/events"])
    # Then each worker's connection is of that profile (not the shell's AWS_PROFILE, not the environment's keys)
    from redtrail.cli.ingest import _Worker

    options = seen["options"]
    assert options.profile == "prod"
    assert _Worker(options)._connection().where.profile == "prod"


def test_the_local_stacks_export_line_names_the_region_for_aws_cli_v1_too():
    # Given a local pipeline's endpoint and region
    from redtrail_devtools.command import banner

    pipeline = SimpleNamespace(
        endpoint="http://localhost:5050",
        region="us-east-1",
        function_log="x.log",
        alarms=SimpleNamespace(alarms=[], minute_seconds=1.0),
        resources=SimpleNamespace(
            stack_name="Redtrail",
            bucket="b",
            key_prefix="AWSLogs/",
            queue_url="q",
            dead_letter_queue_url="d",
            table="t",
        ),
    )
    # When redtrail local prints how to use it
    (export,) = [line.strip() for line in banner(pipeline) if line.strip().startswith("export ")]  # type: ignore[arg-type]
    # Then the line sets AWS_DEFAULT_REGION (all AWS CLI v1 reads) beside AWS_REGION
    assert "AWS_REGION=us-east-1" in export.split()
    assert "AWS_DEFAULT_REGION=us-east-1" in export.split()


def test_the_region_option_is_not_filled_in_by_the_parser(monkeypatch):
    # Given a shell with AWS_REGION
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    # When a command is parsed without --region
    args = cli._parser(plugins=False).parse_args(["status"])
    # Then the region is left to the connection to resolve (a profile's region must still count)
    assert isinstance(args, argparse.Namespace)
    assert args.region is None
    assert args.region_option == "--region"
