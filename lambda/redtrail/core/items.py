"""DynamoDB items (low-level attribute values) built from kept CloudTrail records. Pure."""

import gzip
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec

from redtrail.contracts import schema
from redtrail.core.classify import Match
from redtrail.core.detections import Detection, highest

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

_COPIED = ("eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId", "errorCode", "sourceIPAddress")
# (field, resource kind) in requestParameters, then responseElements; the first readable one wins.
_RESOURCE_FIELDS = (
    ("dataShareArn", "datashare"),
    ("clusterIdentifier", "cluster"),
    ("clusterId", "cluster"),
    ("workgroupName", "workgroup"),
    ("namespaceName", "namespace"),
)
_RESOURCE_KINDS = frozenset({"cluster", "namespace", "workgroup", "datashare"})
# What json.dumps(record, ensure_ascii=..., separators=(",", ":")) builds on each call, built once.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_COMPACT_ASCII_JSON = json.JSONEncoder(separators=(",", ":"))
# Writes all but floats as _COMPACT_JSON does (tests hold it to that), about four times faster.
_FLOATLESS_JSON = msgspec.json.Encoder()
_SORTED_JSON = msgspec.json.Encoder(order="sorted")
CONTENT_ATTRIBUTE = "eventSha256"


REDACTED = "REDACTED"
CLOUDTRAIL_HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
# DynamoDB items hold at most 400 KB; an event above this is stored gzip-compressed (``eventGzip``).
MAX_INLINE_EVENT_BYTES = 300_000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class InvalidRecordError(ValueError):
    """A kept record that cannot become an item (no usable eventID, or too large even compressed)."""


class ItemTooLargeError(InvalidRecordError):
    """An event that exceeds DynamoDB's item size even compressed."""


def build_item(
    record: Mapping[str, Any],
    match: Match,
    *,
    source_object: str,
    retention_days: int | None = None,
    redact_fields: Collection[str] = (),
    floats: bool = True,
    detections: Sequence[Detection] = (),
) -> Item:
    """The table item for a Redshift-family ``record`` found in ``source_object``.

    ``redact_fields`` (dotted paths such as ``requestParameters.password``) are replaced by ``REDACTED`` in
    the stored ``event``; CloudTrail's own ``HIDDEN_DUE_TO_SECURITY_REASONS`` is left as it is. ``floats``:
    as for ``event_json``. ``detections``: the rules the record matched (``detections``, ``severity``).
    """
    event_id = record.get("eventID")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidRecordError("record has no eventID")
    if schema.KEY_SEPARATOR in event_id:
        raise InvalidRecordError(f"eventID holds {schema.KEY_SEPARATOR!r}, which only redtrail's own keys hold")
    item: Item = {"eventID": {"S": event_id}, "matchedBy": {"S": match.matched_by.value}}
    for name in _COPIED:
        value = record.get(name)
        if isinstance(value, str) and value:
            item[name] = {"S": value}
    if match.service_account_region:
        item["redshiftServiceAccountRegion"] = {"S": match.service_account_region}

    read_only = record.get("readOnly")
    if isinstance(read_only, bool):
        item["readOnly"] = {"BOOL": read_only}
    elif isinstance(read_only, str) and read_only:
        item["readOnly"] = {"S": read_only}
    is_write = not (read_only is True or (isinstance(read_only, str) and read_only.lower() == "true"))
    item["isWrite"] = {"BOOL": is_write}

    identity = record.get("userIdentity")
    if isinstance(identity, Mapping):
        item.update(_principal_attributes(identity))
        actor = actor_of(identity)
        if actor:
            item["actor"] = {"S": actor}
    resource = resource_of(record)
    if resource:
        item["resource"] = {"S": resource}
    item["sourceObject"] = {"S": source_object}
    severity = highest(detection.severity for detection in detections)
    if severity is not None:
        item["detections"] = {"L": [{"S": rule} for rule in dict.fromkeys(d.rule.id for d in detections)]}
        item["severity"] = {"S": severity.value}

    event_time = item.get("eventTime", {}).get("S")
    if event_time:
        bucket = schema.time_bucket(event_time, event_id)
        if bucket:
            item["timeBucket"] = {"S": bucket}
            if is_write:
                item["writeBucket"] = {"S": bucket}
    expires = expiry_epoch(event_time, retention_days) if retention_days else None
    if expires is not None:
        item[schema.TTL_ATTRIBUTE] = {"N": str(expires)}
    stored = redacted(record, redact_fields)
    item[CONTENT_ATTRIBUTE] = {"S": content_sha256(stored)}
    store_event(item, stored, floats=floats)
    return item


