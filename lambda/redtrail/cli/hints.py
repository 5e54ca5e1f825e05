"""Why ``redtrail query`` found nothing, and what would match.

A key that cannot match what the table holds returns no events, without an error: an assumed-role session's ARN
(the principal index holds the role's), a resource without its kind, an eventName in the wrong case. When a query
returns nothing, each such key gets a hint; where a cheap look tells more, a probe asks: one Query with a small
``Limit`` of one index, in the query's time range, built by ``queries.requests`` as the query's own are.
"""

import re
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from redtrail.cli.output import escape
from redtrail.core import queries
from redtrail.core.detections import RULES
from redtrail.core.resources import PARENT_KINDS, Kind, parse_resource_key

Item = queries.Item
# How many events of a session name the actor index is asked for, to find the one of the session's role.
SESSION_PROBE_LIMIT = 25
MAX_PROBES_AT_ONCE = 8
# The services whose calls redtrail keeps by name (with the sources' own names, from their botocore models).
EVENT_NAME_SERVICES = ("redshift", "redshift-serverless", "redshift-data", "kms")
_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>[^:]+):sts::(?P<account>[^:]*):assumed-role/(?P<role>[^/]+)/(?P<session>.+)"
)
_KINDS = ", ".join(Kind)


@dataclass(frozen=True, slots=True)
class Session:
    """An assumed-role session, as its ARN names it (the ARN leaves out the role's path)."""

    partition: str
    account: str
    role: str
    name: str

    @property
    def role_arn(self) -> str:
        """The role's ARN, for a role without a path."""
        return f"arn:{self.partition}:iam::{self.account}:role/{self.role}"

    def is_role(self, arn: str) -> bool:
        """Whether ``arn`` is this session's role, with any path."""
        prefix = f"arn:{self.partition}:iam::{self.account}:role/"
        return arn.startswith(prefix) and arn.rsplit("/", 1)[-1] == self.role


def assumed_role_session(arn: str) -> Session | None:
    """The session an ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` ARN names, or None for another ARN."""
    match = _ASSUMED_ROLE.fullmatch(arn.strip())
    return Session(match["partition"], match["account"], match["role"], match["session"]) if match else None


def resource_key(text: str | None) -> str | None:
    """``--resource`` as the table keys it: ``kind:name`` with the kind in lower case, an ARN as the key of what it
    names. A value without a known kind is kept as typed: it matches nothing, and the hint of the empty answer says
    under which kinds the name has events (names may hold colons: ``rs:cluster-2024-01-01-00-00``)."""
    if text is None:
        return None
    found = parse_resource_key(text)
    return found.key if found is not None else text


def event_name_casing(name: str, known: Iterable[str]) -> str | None:
    """The known eventName that ``name`` is in another case (``createcluster``: ``CreateCluster``), or None."""
    by_folded = {candidate.casefold(): candidate for candidate in known}
    right = by_folded.get(name.casefold())
    return right if right is not None and right != name else None


@lru_cache(maxsize=1)
def known_event_names() -> frozenset[str]:
    """The calls of the Redshift-family services (their botocore models) and those the detection rules read."""
    names = {name for rule in RULES for name in rule.names}
    try:
        from botocore.exceptions import DataNotFoundError
        from botocore.loaders import create_loader

        loader = create_loader()
        for service in EVENT_NAME_SERVICES:
            try:
                names.update(loader.load_service_model(service, "service-2")["operations"])
            except DataNotFoundError:
                continue
    except ImportError:  # the CLI without botocore: the rules' names only
        pass
    return frozenset(names)


def empty_result_hints(query: queries.EventQuery, run_query: queries.RunQuery) -> list[str]:
    """What to say of a query that returned nothing: why its keys matched nothing, and what would match."""
    hints: list[str] = []
    if query.principal:
        hints += principal_hints(query, run_query)
    if query.resource:
        hints += resource_hints(query, run_query)
    if query.event_name:
        hints += event_name_hints(query, run_query)
    return hints


def print_hints(query: queries.EventQuery, run_query: queries.RunQuery) -> None:
    """The hints of an empty answer, one line each on stderr (escaped: they quote what was typed and found)."""
    for hint in empty_result_hints(query, run_query):
        print(f"redtrail: hint: {escape(hint)}", file=sys.stderr)


