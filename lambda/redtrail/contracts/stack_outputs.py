"""The deployed stack's outputs: their keys (set by infra/, read by the CLI) and what they name."""

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_STACK_NAME = "Redtrail"

BUCKET = "BucketName"
TRAIL_KEY_PREFIX = "TrailKeyPrefix"
QUEUE_URL = "QueueUrl"
DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
TABLE = "TableName"
FUNCTION = "FunctionName"
TOPIC = "TopicArn"
ALERT_TOPIC = "AlertTopicArn"
DASHBOARD = "DashboardName"

OUTPUT_KEYS: tuple[str, ...] = (
    BUCKET,
    TRAIL_KEY_PREFIX,
    QUEUE_URL,
    DEAD_LETTER_QUEUE_URL,
    TABLE,
    FUNCTION,
    TOPIC,
    ALERT_TOPIC,
    DASHBOARD,
)
"""Stack output keys that the CLI and users read: keep them stable."""


@dataclass(frozen=True, slots=True)
class StackResources:
    """Where a deployed redtrail stack's resources are."""

    stack_name: str
    bucket: str
    key_prefix: str
    queue_url: str
    dead_letter_queue_url: str
    table: str
    function: str | None = None
    topic: str | None = None
    dashboard: str | None = None
    alert_topic: str | None = None

    @classmethod
    def from_outputs(cls, stack_name: str, outputs: Mapping[str, str]) -> "StackResources":
        """From ``{OutputKey: OutputValue}``; raises KeyError naming a missing required output."""
        missing = [key for key in (BUCKET, QUEUE_URL, DEAD_LETTER_QUEUE_URL, TABLE) if key not in outputs]
        if missing:
            raise KeyError(f"stack {stack_name} has no output {', '.join(missing)}: is it a redtrail stack?")
        return cls(
            stack_name=stack_name,
            bucket=outputs[BUCKET],
            key_prefix=outputs.get(TRAIL_KEY_PREFIX, "AWSLogs/"),
            queue_url=outputs[QUEUE_URL],
            dead_letter_queue_url=outputs[DEAD_LETTER_QUEUE_URL],
            table=outputs[TABLE],
            function=outputs.get(FUNCTION),
            topic=outputs.get(TOPIC),
            dashboard=outputs.get(DASHBOARD),
            alert_topic=outputs.get(ALERT_TOPIC),
        )

    def as_json(self) -> dict[str, str | None]:
        """The resource names under the keys ``redtrail status --format json`` prints."""
        return {
            "stack": self.stack_name,
            "bucket": self.bucket,
            "keyPrefix": self.key_prefix,
            "queue": self.queue_url,
            "deadLetterQueue": self.dead_letter_queue_url,
            "table": self.table,
            "function": self.function,
            "topic": self.topic,
            "alertTopic": self.alert_topic,
            "dashboard": self.dashboard,
        }
