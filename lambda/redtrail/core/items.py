"""DynamoDB items (low-level attribute values) built from kept CloudTrail records. Pure."""

import gzip
import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec

from redtrail.contracts import schema
from redtrail.core.classify import Match
from redtrail.core.detections import Detection, highest
from redtrail.core.resources import resource_of

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

_COPIED = ("eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId", "errorCode", "sourceIPAddress")
RESOURCE_ATTRIBUTE = schema.BY_RESOURCE.partition_key
PARENT_RESOURCE_ATTRIBUTE = schema.BY_PARENT_RESOURCE.partition_key
# What json.dumps(record, ensure_ascii=..., separators=(",", ":")) builds on each call, built once.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_COMPACT_ASCII_JSON = json.JSONEncoder(separators=(",", ":"))
# Writes all but floats as _COMPACT_JSON does (tests hold it to that), about four times faster.
_FLOATLESS_JSON = msgspec.json.Encoder()
_SORTED_JSON = msgspec.json.Encoder(order="sorted")
CONTENT_ATTRIBUTE = "eventSha256"


REDACTED = "REDACTED"
CLOUDTRAIL_HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
# An event above this is stored gzip-compressed (``eventGzip``): cheaper to write. Below it too when the item
# would not fit DynamoDB's limit with the event inline (``store_event`` decides on the whole item's size).
MAX_INLINE_EVENT_BYTES = 300_000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIME_SHAPE = "YYYY-MM-DDTHH:MM:SSZ"  # how CloudTrail writes eventTime: sorts as time does, names its month
_CLOUDTRAIL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

# DynamoDB's limits, in UTF-8 bytes as DynamoDB measures them (its guide, "DynamoDB item sizes and formats").
# An item over 400 KB (409,600 bytes) or with one key attribute longer than its role allows is refused whole
# (ValidationException); every item redtrail builds stays within them. 400,000: a margin for the documentation's
# "approximately" (numbers).
MAX_ITEM_BYTES = 400_000
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
# An eventID becomes the table's key, and part of its detection items' keys (``alert#<eventID>#<rule>``), which
# must fit a partition key too: 128 bytes are kept for the prefix and the rule.
MAX_EVENT_ID_BYTES = MAX_PARTITION_KEY_BYTES - 128
# Any other text copied from a record: no copy is longer than a partition key may be.
MAX_COPY_BYTES = MAX_PARTITION_KEY_BYTES
MAX_REASON_CHARS = 1000  # a quarantine reason (it may quote the record) is cut there
DROPPED_ATTRIBUTE = "droppedAttributes"  # the copies left out of an item for their length


def _key_bytes() -> dict[str, int]:
    """Every key attribute of the table and its indexes, and the most UTF-8 bytes DynamoDB allows it (the least
    of its roles: 1,024 as a sort key, 2,048 as a partition key)."""
    limits = {schema.PARTITION_KEY: MAX_PARTITION_KEY_BYTES}
    for index in schema.INDEXES:
        for name, limit in ((index.partition_key, MAX_PARTITION_KEY_BYTES), (index.sort_key, MAX_SORT_KEY_BYTES)):
            limits[name] = min(limits.get(name, limit), limit)
    return limits


KEY_BYTES = _key_bytes()

# What becomes of a text attribute of an event item too long for DynamoDB, decided per attribute:
#
# * ``eventID`` (the table's key; also in its detection items' keys): the record is quarantined with the reason.
# * ``eventTime`` (the sort key of every event index): must be a time as CloudTrail writes it (20 bytes), or the
#   record is quarantined (a record without one would be in no time range).
# * ``timeBucket``, ``writeBucket``: made from a valid eventTime, always short.
# * ``eventName``, ``recipientAccountId``, ``principal``, ``actor``, ``resource``, ``parentResource`` (partition
#   keys of one index each) and the summary copies below: copies of what ``event`` holds whole, read by one index
#   or shown by ``redtrail query``. One longer than its bound (its key role's, else MAX_COPY_BYTES) is left out and
#   named in ``droppedAttributes``: the event is stored and found by time and by its other keys; quarantining a
#   real event for a malformed field (a failed DescribeClusters with a 2,100-byte clusterIdentifier) would hide it.
# * ``sourceObject`` (an S3 URI: keys are at most 1,024 bytes), ``eventSha256``, ``matchedBy``, ``severity``,
#   ``detections``, ``redshiftServiceAccountRegion``: redtrail's own, short.
_BOUNDED_COPIES = (
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "errorCode",
    "sourceIPAddress",
    "readOnly",
    "principal",
    "principalArn",
    "principalAccountId",
    "identityType",
    "actor",
    RESOURCE_ATTRIBUTE,
    PARENT_RESOURCE_ATTRIBUTE,
)


class InvalidRecordError(ValueError):
    """A kept record that cannot become an event item (no usable eventID or eventTime, or too large even
    compressed): it is quarantined with the reason."""


