"""redtrail's own exceptions. AWS ``ClientError`` is translated into these at the adapter boundary."""


class RedtrailError(Exception):
    """Base of every error redtrail raises on purpose."""

    # Items a write had stored before this error stopped it (the event table's writer sets it): a file that fails
    # half-way is reported with what it did write, which a retry then finds unchanged.
    written: int = 0


class TrailFileError(RedtrailError):
    """A trail object whose content cannot be read as CloudTrail records (corrupt, not JSON...)."""


class ItemRejectedError(TrailFileError):
    """DynamoDB refused an item built from the file (``ValidationException``, its message kept) and its record could
    not be quarantined instead: the same file is refused the same way again, so no retry can mend it (permanent:
    the message goes to the dead-letter queue at once, with the reason)."""


class ObjectNotFoundError(RedtrailError):
    """The object named by a notification does not exist (any more)."""


class AccessDeniedError(RedtrailError):
    """AWS refused the call for lack of permission."""


class StorageError(RedtrailError):
    """Any other failure to read a trail object."""


class TableError(RedtrailError):
    """A DynamoDB call on the event table failed."""


class TableNotFoundError(TableError):
    """The event table does not exist."""


class TableWriteError(TableError):
    """Items could not be written, even after retries."""


class NotificationError(RedtrailError):
    """A queue message that is not an S3 event notification."""


class StackNotFoundError(RedtrailError):
    """The named CloudFormation stack does not exist (in this account and region)."""


class QueueError(RedtrailError):
    """An SQS call on the ingest or dead-letter queue failed."""


class AlertPublishError(RedtrailError):
    """An alert could not be published after retries (the message is retried; the event is already stored)."""