def principal_hints(query: queries.EventQuery, run_query: queries.RunQuery) -> list[str]:
    """An assumed-role session's ARN: the role the principal index keys on, and the command that has the session's
    events (``--principal ROLE --actor SESSION``); a name: the actor it may be."""
    principal = query.principal or ""
    session = assumed_role_session(principal)
    if session is None:
        if principal.startswith("arn:"):
            return []
        if _probe(_keyed(query, actor=principal), run_query):
            return [f"--principal takes an ARN; {principal} is an actor: --actor {principal}"]
        return ["--principal takes an ARN (for an assumed role, the role's); --actor takes a session or user name"]
    why = "--principal is the role of an assumed-role session, not the session's ARN"
    for item in _probe(_keyed(query, actor=session.name), run_query, SESSION_PROBE_LIMIT):
        role = _text(item, "principal")
        if role and session.is_role(role):
            return [f"{why}: --principal {role} --actor {session.name} has this session's events"]
    if _probe(_keyed(query, principal=session.role_arn), run_query):
        return [f"{why}: --principal {session.role_arn} has events in this range, none of session {session.name}"]
    return [
        f"{why} ({session.role_arn}, with the role's path if it has one); neither role {session.role} nor session"
        f" {session.name} has events in this range"
    ]


def resource_hints(query: queries.EventQuery, run_query: queries.RunQuery) -> list[str]:
    """A resource without a known kind: the kinds its name has events under; one of a kind without events in the
    range: the other kinds its name has events under (a workgroup asked for as a cluster). One probe per kind."""
    typed = query.resource or ""
    asked = parse_resource_key(typed)
    if asked is not None and _has_resource(query, asked.key, asked.kind, run_query):
        return []  # it has events: the query's other filters left none
    name = asked.name if asked is not None else typed
    candidates = [kind for kind in Kind if asked is None or kind != asked.kind]
    with ThreadPoolExecutor(max_workers=MAX_PROBES_AT_ONCE) as pool:
        present = list(pool.map(lambda kind: _has_resource(query, f"{kind}:{name}", kind, run_query), candidates))
    found = [f"{kind}:{name}" for kind, has in zip(candidates, present, strict=True) if has]
    if asked is None:
        where = (
            f"{name} has events in this range as {', '.join(found)}"
            if found
            else f"no resource named {name} has events in this range"
        )
        return [f"--resource takes kind:name, the kind one of {_KINDS}; {where}"]
    if found:
        return [f"{asked.key} has no events in this range; {name} has events as {', '.join(found)}"]
    return []


def event_name_hints(query: queries.EventQuery, run_query: queries.RunQuery) -> list[str]:
    """An eventName in the wrong case: the right one, and whether it has events in the range."""
    name = query.event_name or ""
    right = event_name_casing(name, known_event_names())
    if right is not None:
        has = " (it has events in this range)" if _probe(_keyed(query, event_name=right), run_query) else ""
        return [f"eventNames are case-sensitive: --event-name {right}{has}"]
    if name in (name.lower(), name.upper()) and name.isalpha():
        return ["eventNames are case-sensitive, as CloudTrail writes them (CreateCluster, ExecuteStatement)"]
    return []


def _keyed(
    query: queries.EventQuery,
    *,
    principal: str | None = None,
    actor: str | None = None,
    resource: str | None = None,
    event_name: str | None = None,
) -> queries.EventQuery:
    """A query of the same range by one key alone."""
    return queries.EventQuery(
        query.since, query.until, principal=principal, actor=actor, resource=resource, event_name=event_name
    )


def _probe(query: queries.EventQuery, run_query: queries.RunQuery, limit: int = 1) -> list[Item]:
    """The first ``limit`` items of the first Query ``query`` makes (newest first)."""
    request = {**queries.requests(query)[0], "Limit": limit}
    return list(islice(queries.events_only(run_query(request)), limit))


def _has_resource(query: queries.EventQuery, key: str, kind: str, run_query: queries.RunQuery) -> bool:
    """Whether ``key`` has events in the range: its own, or (for the kinds that have them) its children's."""
    own, parent = queries.requests(_keyed(query, resource=key))
    asked = [own, parent] if kind in PARENT_KINDS else [own]
    return any(next(queries.events_only(run_query({**request, "Limit": 1})), None) is not None for request in asked)


def _text(item: Item, name: str) -> str:
    return str(item.get(name, {}).get("S", ""))
