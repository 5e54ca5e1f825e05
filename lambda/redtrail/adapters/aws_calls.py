"""What the adapters share: reading a ``ClientError``'s code, and cutting requests into API-sized batches."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call (``NoSuchKey``, ``ThrottlingException``...), or empty."""
    return str(error.response.get("Error", {}).get("Code", ""))


def batches(sequence: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``sequence`` in consecutive slices of at most ``size``."""
    for start in range(0, len(sequence), size):
        yield sequence[start : start + size]
