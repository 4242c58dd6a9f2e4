"""SigV2 verification (``Authorization: AWS id:signature`` and ``AWSAccessKeyId``/
``Signature``/``Expires`` query strings).

S3 deprecated SigV2, but boto3 still signs presigned S3 URLs with it unless told
``signature_version="s3v4"``, and older tools use it for headers too: a local endpoint that
refused it would break them. There is no payload hash in SigV2; bodies are checked against
Content-MD5 when given. Sans-IO: the clock is passed in.

A presigned URL carries the ``x-amz-*`` headers its signer saw (a session token, an ACL) as
query parameters, and its signature covers them as headers: they are read back from the query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from s3d.protocol.errors import AccessDenied, RequestTimeTooSkewed, SignatureDoesNotMatch
from s3d.protocol.model import header
from s3d.protocol.sigv4_model import MAX_SKEW, SignedRequest

# The query parameters that are part of the signed resource (botocore's HmacV1Auth list).
SIGNED_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
        "policy", "requestPayment", "torrent", "versioning", "versionId", "versions",
        "website", "uploads", "uploadId", "response-content-type",
        "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding", "delete", "lifecycle",
        "tagging", "restore", "storageClass", "notification", "replication", "analytics",
        "metrics", "inventory", "select", "select-type", "object-lock",
    }
)  # fmt: skip


_V2_SIGNATURE = re.compile(r"(?:^|&)Signature=")


@dataclass(frozen=True, slots=True)
class V2Authorization:
    access_key_id: str
    signature: str
    presigned: bool
    expires: int | None = None


def parse_v2(req: SignedRequest) -> V2Authorization | None:
    """The SigV2 claim of ``req``, or None when it does not use SigV2."""
    value = header(req.headers, "authorization")
    if value is not None and value.startswith("AWS "):
        key_id, _, signature = value[4:].strip().rpartition(":")
        if not key_id or not signature:
            raise AccessDenied("The authorization header is malformed.")
        return V2Authorization(key_id, signature, presigned=False)
    if "AWSAccessKeyId" not in req.raw_query and not _V2_SIGNATURE.search(req.raw_query):
        return None  # the common case, SigV4 or anonymous: no need to decode the query
    params = _query(req.raw_query)
    if "AWSAccessKeyId" not in params and "Signature" not in params:
        return None
    try:
        return V2Authorization(
            params["AWSAccessKeyId"], params["Signature"], True, int(params["Expires"])
        )
    except (KeyError, ValueError):
        raise AccessDenied(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters"
        ) from None


def _query(raw_query: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in raw_query.split("&") if part)
    return {unquote(name): unquote(value) for name, _, value in pairs}


_ISO8601 = "%Y-%m-%dT%H:%M:%SZ"


def check_time_v2(req: SignedRequest, auth: V2Authorization, now: datetime) -> None:
    """Presigned: refuse after Expires. Header: refuse a Date/x-amz-date over 15 minutes off.

    ``now`` is aware, or naive UTC. Raises AccessDenied, RequestTimeTooSkewed."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    if auth.presigned:
        assert auth.expires is not None
        if now.timestamp() > auth.expires:
            raise AccessDenied(
                "Request has expired",
                Expires=datetime.fromtimestamp(auth.expires, UTC).strftime(_ISO8601),
                ServerTime=now.strftime(_ISO8601),
            )
        return
    raw = header(req.headers, "x-amz-date") or header(req.headers, "date")
    try:
        when = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        raise AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    if abs(now - when) > MAX_SKEW:
        raise RequestTimeTooSkewed(
            RequestTime=raw or "",
            ServerTime=now.strftime(_ISO8601),
            MaxAllowedSkewMilliseconds=str(int(MAX_SKEW.total_seconds() * 1000)),
        )


def string_to_sign_v2(
    req: SignedRequest,
    auth: V2Authorization,
    bucket: str | None,
    virtual_host: bool,
    path: str | None = None,
) -> str:
    """SigV2's StringToSign. The resource is the path as sent (or ``path``), prefixed with
    ``/bucket`` for virtual-hosted requests, plus the signed sub-resources sorted."""
    lines = [req.method.upper(), header(req.headers, "content-md5") or ""]
    lines.append(header(req.headers, "content-type") or "")
    if auth.presigned:
        lines.append(str(auth.expires))
    else:
        lines.append("" if header(req.headers, "x-amz-date") else header(req.headers, "date") or "")
    amz: dict[str, list[str]] = {}
    for name, value in req.headers:
        if name.startswith("x-amz-"):
            amz.setdefault(name, []).append(value.strip())
    if auth.presigned:
        hoisted: dict[str, list[str]] = {}
        for name, value in _hoisted(req.raw_query):
            hoisted.setdefault(name, []).append(value.strip())
        amz = hoisted | amz  # a header sent as a header wins over its query copy
    lines += [f"{name}:{','.join(values)}" for name, values in sorted(amz.items())]
    resource = (f"/{bucket}" if virtual_host and bucket else "") + (path or req.raw_path)
    pairs = (p.partition("=") for p in req.raw_query.split("&") if p)
    # Sorted by name only, stably, as botocore sorts them; "acl" and "acl=" are signed as sent.
    sub = sorted(((n, e, v) for n, e, v in pairs if n in SIGNED_SUBRESOURCES), key=lambda p: p[0])
    if sub:
        resource += "?" + "&".join(f"{n}{e}{unquote(v)}" for n, e, v in sub)
    lines.append(resource)
    return "\n".join(lines)


def _hoisted(raw_query: str) -> list[tuple[str, str]]:
    """The x-amz-* headers a presigner moved into the query, decoded, in order."""
    pairs = (part.partition("=") for part in raw_query.split("&") if part)
    decoded = ((unquote(name).lower(), unquote(value)) for name, _, value in pairs)
    return [(name, value) for name, value in decoded if name.startswith("x-amz-")]


def verify_v2(
    req: SignedRequest, auth: V2Authorization, secret: str, bucket: str | None, virtual_host: bool
) -> None:
    """Raise SignatureDoesNotMatch unless ``auth.signature`` signs the request with ``secret``.

    A path-style request for a bucket alone (``/bucket``) is also accepted signed as
    ``/bucket/``: botocore signs it so (its ``authPath``), and S3 accepts both."""
    to_sign = string_to_sign_v2(req, auth, bucket, virtual_host)
    provided = auth.signature.encode("utf-8", "surrogateescape")
    if _signs(secret, to_sign, provided):
        return
    bare_bucket = not virtual_host and bucket and req.raw_path == f"/{bucket}"
    if bare_bucket and _signs(
        secret, string_to_sign_v2(req, auth, bucket, False, f"/{bucket}/"), provided
    ):
        return
    raise SignatureDoesNotMatch(
        AWSAccessKeyId=auth.access_key_id,
        StringToSign=to_sign,
        SignatureProvided=auth.signature,
    )


def _signs(secret: str, to_sign: str, provided: bytes) -> bool:
    # Header bytes that are not UTF-8 arrive as surrogate escapes: sign the bytes sent.
    mac = hmac.new(secret.encode(), to_sign.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return hmac.compare_digest(base64.b64encode(mac.digest()), provided)