def content_sha256(record: Mapping[str, Any]) -> str:
    """A hash of what a record says, whatever the order of its fields: two copies of one event (an account
    and an organization trail) hash alike, a rewritten one does not."""
    try:
        text = _SORTED_JSON.encode(record)
    except (TypeError, ValueError, OverflowError):  # lone surrogates, integers beyond 64 bits: the stdlib's
        text = json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(text).hexdigest()


def store_event(item: Item, record: Mapping[str, Any], *, floats: bool = True) -> None:
    """Put the record into ``item`` as ``event`` (JSON text), or compressed as ``eventGzip`` when large."""
    text = event_json(record, floats=floats)
    data = text.encode("utf-8")
    if len(data) <= MAX_INLINE_EVENT_BYTES:
        item["event"] = {"S": text}
        return
    packed = gzip.compress(data, mtime=0)
    if len(packed) > MAX_INLINE_EVENT_BYTES:
        raise ItemTooLargeError(f"event of {len(data)} bytes is {len(packed)} bytes compressed, over the item limit")
    item["eventGzip"] = {"B": packed}
    item["eventEncoding"] = {"S": "gzip"}


def quarantine_item(
    record: Mapping[str, Any], reason: str, *, source_object: str, now: datetime, floats: bool = True
) -> Item:
    """An item that keeps a Redshift-family record that cannot be stored as an event, with the reason.

    Its key is ``rejected#`` and a digest of the record, so a redelivered file leaves one item; it is in the
    ``byRejected`` index only (no event attributes that other indexes key on).
    """
    digest = hashlib.sha256(event_json(record, floats=floats).encode("utf-8")).hexdigest()
    item: Item = {
        "eventID": {"S": f"{schema.REJECTED_PREFIX}{digest[:32]}"},
        CONTENT_ATTRIBUTE: {"S": digest},
        "rejectReason": {"S": reason},
        "sourceObject": {"S": source_object},
        "rejectedMonth": {"S": now.astimezone(UTC).strftime("%Y-%m")},
        "ingestedAt": {"S": now.astimezone(UTC).strftime(TIME_FORMAT)},
    }
    store_event(item, record, floats=floats)
    return item


def redacted(record: Mapping[str, Any], paths: Collection[str]) -> Mapping[str, Any]:
    """``record`` with the value at each dotted path replaced by ``REDACTED`` (copied only where changed)."""
    return _redact(record, _redaction_tree(tuple(paths)))


_LEAF: dict[str, Any] = {}  # marks a path's last part in a redaction tree


@lru_cache(maxsize=8)
def _redaction_tree(paths: tuple[str, ...]) -> dict[str, Any]:
    """The dotted paths as a tree of their parts (a part that ends a path replaces everything below it)."""
    tree: dict[str, Any] = {}
    for path in paths:
        *parents, leaf = path.split(".")
        node = tree
        for part in parents:
            child = node.setdefault(part, {})
            if child is _LEAF:
                break
            node = child
        else:
            node[leaf] = _LEAF
    return tree


def _redact(node: Mapping[str, Any], tree: dict[str, Any]) -> Mapping[str, Any]:
    changed: dict[str, Any] | None = None
    for key, below in tree.items():
        if key not in node:
            continue
        value = node[key]
        if below is _LEAF:
            if value is None or value in (CLOUDTRAIL_HIDDEN, REDACTED):
                continue
            replaced: Any = REDACTED
        elif isinstance(value, Mapping):
            replaced = _redact(value, below)
            if replaced is value:
                continue
        else:
            continue
        if changed is None:
            changed = dict(node)
        changed[key] = replaced
    return node if changed is None else changed


