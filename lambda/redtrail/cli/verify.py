"""``redtrail verify``: per chain of digests, what is proved and what is wrong; and each event's provenance."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redtrail.cli.output import JSON, as_json, escape, plural
from redtrail.contracts.integrity import Provenance
from redtrail.core.ledger import ChainEntry, DigestEntry, LogEntry, Problem
from redtrail.core.trail_keys import Namespace, parse_digest_key, parse_log_key, parse_namespace

OPEN_END = "9999-12-31T23:59:59Z"


class LedgerView(Protocol):
    """What the report reads of the ledger (``redtrail.adapters.ledger.DynamoDBLedger``)."""

    def chains(self, namespace: str | None = None) -> list[ChainEntry]: ...

    def digests(self, chain: str, since: str, until: str) -> list[DigestEntry]: ...

    def problems(self, since: str, until: str) -> list[Problem]: ...

    def logs(self, uris: list[str]) -> dict[str, LogEntry]: ...


@dataclass(frozen=True, slots=True)
class Scope:
    """The time range and, optionally, the account and region asked about."""

    since: str
    until: str
    account: str | None = None
    region: str | None = None

    def takes(self, account: str | None, region: str | None) -> bool:
        return (self.account is None or account == self.account) and (self.region is None or region == self.region)


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    account: str | None
    region: str | None
    digests_verified: int
    last_digest_end: str
    problems: int


@dataclass(frozen=True, slots=True)
class Report:
    chains: list[ChainReport]
    problems: list[Problem]

    def as_json(self) -> dict[str, Any]:
        return {
            "chains": [
                {
                    "chain": chain.chain,
                    "account": chain.account,
                    "region": chain.region,
                    "digestsVerified": chain.digests_verified,
                    "lastDigestEnd": chain.last_digest_end,
                    "problems": chain.problems,
                }
                for chain in self.chains
            ],
            "problems": [
                {
                    "code": problem.code.value,
                    "object": problem.object,
                    "detail": problem.detail,
                    "chain": problem.chain,
                    "eventID": problem.event_id,
                    "detectedAt": problem.detected_at,
                }
                for problem in self.problems
            ],
        }


def report(ledger: LedgerView, scope: Scope) -> Report:
    """Every chain in scope with its digests verified in the range, and every problem found in the range."""
    located = [(problem, _where(problem)) for problem in ledger.problems(scope.since, scope.until)]
    located = [(problem, where) for problem, where in located if scope.takes(*_account_region(where))]
    problems = [problem for problem, _ in located]
    chains = []
    for chain in ledger.chains():
        namespace = parse_namespace(chain.namespace)
        account, region = _account_region(namespace)
        if not scope.takes(account, region):
            continue
        # Digests overlapping the range: those that end in it, or after it but start before its end.
        digests = ledger.digests(chain.chain, scope.since, OPEN_END)
        verified = sum(1 for digest in digests if digest.start <= scope.until)
        count = sum(1 for problem, where in located if problem.chain == chain.chain or where == namespace)
        chains.append(ChainReport(chain.chain, account, region, verified, chain.last_end, count))
    return Report(chains, sorted(problems, key=lambda problem: (problem.detected_at, problem.code, problem.object)))


def _where(problem: Problem) -> Namespace | None:
    """The account and region (their namespace) a problem is about, from the object or the chain it names."""
    key = problem.object.removeprefix("s3://").partition("/")[2]
    for parsed in (parse_log_key(key), parse_digest_key(key)):
        if parsed is not None:
            return parsed.namespace
    for text in (problem.chain, problem.object):
        namespace = parse_namespace(text or "")
        if namespace is not None:
            return namespace
    return None


def _account_region(namespace: Namespace | None) -> tuple[str | None, str | None]:
    return (namespace.account, namespace.region) if namespace else (None, None)


def render(found: Report, fmt: str) -> str:
    """The report as JSON, or as text: a line per chain, then every problem."""
    if fmt == JSON:
        return as_json(found.as_json())
    return text(found)


def text(found: Report) -> str:
    lines = []
    if not found.chains:
        lines.append("(no chain of digest files: is log file validation on for the trail?)")
    for chain in found.chains:
        lines.append(
            f"{escape(chain.chain)}: {plural(chain.digests_verified, 'digest')} verified, "
            f"last digest ended {escape(chain.last_digest_end)}, {plural(chain.problems, 'problem')}"
        )
    if found.problems:
        lines.append("")
        lines.append(f"{plural(len(found.problems), 'problem')}:")
    for problem in found.problems:
        lines.append(f"  {escape(problem.code.value):<24} {escape(problem.object)}")
        lines.append(f"  {'':<24} {escape(problem.detail)} ({escape(problem.detected_at)})")
    if not found.problems:
        lines.append("no problems")
    return "\n".join(lines)


def provenance(rows: Sequence[Mapping[str, Any]], ledger: LedgerView) -> list[dict[str, Any]]:
    """The rows with ``provenance``: whether the file each event came from is proved by a digest."""
    sources = [str(row["sourceObject"]) for row in rows if row.get("sourceObject")]
    entries = ledger.logs(sources) if sources else {}
    return [{**row, "provenance": _provenance(entries.get(str(row.get("sourceObject", ""))))} for row in rows]


def _provenance(entry: LogEntry | None) -> str:
    return (entry.status.provenance if entry else Provenance.UNVERIFIED).value
