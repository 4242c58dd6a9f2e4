"""SigV4 verification, S3 flavour: the Authorization header and presigned URLs.

Sans-IO, like the rest of ``s3d.protocol``: the caller hands in the request as it arrived
(a ``SignedRequest``), the secret of the access key it names and the current time. The steps,
in the order the server adapter runs them:

1. ``parse_authorization`` — what the request claims (None: anonymous);
2. ``check_time`` — the clock skew (header) or the expiry window (presigned);
3. ``verify`` — every x-amz-* header signed, then the signature itself; returns the
   ``SigningContext`` that aws-chunked bodies (``s3d.protocol.chunked``) chain from.

Whether the body matches x-amz-content-sha256 is checked later, once the body has been read.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from s3d.protocol.errors import AccessDenied, RequestTimeTooSkewed, SignatureDoesNotMatch
from s3d.protocol.sigv4_canonical import canonical_request
from s3d.protocol.sigv4_model import (
    ALGORITHM,
    EMPTY_SHA256,
    MAX_EXPIRES,
    MAX_SKEW,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
    Authorization,
    Scope,
    SignedRequest,
    SigningContext,
)
from s3d.protocol.sigv4_parse import parse_authorization

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_EXPIRES",
    "MAX_SKEW",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "UNSIGNED_PAYLOAD",
    "Authorization",
    "Scope",
    "SignedRequest",
    "SigningContext",
    "canonical_request",
    "check_time",
    "derive_signing_key",
    "hmac_hex",
    "parse_authorization",
    "string_to_sign",
    "verify",
]

_ISO8601 = "%Y-%m-%dT%H:%M:%SZ"


def check_time(auth: Authorization, now: datetime) -> None:
    """Refuse a request signed too far from ``now`` (aware; naive is taken as UTC).

    Header auth: more than 15 minutes either way -> RequestTimeTooSkewed. Presigned: past
    X-Amz-Date + X-Amz-Expires -> AccessDenied "Request has expired"; X-Amz-Date more than
    15 minutes ahead -> AccessDenied "Request is not valid yet".
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    # The server time is formatted only for an error: strftime was 5% of a warm hit's CPU.
    if not auth.presigned:
        if abs(now - auth.timestamp) > MAX_SKEW:
            raise RequestTimeTooSkewed(
                RequestTime=auth.amz_date,
                ServerTime=now.strftime(_ISO8601),
                MaxAllowedSkewMilliseconds=str(int(MAX_SKEW.total_seconds() * 1000)),
            )
        return
    if auth.timestamp - now > MAX_SKEW:
        raise AccessDenied("Request is not valid yet")
    expires = auth.expires or 0
    deadline = auth.timestamp + timedelta(seconds=expires)
    if now > deadline:
        expired = AccessDenied("Request has expired")
        # Element names with hyphens cannot be keyword arguments.
        expired.details.update(
            {
                "X-Amz-Expires": str(expires),
                "Expires": deadline.strftime(_ISO8601),
                "ServerTime": now.strftime(_ISO8601),
            }
        )
        raise expired


def verify(req: SignedRequest, auth: Authorization, secret_access_key: str) -> SigningContext:
    """Check ``auth``'s signature over ``req`` with the secret of its access key.

    Raises AccessDenied (HeadersNotSigned) when host or an x-amz-* header present is not
    signed, SignatureDoesNotMatch (with the canonical request and string to sign S3 would
    show, never the secret) when the signature is wrong. Returns the context that signed
    aws-chunked bodies chain their chunk signatures from.
    """
    _check_signed_headers(req, auth)
    key = derive_signing_key(secret_access_key, auth.scope)
    canonical = canonical_request(req, auth)
    to_sign = string_to_sign(auth, canonical)
    if not _matches(key, to_sign, auth.signature) and not _matches_plus_as_space(req, auth, key):
        raise SignatureDoesNotMatch(
            AWSAccessKeyId=auth.scope.access_key_id,
            StringToSign=to_sign,
            SignatureProvided=auth.signature,
            CanonicalRequest=canonical,
        )
    return SigningContext(
        key=key, scope=auth.scope, amz_date=auth.amz_date, seed_signature=auth.signature
    )


def _matches_plus_as_space(req: SignedRequest, auth: Authorization, key: bytes) -> bool:
    # S3 accepts a bare "+" in the query both as a literal plus (what SigV4 says) and as a
    # space: some presigners sign "%20" but put "+" in the URL they hand out.
    if "+" not in req.raw_query:
        return False
    canonical = canonical_request(req, auth, plus_as_space=True)
    return _matches(key, string_to_sign(auth, canonical), auth.signature)


def _matches(key: bytes, to_sign: str, provided: str) -> bool:
    return hmac.compare_digest(hmac_hex(key, to_sign).encode(), provided.encode())


def _check_signed_headers(req: SignedRequest, auth: Authorization) -> None:
    signed = {name.lower() for name in auth.signed_headers}
    unsigned = [] if "host" in signed else ["host"]
    for name, _ in req.headers:
        if name.startswith("x-amz-") and name not in signed and name not in unsigned:
            unsigned.append(name)
    if unsigned:
        raise AccessDenied(
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(unsigned),
        )


def string_to_sign(auth: Authorization, canonical: str) -> str:
    """``AWS4-HMAC-SHA256``, the request time, the scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join((ALGORITHM, auth.amz_date, str(auth.scope), digest))


def derive_signing_key(secret_access_key: str, scope: Scope) -> bytes:
    """The day-, region- and service-bound key: HMAC chain from ``"AWS4" + secret``."""
    return _signing_key(secret_access_key, scope.date, scope.region, scope.service)


@functools.lru_cache(maxsize=256)
def _signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    # The same key signs every request of a client for a day: derive it once.
    key = ("AWS4" + secret_access_key).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def hmac_hex(key: bytes, message: str) -> str:
    """The lower-case hex HMAC-SHA256 of ``message``: a SigV4 signature."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()
