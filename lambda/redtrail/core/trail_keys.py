"""CloudTrail's key layouts: where a trail writes log files, Insights files and digest files. Pure.

``[prefix/]AWSLogs/[o-ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz``
and ``…/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ
[_backfill].json.gz`` (the AWS CLI's validator, ``awscli/customizations/cloudtrail/validation.py``, builds the
same). Anything else under ``AWSLogs/`` was not written by CloudTrail.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_FOLDERS = r"^(?:(?P<prefix>.+)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>\d{12})/"
_DATE = r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
_LOG_KEY = re.compile(
    _FOLDERS
    + rf"(?P<kind>CloudTrail|CloudTrail-Insight)/(?P<region>{_REGION})/"
    + _DATE
    + r"(?P=account)_(?P=kind)_(?P=region)_(?P<time>\d{8}T\d{4}Z)_[^/]+\.json\.gz$"
)
_DIGEST_KEY = re.compile(
    _FOLDERS
    + rf"CloudTrail-Digest/(?P<region>{_REGION})/"
    + _DATE
    + rf"(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>[A-Za-z0-9._-]+)_(?P<home>{_REGION})_"
    + r"(?P<end>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)

_NAMESPACE = re.compile(_FOLDERS + rf"(?P<region>{_REGION})(?:/.*)?$")


class LogKind(StrEnum):
    LOG = "CloudTrail"
    INSIGHT = "CloudTrail-Insight"  # Insights events: delivered, but no digest lists them


@dataclass(frozen=True, slots=True)
class Namespace:
    """Where one account's files of one region go: every chain of digests for them lists files here."""

    prefix: str
    org: str | None
    account: str
    region: str

    def __str__(self) -> str:
        org = f"{self.org}/" if self.org else ""
        prefix = f"{self.prefix}/" if self.prefix else ""
        return f"{prefix}AWSLogs/{org}{self.account}/{self.region}"


@dataclass(frozen=True, slots=True)
class LogKey:
    namespace: Namespace
    kind: LogKind
    named_time: datetime  # the minute in the file's name (CloudTrail's; S3's LastModified is the delivery)


@dataclass(frozen=True, slots=True)
class DigestKey:
    namespace: Namespace
    trail: str
    home_region: str
    end: datetime
    backfill: bool

    @property
    def chain(self) -> str:
        """The chain's name: one per trail, account and region (an organization trail has one per account)."""
        return f"{self.namespace}/{self.trail}"


def parse_log_key(key: str) -> LogKey | None:
    """The log or Insights file a key names, or None when CloudTrail does not write keys like it."""
    found = _LOG_KEY.match(key)
    if found is None:
        return None
    named = _time(found["time"], "%Y%m%dT%H%MZ")
    if named is None:
        return None
    return LogKey(_namespace(found), LogKind(found["kind"]), named)


def parse_digest_key(key: str) -> DigestKey | None:
    """The digest file a key names, or None when CloudTrail does not write keys like it."""
    found = _DIGEST_KEY.match(key)
    if found is None:
        return None
    end = _time(found["end"], "%Y%m%dT%H%M%SZ")
    if end is None:
        return None
    return DigestKey(_namespace(found), found["trail"], found["home"], end, bool(found["backfill"]))


def parse_namespace(text: str) -> Namespace | None:
    """The namespace a ledger name starts with (``[prefix/]AWSLogs/[o-ID/]ACCOUNT/REGION[/trail]``), or None."""
    found = _NAMESPACE.match(text)
    return _namespace(found) if found else None


def is_digest_folder(key: str) -> bool:
    """Whether a key lies in a ``CloudTrail-Digest/`` folder (a digest, or something posing as one)."""
    return "/CloudTrail-Digest/" in key


def _namespace(found: re.Match[str]) -> Namespace:
    return Namespace(found["prefix"] or "", found["org"], found["account"], found["region"])


def _time(text: str, layout: str) -> datetime | None:
    try:
        return datetime.strptime(text, layout).replace(tzinfo=UTC)
    except ValueError:  # a 13th month, a 25th hour
        return None
