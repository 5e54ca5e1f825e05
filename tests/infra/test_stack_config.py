"""StackConfig: context keys, defaults, parsing and the one-line errors."""

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from infra.config import CONTEXT_KEYS, ConfigError, StackConfig, context_keys_markdown
from redtrail.cli import rules
from redtrail.contracts.metric_names import MetricName
from redtrail.contracts.settings import DEFAULT_MAX_INFLATED_MB, DEFAULT_SENSITIVE_EVENT_NAMES, Env

REPO = Path(__file__).resolve().parents[2]


def test_defaults_without_context() -> None:
    # Given no context at all
    # When the settings are read
    config = StackConfig.from_context(lambda _key: None)

    # Then every default applies: a new bucket and trail, events kept forever, the Lambda's sensitive list
    assert config == StackConfig()
    assert not config.uses_existing_bucket
    assert config.retention_days is None
    assert config.sensitive_event_names == DEFAULT_SENSITIVE_EVENT_NAMES
    assert config.write_events_threshold == 1
    assert config.trail_key_prefix == "AWSLogs/"


def test_cli_strings_are_parsed() -> None:
    # Given context values as `cdk -c KEY=VALUE` passes them (strings)
    context = {
        "trailBucketName": "corp-trail",
        "trailPrefix": "/org/unit/",
        "retentionDays": "365",
        "sensitiveEventNames": " DeleteCluster ,ModifyCluster,DeleteCluster,",
        "writeEventsThreshold": "10",
        "maxConcurrency": "20",
        "logRetentionDays": "30",
    }

    # When the settings are read
    config = StackConfig.from_context(context.get)

    # Then they are typed, the prefix is normalized to end in one slash and names are de-duplicated
    assert config.trail_bucket_name == "corp-trail"
    assert config.trail_prefix == "org/unit/"
    assert config.trail_key_prefix == "org/unit/AWSLogs/"
    assert config.retention_days == 365
    assert config.sensitive_event_names == ("DeleteCluster", "ModifyCluster")
    assert config.write_events_threshold == 10
    assert config.max_concurrency == 20


def test_cdk_json_types_are_accepted() -> None:
    # Given context values as cdk.json may hold them (JSON numbers and lists)
    context = {"writeEventsThreshold": 3, "sensitiveEventNames": ["DeleteCluster", "DisableLogging"]}

    # When the settings are read
    config = StackConfig.from_context(context.get)

    # Then they parse like their string forms
    assert config.write_events_threshold == 3
    assert config.sensitive_event_names == ("DeleteCluster", "DisableLogging")


def test_empty_values_mean_default() -> None:
    # Given keys set to empty strings (e.g. `-c alarmEmail=`)
    context = {"alarmEmail": "", "trailPrefix": "  "}

    # When the settings are read
    config = StackConfig.from_context(context.get)

    # Then the defaults apply
    assert config.alarm_email is None
    assert config.trail_prefix == ""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("writeEventsThreshold", "abc"),
        ("writeEventsThreshold", "0"),
        ("writeEventsThreshold", "1.5"),
        ("retentionDays", "-3"),
        ("batchSize", "11"),
        ("maxConcurrency", "1"),
        ("functionTimeoutSeconds", "901"),
        ("logRetentionDays", "31"),
        ("trailBucketName", "s3://corp-trail"),
        ("trailBucketName", "x"),
        ("trailKmsKeyArn", "alias/aws/s3"),
        ("alarmEmail", "not-an-address"),
        ("sensitiveEventNames", "Delete Cluster"),
        ("sensitiveEventNames", ","),
        ("trailPrefix", "org prefix"),
        ("stackName", "1bad"),
        ("maxInflatedMb", "0"),
        ("maxInflatedMb", "1.5"),
        ("sourceMode", "s3"),
        ("trailSnsTopicArn", "arn:aws:sqs:us-east-1:111122223333:queue"),
        ("powertoolsVersion", "3.x"),
        ("powertoolsVersion", "v3.23.0"),
    ],
)
def test_bad_values_name_the_key(key: str, value: str) -> None:
    # Given one bad context value (with a bucket, so that key combinations are valid)
    context = {"trailBucketName": "corp-trail", key: value}

    # When the settings are read
    with pytest.raises(ConfigError) as raised:
        StackConfig.from_context(context.get)

    # Then the error is one line that names the key
    message = str(raised.value)
    assert message.startswith(f"context key {key}:")
    assert "\n" not in message