def event_json(record: Mapping[str, Any], *, floats: bool = True) -> str:
    """The record as compact JSON text; escapes only what UTF-8 cannot carry (lone surrogates).

    ``floats=False`` promises that the record holds no float (``fastpath.load_picked`` tells): msgspec then
    writes it, the same text faster. It writes floats its own way (``1e16``, not ``1e+16``).
    """
    if not floats:
        try:
            return _FLOATLESS_JSON.encode(record).decode("utf-8")
        except ValueError:  # lone surrogates, or an integer too long to write: the stdlib's answer below
            pass
    text = _COMPACT_JSON.encode(record)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _COMPACT_ASCII_JSON.encode(record)
    return text


def expiry_epoch(event_time: str | None, retention_days: int) -> int | None:
    """TTL epoch seconds, ``retention_days`` after the event; None (kept) when its time is unreadable.

    Counting from the event, not from ingestion, keeps items the same however late a file is processed.
    """
    moment = _parse_time(event_time)
    return None if moment is None else int(moment.timestamp()) + retention_days * 86400


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _principal_attributes(identity: Mapping[str, Any]) -> Item:
    arn = _text(identity.get("arn"))
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    issuer_arn = _text(issuer.get("arn")) if isinstance(issuer, Mapping) else None
    identity_type = _text(identity.get("type"))
    account = _text(identity.get("accountId"))
    # A role's session name changes per session; the role itself is the stable principal.
    principal = (
        issuer_arn
        or arn
        or _text(identity.get("invokedBy"))
        or (f"{identity_type or 'Unknown'}:{account}" if account else identity_type)
    )
    attributes: Item = {}
    for name, value in (
        ("principal", principal),
        ("principalArn", arn),
        ("principalAccountId", account),
        ("identityType", identity_type),
    ):
        if value:
            attributes[name] = {"S": value}
    return attributes


def actor_of(identity: Mapping[str, Any]) -> str | None:
    """The one a person would name: an assumed role's session name (for IAM Identity Center, the user), else
    the IAM user's name, else the service that called, else the principal's last name."""
    identity_type = _text(identity.get("type"))
    arn = _text(identity.get("arn")) or ""
    if identity_type == "AssumedRole" and "assumed-role/" in arn:
        session = arn.rsplit("/", 1)[-1]
        return session if arn.count("/") >= 2 and session else None
    if identity_type == "IAMUser":
        return _text(identity.get("userName")) or (arn.rsplit("/", 1)[-1] if "/" in arn else None)
    if identity_type == "Root":
        return "root"
    if identity_type == "FederatedUser" and "federated-user/" in arn:
        return arn.rsplit("/", 1)[-1] or None
    if identity_type == "AWSService":
        return _text(identity.get("invokedBy"))
    return _text(identity.get("invokedBy")) or (arn.rsplit("/", 1)[-1] if "/" in arn else None)


def resource_of(record: Mapping[str, Any]) -> str | None:
    """The Redshift resource an event concerns, as ``kind:name`` (cluster, namespace, workgroup, datashare)."""
    for section in ("requestParameters", "responseElements"):
        fields = record.get(section)
        if not isinstance(fields, Mapping):
            continue
        for field, kind in _RESOURCE_FIELDS:
            value = _text(fields.get(field))
            if value:
                return f"{kind}:{_arn_name(value) if value.startswith('arn:') else value}"
        context = fields.get("encryptionContext")
        if isinstance(context, Mapping):
            for key, value in context.items():
                if isinstance(key, str) and key.endswith(":arn") and key.startswith("aws:redshift"):
                    parsed = _arn_resource(_text(value))
                    if parsed:
                        return parsed
    return None


def _arn_name(arn: str) -> str:
    """The last name in an ARN's resource part (datashare ARNs end in ``<producer-id>/<name>``)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _arn_resource(arn: str | None) -> str | None:
    """``kind:name`` from a Redshift ARN such as ``arn:aws:redshift:r:a:cluster:name``."""
    if not arn:
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[2].startswith("redshift"):
        return None
    resource = parts[5]
    kind, _, name = resource.replace("/", ":", 1).partition(":")
    if kind not in _RESOURCE_KINDS or not name:
        return None
    return f"{kind}:{_arn_name(name) if kind == 'datashare' else name}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
