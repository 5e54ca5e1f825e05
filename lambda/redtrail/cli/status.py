"""``redtrail status``: the deployed stack's resources and how they are doing, for people and for JSON."""

from dataclasses import dataclass
from typing import Any

from redtrail.cli.output import Table, escape, plural
from redtrail.contracts.stack_outputs import StackResources

# DynamoDB refreshes a table's ItemCount about every six hours: said beside the count, in the table and the JSON.
ITEM_COUNT_NOTE = "DynamoDB updates the item count about every six hours: it may be that old"

# The states of a stack whose resources are all there, as its template describes them.
SETTLED_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})


def stack_state_problem(stack_name: str, state: str) -> str | None:
    """What a stack in ``state`` (its ``StackStatus``) means for files arriving now; None when it is settled."""
    if state in SETTLED_STATES:
        return None
    if state.endswith("_IN_PROGRESS"):
        why = "its bucket notification may not exist yet; files uploaded now may not be processed"
    elif state == "UPDATE_ROLLBACK_COMPLETE":
        why = "its last update failed and was rolled back: it runs the version deployed before"
    else:
        why = (
            "its deployment did not complete: resources, the bucket notification among them, may be missing; "
            "files uploaded now may not be processed"
        )
    return f"stack {stack_name} is {state or 'in an unknown state'}: {why}"


@dataclass(frozen=True, slots=True)
class Status:
    resources: StackResources
    region: str
    queue_waiting: int
    queue_in_flight: int
    dead_letters: int
    items: int
    alarms: dict[str, str]
    stack_state: str = ""  # the stack's StackStatus

    def as_json(self) -> dict[str, Any]:
        return {
            **self.resources.as_json(),
            "stackStatus": self.stack_state,
            "region": self.region,
            "queueDepth": self.queue_waiting,
            "queueInFlight": self.queue_in_flight,
            "deadLetterDepth": self.dead_letters,
            "itemCount": self.items,
            "itemCountNote": ITEM_COUNT_NOTE,
            "alarms": self.alarms,
        }

    def table(self) -> Table:
        """Name and value rows; every value escaped (stack outputs and alarm names are data, not terminal
        commands)."""
        problem = stack_state_problem(self.resources.stack_name, self.stack_state)
        rows = [
            ("stack", f"{self.resources.stack_name} ({self.region}): {self.stack_state or '-'}"),
            *([("warning", problem)] if problem else []),
            ("bucket", f"s3://{self.resources.bucket}/{self.resources.key_prefix}"),
            (
                "ingest queue",
                f"{self.resources.queue_url}: {self.queue_waiting} waiting, {self.queue_in_flight} in flight",
            ),
            ("dead-letter queue", f"{self.resources.dead_letter_queue_url}: {self.dead_letters} waiting"),
            ("table", f"{self.resources.table}: {plural(self.items, 'item')} ({ITEM_COUNT_NOTE})"),
            ("function", self.resources.function or "-"),
            ("alarm topic", self.resources.topic or "-"),
            ("alert topic", self.resources.alert_topic or "-"),
            ("dashboard", self.resources.dashboard or "-"),
        ]
        if self.alarms:
            rows += [("alarm", f"{name}: {state}") for name, state in sorted(self.alarms.items())]
        else:
            rows.append(("alarms", "none found"))
        return Table(("name", "value"), tuple((escape(name), escape(value)) for name, value in rows), header=False)

    def lines(self) -> list[str]:
        """The table in its plain layout."""
        return self.table().plain().splitlines()
