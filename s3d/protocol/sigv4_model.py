"""The values SigV4 verification works on: the request as it arrived, and what its
authentication says. Shared by ``sigv4_parse``, ``sigv4_canonical``, ``sigv4`` and ``chunked``;
import them from ``s3d.protocol.sigv4``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from s3d.protocol.model import Headers

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 604800
"""The longest a presigned URL may live: one week, in seconds."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an incoming HTTP request that its signature covers, as on the wire."""

    method: str
    raw_path: str
    """The request target's path exactly as received, still percent-encoded, no query."""
    raw_query: str
    """The query exactly as received, without the '?'."""
    headers: Headers
    """Lower-case names, arrival order, duplicates possible."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The credential scope: whose key, and for which day, region and service."""

    access_key_id: str
    date: str
    region: str
    service: str

    def __str__(self) -> str:
        """The scope line of a string to sign: ``date/region/service/aws4_request``."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a request's SigV4 authentication (header or presigned query) claims."""

    presigned: bool
    scope: Scope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    """The request time as signed (``20130524T000000Z``); derived from ``Date`` if that
    header was used instead of ``x-amz-date``."""
    timestamp: datetime
    """``amz_date`` parsed, timezone-aware UTC."""
    expires: int | None
    """Presigned URLs only: X-Amz-Expires, in seconds."""
    payload_hash: str
    """The x-amz-content-sha256 value signed (a hex digest, UNSIGNED-PAYLOAD, STREAMING-*)."""


@dataclass(frozen=True, slots=True)
class SigningContext:
    """What the aws-chunked decoder needs to check chunk signatures after the seed."""

    key: bytes
    scope: Scope
    amz_date: str
    seed_signature: str

    def __repr__(self) -> str:
        # The signing key is as good as the secret for a day: keep it out of logs.
        return f"SigningContext(scope={self.scope!r}, amz_date={self.amz_date!r})"
