"""CloudWatch alarms, locally: moto stores alarms but never evaluates them, so this does.

The stack's alarms are read from the synthesized template, created in the local CloudWatch (named
``<stack>-<logicalId>``, as CloudFormation's names start) and evaluated over the metrics the function actually
emitted: the Powertools EMF lines it prints. On each state change the alarm's state is set in the local AWS and
the notification CloudWatch sends is published to the actions of the new state (``AlarmActions`` for ALARM,
``OKActions`` for OK, ``InsufficientDataActions``), as CloudWatch does.

Liberties, as a local stand-in:

* Time is scaled: one minute of an alarm's period lasts ``minute_seconds`` real seconds (default 1, so a
  5-minute alarm is evaluated every 5 s). Schedules outside the alarms are not scaled (the ledger's sweep runs
  every ``--sweep-seconds``): with the defaults the heartbeat's 30-minute period (30 s) is shorter than the
  sweep's 60 s, so that alarm fires between sweeps.
* Each alarm is evaluated at the end of each of its periods, counted from when the evaluator started, not
  every minute on clock-aligned periods; a datapoint's time is when its line was printed (not the EMF
  ``Timestamp``).
* Only the function's own metrics (its EMF namespace) exist locally. Alarms on AWS/Lambda, AWS/SQS or
  AWS/DynamoDB metrics, metric math, percentiles and anomaly bands are created but stay INSUFFICIENT_DATA,
  with a reason saying why.
* TreatMissingData ``missing`` and ``ignore`` both keep the current state when no period has data; when some
  have, the alarm goes to ALARM if the breaching ones reach DatapointsToAlarm, or all present ones breach.
"""

import json
import math
import operator
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.literals import StateValueType
    from mypy_boto3_sns import SNSClient

ALARM_TYPE = "AWS::CloudWatch::Alarm"
SUBJECT_LIMIT = 100  # SNS refuses longer subjects
REASON_LIMIT = 1023  # SetAlarmState's StateReason
# The names CloudWatch writes in its notifications (their "Region" and subject).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)",
    "sa-east-1": "South America (Sao Paulo)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
}


