"""Stack outputs: the stable keys the CLI reads."""

from infra_support import Synth

from redtrail.contracts.stack_outputs import OUTPUT_KEYS


def test_outputs_are_the_stable_keys(synth: Synth) -> None:
    # Given either configuration
    outputs = synth.json["Outputs"]

    # Then exactly the documented keys are output, with values, and without exports
    assert set(outputs) == set(OUTPUT_KEYS)
    for key in OUTPUT_KEYS:
        assert outputs[key]["Value"], key
        assert "Export" not in outputs[key], key


def test_bucket_and_prefix_outputs(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given an existing bucket with prefix `org`
    outputs = existing_bucket.json["Outputs"]

    # Then the outputs name that bucket and where its trail files start
    assert outputs["BucketName"]["Value"] == "corp-cloudtrail-logs"
    assert outputs["TrailKeyPrefix"]["Value"] == "org/AWSLogs/"
    assert new_trail.json["Outputs"]["TrailKeyPrefix"]["Value"] == "AWSLogs/"
