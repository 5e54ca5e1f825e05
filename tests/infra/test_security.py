"""Security invariants over every resource of the synthesized stacks, in every configuration (source modes too).

The per-resource checks live next to each construct (test_stack_ingestion.py: the function's exact grants, the
queues' SSE and TLS policies; test_stack_source.py: the trail buckets; test_stack_monitoring.py: the topic;
test_stack_storage.py: the table). These sweep whole resource types, so that a resource or a grant added later
is held to the same rules: no data action on ``*``, encryption at rest and TLS-only access everywhere, and no
service a resource policy allows acting for anyone else's resources (the confused deputy).
"""

import json
from typing import Any

from aws_cdk.assertions import Capture, Match
from infra_support import Synth, arn_of, as_list, function, function_statements, only, ref, resources

from infra.constructs.ingestion import TABLE_ACTIONS
from redtrail.contracts import schema

DATA_SERVICES = ("s3", "dynamodb", "sqs", "kms", "sns", "secretsmanager", "ssm")
# Services without resource-level permissions for these actions: "*" is the only possible resource.
NO_RESOURCE_LEVEL = frozenset({"cloudtrail:ListPublicKeys", "xray:PutTraceSegments", "xray:PutTelemetryRecords"})
CONSUME = frozenset({"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"})
S3_READ = frozenset({"s3:GetObject", "s3:ListBucket"})
DENY_WITHOUT_TLS = Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def _grants_of(synth: Synth) -> list[tuple[str, Any]]:
    grants = []
    for statement in function_statements(synth):
        for action in as_list(statement["Action"]):
            grants += [(action, resource) for resource in as_list(statement["Resource"])]
    return grants


def _ingest_and_dead_letter_queues(synth: Synth) -> tuple[str, str]:
    """(ingest queue, dead-letter queue) logical IDs, found through the function's event source."""
    queue = Capture()
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]}, "FunctionName": ref(function(synth)[0])},
    )
    ingest = synth.json["Resources"][queue.as_string()]["Properties"]
    return queue.as_string(), ingest["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]


def test_no_data_action_of_the_function_is_granted_on_every_resource(any_mode: Synth) -> None:
    # Given the function role's grants, in every configuration
    grants = _grants_of(any_mode)
    # When the actions and resources are read
    on_everything = {action for action, resource in grants if resource == "*"}
    data = [(action, resource) for action, resource in grants if action.split(":")[0] in DATA_SERVICES]
    # Then only actions that have no resource-level permissions (X-Ray, CloudTrail's public keys) are on "*"
    assert on_everything <= NO_RESOURCE_LEVEL
    # And no action is a service wildcard, and no data resource has a wildcard other than the trail prefix's
    # objects (no "arn:...:s3:::*", no "bucket/*", no "...:table/*")
    assert data
    assert not [action for action, _ in grants if action == "*" or action.endswith(":*")]
    for action, resource in data:
        assert "*" not in json.dumps(resource).replace("/AWSLogs/*", ""), (action, resource)


def test_the_function_reads_only_the_trail_prefix(any_mode: Synth) -> None:
    # Given the function role's S3 grants, in every configuration
    s3 = [(action, resource) for action, resource in _grants_of(any_mode) if action.startswith("s3:")]
    # When they are read
    actions = {action for action, _ in s3}
    object_resources = [json.dumps(resource) for _, resource in s3 if "/" in json.dumps(resource).split(":s3:::")[-1]]
    # Then they are read-only: objects only under <prefix>AWSLogs/, and the bucket's listing only of that prefix
    assert actions <= S3_READ
    assert object_resources
    assert all(resource.endswith('/AWSLogs/*"]]}') or resource.endswith('AWSLogs/*"') for resource in object_resources)
    listings = [s for s in function_statements(any_mode) if "s3:ListBucket" in as_list(s["Action"])]
    assert listings
    assert all(
        s["Condition"] == {"StringLike": {"s3:prefix": [f"{any_mode.config.trail_key_prefix}*"]}} for s in listings
    )


def test_the_function_writes_only_its_table_and_consumes_only_its_queue(any_mode: Synth) -> None:
    # Given the function role's grants, its event source, the ingest queue and the table, in every configuration
    grants = _grants_of(any_mode)
    ingest, dead_letter = _ingest_and_dead_letter_queues(any_mode)
    table_id, _ = only(any_mode, "AWS::DynamoDB::Table")
    # When the DynamoDB and SQS grants are read
    dynamodb = {(action, json.dumps(resource)) for action, resource in grants if action.startswith("dynamodb:")}
    consumed = {json.dumps(resource) for action, resource in grants if action in CONSUME}
    sent = {json.dumps(resource) for action, resource in grants if action == "sqs:SendMessage"}
    # Then DynamoDB allows reading what is stored, putting and updating items, on the table itself, and querying
    # the ledger's index only: no delete, no scan, no batch write, no other index
    table_arn = json.dumps(arn_of(table_id))
    ledger = json.dumps({"Fn::Join": ["", [arn_of(table_id), f"/index/{schema.BY_LEDGER.name}"]]})
    assert dynamodb == {(action, table_arn) for action in TABLE_ACTIONS} | {("dynamodb:Query", ledger)}
    # And messages are received, deleted and hidden on the ingest queue only, and never sent back to it
    assert consumed == {json.dumps(arn_of(ingest))}
    assert json.dumps(arn_of(ingest)) not in sent
    assert sent <= {json.dumps(arn_of(dead_letter))}


def test_every_bucket_queue_topic_and_table_is_encrypted_at_rest(any_mode: Synth) -> None:
    # Given every bucket, queue, topic and table the stack creates, in every configuration
    buckets = resources(any_mode, "AWS::S3::Bucket")
    queues = resources(any_mode, "AWS::SQS::Queue")
    topics = resources(any_mode, "AWS::SNS::Topic")
    tables = resources(any_mode, "AWS::DynamoDB::Table")
    # When their encryption settings are read
    # Then each is encrypted: SSE on buckets (the access-log bucket too), SSE-SQS or KMS on queues, a KMS key on
    # topics, SSE on the table
    assert len(queues) == 2
    assert len(topics) == 2  # the alarm topic and the alerts topic
    assert len(tables) == 1
    for bucket in buckets.values():
        rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms", "aws:kms:dsse"}
    for queue in queues.values():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"]
    for table in tables.values():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True


def test_every_bucket_queue_and_topic_denies_requests_without_tls(any_mode: Synth) -> None:
    # Given every bucket, queue and topic the stack creates, in every configuration
    # (DynamoDB accepts HTTPS only by design: the table needs no such policy; an existing trail bucket is the
    # owner's, and its policy is not the stack's)
    buckets = resources(any_mode, "AWS::S3::Bucket")
    queues = resources(any_mode, "AWS::SQS::Queue")
    topics = resources(any_mode, "AWS::SNS::Topic")
    # When their resource policies are searched
    # Then each has a policy that denies any request made without TLS
    for logical_id in buckets:
        any_mode.template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {"Bucket": ref(logical_id), "PolicyDocument": {"Statement": Match.array_with([DENY_WITHOUT_TLS])}},
        )
    for logical_id in queues:
        any_mode.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {"Queues": [ref(logical_id)], "PolicyDocument": {"Statement": Match.array_with([DENY_WITHOUT_TLS])}},
        )
    for logical_id in topics:
        any_mode.template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {"Topics": [ref(logical_id)], "PolicyDocument": {"Statement": Match.array_with([DENY_WITHOUT_TLS])}},
        )
    assert len(queues) + len(topics) == 4


