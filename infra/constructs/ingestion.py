"""Delivery and processing: S3 notification -> SQS queue (with DLQ) -> the redtrail function -> the table."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
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
# The AWS-managed Powertools v3 layer (with the tracer extra) for this runtime and architecture, resolved at deploy.
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/latest"
TRAIL_FILE_SUFFIX = ".json.gz"
VISIBILITY_TIMEOUT_FACTOR = 6  # AWS guidance for SQS event sources: at least 6x the function timeout
DEAD_LETTER_RETENTION = Duration.days(14)
SWEEP_INTERVAL = Duration.minutes(SWEEP_MINUTES)
TABLE_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]


class Ingestion(Construct):
    """The ingest queue and its DLQ, the function with its log group and role, the event source and notification."""

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
                    ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER),
                )
            ],
            role=role,
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            environment=_environment(table, options, integrity, tracing),
        )
        bucket.grant_read(self.function, f"{key_prefix}*")
        if kms_key is not None:
            kms_key.grant_decrypt(self.function)
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
        self.dead_letter_queue.grant_send_messages(self.function)
        self.function.add_environment(Env.DEAD_LETTER_QUEUE_URL, self.dead_letter_queue.queue_url)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=batch_size,
                max_concurrency=max_concurrency,
                report_batch_item_failures=True,
            )
        )
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED_PUT,
            s3n.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=key_prefix, suffix=TRAIL_FILE_SUFFIX),
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
        for finding, reason in (
            (
                "AwsSolutions-IAM5[Action::s3:GetObject*]",
                "Bucket.grant_read's object actions, on trail files of this bucket only (the prefix below).",
            ),
            (
                "AwsSolutions-IAM5[Action::s3:GetBucket*]",
                "Bucket.grant_read's bucket actions, on the trail bucket only.",
            ),
            (
                "AwsSolutions-IAM5[Action::s3:List*]",
                "Bucket.grant_read's list actions, on the trail bucket only: a missing trail file reads as 404, "
                "not 403.",
            ),
            (
                wildcard_resource(self, bucket.arn_for_objects(f"{key_prefix}*")),
                f"Trail files are keyed {key_prefix}[<org-id>/]<account>/CloudTrail/<region>/<date>/...: the function "
                "reads any of them and nothing else in the bucket.",
            ),
        ):
            acknowledge(policy, finding, reason)
        # CDK adds notifications through its own custom resource, whose handler is a stack-level singleton.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "CDK's S3 bucket-notifications handler (a CDK-internal singleton that merges our notification "
                    "with the bucket's others): CDK gives its role this managed policy for its logs only.",
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