class ItemTooLargeError(InvalidRecordError):
    """An event whose item exceeds DynamoDB's item size even compressed."""


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
    id_bytes = utf8_length(event_id)
    if id_bytes > MAX_EVENT_ID_BYTES:
        raise InvalidRecordError(
            f"eventID of {id_bytes} bytes is longer than the {MAX_EVENT_ID_BYTES} bytes of an event's key"
            f" (DynamoDB allows a key {MAX_PARTITION_KEY_BYTES} bytes; a detection's key adds up to 128)"
        )
    problem = time_problem(record.get("eventTime"))
    if problem is not None:
        raise InvalidRecordError(problem)
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
    if resource is not None:
        item[RESOURCE_ATTRIBUTE] = {"S": resource.key}
        if resource.parent is not None:
            item[PARENT_RESOURCE_ATTRIBUTE] = {"S": resource.parent.key}
    item["sourceObject"] = {"S": source_object}
    severity = highest(detection.severity for detection in detections)
    if severity is not None:
        item["detections"] = {"L": [{"S": rule} for rule in dict.fromkeys(d.rule.id for d in detections)]}
        item["severity"] = {"S": severity.value}
    dropped = [name for name in _BOUNDED_COPIES if name in item and _too_long(name, item[name])]
    if dropped:
        for name in dropped:
            del item[name]
        item[DROPPED_ATTRIBUTE] = {"L": [{"S": name} for name in dropped]}

    event_time = item["eventTime"]["S"]
    bucket = schema.time_bucket(event_time, event_id)
    if bucket:  # always, for a valid time
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


def time_problem(value: object) -> str | None:
    """Why ``value`` is not an eventTime that every time-range query finds, or None when it is one.

    CloudTrail writes ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds): the sort key compares as text, so only that
    form sorts as time does, and only a real date names the month bucket queries ask.
    """
    if value is None:
        return f"record has no eventTime (CloudTrail writes {TIME_SHAPE})"
    if not isinstance(value, str):
        return f"eventTime is {type(value).__name__}, not a time as CloudTrail writes it ({TIME_SHAPE})"
    if _CLOUDTRAIL_TIME.fullmatch(value):
        try:
            # The pattern fixed the shape (ASCII digits); this checks their ranges (0.17 µs; strptime: 8.4 µs).
            datetime.fromisoformat(value)
        except ValueError:  # month 13, February 30, hour 24, second 60...
            pass
        else:
            return None
    return f"eventTime {_shown(value)} is not a time as CloudTrail writes it ({TIME_SHAPE})"


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """An item's size as DynamoDB counts it against its limit: the UTF-8 length of each attribute's name plus its
    value's size (strings: UTF-8 bytes; binary: bytes; numbers: 1 byte per two significant digits, plus 1;
    booleans and nulls: 1; lists and maps: 3, plus each element's size and 1 byte each)."""
    return sum(utf8_length(name) + _value_size(value) for name, value in item.items())


def _value_size(value: AttributeValue) -> int:
    size = 0
    for kind, raw in value.items():
        if kind == "S":
            size += utf8_length(raw)
        elif kind == "B":
            size += len(raw)
        elif kind == "N":
            size += _number_size(raw)
        elif kind in ("BOOL", "NULL"):
            size += 1
        elif kind == "L":
            size += 3 + sum(1 + _value_size(element) for element in raw)
        elif kind == "M":
            size += 3 + sum(1 + utf8_length(key) + _value_size(element) for key, element in raw.items())
        elif kind == "SS":
            size += sum(utf8_length(element) for element in raw)
        elif kind == "NS":
            size += sum(_number_size(element) for element in raw)
        elif kind == "BS":
            size += sum(len(element) for element in raw)
        else:
            raise ValueError(f"not a DynamoDB attribute type: {kind!r}")
    return size