def test_the_function_does_not_log_events_or_debug_output(any_mode: Synth) -> None:
    # Given the function, in every configuration
    _, properties = function(any_mode)
    environment = properties["Environment"]["Variables"]
    logging_config = properties.get("LoggingConfig", {})
    # When its logging settings are read
    # Then Powertools does not log the incoming event, and neither Powertools nor Lambda logs at DEBUG or TRACE
    assert str(environment.get("POWERTOOLS_LOGGER_LOG_EVENT", "false")).lower() == "false"
    assert str(environment.get("POWERTOOLS_LOG_LEVEL", "INFO")).upper() not in {"DEBUG", "TRACE"}
    assert str(environment.get("LOG_LEVEL", "INFO")).upper() not in {"DEBUG", "TRACE"}
    assert logging_config.get("ApplicationLogLevel", "INFO") not in {"DEBUG", "TRACE"}


POLICY_DOCUMENTS = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}
CONFUSED_DEPUTY_KEYS = ("aws:SourceArn", "aws:SourceAccount")


def test_every_service_a_resource_policy_allows_acts_for_this_stacks_sources_only(any_mode: Synth) -> None:
    # Given every bucket, queue, topic and key policy of the stack, in every configuration
    allowed = [
        (resource_type, statement)
        for resource_type, document in POLICY_DOCUMENTS.items()
        for resource in resources(any_mode, resource_type).values()
        for statement in resource["Properties"][document]["Statement"]
        if statement["Effect"] == "Allow" and "Service" in statement.get("Principal", {})
    ]
    # When the conditions of the statements that allow an AWS service are read
    unconditioned = [
        (resource_type, statement["Principal"], statement["Action"])
        for resource_type, statement in allowed
        if not any(key in block for block in statement.get("Condition", {}).values() for key in CONFUSED_DEPUTY_KEYS)
    ]
    # Then each names the source it serves (aws:SourceArn) or its account (aws:SourceAccount): CloudTrail writes
    # for the stack's trail only, S3 logs for the trail bucket only, S3, EventBridge or SNS send for the configured
    # source only, CloudWatch publishes and uses the alarm topic's key for this account's alarms only
    assert allowed
    assert unconditioned == []
