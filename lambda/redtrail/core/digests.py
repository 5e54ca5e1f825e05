"""CloudTrail digest files: what one says, what CloudTrail signed, and whether the signature holds. Pure.

As the AWS CLI's validator (``awscli/customizations/cloudtrail/validation.py``) checks them: the signature is the
object's user metadata ``signature`` (hex), RSA PKCS#1 v1.5 with SHA-256 over ``digestEndTime`` ``\\n``
``digestS3Bucket/digestS3Object`` ``\\n`` hex SHA-256 of the uncompressed digest ``\\n`` the previous digest's
signature (``null`` in a chain's first digest); the key is the one ``ListPublicKeys`` returns for the digest's
``digestPublicKeyFingerprint`` (the hex MD5 of its DER bytes). Unlike the CLI, the link to the previous digest
is checked too: its SHA-256 and its signature must be what the next digest says they are.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_METADATA = "signature"
ALGORITHM_METADATA = "signature-algorithm"
SIGNATURE_ALGORITHM = "SHA256withRSA"
KEY_WINDOW_HOURS = 2  # ListPublicKeys must reach past digestEndTime: keys rotate


class DigestFormatError(ValueError):
    """A file in a digest folder that is not a digest CloudTrail could have written."""


@dataclass(frozen=True, slots=True)
class ListedLog:
    """One log file a digest lists, with the SHA-256 of its uncompressed bytes."""

    bucket: str
    key: str
    sha256: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class Digest:
    """The fields of a digest that validation reads, and the SHA-256 of its uncompressed bytes."""

    start: str
    end: str
    bucket: str
    key: str
    fingerprint: str
    previous_bucket: str | None
    previous_key: str | None
    previous_sha256: str | None
    previous_signature: str | None
    logs: tuple[ListedLog, ...]
    sha256: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def previous_uri(self) -> str | None:
        return (
            f"s3://{self.previous_bucket}/{self.previous_key}" if self.previous_bucket and self.previous_key else None
        )

    def signed_text(self) -> bytes:
        """What CloudTrail signed (the ``previousDigestSignature`` of a chain's first digest reads ``null``)."""
        previous = self.previous_signature if self.previous_signature is not None else "null"
        return f"{self.end}\n{self.bucket}/{self.key}\n{self.sha256}\n{previous}".encode()


def parse_digest(text: bytes) -> Digest:
    """A digest from its uncompressed bytes (hashed exactly as stored); DigestFormatError when it is none."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise DigestFormatError(f"not JSON: {str(error)[:200]}") from error
    if not isinstance(document, dict):
        raise DigestFormatError("not a JSON object")
    listed = document.get("logFiles")
    if not isinstance(listed, list):
        raise DigestFormatError("no logFiles list")
    return Digest(
        start=_required(document, "digestStartTime"),
        end=_required(document, "digestEndTime"),
        bucket=_required(document, "digestS3Bucket"),
        key=_required(document, "digestS3Object"),
        fingerprint=_required(document, "digestPublicKeyFingerprint"),
        previous_bucket=_optional(document, "previousDigestS3Bucket"),
        previous_key=_optional(document, "previousDigestS3Object"),
        previous_sha256=_optional(document, "previousDigestHashValue"),
        previous_signature=_optional(document, "previousDigestSignature"),
        logs=tuple(_listed(entry) for entry in listed),
        sha256=hashlib.sha256(text).hexdigest(),
    )


def _required(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise DigestFormatError(f"no {name}")
    return value


def _optional(document: Mapping[str, Any], name: str) -> str | None:
    if name not in document:
        raise DigestFormatError(f"no {name}")  # present, null in a chain's first digest
    value = document[name]
    if value is not None and not isinstance(value, str):
        raise DigestFormatError(f"{name} is not a string")
    return value or None


def _listed(entry: object) -> ListedLog:
    if not isinstance(entry, dict):
        raise DigestFormatError("a logFiles entry is not an object")
    return ListedLog(_required(entry, "s3Bucket"), _required(entry, "s3Object"), _required(entry, "hashValue").lower())


def fingerprint(public_key_der: bytes) -> str:
    """CloudTrail's fingerprint of a public key: the hex MD5 of its DER bytes."""
    return hashlib.md5(public_key_der, usedforsecurity=False).hexdigest()


def signature_holds(digest: Digest, signature_hex: str, public_key_der: bytes) -> bool:
    """Whether ``signature_hex`` is CloudTrail's RSA PKCS#1 v1.5 SHA-256 signature of the digest under the key."""
    # Imported here: only digests need it, once an hour per chain; the Powertools layer ships cryptography.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        signature = bytes.fromhex(signature_hex)
        key = load_der_public_key(public_key_der)  # PKCS#1 RSAPublicKey or SubjectPublicKeyInfo
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, digest.signed_text(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
