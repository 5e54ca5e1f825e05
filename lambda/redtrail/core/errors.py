"""redtrail's own exceptions. AWS ``ClientError`` is translated into these at the adapter boundary."""


class RedtrailError(Exception):
    """Base of every error redtrail raises on purpose."""


class TrailFileError(RedtrailError):
    """A trail object whose content cannot be read as CloudTrail records (corrupt, not JSON...)."""


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
