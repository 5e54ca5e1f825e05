"""Delivery and function: notification filter, queue and DLQ, event source, function, least privilege."""

from typing import Any

from aws_cdk.assertions import Capture, Match
from infra_support import KEY_ARN, Synth, arn_of, as_list, function, function_statements, only, ref, resources

from infra.config import StackConfig
from infra.constructs.ingestion import HANDLER, TABLE_ACTIONS, powertools_layer_parameter
from redtrail.contracts.metric_names import NAMESPACE, SERVICE
from redtrail.contracts.settings import DEFAULT_REDACT_FIELDS


def queues(synth: Synth) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """(ingest queue ID, properties, dead-letter queue ID, properties), found through the redrive policy."""
    ingest_id, ingest = next(
        (key, value["Properties"])
        for key, value in resources(synth, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in value["Properties"]
    )
    dlq_id = ingest["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return ingest_id, ingest, dlq_id, synth.json["Resources"][dlq_id]["Properties"]


def test_notification_sends_new_trail_files_to_the_queue(synth: Synth) -> None:
    # Given either configuration
    ingest_id, *_ = queues(synth)

    # Then every creation of a `<prefix>AWSLogs/...json.gz` object is sent to the ingest queue: a Put, and also a
    # multipart upload (`aws s3 cp` of a large file: CompleteMultipartUpload), a copy or a replication, which a
    # Put-only subscription never announces (moto, which also emits a Put when a multipart upload completes, cannot
    # show it: the template does)
    synth.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {
                                "FilterRules": Match.array_equals(
                                    [
                                        {"Name": "suffix", "Value": ".json.gz"},
                                        {"Name": "prefix", "Value": synth.config.trail_key_prefix},
                                    ]
                                )
                            }
                        },
                        "QueueArn": arn_of(ingest_id),
                    }
                ]
            }
        },
    )


def test_only_s3_from_the_trail_bucket_may_send(synth: Synth) -> None:
    # Given either configuration
    ingest_id, *_ = queues(synth)

    # Then the queue policy lets S3 send messages only for the trail bucket, owned by this account
    statement = Capture()
    synth.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {"Queues": [ref(ingest_id)], "PolicyDocument": {"Statement": statement}},
    )
    s3_statement = next(s for s in statement.as_array() if s.get("Principal") == {"Service": "s3.amazonaws.com"})
    assert s3_statement["Action"] == "sqs:SendMessage"
    bucket_arn = s3_statement["Condition"]["ArnLike"]["aws:SourceArn"]
    if synth.config.uses_existing_bucket:
        assert synth.config.trail_bucket_name in str(bucket_arn)
    else:
        assert bucket_arn == arn_of(only(synth, "AWS::CloudTrail::Trail")[1]["S3BucketName"]["Ref"])
    assert s3_statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_queues_are_encrypted_and_tls_only(synth: Synth) -> None:
    # Given either configuration
    ingest_id, ingest, dlq_id, dlq = queues(synth)

    # Then both queues use SSE and deny requests without TLS
    for logical_id, properties in ((ingest_id, ingest), (dlq_id, dlq)):
        assert properties["SqsManagedSseEnabled"] is True
        synth.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [ref(logical_id)],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                },
            },
        )


def test_dead_letter_queue_keeps_messages_14_days_after_a_few_receives(synth: Synth) -> None:
    # Given either configuration
    _, ingest, _, dlq = queues(synth)

    # Then the DLQ keeps messages 14 days and receives them after a small number of attempts: 5 by default (AWS's
    # guidance for a Lambda consumer: a message a throttled or failed invocation returned still gets its chances;
    # files no retry can mend are dead-lettered by the function at once)
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert ingest["RedrivePolicy"]["maxReceiveCount"] == synth.config.max_receive_count
    assert 1 <= ingest["RedrivePolicy"]["maxReceiveCount"] <= 5
    assert StackConfig().max_receive_count == 5


def test_visibility_timeout_is_six_times_the_function_timeout(synth: Synth) -> None:
    # Given either configuration (default 120 s, the other 60 s)
    _, ingest, _, _ = queues(synth)
    _, fn = function(synth)

    # Then the queue hides a message for at least 6 function timeouts
    assert fn["Timeout"] == synth.config.function_timeout_seconds
    assert ingest["VisibilityTimeout"] >= 6 * fn["Timeout"]


def test_event_source_reports_partial_batch_failures(synth: Synth) -> None:
    # Given either configuration
    ingest_id, *_ = queues(synth)
    function_id, _ = function(synth)

    # Then the function consumes the ingest queue with the configured batch size and concurrency
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": arn_of(ingest_id),
            "FunctionName": ref(function_id),
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": synth.config.batch_size,
            "ScalingConfig": {"MaximumConcurrency": synth.config.max_concurrency},
        },
    )