class State(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


STATISTICS: dict[str, Callable[[Sequence[float]], float]] = {
    "Sum": math.fsum,
    "Maximum": lambda values: max(values),
    "Minimum": lambda values: min(values),
    "Average": statistics.fmean,
    "SampleCount": lambda values: float(len(values)),
}
# How CloudWatch names a statistic in a notification's Trigger.
STATISTIC_NAMES = {
    "Sum": "SUM",
    "Maximum": "MAXIMUM",
    "Minimum": "MINIMUM",
    "Average": "AVERAGE",
    "SampleCount": "SAMPLE_COUNT",
}
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


# The template: alarms and the intrinsics in their properties.


@dataclass(frozen=True)
class StackResource:
    type: str
    physical_id: str


@dataclass(frozen=True)
class Stack:
    """What resolving a template's intrinsics needs: the deployed stack's resources and pseudo parameters."""

    name: str
    region: str
    account: str
    resources: Mapping[str, StackResource] = field(default_factory=dict)


def resolve(value: Any, stack: Stack) -> Any:
    """The value with ``Ref`` and ``Fn::GetAtt`` replaced by the stack's names; what can't be resolved, as JSON."""
    if isinstance(value, list):
        return [resolve(element, stack) for element in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        found = _reference(str(value["Ref"]), stack)
    elif set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        logical_id, attribute = target.split(".", 1) if isinstance(target, str) else target
        found = _attribute(str(logical_id), str(attribute), stack)
    elif any(key.startswith("Fn::") for key in value):
        found = None
    else:
        return {key: resolve(element, stack) for key, element in value.items()}
    return json.dumps(value, sort_keys=True) if found is None else found


def _reference(logical_id: str, stack: Stack) -> str | None:
    pseudo = {
        "AWS::Region": stack.region,
        "AWS::AccountId": stack.account,
        "AWS::StackName": stack.name,
        "AWS::Partition": "aws",
    }
    resource = stack.resources.get(logical_id)
    return resource.physical_id if resource else pseudo.get(logical_id)


def _attribute(logical_id: str, attribute: str, stack: Stack) -> str | None:
    resource = stack.resources.get(logical_id)
    if resource is None:
        return None
    physical, region, account = resource.physical_id, stack.region, stack.account
    last = physical.rsplit("/", 1)[-1]  # a queue's name, at the end of its URL
    attributes: dict[str, dict[str, str]] = {
        "AWS::SQS::Queue": {"QueueName": last, "QueueUrl": physical, "Arn": f"arn:aws:sqs:{region}:{account}:{last}"},
        "AWS::SNS::Topic": {"TopicArn": physical, "TopicName": physical.rsplit(":", 1)[-1]},
        "AWS::Lambda::Function": {"Arn": f"arn:aws:lambda:{region}:{account}:function:{physical}"},
        "AWS::DynamoDB::Table": {"Arn": f"arn:aws:dynamodb:{region}:{account}:table/{physical}"},
    }
    found = attributes.get(resource.type, {}).get(attribute)
    if found is None and attribute == "Arn" and physical.startswith("arn:"):
        return physical
    return found


@dataclass(frozen=True)
class MetricAlarm:
    """One alarm of the template, its intrinsics resolved."""

    logical_id: str
    name: str
    construct_id: str  # the CDK construct's ID (``WriteEvents``), or the logical ID
    description: str = ""
    namespace: str = ""
    metric_name: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()  # (name, value), in the template's order
    statistic: str | None = None
    extended_statistic: str | None = None
    unit: str | None = None
    period: int = 60  # seconds, as configured (not scaled)
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    threshold: float = 0.0
    threshold_metric_id: str | None = None
    comparison: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str = "missing"
    evaluate_low_sample_count_percentile: str = ""
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    metrics: tuple[dict[str, Any], ...] = ()  # metric math queries, as in the template

    @classmethod
    def from_properties(
        cls, logical_id: str, properties: Mapping[str, Any], *, name: str, construct_id: str = ""
    ) -> "MetricAlarm":
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(action) for action in properties.get(key, []))

        to_alarm = properties.get("DatapointsToAlarm")
        threshold = properties.get("Threshold")
        return cls(
            logical_id=logical_id,
            name=name,
            construct_id=construct_id or logical_id,
            description=str(properties.get("AlarmDescription", "")),
            namespace=str(properties.get("Namespace", "")),
            metric_name=str(properties.get("MetricName", "")),
            dimensions=tuple((str(item["Name"]), str(item["Value"])) for item in properties.get("Dimensions", [])),
            statistic=properties.get("Statistic"),
            extended_statistic=properties.get("ExtendedStatistic"),
            unit=properties.get("Unit"),
            period=int(properties.get("Period", 60)),
            evaluation_periods=int(properties.get("EvaluationPeriods", 1)),
            datapoints_to_alarm=None if to_alarm is None else int(to_alarm),
            threshold=0.0 if threshold is None else float(threshold),
            threshold_metric_id=properties.get("ThresholdMetricId"),
            comparison=str(properties.get("ComparisonOperator", "GreaterThanOrEqualToThreshold")),
            treat_missing_data=str(properties.get("TreatMissingData", "missing")),
            evaluate_low_sample_count_percentile=str(properties.get("EvaluateLowSampleCountPercentile", "")),
            actions_enabled=str(properties.get("ActionsEnabled", True)).lower() != "false",
            alarm_actions=strings("AlarmActions"),
            ok_actions=strings("OKActions"),
            insufficient_data_actions=strings("InsufficientDataActions"),
            metrics=tuple(properties.get("Metrics", [])),
        )

    @property
    def dimension_set(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.dimensions)

    @property
    def required_breaches(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    def actions_for(self, state: State) -> tuple[str, ...]:
        if not self.actions_enabled:
            return ()
        return {State.ALARM: self.alarm_actions, State.OK: self.ok_actions}.get(state, self.insufficient_data_actions)


def template_alarms(template: Mapping[str, Any], stack: Stack) -> list[MetricAlarm]:
    """The template's alarms, named ``<stack>-<logicalId>``, with intrinsics resolved against ``stack``."""
    alarms = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != ALARM_TYPE:
            continue
        path = str(resource.get("Metadata", {}).get("aws:cdk:path", "")).split("/")
        construct_id = path[-2] if len(path) > 1 and path[-1] == "Resource" else path[-1]
        alarms.append(
            MetricAlarm.from_properties(
                logical_id,
                resolve(resource.get("Properties", {}), stack),
                name=f"{stack.name}-{logical_id}",
                construct_id=construct_id,
            )
        )
    return alarms


def why_not_evaluated(alarm: MetricAlarm, namespace: str) -> str | None:
    """Why the alarm can't be evaluated locally (None when it can: a statistic of the function's metric)."""
    if alarm.metrics:
        spaces = sorted(
            {str(query.get("MetricStat", {}).get("Metric", {}).get("Namespace")) for query in alarm.metrics}
        )
        names = ", ".join(space for space in spaces if space != "None")
        return f"Not evaluated locally: a metric math alarm (Metrics), and the local AWS has no {names} metrics."
    if alarm.namespace != namespace:
        return (
            f"Not evaluated locally: the local AWS has no {alarm.namespace} metrics "
            f"(only the function's own metrics, namespace {namespace})."
        )
    if alarm.statistic not in STATISTICS:
        return f"Not evaluated locally: the statistic {alarm.extended_statistic or alarm.statistic} is not computed."
    if alarm.threshold_metric_id or alarm.comparison not in COMPARISONS:
        return f"Not evaluated locally: {alarm.comparison} (an anomaly detection band) is not computed."
    return None


def put_request(alarm: MetricAlarm) -> dict[str, Any]:
    """The ``PutMetricAlarm`` arguments that create the alarm as the template configures it."""
    request: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "ActionsEnabled": alarm.actions_enabled,
        "AlarmActions": list(alarm.alarm_actions),
        "OKActions": list(alarm.ok_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "EvaluationPeriods": alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
    }
    if alarm.metrics:
        request["Metrics"] = list(alarm.metrics)
    else:
        request |= {
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric_name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in alarm.dimensions],
            "Period": alarm.period,
        }
        if alarm.statistic:
            request["Statistic"] = alarm.statistic
        if alarm.extended_statistic:
            request["ExtendedStatistic"] = alarm.extended_statistic
    if alarm.threshold_metric_id:
        request["ThresholdMetricId"] = alarm.threshold_metric_id
    else:
        request["Threshold"] = alarm.threshold
    optional = {
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Unit": alarm.unit,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
    }
    return request | {key: value for key, value in optional.items() if value}


# The function's metrics: EMF lines.


@dataclass(frozen=True)
class Datapoint:
    """One value of one metric series, and when the function printed it."""

    namespace: str
    metric_name: str
    dimensions: frozenset[tuple[str, str]]
    value: float
    seen: float
    unit: str | None = None


def emf_datapoints(line: str, seen: float) -> list[Datapoint]:
    """The values an EMF line carries, one per metric, dimension set and value (none if it is not EMF)."""
    if not line.startswith("{") or "_aws" not in line:
        return []
    try:
        blob = json.loads(line)
        return [
            datapoint
            for directive in blob["_aws"]["CloudWatchMetrics"]
            for datapoint in _directive(blob, directive, seen)
        ]
    except (ValueError, KeyError, TypeError, AttributeError):  # not EMF after all: no metrics
        return []


def _directive(blob: dict[str, Any], directive: dict[str, Any], seen: float) -> list[Datapoint]:
    # Each dimension set is a series of its own; the dimensions' values are the blob's top-level keys.
    dimension_sets = directive.get("Dimensions") or [[]]
    series = [
        frozenset((key, blob[key]) for key in keys)
        for keys in dimension_sets
        if all(isinstance(blob.get(key), str) for key in keys)
    ]
    found = []
    for metric in directive["Metrics"]:
        raw = blob.get(metric["Name"])
        values = raw if isinstance(raw, list) else [raw]
        numbers = [float(value) for value in values if isinstance(value, int | float) and not isinstance(value, bool)]
        found += [
            Datapoint(directive["Namespace"], metric["Name"], dimensions, number, seen, metric.get("Unit"))
            for dimensions in series
            for number in numbers
        ]
    return found


def matches(alarm: MetricAlarm, datapoint: Datapoint) -> bool:
    """Whether the datapoint is of the alarm's series: namespace, name, exactly its dimensions (and its unit)."""
    return (
        datapoint.namespace == alarm.namespace
        and datapoint.metric_name == alarm.metric_name
        and datapoint.dimensions == alarm.dimension_set
        and (alarm.unit is None or datapoint.unit == alarm.unit)
    )


# Evaluating a state.


@dataclass(frozen=True)
class PeriodValue:
    """The statistic over one period (None: no data), and the period's start."""

    start: float
    value: float | None
    samples: int


@dataclass(frozen=True)
class Evaluation:
    state: State
    reason: str
    periods: tuple[PeriodValue, ...]
    at: float


def evaluate(
    alarm: MetricAlarm, datapoints: Iterable[Datapoint], *, at: float, period_seconds: float, current: State
) -> Evaluation:
    """The alarm's state at ``at``, from its last ``EvaluationPeriods`` periods of ``period_seconds`` each."""
    count = alarm.evaluation_periods
    starts = [at - (count - index) * period_seconds for index in range(count)]
    samples: list[list[float]] = [[] for _ in starts]
    for datapoint in datapoints:
        index = math.floor((datapoint.seen - starts[0]) / period_seconds)
        if 0 <= index < count and matches(alarm, datapoint):
            samples[index].append(datapoint.value)
    summarize = STATISTICS[str(alarm.statistic)]
    periods = tuple(
        PeriodValue(start, summarize(values) if values else None, len(values))
        for start, values in zip(starts, samples, strict=True)
    )
    state, reason = _state(alarm, periods, current)
    return Evaluation(state, reason, periods, at)


def _state(alarm: MetricAlarm, periods: Sequence[PeriodValue], current: State) -> tuple[State, str]:
    compare, phrase = COMPARISONS[alarm.comparison]
    present = [period for period in periods if period.value is not None]
    missing = len(periods) - len(present)
    treat = alarm.treat_missing_data
    if not present and treat not in {"breaching", "notBreaching"}:
        return current, f"no datapoints were received for {_count(missing, 'period')}: the state is kept"
    breaching = [period for period in present if compare(float(period.value or 0), alarm.threshold)]
    needed = alarm.required_breaches
    breaches = len(breaching) + (missing if treat == "breaching" else 0)
    if treat not in {"breaching", "notBreaching"}:
        needed = min(needed, len(present))
    state = State.ALARM if breaches >= needed else State.OK
    if not present:
        treated = "Breaching" if treat == "breaching" else "NonBreaching"
        return state, (
            f"Threshold Crossed: no datapoints were received for {_count(missing, 'period')} and "
            f"{_count(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} treated as [{treated}]."
        )
    shown = ", ".join(f"{period.value} ({_short_time(period.start)})" for period in reversed(present))
    counted = len(breaching) if state is State.ALARM else len(present) - len(breaching)
    verb = "was" if counted == 1 else "were"
    negation = "" if state is State.ALARM else "not "
    return state, (
        f"Threshold Crossed: {counted} out of the last {len(periods)} datapoints [{shown}] {verb} "
        f"{negation}{phrase} the threshold ({alarm.threshold}) "
        f"(minimum {_count(needed, 'datapoint')} for {current} -> {state} transition)."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def reason_data(alarm: MetricAlarm, evaluation: Evaluation) -> dict[str, Any]:
    """The ``StateReasonData`` CloudWatch records with a state: the datapoints it evaluated."""
    present = [period for period in evaluation.periods if period.value is not None]
    return {
        "version": "1.0",
        "queryDate": cloudwatch_time(evaluation.at),
        "startDate": cloudwatch_time(evaluation.periods[0].start),
        "statistic": alarm.statistic,
        "period": alarm.period,
        "recentDatapoints": [period.value for period in present],
        "threshold": alarm.threshold,
        "evaluatedDatapoints": [
            {"timestamp": cloudwatch_time(period.start), "sampleCount": float(period.samples), "value": period.value}
            for period in reversed(present)
        ],
    }


# The notification.


def cloudwatch_time(epoch: float) -> str:
    """A time as CloudWatch writes it in notifications: ``2024-05-01T12:00:00.000+0000``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def _short_time(epoch: float) -> str:
    return f"{datetime.fromtimestamp(epoch, UTC):%d/%m/%y %H:%M:%S}"


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


def alarm_arn(name: str, *, region: str, account: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def subject(state: State, alarm_name: str, region: str) -> str:
    """The SNS subject CloudWatch gives a notification, cut to what SNS accepts."""
    return f'{state}: "{alarm_name}" in {region_name(region)}'[:SUBJECT_LIMIT]


def notification(
    alarm: MetricAlarm,
    evaluation: Evaluation,
    *,
    old: State,
    region: str,
    account: str,
    configured_at: float,
) -> dict[str, Any]:
    """The JSON message CloudWatch publishes to an alarm's SNS actions when its state changes."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_time(configured_at),
        "NewStateValue": str(evaluation.state),
        "NewStateReason": evaluation.reason,
        "StateChangeTime": cloudwatch_time(evaluation.at),
        "Region": region_name(region),
        "AlarmArn": alarm_arn(alarm.name, region=region, account=account),
        "OldStateValue": str(old),
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": STATISTIC_NAMES.get(str(alarm.statistic), alarm.extended_statistic or ""),
            "Unit": alarm.unit,
            "Dimensions": [{"value": value, "name": name} for name, value in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.required_breaches,
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        },
    }


# The local AWS: creating the alarms, setting their states, publishing.


def stack_resources(cloudformation: "CloudFormationClient", stack_name: str) -> dict[str, StackResource]:
    """The deployed stack's resources: logical ID → type and physical ID (what ``Ref`` gives)."""
    described = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        resource["LogicalResourceId"]: StackResource(resource["ResourceType"], resource.get("PhysicalResourceId", ""))
        for resource in described
        if resource.get("PhysicalResourceId")
    }


