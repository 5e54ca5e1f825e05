"""DynamoDB: the ledger, kept in the event table under its own keyspaces (``log#``, ``digest#``, ``chain#``,
``namespace#``, ``problem#``) and found through the ``byLedger`` index.

Log and digest entries are merged with UpdateItem (atomic per item), so that a log file and the digest listing
it, arriving in any order and in parallel, each see what the other wrote; problems are conditional puts, so
each is recorded once.
"""

import contextlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.adapters.dynamodb import EventTable, table_client
from redtrail.contracts import schema
from redtrail.contracts.integrity import ProblemCode
from redtrail.core.errors import TableError, TableNotFoundError
from redtrail.core.ledger import ChainEntry, DigestEntry, LogEntry, LogStatus, Problem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION, SORT = schema.BY_LEDGER.partition_key, schema.BY_LEDGER.sort_key
MAX_SORT_BYTES = 1024  # DynamoDB's limit for a sort key
_LOG_FIELDS = {
    "namespace": "namespace",
    "seenSha256": "seen_sha256",
    "deliveredAt": "delivered_at",
    "listedSha256": "listed_sha256",
    "listedBy": "listed_by",
    "listedAt": "listed_at",
}
_DIGEST_FIELDS = {
    "chain": "chain",
    "digestStart": "start",
    "digestEnd": "end",
    "sha256": "sha256",
    "signature": "signature",
    "previousDigest": "previous_uri",
    "expectedSha256": "expected_sha256",
    "expectedSignature": "expected_signature",
    "expectedBy": "expected_by",
}


