"""Processing: the SQS queue (with DLQ) -> the redtrail function -> the table (the source feeds the queue)."""

from aws_cdk import Arn, ArnFormat, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.bundling import lambda_code
from infra.nag import acknowledge, wildcard_resource
from redtrail.contracts import schema
from redtrail.contracts.metric_names import NAMESPACE, SERVICE
from redtrail.contracts.settings import SWEEP_MINUTES, Env, IntegrityOptions, PipelineOptions

HANDLER = "redtrail.function.handler.lambda_handler"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


def powertools_layer_parameter(version: str = "latest") -> str:
    """The public SSM parameter holding the AWS-managed Powertools v3 layer's ARN for this runtime, architecture
    and release (``latest``, or a release such as ``3.23.0``); CloudFormation resolves it at each deploy."""
    return f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{version}"


VISIBILITY_TIMEOUT_FACTOR = 6  # AWS guidance for SQS event sources: at least 6x the function timeout
DEAD_LETTER_RETENTION = Duration.days(14)
SWEEP_INTERVAL = Duration.minutes(SWEEP_MINUTES)
TABLE_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]


class Ingestion(Construct):
    """The ingest queue and its DLQ, the function with its log group and role, and the event source."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        key_prefix: str,
        kms_key: kms.IKey | None,
        table: dynamodb.ITable,
        options: PipelineOptions,
        integrity: IntegrityOptions,
        tracing: bool,
        timeout: Duration,
        memory_size: int,
        log_retention: logs.RetentionDays,
        batch_size: int,
        max_concurrency: int,
        max_receive_count: int,
        powertools_version: str = "latest",
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=max_receive_count),
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="redtrail function: read trail files, write events, consume its queue",
        )
        self.log_group.grant_write(role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_code(ARCHITECTURE, RUNTIME),
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "Powertools",
                    ssm.StringParameter.value_for_string_parameter(
                        self, powertools_layer_parameter(powertools_version)
                    ),
                )
            ],
            role=role,
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            environment=_environment(table, options, integrity, tracing),
        )
        _grant_trail_reads(self.function, bucket, key_prefix, kms_key)
        # What the function does to the table: read what is stored, put new items (conditionally), keep the ledger
        # (update and read its entries, query its index). Never a delete, a scan or another index.
        iam.Grant.add_to_principal(grantee=self.function, actions=TABLE_ACTIONS, resource_arns=[table.table_arn])
        iam.Grant.add_to_principal(
            grantee=self.function,
            actions=["dynamodb:Query"],
            resource_arns=[f"{table.table_arn}/index/{schema.BY_LEDGER.name}"],
        )
        # Digest signatures are checked against CloudTrail's public keys (the action has no resource-level form).
        iam.Grant.add_to_principal(grantee=self.function, actions=["cloudtrail:ListPublicKeys"], resource_arns=["*"])
        # The sweep: late chains (the heartbeat), gaps, files never delivered.
        events.Rule(
            self,
            "Sweep",
            description="redtrail: the ledger's periodic checks (digest heartbeat, gaps, undelivered log files)",
            schedule=events.Schedule.rate(SWEEP_INTERVAL),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        # Files no retry can mend (corrupt, deleted) are moved to the dead-letter queue by the function itself.
        # SendMessage only (SendMessageBatch is authorized by it): not grant_send_messages, which adds
        # sqs:GetQueueAttributes and sqs:GetQueueUrl.
        iam.Grant.add_to_principal(
            grantee=self.function, actions=["sqs:SendMessage"], resource_arns=[self.dead_letter_queue.queue_arn]
        )
        self.function.add_environment(Env.DEAD_LETTER_QUEUE_URL, self.dead_letter_queue.queue_url)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=batch_size,
                max_concurrency=max_concurrency,
                report_batch_item_failures=True,
            )
        )
        self._acknowledge(role, bucket, key_prefix, tracing)

    def _acknowledge(self, role: iam.Role, bucket: s3.IBucket, key_prefix: str, tracing: bool) -> None:
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"{RUNTIME.name}, not the newest Python runtime: the asset ships byte-code compiled by an interpreter of "
            "the runtime's version, and the build machines have 3.13, not 3.14 (docs/architecture.md). Supported "
            "by Lambda until 2029.",
        )
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudtrail:ListPublicKeys"
            + (", xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing)" if tracing else "")
            + " support no resource-level permissions.",
        )
        acknowledge(
            policy,
            wildcard_resource(self, bucket.arn_for_objects(f"{key_prefix}*")),
            f"s3:GetObject only, on trail files: they are keyed {key_prefix}[<org-id>/]<account>/CloudTrail/<region>/"
            "<date>/... (and CloudTrail-Digest/...): the function reads any of them and nothing else in the bucket.",
        )


def _grant_trail_reads(
    function: lambda_.Function, bucket: s3.IBucket, key_prefix: str, kms_key: kms.IKey | None
) -> None:
    """Read trail files and nothing else: not ``Bucket.grant_read`` (``s3:GetObject*``, ``s3:GetBucket*``,
    ``s3:List*``) nor ``Key.grant_decrypt`` (any caller, not only S3)."""
    iam.Grant.add_to_principal(
        grantee=function, actions=["s3:GetObject"], resource_arns=[bucket.arn_for_objects(f"{key_prefix}*")]
    )
    # With ListBucket a missing key reads as NoSuchKey (a file deleted before it was read), not AccessDenied (a
    # permission an operator must fix). S3 evaluates s3:prefix as the requested key for that check.
    iam.Grant.add_to_principal(
        grantee=function,
        actions=["s3:ListBucket"],
        resource_arns=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{key_prefix}*"]}},
    )
    if kms_key is not None:
        # SSE-KMS: S3 decrypts on the function's behalf, in the key's (the bucket's) region; nobody else may.
        region = Arn.split(kms_key.key_arn, ArnFormat.SLASH_RESOURCE_NAME).region
        iam.Grant.add_to_principal(
            grantee=function,
            actions=["kms:Decrypt"],
            resource_arns=[kms_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        )


def _environment(
    table: dynamodb.ITable, options: PipelineOptions, integrity: IntegrityOptions, tracing: bool
) -> dict[str, str]:
    """What ``redtrail.contracts.settings`` and Powertools read."""
    return {
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        Env.TABLE_NAME: table.table_name,
        Env.TRACING: "true" if tracing else "false",
        **options.environment(),
        **integrity.environment(),
    }