def test_function_runtime_tracing_layer_and_logs(synth: Synth) -> None:
    # Given either configuration
    _, fn = function(synth)

    # Then it is a current Python runtime with X-Ray tracing and the AWS-managed Powertools layer from SSM: the
    # latest release by default, the pinned one (powertoolsVersion=3.23.0) otherwise
    assert fn["Runtime"] in {"python3.13", "python3.14"}
    assert fn["Handler"] == HANDLER
    assert fn["TracingConfig"] == {"Mode": "Active"}
    [layer] = fn["Layers"]
    parameter = powertools_layer_parameter(synth.config.powertools_version)
    assert synth.json["Parameters"][layer["Ref"]] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": parameter,
    }
    assert parameter == f"/aws/service/powertools/python/arm64/{fn['Runtime']}/{synth.config.powertools_version}"
    assert synth.config.powertools_version == ("3.23.0" if synth.config.uses_existing_bucket else "latest")

    # And its own log group with the configured retention
    log_group_id = fn["LoggingConfig"]["LogGroup"]["Ref"]
    retention = synth.json["Resources"][log_group_id]["Properties"]["RetentionInDays"]
    assert retention == synth.config.log_retention_days


def test_function_environment(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration and one with retention and its own sensitive list
    table_id, _ = only(new_trail, "AWS::DynamoDB::Table")
    default_env = function(new_trail)[1]["Environment"]["Variables"]
    custom_env = function(existing_bucket)[1]["Environment"]["Variables"]

    # Then the function gets the Powertools names, the table, the sensitive list and the retention when set
    assert default_env["POWERTOOLS_SERVICE_NAME"] == SERVICE
    assert default_env["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    assert default_env["TABLE_NAME"] == ref(table_id)
    assert default_env["SENSITIVE_EVENT_NAMES"].startswith("AuthorizeDataShare,")
    assert "RETENTION_DAYS" not in default_env
    assert custom_env["RETENTION_DAYS"] == "400"
    assert custom_env["SENSITIVE_EVENT_NAMES"] == "DeleteCluster,ModifyClusterIamRoles"


def test_the_function_knows_how_far_a_file_may_inflate(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration (512 MB) and one with 1024 MB of function memory
    # When the functions' environments are read
    default_env = function(new_trail)[1]["Environment"]["Variables"]
    custom_env = function(existing_bucket)[1]["Environment"]["Variables"]
    # Then each is told a quarter of its memory as the size a trail file may inflate to
    assert default_env["MAX_INFLATED_MB"] == "128"
    assert custom_env["MAX_INFLATED_MB"] == "256"


def _allowed(synth: Synth) -> dict[str, list[Any]]:
    """Action -> resources, over the function role's Allow statements."""
    allowed: dict[str, list[Any]] = {}
    for statement in function_statements(synth):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            allowed.setdefault(action, []).extend(as_list(statement["Resource"]))
    return allowed


def test_function_permissions_are_least_privilege(new_trail: Synth) -> None:
    # Given the default configuration
    allowed = _allowed(new_trail)
    ingest_id, _, dead_letter_id, _ = queues(new_trail)
    table_id, _ = only(new_trail, "AWS::DynamoDB::Table")
    log_group_id = function(new_trail)[1]["LoggingConfig"]["LogGroup"]["Ref"]
    bucket_id = Capture()
    new_trail.template.has_resource_properties("AWS::CloudTrail::Trail", {"S3BucketName": {"Ref": bucket_id}})
    bucket = bucket_id.as_string()

    # Then it may: get objects of the trail bucket under AWSLogs/ only (and list that prefix, so that a missing
    # file is NoSuchKey, not AccessDenied), read and write the table's items (no deletes, no scans) and query the
    # ledger's index, list CloudTrail's public keys, consume its queue, send unmendable files to its dead-letter
    # queue, publish to the alerts topic with its key, write its own log group and send traces; nothing else
    assert set(allowed) == {
        "s3:GetObject",
        "s3:ListBucket",
        *TABLE_ACTIONS,
        "dynamodb:Query",
        "cloudtrail:ListPublicKeys",
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    alerts_topic, alerts = only(new_trail, "AWS::SNS::Topic", DisplayName="redtrail alerts")
    assert allowed["sns:Publish"] == [ref(alerts_topic)]
    assert allowed["kms:Decrypt"] == allowed["kms:GenerateDataKey"] == [alerts["KmsMasterKeyId"]]
    trail_files = {"Fn::Join": ["", [arn_of(bucket), "/AWSLogs/*"]]}
    assert allowed["s3:GetObject"] == [trail_files]
    assert allowed["s3:ListBucket"] == [arn_of(bucket)]
    [listing] = [s for s in function_statements(new_trail) if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["AWSLogs/*"]}}
    assert all(allowed[action] == [arn_of(table_id)] for action in TABLE_ACTIONS)
    assert allowed["dynamodb:Query"] == [{"Fn::Join": ["", [arn_of(table_id), "/index/byLedger"]]}]
    assert allowed["cloudtrail:ListPublicKeys"] == ["*"]
    assert allowed["sqs:ReceiveMessage"] == [arn_of(ingest_id)]
    assert allowed["sqs:SendMessage"] == [arn_of(dead_letter_id)]
    [sending] = [s for s in function_statements(new_trail) if "sqs:SendMessage" in as_list(s["Action"])]
    assert sending["Action"] == "sqs:SendMessage"  # alone: not grant_send_messages' GetQueueAttributes, GetQueueUrl
    assert allowed["logs:PutLogEvents"] == [arn_of(log_group_id)]
    assert allowed["xray:PutTraceSegments"] == ["*"]


def test_existing_bucket_permissions_use_the_prefix_and_the_trail_key(existing_bucket: Synth) -> None:
    # Given an existing bucket with prefix `org` and SSE-KMS trail files
    allowed = _allowed(existing_bucket)

    # Then reads are limited to `org/AWSLogs/*` of that bucket, and decrypt to that one key (besides the alerts
    # topic's own key), through S3 in the key's region only
    [resource_read] = [str(resource) for resource in allowed["s3:GetObject"]]
    assert ":s3:::corp-cloudtrail-logs/org/AWSLogs/*" in resource_read
    [listing] = [s for s in function_statements(existing_bucket) if s["Action"] == "s3:ListBucket"]
    assert str(listing["Resource"]).endswith(":s3:::corp-cloudtrail-logs']]}")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["org/AWSLogs/*"]}}
    alerts_key = only(existing_bucket, "AWS::SNS::Topic", DisplayName="redtrail alerts")[1]["KmsMasterKeyId"]
    assert sorted(map(str, allowed["kms:Decrypt"])) == sorted(map(str, [alerts_key, KEY_ARN]))
    [trail_key] = [s for s in function_statements(existing_bucket) if s["Resource"] == KEY_ARN]
    assert trail_key["Action"] == "kms:Decrypt"
    assert trail_key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert allowed["kms:GenerateDataKey"] == [alerts_key]
    assert set(action for action in allowed if action.startswith("kms:")) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_no_kms_permission_without_a_trail_key(new_trail: Synth) -> None:
    # Given the default configuration (SSE-S3 trail files)
    # Then the function's only KMS permissions are on the alerts topic's own key
    alerts_key = only(new_trail, "AWS::SNS::Topic", DisplayName="redtrail alerts")[1]["KmsMasterKeyId"]
    kms = {action: where for action, where in _allowed(new_trail).items() if action.startswith("kms:")}
    assert kms == {"kms:Decrypt": [alerts_key], "kms:GenerateDataKey": [alerts_key]}


def test_function_knows_its_dead_letter_queue_and_redaction_list(new_trail: Synth) -> None:
    # Given the default configuration
    _, _, dead_letter_id, _ = queues(new_trail)
    # When the function's environment is read
    environment = function(new_trail)[1]["Environment"]["Variables"]
    # Then it can dead-letter unmendable files itself and redacts the default secret fields
    assert environment["DEAD_LETTER_QUEUE_URL"] == {"Ref": dead_letter_id}
    assert environment["REDACT_FIELDS"] == ",".join(DEFAULT_REDACT_FIELDS)


def test_the_sweep_runs_the_function_every_15_minutes(synth: Synth) -> None:
    # Given either configuration
    function_id, _ = function(synth)
    target = Capture()
    # Then one schedule rule runs the function (retried twice) every 15 minutes, and may invoke it
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(15 minutes)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [function_id, "Arn"]}, "RetryPolicy": target})],
        },
    )
    assert target.as_object() == {"MaximumRetryAttempts": 2}
    synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "events.amazonaws.com",
        },
    )


def test_the_function_knows_the_heartbeat_and_grace_periods(new_trail: Synth, existing_bucket: Synth) -> None:
    # Given the default configuration, and digestHeartbeatMinutes=120 with logGraceMinutes=30
    default_env = function(new_trail)[1]["Environment"]["Variables"]
    custom_env = function(existing_bucket)[1]["Environment"]["Variables"]
    # Then the function waits 90 and 60 minutes by default, and what the context says otherwise
    assert (default_env["DIGEST_HEARTBEAT_MINUTES"], default_env["LOG_GRACE_MINUTES"]) == ("90", "60")
    assert (custom_env["DIGEST_HEARTBEAT_MINUTES"], custom_env["LOG_GRACE_MINUTES"]) == ("120", "30")