@dataclass(frozen=True)
class Transition:
    alarm: str
    old: State
    new: State
    reason: str


class LocalAlarms:
    """The stack's alarms in the local CloudWatch, evaluated over the function's EMF lines (``observe``)."""

    def __init__(
        self,
        alarms: Sequence[MetricAlarm],
        *,
        cloudwatch: "CloudWatchClient",
        sns: "SNSClient",
        region: str,
        account: str,
        namespace: str,
        minute_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if minute_seconds <= 0:
            raise ValueError(f"minute_seconds must be positive, not {minute_seconds}")
        self.alarms = tuple(alarms)
        self.cloudwatch = cloudwatch
        self.sns = sns
        self.region = region
        self.account = account
        self.namespace = namespace
        self.minute_seconds = minute_seconds
        self.clock = clock
        self.started = self.configured_at = clock()
        self.not_evaluated = {alarm.name: why_not_evaluated(alarm, namespace) for alarm in self.alarms}
        self.evaluated = [alarm for alarm in self.alarms if self.not_evaluated[alarm.name] is None]
        self._states = {alarm.name: State.INSUFFICIENT_DATA for alarm in self.alarms}
        self.history: list[Transition] = []  # every state change, oldest first
        self._periods_done = {alarm.name: 0 for alarm in self.evaluated}
        self._datapoints: list[Datapoint] = []
        self._data_lock = threading.Lock()
        self._evaluating = threading.Lock()
        self._changed = threading.Condition()

    @classmethod
    def deploy(
        cls,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        cloudformation: "CloudFormationClient",
        cloudwatch: "CloudWatchClient",
        sns: "SNSClient",
        region: str,
        account: str,
        namespace: str,
        minute_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> "LocalAlarms":
        """Create the template's alarms in the local CloudWatch (INSUFFICIENT_DATA), ready to evaluate."""
        stack = Stack(stack_name, region, account, stack_resources(cloudformation, stack_name))
        local = cls(
            template_alarms(template, stack),
            cloudwatch=cloudwatch,
            sns=sns,
            region=region,
            account=account,
            namespace=namespace,
            minute_seconds=minute_seconds,
            clock=clock,
        )
        local.create()
        return local

    def create(self) -> None:
        """Put every alarm in the local CloudWatch, INSUFFICIENT_DATA as a new alarm is."""
        self.configured_at = self.clock()
        for alarm in self.alarms:
            self.cloudwatch.put_metric_alarm(**put_request(alarm))
            reason = self.not_evaluated[alarm.name] or "Unchecked: Initial alarm creation"
            self.cloudwatch.set_alarm_state(
                AlarmName=alarm.name,
                StateValue=cast("StateValueType", str(State.INSUFFICIENT_DATA)),
                StateReason=reason[:REASON_LIMIT],
            )

    def period_seconds(self, alarm: MetricAlarm) -> float:
        """The alarm's period locally: its minutes, each ``minute_seconds`` long."""
        return alarm.period / 60 * self.minute_seconds

    def observe(self, line: str, seen: float | None = None) -> None:
        """Take the datapoints of a line the function printed (nothing, if it is not an EMF line)."""
        found = emf_datapoints(line, self.clock() if seen is None else seen)
        if found:
            with self._data_lock:
                self._datapoints += found

    def evaluate_due(self) -> list[Transition]:
        """Evaluate each alarm at every end of its periods passed since the last call; the state changes."""
        now = self.clock()
        changes: list[Transition] = []
        with self._evaluating:
            datapoints = self._snapshot(now)
            for alarm in self.evaluated:
                period = self.period_seconds(alarm)
                ended = math.floor((now - self.started) / period + 1e-9)
                while self._periods_done[alarm.name] < ended:
                    self._periods_done[alarm.name] += 1
                    at = self.started + self._periods_done[alarm.name] * period
                    changes += self._evaluate(alarm, datapoints, at)
        return changes

    def evaluate_now(self) -> list[Transition]:
        """Evaluate every alarm now, over the periods that end now; the state changes."""
        now = self.clock()
        with self._evaluating:
            datapoints = self._snapshot(now)
            return [change for alarm in self.evaluated for change in self._evaluate(alarm, datapoints, now)]

    def _snapshot(self, now: float) -> list[Datapoint]:
        # Datapoints older than any evaluation still to come looks at (a period end not evaluated yet, or now,
        # whichever is earlier, less its evaluation periods) are dropped.
        horizon = min(
            (
                min(now, self.started + (self._periods_done[a.name] + 1) * self.period_seconds(a))
                - a.evaluation_periods * self.period_seconds(a)
                for a in self.evaluated
            ),
            default=now,
        )
        with self._data_lock:
            self._datapoints = [datapoint for datapoint in self._datapoints if datapoint.seen >= horizon]
            return list(self._datapoints)

    def _evaluate(self, alarm: MetricAlarm, datapoints: list[Datapoint], at: float) -> list[Transition]:
        old = self.state(alarm.name)
        evaluation = evaluate(alarm, datapoints, at=at, period_seconds=self.period_seconds(alarm), current=old)
        if evaluation.state == old:
            return []
        self.cloudwatch.set_alarm_state(
            AlarmName=alarm.name,
            StateValue=cast("StateValueType", str(evaluation.state)),
            StateReason=evaluation.reason[:REASON_LIMIT],
            StateReasonData=json.dumps(reason_data(alarm, evaluation)),
        )
        transition = Transition(alarm.name, old, evaluation.state, evaluation.reason)
        with self._changed:
            self._states[alarm.name] = evaluation.state
            self.history.append(transition)
            self._changed.notify_all()
        message = notification(
            alarm, evaluation, old=old, region=self.region, account=self.account, configured_at=self.configured_at
        )
        for topic in alarm.actions_for(evaluation.state):
            if topic.startswith("arn:aws:sns:"):
                self.sns.publish(
                    TopicArn=topic,
                    Subject=subject(evaluation.state, alarm.name, self.region),
                    Message=json.dumps(message),
                )
        return [transition]

    def find(self, alarm: str) -> MetricAlarm:
        """The alarm named ``alarm``: its name, logical ID or construct ID (``SensitiveEvents``)."""
        found = [a for a in self.alarms if alarm in {a.name, a.logical_id, a.construct_id}]
        if len(found) != 1:
            known = ", ".join(sorted(a.construct_id for a in self.alarms))
            raise KeyError(f"{len(found)} alarms named {alarm!r} (the alarms: {known})")
        return found[0]

    def state(self, alarm: str) -> State:
        with self._changed:
            return self._states[self.find(alarm).name]

    def wait_until_reached(self, alarm: str, state: State | str, *, timeout: float = 60) -> Transition:
        """Block until the alarm has gone into ``state`` (now or since it was created); the transition.
        TimeoutError after ``timeout`` real seconds."""
        name = self.find(alarm).name

        def reached() -> Transition | None:
            return next((change for change in self.history if change.alarm == name and change.new == state), None)

        with self._changed:
            if not self._changed.wait_for(lambda: reached() is not None, timeout=timeout):
                raise TimeoutError(f"alarm {name} has not been {state} in {timeout:.0f} s: {self._states[name]}")
            found = reached()
        assert found is not None
        return found

    def wait_for_state(self, alarm: str, state: State | str, *, timeout: float = 60) -> None:
        """Block until the alarm (see ``find``) is in ``state``; TimeoutError after ``timeout`` real seconds."""
        name = self.find(alarm).name
        with self._changed:
            if not self._changed.wait_for(lambda: self._states[name] == state, timeout=timeout):
                raise TimeoutError(f"alarm {name} is {self._states[name]}, not {state}, after {timeout:.0f} s")

    def run(self, stop: threading.Event, *, tick_seconds: float = 0.1) -> None:
        """Evaluate what is due every tick until ``stop`` is set; a failure is reported and the next tick goes on."""
        while not stop.wait(tick_seconds):
            try:
                self.evaluate_due()
            except Exception as error:  # the next period tries again, as the pipeline keeps running
                print(f"redtrail local: evaluating the alarms failed: {type(error).__name__}: {error}", flush=True)
