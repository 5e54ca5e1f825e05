"""Which CloudTrail records are Redshift-family events, and why. Pure: no I/O, no AWS."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redtrail.core.service_accounts import service_account_region

REDSHIFT_SOURCES = frozenset(
    {
        "redshift.amazonaws.com",
        "redshift-serverless.amazonaws.com",
        "redshift-data.amazonaws.com",
        "sqlworkbench.amazonaws.com",
    }
)
ENCRYPTION_CONTEXT_PREFIX = "aws:redshift"


class MatchedBy(StrEnum):
    """The rule that kept an event, in order of precedence."""

    EVENT_SOURCE = "eventSource"
    SERVICE_ACCOUNT = "serviceAccount"
    INVOKED_BY = "invokedBy"
    ENCRYPTION_CONTEXT = "encryptionContext"


@dataclass(frozen=True, slots=True)
class Match:
    matched_by: MatchedBy
    service_account_region: str | None = None


def classify(record: Mapping[str, Any]) -> Match | None:
    """The rule by which ``record`` is a Redshift-family event, or None when it is not one.

    Reads only ``eventSource``, ``userIdentity.accountId``, ``userIdentity.invokedBy`` and
    ``requestParameters.encryptionContext``; never the raw text.
    """
    # Strings only: a JSON array or object in these fields is unhashable and matches nothing.
    if _text(record.get("eventSource")) in REDSHIFT_SOURCES:
        return Match(MatchedBy.EVENT_SOURCE)
    identity = record.get("userIdentity")
    if isinstance(identity, Mapping):
        region = service_account_region(identity.get("accountId"))
        if region is not None:
            return Match(MatchedBy.SERVICE_ACCOUNT, region)
        if _text(identity.get("invokedBy")) in REDSHIFT_SOURCES:
            return Match(MatchedBy.INVOKED_BY)
    parameters = record.get("requestParameters")
    if isinstance(parameters, Mapping):
        context = parameters.get("encryptionContext")
        if isinstance(context, Mapping) and any(
            isinstance(key, str) and key.startswith(ENCRYPTION_CONTEXT_PREFIX) for key in context
        ):
            return Match(MatchedBy.ENCRYPTION_CONTEXT)
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
