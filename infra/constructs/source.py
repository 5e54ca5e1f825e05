"""Where trail files come from (an existing trail bucket, or a new bucket and trail) and how they reach the queue.

Three source modes (``sourceMode``), each sending the same objects to the ingest queue: the bucket's S3 event
notification, the bucket's EventBridge events, or the trail's own SNS topic. The function reads all three shapes
(``redtrail.core.s3_events``) and is idempotent, so a file announced twice is stored once.
"""

from typing import Any

import jsii
from aws_cdk import Arn, ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IDependable

from infra.config import SourceMode
from infra.nag import acknowledge

TRAIL_FILE_SUFFIX = ".json.gz"
TRAIL_NAME_SUFFIX = "-trail"
# Every way an object is created: a plain upload (Put), a multipart upload (`aws s3 cp` of a large file,
# CompleteMultipartUpload), a copy, replication. The function is idempotent, so each may fire.
OBJECT_CREATED = s3.EventType.OBJECT_CREATED


class TrailSource(Construct):
    """The trail bucket, the key prefix of its trail files, the key that encrypts them (if any), and the delivery.

    With ``bucket_name`` the bucket is imported; otherwise the construct creates an access-logged bucket
    and a multi-region trail that records management events, read events included: KMS ``Decrypt`` on a
    Redshift key is a read event, and a write-only trail would silently miss it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str | None,
        prefix: str,
        kms_key_arn: str | None,
        mode: SourceMode = SourceMode.NOTIFICATION,
        sns_topic_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        self.key_prefix = f"{prefix}AWSLogs/"
        self.mode = mode
        self.sns_topic_arn = sns_topic_arn
        self.kms_key: kms.IKey | None = kms.Key.from_key_arn(self, "TrailKey", kms_key_arn) if kms_key_arn else None
        self.trail: cloudtrail.CfnTrail | None = None
        if bucket_name:
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_name(self, "Bucket", bucket_name)
        else:
            bucket = self._new_bucket(event_bridge=mode is SourceMode.EVENTBRIDGE)
            self.bucket = bucket
            self.trail = self._new_trail(bucket)

    def _new_bucket(self, *, event_bridge: bool) -> s3.Bucket:
        access_logs = _secure_bucket(self, "AccessLogs")
        return _secure_bucket(
            self, "Bucket", access_logs=access_logs, access_logs_prefix="trail-bucket/", event_bridge=event_bridge
        )

    def _new_trail(self, bucket: s3.Bucket) -> cloudtrail.CfnTrail:
        """The multi-region trail, and a bucket policy that lets CloudTrail write for this trail only.

        Not the ``cloudtrail.Trail`` construct: its bucket policy statements have no ``aws:SourceArn``, so any
        trail of any account could deliver into this bucket (the confused deputy). The trail's name is fixed so
        that its ARN can be written into the policy the trail depends on.
        """
        stack = Stack.of(self)
        name = f"{stack.stack_name[: 128 - len(TRAIL_NAME_SUFFIX)]}{TRAIL_NAME_SUFFIX}"
        trail_arn = stack.format_arn(service="cloudtrail", resource="trail", resource_name=name)
        cloudtrail_service = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        this_trail = {"aws:SourceArn": trail_arn}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudtrail_service],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": this_trail},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudtrail_service],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{self.key_prefix}{stack.account}/*")],
                conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **this_trail}},
            )
        )
        trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=name,
            is_logging=True,
            s3_bucket_name=bucket.bucket_name,
            s3_key_prefix=self.prefix.rstrip("/") or None,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            event_selectors=[
                cloudtrail.CfnTrail.EventSelectorProperty(include_management_events=True, read_write_type="All")
            ],
        )
        # CloudTrail checks the bucket policy when the trail is created.
        if bucket.policy is not None:
            trail.node.add_dependency(bucket.policy)
        return trail

    def deliver_to(self, queue: sqs.Queue) -> None:
        """Announce each new trail file (log files and digests) to ``queue``, the way ``mode`` says."""
        if self.mode is SourceMode.NOTIFICATION:
            self._notification(queue)
        elif self.mode is SourceMode.EVENTBRIDGE:
            self._eventbridge(queue)
        else:
            self._sns(queue)
        self._acknowledge()

    def _notification(self, queue: sqs.Queue) -> None:
        # S3 notifications reach a queue in the bucket's own region only, from a bucket in this account (the
        # stack's custom resource writes the bucket's notification configuration).
        _allow_service(
            queue,
            "s3.amazonaws.com",
            source_arn=("ArnLike", self.bucket.bucket_arn),
            source_account=Stack.of(self).account,
        )
        self.bucket.add_event_notification(
            OBJECT_CREATED,
            _QueueDestination(queue),
            s3.NotificationKeyFilter(prefix=self.key_prefix, suffix=TRAIL_FILE_SUFFIX),
        )

    def _eventbridge(self, queue: sqs.Queue) -> None:
        # S3 sends its events to the default bus of the bucket's account and region; from another account or
        # region they are forwarded to this account's default bus by a rule there (README: source modes).
        rule = events.Rule(
            self,
            "ObjectCreated",
            description="redtrail: new trail files (S3 EventBridge 'Object Created') to the ingest queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"wildcard": trail_file_wildcard(self.key_prefix)}]},
                },
            ),
        )
        _allow_service(
            queue,
            "events.amazonaws.com",
            source_arn=("ArnEquals", rule.rule_arn),
            source_account=Stack.of(self).account,
        )
        rule.add_target(_QueueTarget(queue))

    def _sns(self, queue: sqs.Queue) -> None:
        if self.sns_topic_arn is None:  # StackConfig refuses sns mode without a topic
            raise ValueError("sourceMode=sns needs trailSnsTopicArn")
        topic = sns.Topic.from_topic_arn(self, "TrailTopic", self.sns_topic_arn)
        parts = Arn.split(self.sns_topic_arn, ArnFormat.NO_RESOURCE_NAME)
        dependable = _allow_service(
            queue,
            "sns.amazonaws.com",
            source_arn=("ArnEquals", self.sns_topic_arn),
            source_account=str(parts.account),
        )
        subscription = sns.Subscription(
            self,
            "TrailTopicSubscription",
            topic=topic,
            endpoint=queue.queue_arn,
            protocol=sns.SubscriptionProtocol.SQS,
            # The subscription is made in the topic's region (CloudFormation: the Region property).
            region=parts.region,
        )
        if dependable is not None:
            subscription.node.add_dependency(dependable)

    def _acknowledge(self) -> None:
        # CDK writes bucket notifications (and a bucket's EventBridge switch) through its own custom resource,
        # whose handler is a stack-level singleton.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "CDK's S3 bucket-notifications handler (a CDK-internal singleton that merges our notification "
                    "with the bucket's others): CDK gives its role this managed policy for its logs only.",
                )


def trail_file_wildcard(key_prefix: str) -> str:
    """The EventBridge wildcard for ``<key_prefix>…<suffix>`` keys (a literal ``*`` in the prefix escaped)."""
    escaped = key_prefix.replace("*", "\\*")
    return f"{escaped}*{TRAIL_FILE_SUFFIX}"


def _allow_service(
    queue: sqs.Queue, service: str, *, source_arn: tuple[str, str], source_account: str
) -> IDependable | None:
    """Let one AWS service send to ``queue`` on behalf of one resource of one account only (no confused deputy)."""
    operator, arn = source_arn
    result = queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(service)],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={operator: {"aws:SourceArn": arn}, "StringEquals": {"aws:SourceAccount": source_account}},
        )
    )
    return result.policy_dependable


@jsii.implements(s3.IBucketNotificationDestination)
class _QueueDestination:
    """The ingest queue as an S3 notification destination; its policy statement is added by ``_allow_service``.

    Not ``s3_notifications.SqsDestination``: that one grants S3 on the bucket's ARN only (no account condition)
    and adds ``sqs:GetQueueAttributes`` and ``sqs:GetQueueUrl``, which S3 does not need.
    """

    def __init__(self, queue: sqs.Queue) -> None:
        self._queue = queue

    def bind(self, scope: Construct, bucket: Any) -> s3.BucketNotificationDestinationConfig:
        # S3 checks that it may send when the notification is written: depend on the queue (and its policy).
        return s3.BucketNotificationDestinationConfig(
            arn=self._queue.queue_arn,
            type=s3.BucketNotificationDestinationType.QUEUE,
            dependencies=[self._queue],
        )


@jsii.implements(events.IRuleTarget)
class _QueueTarget:
    """The ingest queue as an EventBridge target; its policy statement is added by ``_allow_service``."""

    def __init__(self, queue: sqs.Queue) -> None:
        self._queue = queue

    def bind(self, rule: Any, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._queue.queue_arn, target_resource=self._queue)


def _secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None = None,
    access_logs_prefix: str | None = None,
    event_bridge: bool = False,
) -> s3.Bucket:
    """A bucket that is encrypted, TLS-only, private, versioned, retained and moved to cheaper storage."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        versioned=True,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[_cheaper_storage_rule()],
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        event_bridge_enabled=event_bridge or None,
    )


def _cheaper_storage_rule() -> s3.LifecycleRule:
    """Infrequent Access after 30 days, Glacier Instant Retrieval after 90: still readable at once (backfills)."""
    transitions = [
        (s3.StorageClass.INFREQUENT_ACCESS, Duration.days(30)),
        (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, Duration.days(90)),
    ]
    return s3.LifecycleRule(
        id="CheaperStorage",
        abort_incomplete_multipart_upload_after=Duration.days(7),
        transitions=[s3.Transition(storage_class=cls, transition_after=after) for cls, after in transitions],
        noncurrent_version_transitions=[
            s3.NoncurrentVersionTransition(storage_class=cls, transition_after=after) for cls, after in transitions
        ],
    )
