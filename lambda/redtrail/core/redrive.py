"""Redrive: dead-letter messages back to the ingest queue, on the queue ports given. Pure."""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

Message = Mapping[str, Any]


class MessageQueue(Protocol):
    """What redrive needs of a queue (``redtrail.adapters.sqs.Queue`` has it)."""

    def receive(self, *, max_messages: int = 10, wait_seconds: int = 0) -> list[dict[str, Any]]: ...

    def send(self, bodies: Sequence[str], attributes: Mapping[str, str] | None = None) -> int: ...

    def delete(self, messages: Sequence[Message]) -> None: ...

    def release(self, messages: Sequence[Message], *, after_seconds: int) -> None: ...


def redrive(
    dead_letter_queue: MessageQueue,
    queue: MessageQueue,
    *,
    started_ms: int | None = None,
    on_moved: Callable[[int], None] = lambda _: None,
) -> int:
    """Move the dead-letter messages sent before ``started_ms`` (default: now) back to the ingest queue.

    Each is sent before it is deleted (at least once). Messages that arrive while it runs, such as a file
    that is still bad and was dead-lettered again, are left in the queue: it would chase them for ever.
    """
    started = started_ms if started_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    moved, newer = 0, []
    while messages := dead_letter_queue.receive(max_messages=10, wait_seconds=0):
        older = [message for message in messages if _sent_ms(message) <= started]
        newer += [message for message in messages if _sent_ms(message) > started]
        if older:
            queue.send([message["Body"] for message in older])
            dead_letter_queue.delete(older)
            moved += len(older)
            on_moved(len(older))
    if newer:
        dead_letter_queue.release(newer, after_seconds=0)
    return moved


def _sent_ms(message: Message) -> int:
    return int(message.get("Attributes", {}).get("SentTimestamp", 0))
