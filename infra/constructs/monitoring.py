"""Alarms on Redshift activity and pipeline health, all to one SNS topic, and the dashboard."""

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from redtrail.contracts.integrity import ProblemCode
from redtrail.contracts.metric_names import NAMESPACE, PROBLEM_DIMENSION, SERVICE, SOURCE_DIMENSION, MetricName
from redtrail.contracts.settings import SWEEP_MINUTES

HEALTH_PERIOD = Duration.minutes(5)
HEARTBEAT_PERIOD = Duration.minutes(2 * SWEEP_MINUTES)  # two sweeps: one missed run is not yet an alarm
SENSITIVE_PERIOD = Duration.minutes(5)


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One alarm: fires when ``metric`` is at or above ``threshold`` in one period."""

    construct_id: str
    description: str
    metric: cw.IMetric
    threshold: float = 1
    missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING


def problem_metric(code: ProblemCode) -> cw.Metric:
    """The count of newly found problems of one code (a Sum over the integrity problem series of that code)."""
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=MetricName.INTEGRITY_PROBLEMS,
        dimensions_map={PROBLEM_DIMENSION: code.value, "service": SERVICE},
        statistic=cw.Stats.SUM,
        period=HEALTH_PERIOD,
    )


def redtrail_metric(name: MetricName, *, period: Duration = HEALTH_PERIOD, statistic: str = cw.Stats.SUM) -> cw.Metric:
    """A statistic (Sum) of one of the function's EMF metrics, with the ``service`` dimension Powertools adds."""
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=statistic,
        period=period,
    )


