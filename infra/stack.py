"""The redtrail stack: wires source, storage, ingestion and monitoring, and publishes the outputs."""

from typing import Any

from aws_cdk import App, CfnOutput, Duration, Stack
from constructs import Construct

from infra.config import StackConfig
from infra.constructs.alerts import Alerts
from infra.constructs.ingestion import Ingestion
from infra.constructs.monitoring import Monitoring
from infra.constructs.source import TrailSource
from infra.constructs.storage import EventStore
from infra.nag import add_checks
from redtrail.contracts import stack_outputs
from redtrail.contracts.stack_outputs import OUTPUT_KEYS


class RedtrailStack(Stack):
    """Trail files -> S3 notification, EventBridge or SNS -> SQS -> Lambda -> DynamoDB, with alarms and a dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = TrailSource(
            self,
            "Source",
            bucket_name=config.trail_bucket_name,
            prefix=config.trail_prefix,
            kms_key_arn=config.trail_kms_key_arn,
            mode=config.source_mode,
            sns_topic_arn=config.trail_sns_topic_arn,
        )
        storage = EventStore(self, "Storage")
        ingestion = Ingestion(
            self,
            "Ingestion",
            bucket=source.bucket,
            key_prefix=source.key_prefix,
            kms_key=source.kms_key,
            table=storage.table,
            options=config.pipeline_options,
            integrity=config.integrity_options,
            tracing=config.tracing,
            timeout=Duration.seconds(config.function_timeout_seconds),
            memory_size=config.function_memory_mb,
            log_retention=config.log_retention,
            batch_size=config.batch_size,
            max_concurrency=config.max_concurrency,
            max_receive_count=config.max_receive_count,
            powertools_version=config.powertools_version,
        )
        source.deliver_to(ingestion.queue)
        alerts = Alerts(
            self,
            "Alerts",
            function=ingestion.function,
            options=config.alert_options,
            alert_email=config.alert_email,
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            function=ingestion.function,
            queue=ingestion.queue,
            dead_letter_queue=ingestion.dead_letter_queue,
            table=storage.table,
            alarm_email=config.alarm_email,
            write_events_threshold=config.write_events_threshold,
            write_events_period=Duration.minutes(config.write_events_period_minutes),
            queue_age_threshold=Duration.minutes(config.queue_age_alarm_minutes),
        )
        outputs = {
            stack_outputs.BUCKET: (source.bucket.bucket_name, "Bucket the trail delivers to"),
            stack_outputs.TRAIL_KEY_PREFIX: (source.key_prefix, "Key prefix of the trail files the function reads"),
            stack_outputs.QUEUE_URL: (ingestion.queue.queue_url, "Ingest queue (announcements of new trail files)"),
            stack_outputs.DEAD_LETTER_QUEUE_URL: (
                ingestion.dead_letter_queue.queue_url,
                "Notifications that failed repeatedly",
            ),
            stack_outputs.TABLE: (storage.table.table_name, "Event table"),
            stack_outputs.FUNCTION: (ingestion.function.function_name, "Ingest function"),
            stack_outputs.TOPIC: (monitoring.topic.topic_arn, "Alarm topic"),
            stack_outputs.ALERT_TOPIC: (alerts.topic.topic_arn, "Alerts topic (one message per detected event)"),
            stack_outputs.DASHBOARD: (monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
        }
        for key in OUTPUT_KEYS:
            value, description = outputs[key]
            CfnOutput(self, key, value=value, description=description)


def build(app: App) -> RedtrailStack:
    """The stack configured from ``app``'s context, with the cdk-nag checks; raises ConfigError on bad context."""
    config = StackConfig.from_context(app.node.try_get_context)
    stack = RedtrailStack(app, config.stack_name, config=config, description="redtrail: Redshift audit trail")
    add_checks(app)
    return stack
