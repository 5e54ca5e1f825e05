"""Where trail files come from: an existing trail bucket, or a new bucket and trail."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class TrailSource(Construct):
    """The trail bucket, the key prefix of its trail files and the key that encrypts them (if any).

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
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        self.key_prefix = f"{prefix}AWSLogs/"
        self.kms_key: kms.IKey | None = kms.Key.from_key_arn(self, "TrailKey", kms_key_arn) if kms_key_arn else None
        self.trail: cloudtrail.Trail | None = None
        if bucket_name:
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_name(self, "Bucket", bucket_name)
        else:
            self.bucket = self._new_bucket()
            self.trail = cloudtrail.Trail(
                self,
                "Trail",
                bucket=self.bucket,
                s3_key_prefix=prefix.rstrip("/") or None,
                is_multi_region_trail=True,
                include_global_service_events=True,
                enable_file_validation=True,
                management_events=cloudtrail.ReadWriteType.ALL,
            )

    def _new_bucket(self) -> s3.Bucket:
        access_logs = _secure_bucket(self, "AccessLogs")
        return _secure_bucket(self, "Bucket", access_logs=access_logs, access_logs_prefix="trail-bucket/")


def _secure_bucket(
    scope: Construct, construct_id: str, *, access_logs: s3.IBucket | None = None, access_logs_prefix: str | None = None
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
