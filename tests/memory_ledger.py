"""An in-memory ``Ledger`` for tests of the pure core (the DynamoDB one is held to the same contract)."""

from dataclasses import replace

from redtrail.core.ledger import ChainEntry, DigestEntry, LogEntry, LogStatus, Problem


class MemoryLedger:
    def __init__(self) -> None:
        self.log_entries: dict[str, LogEntry] = {}
        self.digest_entries: dict[str, DigestEntry] = {}
        self.chain_entries: dict[str, ChainEntry] = {}
        self.namespace_names: set[str] = set()
        self.recorded: dict[str, Problem] = {}

    def note_seen(self, uri: str, namespace: str, sha256: str, delivered_at: str) -> LogEntry:
        entry = self.log_entries.get(uri) or LogEntry(uri, namespace, LogStatus.PENDING)
        entry = replace(entry, namespace=namespace, seen_sha256=sha256, delivered_at=delivered_at)
        self.log_entries[uri] = entry
        return entry

    def note_listed(self, uri: str, namespace: str, sha256: str, digest_uri: str, listed_at: str) -> LogEntry:
        entry = self.log_entries.get(uri) or LogEntry(uri, namespace, LogStatus.EXPECTED)
        entry = replace(entry, namespace=namespace, listed_sha256=sha256, listed_by=digest_uri, listed_at=listed_at)
        self.log_entries[uri] = entry
        return entry

    def settle(self, entry: LogEntry, status: LogStatus) -> None:
        self.log_entries[entry.uri] = replace(self.log_entries[entry.uri], status=status)

    def unsettled(self, namespace: str, since: str, until: str) -> list[LogEntry]:
        found = []
        for entry in self.log_entries.values():
            time = entry.delivered_at if entry.status is LogStatus.PENDING else entry.listed_at
            if entry.namespace == namespace and not entry.status.settled and time and since <= time <= until + "~":
                found.append(entry)
        return sorted(found, key=lambda entry: (entry.delivered_at or entry.listed_at or "", entry.uri))

    def log(self, uri: str) -> LogEntry | None:
        return self.log_entries.get(uri)

    def note_digest(self, entry: DigestEntry) -> DigestEntry:
        known = self.digest_entries.get(entry.uri)
        expected = (
            {"expected_sha256": known.expected_sha256, "expected_signature": known.expected_signature}
            | {"expected_by": known.expected_by}
            if known
            else {}
        )
        merged = replace(entry, **expected)
        self.digest_entries[entry.uri] = merged
        return merged

    def expect_previous(self, entry: DigestEntry) -> DigestEntry:
        known = self.digest_entries.get(entry.uri) or DigestEntry(entry.uri, entry.chain, "", "")
        merged = replace(
            known,
            expected_sha256=entry.expected_sha256,
            expected_signature=entry.expected_signature,
            expected_by=entry.expected_by,
        )
        self.digest_entries[entry.uri] = merged
        return merged

    def digests(self, chain: str, since: str, until: str) -> list[DigestEntry]:
        found = [
            entry
            for entry in self.digest_entries.values()
            if entry.chain == chain and entry.sha256 and since <= entry.end <= until + "~"
        ]
        return sorted(found, key=lambda entry: entry.end)

    def note_chain(self, chain: ChainEntry) -> None:
        known = self.chain_entries.get(chain.chain)
        if known is None or known.last_end < chain.last_end:
            self.chain_entries[chain.chain] = chain

    def chains(self, namespace: str | None = None) -> list[ChainEntry]:
        return [
            chain
            for name, chain in sorted(self.chain_entries.items())
            if namespace is None or name.startswith(f"{namespace}/")
        ]

    def namespaces(self) -> list[str]:
        return sorted(self.namespace_names)

    def note_namespace(self, namespace: str) -> None:
        self.namespace_names.add(namespace)

    def record(self, problem: Problem) -> bool:
        if problem.key in self.recorded:
            return False
        self.recorded[problem.key] = problem
        return True

    def problems(self, since: str, until: str) -> list[Problem]:
        return [problem for problem in self.recorded.values() if since <= problem.detected_at <= until + "~"]

    def logs(self, uris: list[str]) -> dict[str, LogEntry]:
        return {uri: self.log_entries[uri] for uri in uris if uri in self.log_entries}