def _number_size(text: str) -> int:
    digits = text.lower().partition("e")[0].lstrip("+-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8, as DynamoDB measures strings (a lone surrogate counts 3 bytes)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _too_long(name: str, value: AttributeValue) -> bool:
    text = value.get("S")
    return isinstance(text, str) and utf8_length(text) > KEY_BYTES.get(name, MAX_COPY_BYTES)


def _shown(value: str, limit: int = 40) -> str:
    """``value`` quoted, cut to ``limit`` characters (a reason may quote a field of any length)."""
    return repr(value[:limit]) + (f"… ({len(value)} characters)" if len(value) > limit else "")


_EVENT_NAME_BYTES = len("event")
_GZIP_OVERHEAD = len("eventGzip") + len("eventEncoding") + len("gzip")


def store_event(item: Item, record: Mapping[str, Any], *, floats: bool = True) -> None:
    """Put the record into ``item`` as ``event`` (JSON text), or compressed as ``eventGzip`` when large or when
    the item would not fit DynamoDB's limit with it inline; ItemTooLargeError when it fits neither way.

    Decided on the size of the whole item as DynamoDB counts it (``item_size``), its other attributes already
    in it, so that no item redtrail writes is over the limit.
    """
    _store_text(item, event_json(record, floats=floats))


def _store_text(item: Item, text: str) -> None:
    data = text.encode("utf-8")  # event_json's text is always valid UTF-8
    others = item_size(item)
    if len(data) <= MAX_INLINE_EVENT_BYTES and others + _EVENT_NAME_BYTES + len(data) <= MAX_ITEM_BYTES:
        item["event"] = {"S": text}
        return
    packed = gzip.compress(data, mtime=0)
    if others + _GZIP_OVERHEAD + len(packed) > MAX_ITEM_BYTES:
        raise ItemTooLargeError(
            f"event of {len(data)} bytes is {len(packed)} bytes compressed, over the item limit"
            f" ({MAX_ITEM_BYTES} bytes with the item's other {others})"
        )
    item["eventGzip"] = {"B": packed}
    item["eventEncoding"] = {"S": "gzip"}


def event_text(item: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The stored record's JSON text of an item (inflated when stored compressed), or None when it has none."""
    packed = item.get("eventGzip", {}).get("B")
    if packed is not None:
        return gzip.decompress(bytes(packed)).decode("utf-8")
    text = item.get("event", {}).get("S")
    return str(text) if text is not None else None


def quarantine_item(
    record: Mapping[str, Any], reason: str, *, source_object: str, now: datetime, floats: bool = True
) -> Item:
    """An item that keeps a Redshift-family record that cannot be stored as an event, with the reason.

    Its key is ``rejected#`` and a digest of the record, so a redelivered file leaves one item; it is in the
    ``byRejected`` index only (no event attributes that other indexes key on). ItemTooLargeError when even this
    item cannot hold the record (``quarantine_stub`` then stands in for it).
    """
    text = event_json(record, floats=floats)
    item = _quarantined(hashlib.sha256(text.encode("utf-8")).hexdigest(), reason, source_object, now)
    _store_text(item, text)
    return item


def quarantine_stub(
    record: Mapping[str, Any],
    reason: str,
    *,
    source_object: str,
    now: datetime,
    position: int,
    floats: bool = True,
) -> Item:
    """The quarantine item of a record too large to store even compressed: no event, but what identifies the
    record (its eventID when it has one, its size and SHA-256 as redtrail writes it: compact JSON, redacted) and
    where it is kept (``recordIndex``: its index in the ``Records`` of ``sourceObject``, which the trail bucket
    retains), with the reason. Keyed as ``quarantine_item`` keys the same record."""
    data = event_json(record, floats=floats).encode("utf-8")
    item = _quarantined(hashlib.sha256(data).hexdigest(), reason, source_object, now)
    event_id = record.get("eventID")
    if isinstance(event_id, str) and event_id and utf8_length(event_id) <= MAX_COPY_BYTES:
        item["recordEventID"] = {"S": event_id}
    item["recordIndex"] = {"N": str(position)}
    item["recordBytes"] = {"N": str(len(data))}
    return item


def refused_item(item: Mapping[str, AttributeValue], reason: str, *, now: datetime) -> Item:
    """The quarantine item that stands in for an event item DynamoDB refused (``reason``: its message): the
    same stored event and source, keyed as ``quarantine_item`` keys the same record. ValueError for an item
    that holds no event (a quarantine item or a stub cannot be quarantined again)."""
    text = event_text(item)
    event_id = str(item.get(schema.PARTITION_KEY, {}).get("S", ""))
    if text is None or event_id.startswith(schema.REJECTED_PREFIX):
        raise ValueError(f"item {event_id[:80]!r} holds no event to quarantine")
    source = str(item.get("sourceObject", {}).get("S", ""))
    quarantined = _quarantined(hashlib.sha256(text.encode("utf-8")).hexdigest(), reason, source, now)
    for name in ("event", "eventGzip", "eventEncoding"):
        if name in item:
            quarantined[name] = dict(item[name])
    return quarantined


def _quarantined(digest: str, reason: str, source_object: str, now: datetime) -> Item:
    """A quarantine item's own attributes (the event, or the stub's pointer, come on top)."""
    if len(reason) > MAX_REASON_CHARS:
        reason = f"{reason[:MAX_REASON_CHARS]}… (cut from {len(reason)} characters)"
    return {
        "eventID": {"S": f"{schema.REJECTED_PREFIX}{digest[:32]}"},
        CONTENT_ATTRIBUTE: {"S": digest},
        "rejectReason": {"S": reason},
        "sourceObject": {"S": source_object},
        "rejectedMonth": {"S": now.astimezone(UTC).strftime("%Y-%m")},
        "ingestedAt": {"S": now.astimezone(UTC).strftime(TIME_FORMAT)},
    }


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


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
