"""The local alarm evaluator's pure part: template alarms, EMF datapoints, states and notifications."""

import io
import json
import statistics

import pytest
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from redtrail.contracts.metric_names import NAMESPACE, PROBLEM_DIMENSION, SERVICE, MetricName
from redtrail_devtools.alarms import (
    SUBJECT_LIMIT,
    Datapoint,
    LocalAlarms,
    MetricAlarm,
    Stack,
    StackResource,
    State,
    emf_datapoints,
    evaluate,
    notification,
    put_request,
    resolve,
    subject,
    template_alarms,
    why_not_evaluated,
)
from redtrail_devtools.poller import FunctionOutput

PERIOD = 5.0  # local seconds: a 5-minute alarm, one minute lasting a second
START = 1_714_564_800.0  # 2024-05-01T12:00:00Z
SERVICE_ONLY = frozenset({("service", SERVICE)})


def alarm(**overrides) -> MetricAlarm:
    """An alarm like the stack's: a Sum of one EMF metric with the service dimension, at or above 1."""
    fields = {
        "logical_id": "MonitoringWriteEvents6720D761",
        "name": "Redtrail-MonitoringWriteEvents6720D761",
        "construct_id": "WriteEvents",
        "namespace": NAMESPACE,
        "metric_name": MetricName.WRITE_EVENTS.value,
        "dimensions": (("service", SERVICE),),
        "statistic": "Sum",
        "period": 300,
        "threshold": 1.0,
        "treat_missing_data": "notBreaching",
    }
    return MetricAlarm(**(fields | overrides))


def emf_line(name: str, values: list[float]) -> str:
    """An EMF line of one metric with the service dimension, shaped as Powertools prints it."""
    directive = {"Namespace": NAMESPACE, "Dimensions": [["service"]], "Metrics": [{"Name": name, "Unit": "Count"}]}
    return json.dumps({"_aws": {"Timestamp": 0, "CloudWatchMetrics": [directive]}, "service": SERVICE, name: values})


def point(value: float, seen: float, *, dimensions=SERVICE_ONLY, name=MetricName.WRITE_EVENTS.value) -> Datapoint:
    return Datapoint(NAMESPACE, name, dimensions, value, seen)


def state_of(configured: MetricAlarm, datapoints, *, periods_after_start=1, current=State.INSUFFICIENT_DATA):
    return evaluate(
        configured, datapoints, at=START + periods_after_start * PERIOD, period_seconds=PERIOD, current=current
    )


