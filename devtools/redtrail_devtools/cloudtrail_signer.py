"""CloudTrail's delivery, played locally: log files and signed, chained digest files, named as CloudTrail names
them, for ``make demo``, the local AWS's ``ListPublicKeys`` and the tests.

Signed as CloudTrail signs (RSA PKCS#1 v1.5, SHA-256, over ``digestEndTime``, ``bucket/key``, the SHA-256 of the
uncompressed digest and the previous digest's signature), with a key pair made here.
"""

import base64
import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from redtrail.core.digests import SIGNATURE_ALGORITHM, fingerprint

KEY_TIME = "%Y%m%dT%H%M%SZ"
JSON_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class SigningKey:
    """An RSA key pair standing in for CloudTrail's regional signing key."""

    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    @property
    def der(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.der)

    def sign(self, text: bytes) -> str:
        return self.private.sign(text, padding.PKCS1v15(), hashes.SHA256()).hex()

    def listed(self, valid_from: datetime, valid_to: datetime) -> dict[str, Any]:
        """This key as ``ListPublicKeys`` lists it (``Value`` base64, as in the API's JSON)."""
        return {
            "Value": base64.b64encode(self.der).decode(),
            "ValidityStartTime": valid_from.timestamp(),
            "ValidityEndTime": valid_to.timestamp(),
            "Fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Delivered:
    """One object as CloudTrail delivers it: key, gzip body, uncompressed text, user metadata."""

    key: str
    body: bytes
    text: bytes
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text).hexdigest()


@dataclass
class TrailWriter:
    """Writes one chain's files: an account's log files of one region, and the trail's digests of them."""

    bucket: str
    account: str
    signing_key: SigningKey
    region: str = "us-east-1"
    trail: str = "redtrail"
    org: str | None = None
    prefix: str = ""
    previous: Delivered | None = None

    def _folder(self, kind: str, moment: datetime) -> str:
        prefix = f"{self.prefix.strip('/')}/" if self.prefix else ""
        org = f"{self.org}/" if self.org else ""
        return f"{prefix}AWSLogs/{org}{self.account}/{kind}/{self.region}/{moment:%Y/%m/%d}/"

    def log_file(self, records: Sequence[Any], delivered: datetime, unique: str = "0123456789abcdef") -> Delivered:
        name = f"{self.account}_CloudTrail_{self.region}_{delivered:%Y%m%dT%H%M}Z_{unique}.json.gz"
        text = json.dumps({"Records": list(records)}, separators=(",", ":")).encode()
        return Delivered(self._folder("CloudTrail", delivered) + name, gzip.compress(text, mtime=0), text)

    def digest(self, start: datetime, end: datetime, logs: Sequence[Delivered], *, restart: bool = False) -> Delivered:
        """The digest of ``logs`` for ``[start, end]``, linked to the previous one (unless ``restart``)."""
        stamp = end.strftime(KEY_TIME)
        name = f"{self.account}_CloudTrail-Digest_{self.region}_{self.trail}_{self.region}_{stamp}.json.gz"
        key = self._folder("CloudTrail-Digest", end) + name
        previous = None if restart else self.previous
        document = {
            "awsAccountId": self.account,
            "digestStartTime": start.strftime(JSON_TIME),
            "digestEndTime": end.strftime(JSON_TIME),
            "digestS3Bucket": self.bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": self.signing_key.fingerprint,
            "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
            "newestEventTime": None,
            "oldestEventTime": None,
            "previousDigestS3Bucket": self.bucket if previous else None,
            "previousDigestS3Object": previous.key if previous else None,
            "previousDigestHashValue": previous.sha256 if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous.metadata["signature"] if previous else None,
            "logFiles": [
                {"s3Bucket": self.bucket, "s3Object": log.key, "hashValue": log.sha256, "hashAlgorithm": "SHA-256"}
                for log in logs
            ],
        }
        text = json.dumps(document, separators=(",", ":")).encode()
        previous_signature = previous.metadata["signature"] if previous else "null"
        sha256 = hashlib.sha256(text).hexdigest()
        signed = f"{document['digestEndTime']}\n{self.bucket}/{key}\n{sha256}\n{previous_signature}"
        metadata = {"signature": self.signing_key.sign(signed.encode()), "signature-algorithm": SIGNATURE_ALGORITHM}
        delivered = Delivered(key, gzip.compress(text, mtime=0), text, metadata)
        self.previous = delivered
        return delivered


def hours(start: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """``count`` consecutive hourly digest windows from ``start``."""
    start = start.astimezone(UTC)
    return [(start + timedelta(hours=n), start + timedelta(hours=n + 1)) for n in range(count)]
