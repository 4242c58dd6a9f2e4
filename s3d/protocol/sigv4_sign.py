"""SigV4 signing for s3d's own clients (``s3d status``…): the Authorization header.

Built from the verifier's own pieces (``canonical_request``, ``string_to_sign``,
``derive_signing_key``), so that what s3d signs and what s3d checks cannot drift apart. The
headers signed are those botocore signs: every header given except the hop-by-hop and tracing
ones below, plus ``host``; the result is the one botocore's ``S3SigV4Auth`` computes for the same
request. Pure: the caller passes the time and sends the request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

from s3d.protocol.sigv4 import (
    ALGORITHM,
    Authorization,
    Scope,
    SignedRequest,
    canonical_request,
    derive_signing_key,
    hmac_hex,
    string_to_sign,
)
from s3d.protocol.sigv4_fields import AMZ_DATE_FORMAT

UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
"""Headers left out of the signature, as botocore leaves them out: a proxy or the HTTP client
may change them on the way."""
_COMPUTED = frozenset({"x-amz-date", "x-amz-content-sha256"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_hash: str,
    access_key_id: str,
    secret: str,
    region: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that authenticate ``method url`` with ``headers``, to send along with them:
    ``X-Amz-Date``, ``X-Amz-Content-SHA256`` and ``Authorization``.

    ``url`` is as it will be sent (path and query already percent-encoded; an empty path is
    sent, and signed, as ``/``). ``host`` is signed
    from ``headers`` when given there, else from the URL in lower case without the scheme's
    default port, as http.client sends it. ``payload_hash`` is the body's hex SHA-256 (the
    empty body's for a GET) or ``UNSIGNED-PAYLOAD``. ``now`` is aware, or naive UTC.
    """
    amz_date = _utc(now).strftime(AMZ_DATE_FORMAT)
    signed = _signed_headers(url, headers)
    signed.update({"x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    names = tuple(sorted(signed))
    scope = Scope(access_key_id, amz_date[:8], region, "s3")
    claim = _claim(scope, names, now, payload_hash)
    parts = urlsplit(url)
    request = SignedRequest(method.upper(), parts.path or "/", parts.query, tuple(signed.items()))
    to_sign = string_to_sign(claim, canonical_request(request, claim))
    signature = hmac_hex(derive_signing_key(secret, scope), to_sign)
    return {
        "X-Amz-Date": amz_date,
        "X-Amz-Content-SHA256": payload_hash,
        "Authorization": f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}",
    }


def presign_url(
    method: str,
    url: str,
    access_key_id: str,
    secret: str,
    region: str,
    now: datetime,
    expires: int,
) -> str:
    """``url`` with a SigV4 presigned query (signing only ``host``, payload unsigned), valid
    for ``expires`` seconds from ``now``: what ``generate_presigned_url`` gives with SigV4.
    ``url`` is as it will be sent (path percent-encoded); a query it has is kept and signed."""
    amz_date = _utc(now).strftime(AMZ_DATE_FORMAT)
    scope = Scope(access_key_id, amz_date[:8], region, "s3")
    params = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
    parts = urlsplit(url)
    added = "&".join(f"{name}={quote(value, safe='-_.~')}" for name, value in params.items())
    query = f"{parts.query}&{added}" if parts.query else added
    claim = dataclasses.replace(
        _claim(scope, ("host",), now, UNSIGNED_PAYLOAD), presigned=True, expires=expires
    )
    request = SignedRequest(method.upper(), parts.path or "/", query, (("host", _host(url)),))
    to_sign = string_to_sign(claim, canonical_request(request, claim))
    signature = hmac_hex(derive_signing_key(secret, scope), to_sign)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path or "/", f"{query}&X-Amz-Signature={signature}", "")
    )


UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _claim(scope: Scope, names: tuple[str, ...], now: datetime, payload_hash: str) -> Authorization:
    """What the Authorization header will claim, as the verifier reads it back."""
    return Authorization(
        presigned=False,
        scope=scope,
        signed_headers=names,
        signature="",  # being computed; neither the canonical request nor the scope holds it
        amz_date=_utc(now).strftime(AMZ_DATE_FORMAT),
        timestamp=_utc(now),
        expires=None,
        payload_hash=payload_hash,
    )


def _signed_headers(url: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The given headers to sign, by lower-case name, with ``host`` from the URL if absent."""
    signed = {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() not in UNSIGNED_HEADERS and name.lower() not in _COMPUTED
    }
    signed.setdefault("host", _host(url))
    return signed


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