@pytest.fixture
def powertools_line(monkeypatch, capsys):
    """An EMF line exactly as Powertools prints it for one metric (with the service dimension)."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)

    def printed(name: str, value: float, **dimensions: str) -> str:
        capsys.readouterr()
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
        return capsys.readouterr().out.strip()

    return printed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sum", sum),
        ("Maximum", max),
        ("Minimum", min),
        ("Average", statistics.mean),
        ("SampleCount", len),
    ],
)
def test_each_statistic_is_computed_over_the_period_samples(name, expected):
    # Given three samples in one period
    values = [2.0, 7.0, 3.0]
    datapoints = [point(value, START + 1 + index) for index, value in enumerate(values)]
    at_expected = alarm(statistic=name, threshold=float(expected(values)))
    above_expected = alarm(statistic=name, threshold=float(expected(values)) + 0.5)
    # When the alarms are evaluated at the end of the period
    reached = state_of(at_expected, datapoints)
    missed = state_of(above_expected, datapoints)
    # Then the statistic is the period's value, and it is compared with the threshold
    assert reached.periods[0].value == pytest.approx(expected(values))
    assert reached.periods[0].samples == len(values)
    assert reached.state is State.ALARM
    assert missed.state is State.OK


@pytest.mark.parametrize(
    ("comparison", "below", "equal", "above"),
    [
        ("GreaterThanOrEqualToThreshold", State.OK, State.ALARM, State.ALARM),
        ("GreaterThanThreshold", State.OK, State.OK, State.ALARM),
        ("LessThanThreshold", State.ALARM, State.OK, State.OK),
        ("LessThanOrEqualToThreshold", State.ALARM, State.ALARM, State.OK),
    ],
)
def test_each_comparison_operator(comparison, below, equal, above):
    # Given an alarm with a threshold of 10 and the comparison
    configured = alarm(comparison=comparison, threshold=10.0)
    # When a period's sum is below, at or above the threshold
    states = [state_of(configured, [point(value, START + 1)]).state for value in (9.0, 10.0, 11.0)]
    # Then the alarm breaches as the operator says
    assert states == [below, equal, above]


@pytest.mark.parametrize(
    ("treatment", "current", "expected"),
    [
        ("notBreaching", State.ALARM, State.OK),
        ("breaching", State.OK, State.ALARM),
        ("missing", State.ALARM, State.ALARM),
        ("missing", State.INSUFFICIENT_DATA, State.INSUFFICIENT_DATA),
        ("ignore", State.OK, State.OK),
        ("ignore", State.ALARM, State.ALARM),
    ],
)
def test_treat_missing_data_decides_a_period_without_data(treatment, current, expected):
    # Given an alarm whose metric had no datapoint in the period (only one before it)
    configured = alarm(treat_missing_data=treatment)
    # When it is evaluated
    evaluation = state_of(configured, [point(5.0, START - 1)], current=current)
    # Then notBreaching is OK, breaching is ALARM, missing and ignore keep the state
    assert evaluation.state is expected
    assert evaluation.periods[0].value is None


def test_a_new_alarm_with_missing_data_treated_as_missing_stays_insufficient_data():
    # Given a new alarm (INSUFFICIENT_DATA) without a TreatMissingData setting, and no datapoints
    configured = MetricAlarm.from_properties(
        "Quiet", {"Namespace": NAMESPACE, "MetricName": "FilesFailed", "Statistic": "Sum", "Period": 60}, name="x"
    )
    # When it is evaluated
    # Then it keeps its state
    assert state_of(configured, []).state is State.INSUFFICIENT_DATA


def test_several_evaluation_periods_need_datapoints_to_alarm_of_them():
    # Given an alarm over 3 periods that needs 2 breaching ones
    configured = alarm(evaluation_periods=3, datapoints_to_alarm=2)
    in_period = [START + 1, START + PERIOD + 1, START + 2 * PERIOD + 1]
    # When two of the last three periods breach, or only one, or two but one is older than the three
    two = [point(1.0, in_period[0]), point(1.0, in_period[2])]
    one = [point(1.0, in_period[1])]
    too_old = [point(1.0, START - 1), point(1.0, in_period[2])]
    # Then only the first is ALARM
    assert state_of(configured, two, periods_after_start=3).state is State.ALARM
    assert state_of(configured, one, periods_after_start=3).state is State.OK
    assert state_of(configured, too_old, periods_after_start=3).state is State.OK


def test_without_datapoints_to_alarm_every_evaluation_period_must_breach():
    # Given an alarm over 2 periods, no DatapointsToAlarm
    configured = alarm(evaluation_periods=2)
    # When one of the two breaches, then both
    one = [point(1.0, START + 1)]
    both = [point(1.0, START + 1), point(3.0, START + PERIOD + 1)]
    # Then it takes both
    assert state_of(configured, one, periods_after_start=2).state is State.OK
    assert state_of(configured, both, periods_after_start=2).state is State.ALARM


def test_a_datapoint_of_another_dimension_set_does_not_count(powertools_line):
    # Given an alarm on IntegrityProblems for one problem code, and what Powertools prints for three codes
    configured = alarm(
        metric_name=MetricName.INTEGRITY_PROBLEMS.value,
        dimensions=((PROBLEM_DIMENSION, "LOG_HASH_MISMATCH"), ("service", SERVICE)),
    )
    other_code = powertools_line(MetricName.INTEGRITY_PROBLEMS, 4, **{PROBLEM_DIMENSION: "DIGEST_MOVED"})
    service_only = powertools_line(MetricName.INTEGRITY_PROBLEMS, 4)
    its_code = powertools_line(MetricName.INTEGRITY_PROBLEMS, 2, **{PROBLEM_DIMENSION: "LOG_HASH_MISMATCH"})
    # When the alarm is evaluated over the others alone, then with its own series too
    others = [datapoint for line in (other_code, service_only) for datapoint in emf_datapoints(line, START + 1)]
    with_its_own = others + emf_datapoints(its_code, START + 2)
    # Then only its exact dimension set counts
    assert state_of(configured, others).periods[0].value is None
    assert state_of(configured, with_its_own).periods[0].value == 2.0


def test_emf_lines_give_one_datapoint_per_value_and_dimension_set():
    # Given an EMF blob with two values of one metric and two dimension sets, and lines that are not EMF
    blob = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service"], ["EventSource", "service"]],
                    "Metrics": [{"Name": "EventsBySource", "Unit": "Count"}],
                }
            ],
        },
        "service": SERVICE,
        "EventSource": "redshift.amazonaws.com",
        "EventsBySource": [2.0, 3.0],
    }
    # When they are read
    found = emf_datapoints(json.dumps(blob), START)
    # Then each value is a sample of each series
    assert sorted((sorted(d.dimensions), d.value) for d in found) == sorted(
        (sorted(dims), value)
        for dims in (SERVICE_ONLY, SERVICE_ONLY | {("EventSource", "redshift.amazonaws.com")})
        for value in (2.0, 3.0)
    )
    assert {d.unit for d in found} == {"Count"}
    assert emf_datapoints('{"level": "INFO", "message": "trail object processed"}', START) == []
    assert emf_datapoints('{"_aws": "not a directive"', START) == []
    assert emf_datapoints("plain text", START) == []


STACK = Stack(
    "Redtrail",
    "us-east-1",
    "123456789012",
    {
        "Topic": StackResource("AWS::SNS::Topic", "arn:aws:sns:us-east-1:123456789012:Redtrail-Topic-ABC"),
        "Queue": StackResource("AWS::SQS::Queue", "https://sqs.us-east-1.amazonaws.com/123456789012/Redtrail-Q-XYZ"),
        "Function": StackResource("AWS::Lambda::Function", "Redtrail-Function-123"),
    },
)


def test_refs_and_getatts_resolve_to_the_deployed_names():
    # Given alarm properties with the intrinsics CDK writes
    properties = {
        "AlarmActions": [{"Ref": "Topic"}],
        "Dimensions": [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["Queue", "QueueName"]}},
            {"Name": "FunctionName", "Value": {"Ref": "Function"}},
        ],
        "OKActions": [{"Fn::GetAtt": ["Queue", "Arn"]}, {"Fn::GetAtt": "Topic.TopicName"}],
        "Region": {"Ref": "AWS::Region"},
    }
    # When they are resolved against the stack's resources
    resolved = resolve(properties, STACK)
    # Then Ref gives the physical ID (a topic's ARN) and GetAtt the attribute
    topic_arn = STACK.resources["Topic"].physical_id
    queue_name = STACK.resources["Queue"].physical_id.rsplit("/", 1)[-1]
    assert resolved["AlarmActions"] == [topic_arn]
    assert resolved["Dimensions"][0]["Value"] == queue_name
    assert resolved["Dimensions"][1]["Value"] == STACK.resources["Function"].physical_id
    assert resolved["OKActions"] == [f"arn:aws:sqs:{STACK.region}:{STACK.account}:{queue_name}", "Redtrail-Topic-ABC"]
    assert resolved["Region"] == STACK.region


def test_what_cannot_be_resolved_stays_a_string():
    # Given an intrinsic on a resource the stack does not have, and one the stand-in does not evaluate
    unknown = {"Ref": "Missing"}
    joined = {"Fn::Join": ["", ["a", {"Ref": "Topic"}]]}
    # When they are resolved
    # Then each stays as its JSON text
    assert resolve([unknown, joined], STACK) == [
        json.dumps(unknown, sort_keys=True),
        json.dumps(joined, sort_keys=True),
    ]


def test_template_alarms_are_named_after_the_stack_and_their_construct():
    # Given a template with an EMF alarm, a Lambda metric alarm and a metric math alarm
    template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "MonitoringSensitiveEventsACD522DE": {
                "Type": "AWS::CloudWatch::Alarm",
                "Metadata": {"aws:cdk:path": "Redtrail/Monitoring/SensitiveEvents/Resource"},
                "Properties": {
                    "AlarmActions": [{"Ref": "Topic"}],
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Dimensions": [{"Name": "service", "Value": SERVICE}],
                    "EvaluationPeriods": 1,
                    "MetricName": "SensitiveEvents",
                    "Namespace": NAMESPACE,
                    "Period": 300,
                    "Statistic": "Sum",
                    "Threshold": 1,
                    "TreatMissingData": "notBreaching",
                },
            },
            "Errors": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Function"}}],
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                },
            },
            "Throttles": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [
                        {"Id": "e", "Expression": "FILL(m, 0)", "ReturnData": True},
                        {
                            "Id": "m",
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": "ThrottledRequests"},
                                "Period": 300,
                                "Stat": "Sum",
                            },
                            "ReturnData": False,
                        },
                    ],
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                },
            },
        }
    }
    # When its alarms are read
    sensitive, errors, throttles = template_alarms(template, STACK)
    # Then each is named <stack>-<logicalId>, its actions resolved; only the EMF one can be evaluated
    assert sensitive.name == "Redtrail-MonitoringSensitiveEventsACD522DE"
    assert sensitive.construct_id == "SensitiveEvents"
    assert sensitive.alarm_actions == (STACK.resources["Topic"].physical_id,)
    assert errors.dimensions == (("FunctionName", STACK.resources["Function"].physical_id),)
    assert why_not_evaluated(sensitive, NAMESPACE) is None
    assert "AWS/Lambda" in str(why_not_evaluated(errors, NAMESPACE))
    assert "metric math" in str(why_not_evaluated(throttles, NAMESPACE))
    assert "AWS/DynamoDB" in str(why_not_evaluated(throttles, NAMESPACE))
    # And the alarms are created as configured: the metric math one with its queries, not a metric name
    assert put_request(sensitive)["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert put_request(throttles)["Metrics"] == template["Resources"]["Throttles"]["Properties"]["Metrics"]
    assert "MetricName" not in put_request(throttles)


TRIGGER_KEYS = {
    "MetricName",
    "Namespace",
    "StatisticType",
    "Statistic",
    "Unit",
    "Dimensions",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "ComparisonOperator",
    "Threshold",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
}
NOTIFICATION_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "AWSAccountId",
    "AlarmConfigurationUpdatedTimestamp",
    "NewStateValue",
    "NewStateReason",
    "StateChangeTime",
    "Region",
    "AlarmArn",
    "OldStateValue",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "Trigger",
}


def test_the_notification_has_cloudwatchs_shape():
    # Given an alarm that just crossed its threshold
    configured = alarm(alarm_actions=("arn:aws:sns:us-east-1:123456789012:t",), description="Write events.")
    evaluation = state_of(configured, [point(3.0, START + 1)])
    # When its notification is written
    message = notification(
        configured, evaluation, old=State.OK, region="us-east-1", account="123456789012", configured_at=START
    )
    # Then it has CloudWatch's keys and values
    assert set(message) == NOTIFICATION_KEYS
    assert set(message["Trigger"]) == TRIGGER_KEYS
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{configured.name}"
    assert message["AlarmActions"] == list(configured.alarm_actions)
    assert message["StateChangeTime"] == "2024-05-01T12:00:05.000+0000"
    assert message["Trigger"]["Dimensions"] == [{"value": SERVICE, "name": "service"}]
    assert message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["Period"] == configured.period  # as configured, not the local seconds
    assert "3.0" in message["NewStateReason"]
    assert "greater than or equal to the threshold (1.0)" in message["NewStateReason"]
    json.dumps(message)  # it is published as JSON


def test_the_subject_names_the_state_alarm_and_region_within_what_sns_accepts():
    # Given a short alarm name, a very long one, and a region the table does not know
    short = subject(State.ALARM, "Redtrail-MonitoringWriteEvents6720D761", "us-east-1")
    long = subject(State.OK, "Redtrail-" + "x" * 200, "eu-west-1")
    unknown_region = subject(State.ALARM, "a", "mx-central-9")
    # Then it reads as CloudWatch's, never longer than SNS allows
    assert short == 'ALARM: "Redtrail-MonitoringWriteEvents6720D761" in US East (N. Virginia)'
    assert long.startswith('OK: "Redtrail-xxx')
    assert len(long) == SUBJECT_LIMIT
    assert unknown_region == 'ALARM: "a" in mx-central-9'


class Recorder:
    """A CloudWatch and SNS client that records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, operation):
        return lambda **arguments: self.calls.append((operation, arguments))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_alarms_are_evaluated_at_each_end_of_their_periods_and_notify_the_new_states_actions():
    # Given an evaluator with one alarm whose ALARM and OK actions are topics, on a fake clock
    topic = "arn:aws:sns:us-east-1:123456789012:alarms"
    clients, clock = Recorder(), Clock(START)
    configured = alarm(alarm_actions=(topic,), ok_actions=(topic + "-ok",))
    local = LocalAlarms(
        [configured],
        cloudwatch=clients,
        sns=clients,
        region="us-east-1",
        account="123456789012",
        namespace=NAMESPACE,
        minute_seconds=PERIOD / 5,
        clock=clock,
    )
    line = emf_line(MetricName.WRITE_EVENTS, [2.0])
    # When a datapoint arrives mid-period, the period ends, then a quiet period ends
    clock.now = START + 2
    local.observe(line)
    mid_period = local.evaluate_due()
    clock.now = START + PERIOD
    first = local.evaluate_due()
    clock.now = START + 2 * PERIOD + 0.5
    second = local.evaluate_due()
    # Then nothing is due mid-period; at each period's end the state changes, and the new state's actions hear it
    assert mid_period == []
    assert [(change.old, change.new) for change in first + second] == [
        (State.INSUFFICIENT_DATA, State.ALARM),
        (State.ALARM, State.OK),
    ]
    published = [
        (arguments["TopicArn"], arguments["Subject"]) for name, arguments in clients.calls if name == "publish"
    ]
    assert published == [
        (topic, subject(State.ALARM, configured.name, "us-east-1")),
        (topic + "-ok", subject(State.OK, configured.name, "us-east-1")),
    ]
    assert [arguments["StateValue"] for name, arguments in clients.calls if name == "set_alarm_state"] == [
        "ALARM",
        "OK",
    ]
    assert local.state("WriteEvents") is State.OK


