"""CloudTrail: the public keys that sign digest files (``ListPublicKeys``, in the digest's region)."""

import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from redtrail.adapters.aws_calls import error_code
from redtrail.core.digests import fingerprint
from redtrail.core.errors import AccessDeniedError, RedtrailError

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient


CACHED_WINDOWS = 32  # a redelivered digest asks for the same window again


class PublicKeyError(RedtrailError):
    """CloudTrail's public keys could not be listed (the digest is retried, not judged)."""


class CloudTrailPublicKeys:
    """``redtrail.core.integrity.PublicKeys``: fingerprint → DER key, per region, cached per window."""

    def __init__(self, client_for: "Callable[[str], CloudTrailClient] | None" = None) -> None:
        self._client_for = client_for or (lambda region: boto3.client("cloudtrail", region_name=region))
        self._clients: dict[str, CloudTrailClient] = {}
        self._cache: dict[tuple[str, datetime, datetime], Mapping[str, bytes]] = {}

    def __call__(self, region: str, start: datetime, end: datetime) -> Mapping[str, bytes]:
        window = (region, start, end)
        if window not in self._cache:
            if len(self._cache) >= CACHED_WINDOWS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[window] = self._list(region, start, end)
        return self._cache[window]

    def _list(self, region: str, start: datetime, end: datetime) -> Mapping[str, bytes]:
        client = self._clients.get(region) or self._clients.setdefault(region, self._client_for(region))
        keys: dict[str, bytes] = {}
        token = ""
        try:
            while True:
                if token:
                    response = client.list_public_keys(StartTime=start, EndTime=end, NextToken=token)
                else:
                    response = client.list_public_keys(StartTime=start, EndTime=end)
                for key in response.get("PublicKeyList", []):
                    value = key.get("Value", b"")
                    der = base64.b64decode(value) if isinstance(value, str) else bytes(value)
                    # The fingerprint CloudTrail names, and ours of the bytes, must agree.
                    if der and key.get("Fingerprint", "").lower() == fingerprint(der):
                        keys[fingerprint(der)] = der
                token = response.get("NextToken", "")
                if not token:
                    return keys
        except ClientError as error:
            code = error_code(error)
            if code in {"AccessDeniedException", "AccessDenied"}:
                raise AccessDeniedError(f"cloudtrail:ListPublicKeys in {region}: {code}") from error
            raise PublicKeyError(f"cloudtrail:ListPublicKeys in {region}: {code or error}") from error
        except BotoCoreError as error:
            raise PublicKeyError(f"cloudtrail:ListPublicKeys in {region}: {error}") from error