class Monitoring(Construct):
    """The alarm topic (KMS-encrypted, TLS-only, optional email), the alarms and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        table: dynamodb.Table,
        alarm_email: str | None,
        write_events_threshold: int,
        write_events_period: Duration,
        queue_age_threshold: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic(alarm_email)
        specs: tuple[AlarmSpec, ...] = (
            AlarmSpec(
                "WriteEvents",
                f"Write-type Redshift events: {write_events_threshold} or more in "
                f"{write_events_period.to_minutes()} minutes (routine Data API and query editor calls not counted). "
                f"`redtrail query --alarmed --since {write_events_period.to_minutes()}m` lists them.",
                redtrail_metric(MetricName.WRITE_EVENTS, period=write_events_period),
                write_events_threshold,
            ),
            AlarmSpec(
                "HighSeverityEvents",
                "A high or critical Redshift detection (a cluster made public, audit logging off, a snapshot "
                "shared...): `redtrail alerts --severity high+ --since 1h` lists them; each also went to the "
                "alerts topic.",
                redtrail_metric(MetricName.HIGH_SEVERITY_EVENTS, period=SENSITIVE_PERIOD),
            ),
            AlarmSpec(
                "SensitiveEvents",
                "A sensitive Redshift operation (see the function's SENSITIVE_EVENT_NAMES) was recorded.",
                redtrail_metric(MetricName.SENSITIVE_EVENTS, period=SENSITIVE_PERIOD),
            ),
            AlarmSpec(
                "FilesFailed",
                "The function failed to process a trail file; SQS will retry it, then move it to the DLQ.",
                redtrail_metric(MetricName.FILES_FAILED),
            ),
            AlarmSpec(
                "DeadLetters",
                "Trail-file notifications are in the dead-letter queue: those files were not ingested.",
                dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic=cw.Stats.MAXIMUM, period=HEALTH_PERIOD
                ),
            ),
            AlarmSpec(
                "FunctionErrors",
                "The function failed (errors, not partial batch failures).",
                function.metric_errors(statistic=cw.Stats.SUM, period=HEALTH_PERIOD),
            ),
            AlarmSpec(
                "FunctionThrottles",
                "The function was throttled.",
                function.metric_throttles(statistic=cw.Stats.SUM, period=HEALTH_PERIOD),
            ),
            AlarmSpec(
                "QueueAge",
                f"The oldest ingest message is {queue_age_threshold.to_minutes()} minutes old or older: "
                "ingestion is falling behind.",
                queue.metric_approximate_age_of_oldest_message(statistic=cw.Stats.MAXIMUM, period=HEALTH_PERIOD),
                queue_age_threshold.to_seconds(),
            ),
            AlarmSpec(
                "TableThrottles",
                "DynamoDB throttled requests on the event table (batch writes throttled whole or in part).",
                cw.MathExpression(
                    # BatchWriteItem counts as throttled only when every item is; WriteThrottleEvents also sees parts.
                    expression="FILL(batchWrites, 0) + FILL(writeThrottles, 0)",
                    using_metrics={
                        "batchWrites": table.metric_throttled_requests_for_operation(
                            "BatchWriteItem", statistic=cw.Stats.SUM, period=HEALTH_PERIOD
                        ),
                        "writeThrottles": table.metric(
                            "WriteThrottleEvents", statistic=cw.Stats.SUM, period=HEALTH_PERIOD
                        ),
                    },
                    label="Throttled writes",
                    period=HEALTH_PERIOD,
                ),
            ),
        )
        specs += (
            AlarmSpec(
                "DigestLate",
                "The heartbeat: a trail's chain of digest files is late (CloudTrail delivers one an hour), or the "
                "sweep that checks did not run. Logging was stopped, validation turned off, or delivery broke: run "
                "`redtrail verify`.",
                redtrail_metric(MetricName.STALE_CHAINS, period=HEARTBEAT_PERIOD, statistic=cw.Stats.MAXIMUM),
                missing=cw.TreatMissingData.BREACHING,
            ),
            *(
                AlarmSpec(
                    f"Integrity{code.alarm_name}",
                    f"{code.meaning} ({code.value}): run `redtrail verify`.",
                    problem_metric(code),
                )
                for code in ProblemCode
            ),
        )
        self.alarms = [self._alarm(spec) for spec in specs]
        self.dashboard = self._dashboard(function, queue, dead_letter_queue)

    def _topic(self, alarm_email: str | None) -> sns.Topic:
        # CloudWatch can publish to an encrypted topic only with a customer managed key that lets it use the key.
        # Both the key and the topic serve CloudWatch only for alarms of this account and region (no confused deputy).
        stack = Stack.of(self)
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        this_accounts_alarms = {
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            },
            "StringEquals": {"aws:SourceAccount": stack.account},
        }
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="redtrail alarm topic")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # a key policy's resource is the key itself
                conditions=this_accounts_alarms,
            )
        )
        topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True, display_name="redtrail alarms")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=this_accounts_alarms,
            )
        )
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def _alarm(self, spec: AlarmSpec) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            spec.construct_id,
            alarm_description=spec.description,
            metric=spec.metric,
            threshold=spec.threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=spec.missing,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _dashboard(self, function: lambda_.IFunction, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue) -> cw.Dashboard:
        # With POWERTOOLS_SERVICE_NAME set, single_metric adds the service dimension too.
        by_source = cw.SearchExpression(
            expression=f"SEARCH('{{{NAMESPACE},{SOURCE_DIMENSION},service}} "
            f"MetricName=\"{MetricName.EVENTS_BY_SOURCE}\"', 'Sum', {int(HEALTH_PERIOD.to_seconds())})",
            label="",
        )
        dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        dashboard.add_widgets(
            _graph("Redshift events", [MetricName.EVENTS_KEPT, MetricName.WRITE_EVENTS, MetricName.SENSITIVE_EVENTS]),
            cw.GraphWidget(title="Redshift events by source", left=[by_source], width=12),
        )
        dashboard.add_widgets(
            _graph("Trail files", [MetricName.FILES_PROCESSED, MetricName.FILES_FAILED, MetricName.FILES_SKIPPED]),
            cw.GraphWidget(
                title="Ingest queue age (s) and dead letters",
                left=[queue.metric_approximate_age_of_oldest_message(statistic=cw.Stats.MAXIMUM)],
                right=[dead_letter_queue.metric_approximate_number_of_messages_visible(statistic=cw.Stats.MAXIMUM)],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Function duration (ms)",
                left=[
                    function.metric_duration(statistic=stat)
                    for stat in (cw.Stats.p(50), cw.Stats.p(99), cw.Stats.MAXIMUM)
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Function errors and throttles",
                left=[
                    function.metric_errors(statistic=cw.Stats.SUM),
                    function.metric_throttles(statistic=cw.Stats.SUM),
                ],
                width=12,
            ),
        )
        problems = cw.SearchExpression(
            expression=f"SEARCH('{{{NAMESPACE},{PROBLEM_DIMENSION},service}} "
            f"MetricName=\"{MetricName.INTEGRITY_PROBLEMS}\"', 'Sum', {int(HEALTH_PERIOD.to_seconds())})",
            label="",
        )
        dashboard.add_widgets(
            _graph(
                "Trail integrity: digests and log files verified",
                [MetricName.DIGESTS_VERIFIED, MetricName.LOGS_VERIFIED],
            ),
            cw.GraphWidget(
                title="Integrity problems by code, and late chains",
                left=[problems],
                right=[redtrail_metric(MetricName.STALE_CHAINS, statistic=cw.Stats.MAXIMUM)],
                width=12,
            ),
        )
        # No AlarmStatusWidget: its alarm ARNs are Fn::GetAtt on the alarms, which the embedded local AWS
        # (moto) cannot resolve, and `redtrail local` deploys this same template. Alarm states are in
        # the CloudWatch console's alarm list and in `redtrail status`.
        return dashboard


def _graph(title: str, names: list[MetricName]) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=[redtrail_metric(name) for name in names], width=12)