def test_the_function_output_gives_each_complete_line_to_its_observers():
    # Given the function's stdout stand-in with an observer
    console, log = io.StringIO(), io.StringIO()
    output = FunctionOutput(console, log)
    seen: list[str] = []
    output.line_observers.append(seen.append)
    # When the function prints lines in pieces, and something else prints outside it
    with output.function():
        output.write('{"_aws": ')
        output.write("{}}\nsecond line\nunfinished")
    output.write("console only\n")
    # Then the observers get each of the function's lines once, whole; the log has them all
    assert seen == ['{"_aws": {}}', "second line", "unfinished"]
    assert log.getvalue() == '{"_aws": {}}\nsecond line\nunfinished'
    assert console.getvalue() == "console only\n"


def test_a_late_evaluation_catches_up_on_every_period_end_it_missed():
    # Given an evaluator whose clock jumps over two period ends between evaluations
    clients, clock = Recorder(), Clock(START)
    local = LocalAlarms(
        [alarm()],
        cloudwatch=clients,
        sns=clients,
        region="us-east-1",
        account="123456789012",
        namespace=NAMESPACE,
        minute_seconds=PERIOD / 5,
        clock=clock,
    )
    local.observe(emf_line(MetricName.WRITE_EVENTS, [1.0]), seen=START + 1)
    # When it evaluates only after the second period ended
    clock.now = START + 2 * PERIOD
    changes = local.evaluate_due()
    # Then the first period still raised the alarm, and the second, quiet, cleared it
    assert [change.new for change in changes] == [State.ALARM, State.OK]


def test_evaluating_now_does_not_wait_for_the_period_to_end():
    # Given an evaluator that just saw a breaching datapoint, mid-period
    clients, clock = Recorder(), Clock(START + 2)
    local = LocalAlarms(
        [alarm()],
        cloudwatch=clients,
        sns=clients,
        region="us-east-1",
        account="123456789012",
        namespace=NAMESPACE,
        minute_seconds=PERIOD / 5,
        clock=clock,
    )
    local.observe(emf_line(MetricName.WRITE_EVENTS, [1.0]))
    # When it is asked to evaluate now, a second later
    clock.now += 1
    changes = local.evaluate_now()
    # Then the alarm is raised over the period that ends now, and waiting for it returns at once
    assert [(change.old, change.new) for change in changes] == [(State.INSUFFICIENT_DATA, State.ALARM)]
    local.wait_for_state("WriteEvents", State.ALARM, timeout=0)
    with pytest.raises(TimeoutError):
        local.wait_for_state("WriteEvents", State.OK, timeout=0)