class DynamoDBLedger:
    """The ``redtrail.core.ledger.Ledger`` port on the event table."""

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self.name = table_name
        self._dynamodb = client or table_client()
        self._namespaces: set[str] = set()  # noted in this execution environment: no need to write again

    # --- log files ---------------------------------------------------------------------------------------

    def note_seen(self, uri: str, namespace: str, sha256: str, delivered_at: str) -> LogEntry:
        seen = {"namespace": namespace, "seenSha256": sha256, "deliveredAt": delivered_at}
        return _log(
            self._note(schema.LOG_PREFIX + uri, seen, LogStatus.PENDING, f"unsettled#{namespace}", delivered_at, uri)
        )

    def note_listed(self, uri: str, namespace: str, sha256: str, digest_uri: str, listed_at: str) -> LogEntry:
        listed = {"namespace": namespace, "listedSha256": sha256, "listedBy": digest_uri, "listedAt": listed_at}
        return _log(
            self._note(schema.LOG_PREFIX + uri, listed, LogStatus.EXPECTED, f"unsettled#{namespace}", listed_at, uri)
        )

    def _note(
        self, key: str, values: dict[str, str], status: LogStatus, partition: str, time: str, uri: str
    ) -> dict[str, Any]:
        """The first note of an entry puts it in its unsettled partition; later notes only add their fields."""
        names = {f"#{name}": name for name in values} | {"#status": "status"}
        settable = {f":{name}": {"S": value} for name, value in values.items()}
        assignments = [f"#{name} = :{name}" for name in values]
        first = {
            "UpdateExpression": "SET " + ", ".join([*assignments, "#status = :status", "#p = :p", "#s = :s"]),
            "ConditionExpression": "attribute_not_exists(#status)",
            "ExpressionAttributeNames": {**names, "#p": PARTITION, "#s": SORT},
            "ExpressionAttributeValues": {
                **settable,
                ":status": {"S": status.value},
                ":p": {"S": partition},
                ":s": {"S": _sort(time, uri)},
            },
        }
        try:
            return self._update(key, first)
        except _ConditionFailed:
            pass
        later = {
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ExpressionAttributeNames": {f"#{name}": name for name in values},
            "ExpressionAttributeValues": settable,
        }
        return self._update(key, later)

    def settle(self, entry: LogEntry, status: LogStatus) -> None:
        request: dict[str, Any] = {
            "UpdateExpression": "SET #status = :status" + (" REMOVE #p, #s" if status.settled else ""),
            "ExpressionAttributeNames": {
                "#status": "status",
                **({"#p": PARTITION, "#s": SORT} if status.settled else {}),
            },
            "ExpressionAttributeValues": {":status": {"S": status.value}},
        }
        self._update(schema.LOG_PREFIX + entry.uri, request)

    def unsettled(self, namespace: str, since: str, until: str) -> list[LogEntry]:
        return [_log(item) for item in self._query(f"unsettled#{namespace}", since, until)]

    def log(self, uri: str) -> LogEntry | None:
        item = self._get(schema.LOG_PREFIX + uri)
        return _log(item) if item else None

    def logs(self, uris: list[str]) -> dict[str, LogEntry]:
        """Several entries at once: what ``redtrail query`` shows as provenance. Read as the event table reads
        (``EventTable.items``: BatchGetItem, 100 a request, unprocessed keys asked again with backoff, a bounded
        number of times)."""
        stored = EventTable(self.name, self._dynamodb).items([schema.LOG_PREFIX + uri for uri in uris])
        entries = (_log(item) for item in stored.values())
        return {entry.uri: entry for entry in entries}

    # --- digests and chains ------------------------------------------------------------------------------

    def note_digest(self, entry: DigestEntry) -> DigestEntry:
        values = {name: getattr(entry, field) for name, field in _DIGEST_FIELDS.items() if getattr(entry, field)}
        values = {name: value for name, value in values.items() if not name.startswith("expected")}
        names = {f"#{name}": name for name in values} | {"#p": PARTITION, "#s": SORT}
        request = {
            "UpdateExpression": "SET " + ", ".join([*(f"#{name} = :{name}" for name in values), "#p = :p", "#s = :s"]),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                **{f":{name}": {"S": value} for name, value in values.items()},
                ":p": {"S": f"digests#{entry.chain}"},
                ":s": {"S": _sort(entry.end, entry.uri)},
            },
        }
        return _digest(self._update(schema.DIGEST_PREFIX + entry.uri, request))

    def expect_previous(self, entry: DigestEntry) -> DigestEntry:
        values = {
            "expectedSha256": entry.expected_sha256 or "",
            "expectedSignature": entry.expected_signature or "",
            "expectedBy": entry.expected_by or "",
        }
        request = {
            "UpdateExpression": "SET "
            + ", ".join(f"#{name} = :{name}" for name in values)
            + ", #chain = if_not_exists(#chain, :chain)",
            "ExpressionAttributeNames": {f"#{name}": name for name in values} | {"#chain": "chain"},
            "ExpressionAttributeValues": {f":{name}": {"S": value} for name, value in values.items()}
            | {":chain": {"S": entry.chain}},
        }
        return _digest(self._update(schema.DIGEST_PREFIX + entry.uri, request))

    def digests(self, chain: str, since: str, until: str) -> list[DigestEntry]:
        return [_digest(item) for item in self._query(f"digests#{chain}", since, until)]

    def note_chain(self, chain: ChainEntry) -> None:
        item = {
            schema.PARTITION_KEY: {"S": schema.CHAIN_PREFIX + chain.chain},
            "chain": {"S": chain.chain},
            "namespace": {"S": chain.namespace},
            "lastEnd": {"S": chain.last_end},
            "lastDigest": {"S": chain.last_digest},
            PARTITION: {"S": "chains"},
            SORT: {"S": chain.chain},
        }
        with contextlib.suppress(_ConditionFailed):  # only forward: an older digest arriving late changes nothing
            self._call(
                "put_item",
                TableName=self.name,
                Item=item,
                ConditionExpression="attribute_not_exists(lastEnd) OR lastEnd < :end",
                ExpressionAttributeValues={":end": {"S": chain.last_end}},
            )

    def chains(self, namespace: str | None = None) -> list[ChainEntry]:
        prefix = f"{namespace}/" if namespace else None
        return [
            ChainEntry(item["chain"]["S"], item["namespace"]["S"], item["lastEnd"]["S"], item["lastDigest"]["S"])
            for item in self._query("chains", prefix=prefix)
        ]

    def namespaces(self) -> list[str]:
        return [item["namespace"]["S"] for item in self._query("namespaces")]

    def note_namespace(self, namespace: str) -> None:
        if namespace in self._namespaces:
            return
        item = {
            schema.PARTITION_KEY: {"S": schema.NAMESPACE_PREFIX + namespace},
            "namespace": {"S": namespace},
            PARTITION: {"S": "namespaces"},
            SORT: {"S": namespace},
        }
        self._call("put_item", TableName=self.name, Item=item)
        self._namespaces.add(namespace)

    # --- problems ----------------------------------------------------------------------------------------

    def record(self, problem: Problem) -> bool:
        item = {
            schema.PARTITION_KEY: {"S": schema.PROBLEM_PREFIX + problem.key},
            "code": {"S": problem.code.value},
            "object": {"S": problem.object},
            "detail": {"S": problem.detail},
            "detectedAt": {"S": problem.detected_at},
            PARTITION: {"S": f"problems#{problem.detected_at[:7]}"},
            SORT: {"S": _sort(problem.detected_at, problem.key)},
        }
        if problem.chain:
            item["chain"] = {"S": problem.chain}
        if problem.event_id:
            item["problemEventId"] = {"S": problem.event_id}
        try:
            self._call("put_item", TableName=self.name, Item=item, ConditionExpression="attribute_not_exists(code)")
        except _ConditionFailed:
            return False
        return True

    def problems(self, since: str, until: str) -> list[Problem]:
        months = schema.months_between(_date(since), _date(until))
        found = [item for month in reversed(months) for item in self._query(f"problems#{month}", since, until)]
        return [
            Problem(
                ProblemCode(item["code"]["S"]),
                item["object"]["S"],
                item["detail"]["S"],
                item.get("chain", {}).get("S"),
                item.get("problemEventId", {}).get("S"),
                item["detectedAt"]["S"],
            )
            for item in found
        ]

    # --- DynamoDB ----------------------------------------------------------------------------------------

    def _update(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        response = self._call(
            "update_item",
            TableName=self.name,
            Key={schema.PARTITION_KEY: {"S": key}},
            ReturnValues="ALL_NEW",
            **request,
        )
        return dict(response.get("Attributes", {}))

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._call("get_item", TableName=self.name, Key={schema.PARTITION_KEY: {"S": key}})
        item = response.get("Item")
        return dict(item) if item else None

    def _query(
        self, partition: str, since: str = "", until: str = "", prefix: str | None = None
    ) -> list[dict[str, Any]]:
        names = {"#p": PARTITION}
        values: dict[str, Any] = {":p": {"S": partition}}
        condition = "#p = :p"
        if prefix is not None:
            names["#s"] = SORT
            values[":prefix"] = {"S": prefix}
            condition += " AND begins_with(#s, :prefix)"
        elif since or until:
            names["#s"] = SORT
            values[":since"] = {"S": since}
            values[":until"] = {"S": until + "~"}  # after every "#uri" of that second
            condition += " AND #s BETWEEN :since AND :until"
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": schema.BY_LEDGER.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        items: list[dict[str, Any]] = []
        while True:
            response = self._call("query", **request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._dynamodb, operation)(**kwargs)
        except ClientError as error:
            code = error_code(error)
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed from error
            if code == "ResourceNotFoundException":
                raise TableNotFoundError(f"table {self.name} does not exist") from error
            raise TableError(f"table {self.name}: {code or error}") from error
        except BotoCoreError as error:
            raise TableError(f"table {self.name}: {error}") from error


class _ConditionFailed(Exception):
    """A conditional write found the item as it should not be: an expected outcome, not an error."""


def _sort(time: str, uri: str) -> str:
    """A sort key of the time and the object; cut to DynamoDB's limit (GSI keys need not be unique)."""
    text = f"{time}#{uri}"
    encoded = text.encode("utf-8")
    return text if len(encoded) <= MAX_SORT_BYTES else encoded[:MAX_SORT_BYTES].decode("utf-8", "ignore")


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return str(value) if value else None


def _log(item: dict[str, Any]) -> LogEntry:
    key = str(item[schema.PARTITION_KEY]["S"]).removeprefix(schema.LOG_PREFIX)
    values = {field: _text(item, name) for name, field in _LOG_FIELDS.items()}
    return LogEntry(
        uri=key,
        namespace=values.pop("namespace") or "",
        status=LogStatus(_text(item, "status") or LogStatus.PENDING.value),
        **values,
    )


def _digest(item: dict[str, Any]) -> DigestEntry:
    key = str(item[schema.PARTITION_KEY]["S"]).removeprefix(schema.DIGEST_PREFIX)
    values = {field: _text(item, name) for name, field in _DIGEST_FIELDS.items()}
    return DigestEntry(
        uri=key,
        chain=values.pop("chain") or "",
        start=values.pop("start") or "",
        end=values.pop("end") or "",
        **values,
    )


def _date(text: str) -> date:
    return datetime.strptime(text[:10], "%Y-%m-%d").date()