def test_the_powertools_layer_is_the_latest_release_unless_pinned() -> None:
    # Given no powertoolsVersion, and one pinned release
    # When the settings are read
    default = StackConfig.from_context(lambda _key: None)
    pinned = StackConfig.from_context({"powertoolsVersion": " 3.23.0 "}.get)
    # Then the layer is the latest release by default, and the pinned one otherwise
    assert (default.powertools_version, pinned.powertools_version) == ("latest", "3.23.0")


def test_the_inflate_limit_is_a_quarter_of_the_function_memory_unless_set() -> None:
    # Given the default memory, more memory, and a limit set explicitly
    default = StackConfig.from_context(lambda _key: None)
    bigger = StackConfig.from_context({"functionMemoryMb": "2048"}.get)
    chosen = StackConfig.from_context({"functionMemoryMb": "2048", "maxInflatedMb": "300"}.get)
    # When the function's options are built
    # Then the limit is a quarter of the memory (the fixed default for the default memory), or the one chosen
    assert default.pipeline_options.max_inflated_mb == DEFAULT_MAX_INFLATED_MB == 128
    assert bigger.pipeline_options.max_inflated_mb == 512
    assert chosen.pipeline_options.max_inflated_mb == 300
    assert chosen.pipeline_options.environment()[Env.MAX_INFLATED_MB] == "300"


def test_kms_key_needs_an_existing_bucket() -> None:
    # Given a KMS key but no existing bucket (the stack's own trail writes SSE-S3 files)
    context = {"trailKmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/abcd"}

    # When the settings are read
    with pytest.raises(ConfigError, match="trailKmsKeyArn"):
        StackConfig.from_context(context.get)


def test_every_field_has_one_context_key() -> None:
    # Given the documented keys and the dataclass fields
    documented = [key.field for key in CONTEXT_KEYS]

    # Then each field is set by exactly one key, and key names are unique
    assert sorted(documented) == sorted(field.name for field in fields(StackConfig))
    assert len({key.name for key in CONTEXT_KEYS}) == len(CONTEXT_KEYS)


def test_docs_table_is_generated_from_the_keys() -> None:
    # Given the committed docs page
    page = (REPO / "docs" / "context-keys.md").read_text()

    # Then it is exactly what infra/config.py generates (regenerate: python -m infra.config > docs/context-keys.md)
    assert page == context_keys_markdown()
    for key in CONTEXT_KEYS:
        assert f"| `{key.name}` |" in page


def test_app_exits_with_one_line_error_for_bad_context(tmp_path: Path) -> None:
    # Given the app run as the CDK CLI runs it, with a non-numeric threshold
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"writeEventsThreshold": "lots"}),
        "CDK_OUTDIR": str(tmp_path),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }

    # When it runs
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    # Then it fails with one line naming the key, and no traceback
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "redtrail: context key writeEventsThreshold: expected a whole number from 1 to 1000000, got 'lots'"
    ]


def test_readme_settings_table_is_the_generated_one() -> None:
    # Given the README and the table generated from CONTEXT_KEYS
    readme = (REPO / "README.md").read_text()
    rows = [line for line in context_keys_markdown().splitlines() if line.startswith("|")]
    # Then the README shows every row exactly, in order (regenerate with python -m infra.config)
    assert "\n".join(rows) in readme


def test_readme_lists_every_environment_variable_and_metric_of_the_function() -> None:
    # Given the README and the contracts' lists of the function's environment and metrics
    readme = (REPO / "README.md").read_text()
    # Then each is documented, so neither list grows unseen
    assert [name.value for name in Env if f"| `{name.value}` |" not in readme] == []
    assert [name.value for name in MetricName if f"`{name.value}`" not in readme] == []


def test_readme_detection_table_is_the_catalogue() -> None:
    # Given the README and the table generated from the detection catalogue
    readme = (REPO / "README.md").read_text()
    # Then the README shows it exactly (regenerate with redtrail.cli.rules.markdown())
    assert rules.markdown() in readme
