"""Source: a new bucket and trail by default, or an existing bucket whose other notifications are kept."""

from aws_cdk.assertions import Capture, Match
from infra_support import Synth, only, resources


def test_new_trail_records_read_and_write_management_events(new_trail: Synth) -> None:
    # Given the default configuration
    # Then one multi-region trail with log file validation records all management events, reads included
    new_trail.template.resource_count_is("AWS::CloudTrail::Trail", 1)
    new_trail.template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "IsLogging": True,
            "EventSelectors": [{"IncludeManagementEvents": True, "ReadWriteType": "All"}],
        },
    )


def test_new_trail_bucket_is_encrypted_private_versioned_logged_and_tiered(new_trail: Synth) -> None:
    # Given the default configuration
    bucket = Capture()
    new_trail.template.has_resource_properties("AWS::CloudTrail::Trail", {"S3BucketName": {"Ref": bucket}})
    trail_bucket = new_trail.json["Resources"][bucket.as_string()]

    # Then the trail's bucket is encrypted, private, versioned, access-logged, tiered and retained
    properties = trail_bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    log_bucket = properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert log_bucket in resources(new_trail, "AWS::S3::Bucket")
    classes = [t["StorageClass"] for t in properties["LifecycleConfiguration"]["Rules"][0]["Transitions"]]
    assert classes == ["STANDARD_IA", "GLACIER_IR"]
    assert trail_bucket["DeletionPolicy"] == "Retain"


def test_new_trail_buckets_are_tls_only(new_trail: Synth) -> None:
    # Given the default configuration (trail bucket and access-log bucket)
    buckets = resources(new_trail, "AWS::S3::Bucket")

    # Then each bucket's policy denies requests without TLS
    for logical_id in buckets:
        new_trail.template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": logical_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_existing_bucket_creates_no_bucket_or_trail(existing_bucket: Synth) -> None:
    # Given an existing trail bucket
    # Then the stack creates neither a bucket nor a trail
    existing_bucket.template.resource_count_is("AWS::S3::Bucket", 0)
    existing_bucket.template.resource_count_is("AWS::CloudTrail::Trail", 0)


def test_existing_bucket_notification_keeps_other_notifications(existing_bucket: Synth) -> None:
    # Given an existing trail bucket
    # Then the notification is added to that bucket as "unmanaged": CDK's handler merges it with the
    # bucket's existing notifications instead of replacing them
    _, notification = only(existing_bucket, "Custom::S3BucketNotifications")
    assert notification["BucketName"] == existing_bucket.config.trail_bucket_name
    assert notification["Managed"] is False


def test_new_bucket_notification_is_managed(new_trail: Synth) -> None:
    # Given the default configuration
    # Then the stack owns the bucket's whole notification configuration
    _, notification = only(new_trail, "Custom::S3BucketNotifications")
    assert notification["Managed"] is True
