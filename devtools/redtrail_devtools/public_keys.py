"""``cloudtrail:ListPublicKeys`` for the local AWS, which moto does not answer: a small HTTP stand-in speaking
CloudTrail's JSON protocol, serving the keys of a file (``redtrail local --public-keys``) or a demo key pair.

The function finds it through ``AWS_ENDPOINT_URL_CLOUDTRAIL`` (boto3's per-service endpoint), so its code is the
code that runs on AWS.
"""

import base64
import binascii
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from redtrail.core.digests import fingerprint
from redtrail.core.errors import RedtrailError
from redtrail_devtools.cloudtrail_signer import SigningKey

LIST_PUBLIC_KEYS = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys"
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_CLOUDTRAIL"


class PublicKeysError(RedtrailError):
    """A public-keys file that cannot be served."""


def load_public_keys(path: Path) -> list[dict[str, Any]]:
    """A JSON list shaped like ``ListPublicKeys``' ``PublicKeyList`` (``Value`` base64, times as epoch seconds or
    ISO 8601); a one-line error naming what is wrong."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PublicKeysError(f"{path}: {error}") from None
    if not isinstance(entries, list) or not entries:
        raise PublicKeysError(f"{path}: expected a non-empty JSON list of public keys (ListPublicKeys' PublicKeyList)")
    return [_entry(entry, path, number) for number, entry in enumerate(entries)]


def _entry(entry: Any, path: Path, number: int) -> dict[str, Any]:
    where = f"{path}: key {number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("Value"), str):
        raise PublicKeysError(f"{where}: no base64 Value")
    try:
        der = base64.b64decode(entry["Value"], validate=True)
    except (binascii.Error, ValueError):
        raise PublicKeysError(f"{where}: Value is not base64") from None
    listed = entry.get("Fingerprint") or fingerprint(der)
    if listed != fingerprint(der):
        raise PublicKeysError(f"{where}: Fingerprint {listed} is not the MD5 of the key ({fingerprint(der)})")
    return {
        "Value": entry["Value"],
        "ValidityStartTime": _epoch(entry.get("ValidityStartTime"), datetime(2000, 1, 1, tzinfo=UTC), where),
        "ValidityEndTime": _epoch(entry.get("ValidityEndTime"), datetime(2100, 1, 1, tzinfo=UTC), where),
        "Fingerprint": listed,
    }


def _epoch(value: Any, default: datetime, where: str) -> float:
    if value is None:
        return default.timestamp()
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PublicKeysError(f"{where}: cannot read the time {value!r}") from None


def demo_keys(signing_key: SigningKey) -> list[dict[str, Any]]:
    """A demo key pair's public key, valid from a year ago to a year ahead."""
    now = datetime.now(UTC)
    return [signing_key.listed(now - timedelta(days=3650), now + timedelta(days=365))]


@contextmanager
def serving(keys: list[dict[str, Any]]) -> Iterator[str]:
    """Serve ``ListPublicKeys`` for ``keys`` on a free localhost port; yields the endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if self.headers.get("X-Amz-Target") != LIST_PUBLIC_KEYS:
                self._answer(400, {"__type": "UnsupportedOperation", "message": "only ListPublicKeys is served here"})
                return
            start, end = float(request.get("StartTime", 0)), float(request.get("EndTime", 4102444800))
            found = [key for key in keys if key["ValidityStartTime"] <= end and key["ValidityEndTime"] >= start]
            self._answer(200, {"PublicKeyList": found})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="public-keys")
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
