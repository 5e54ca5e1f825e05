"""``redtrail status``: the deployed stack's resources and how they are doing, for people and for JSON."""

from dataclasses import dataclass
from typing import Any

from redtrail.contracts.stack_outputs import StackResources


@dataclass(frozen=True, slots=True)
class Status:
    resources: StackResources
    region: str
    queue_waiting: int
    queue_in_flight: int
    dead_letters: int
    items: int
    alarms: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.resources.as_json(),
            "region": self.region,
            "queueDepth": self.queue_waiting,
            "queueInFlight": self.queue_in_flight,
            "deadLetterDepth": self.dead_letters,
            "itemCount": self.items,
            "alarms": self.alarms,
        }

    def lines(self) -> list[str]:
        rows = [
            ("stack", f"{self.resources.stack_name} ({self.region})"),
            ("bucket", f"s3://{self.resources.bucket}/{self.resources.key_prefix}"),
            (
                "ingest queue",
                f"{self.resources.queue_url}: {self.queue_waiting} waiting, {self.queue_in_flight} in flight",
            ),
            ("dead-letter queue", f"{self.resources.dead_letter_queue_url}: {self.dead_letters} waiting"),
            ("table", f"{self.resources.table}: {self.items} items"),
            ("function", self.resources.function or "-"),
            ("alarm topic", self.resources.topic or "-"),
            ("dashboard", self.resources.dashboard or "-"),
        ]
        if self.alarms:
            rows += [(f"alarm {name}", state) for name, state in sorted(self.alarms.items())]
        else:
            rows.append(("alarms", "none found"))
        return [f"{name:<18} {value}" for name, value in rows]
