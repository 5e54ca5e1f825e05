"""Source: a new bucket and trail by default, or an existing bucket whose other notifications are kept."""

import json

from aws_cdk.assertions import Capture, Match
from infra_support import REPO, Synth, arn_of, only, resources


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


def test_only_the_stacks_own_trail_may_write_to_its_bucket(new_trail: Synth, eventbridge_own: Synth) -> None:
    # Given the stack's own bucket and trail (without and with a trail prefix)
    for synth in (new_trail, eventbridge_own):
        [trail] = resources(synth, "AWS::CloudTrail::Trail").values()
        bucket_id = trail["Properties"]["S3BucketName"]["Ref"]
        [(policy_id, policy)] = [
            (key, value["Properties"]["PolicyDocument"]["Statement"])
            for key, value in resources(synth, "AWS::S3::BucketPolicy").items()
            if value["Properties"]["Bucket"] == {"Ref": bucket_id}
        ]
        # When the bucket policy's statements for CloudTrail are read
        cloudtrail = [s for s in policy if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
        # Then the trail has a fixed name, and CloudTrail may read the bucket's ACL and write under
        # <prefix>AWSLogs/<this account>/ only for that trail of this account and region (aws:SourceArn: no other
        # account's trail can deliver into the bucket)
        name = f"{synth.config.stack_name}-trail"
        this_trail = {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":cloudtrail:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    f":trail/{name}",
                ],
            ]
        }
        assert trail["Properties"]["TrailName"] == name
        assert sorted(s["Action"] for s in cloudtrail) == ["s3:GetBucketAcl", "s3:PutObject"]
        assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == this_trail for s in cloudtrail)
        put = next(s for s in cloudtrail if s["Action"] == "s3:PutObject")
        assert put["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
        assert put["Resource"] == {
            "Fn::Join": [
                "",
                [arn_of(bucket_id), f"/{synth.config.trail_key_prefix}", {"Ref": "AWS::AccountId"}, "/*"],
            ]
        }
        # And the trail is created after that policy (CloudTrail checks it when the trail is created)
        assert policy_id in trail["DependsOn"]


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


def test_new_bucket_notification_keeps_notifications_added_by_others(new_trail: Synth) -> None:
    # Given the default configuration, with the feature flag @aws-cdk/aws-s3:keepNotificationInImportedBucket on
    flags = json.loads((REPO / "cdk.json").read_text())["context"]
    assert flags["@aws-cdk/aws-s3:keepNotificationInImportedBucket"] is True
    # Then even the stack's own bucket's notification is "unmanaged": an update of the stack replaces only the
    # stack's own notification, and one a user added to the bucket (a SIEM's) survives it
    _, notification = only(new_trail, "Custom::S3BucketNotifications")
    assert notification["Managed"] is False
