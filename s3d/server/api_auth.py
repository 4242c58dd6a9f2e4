"""Who calls s3d's HTTP APIs (DRS, snapshots): the schemes a curl user or a DRS client has.

A SigV4 or SigV2 signature with a local key, exactly as on the S3 side; HTTP Basic with a
local key id and its secret; a bearer token from a tokens file; or nothing, where anonymous
reads are configured. Missing or unknown credentials are 401, a signature that does not
match is 403 (as S3 answers it). Secrets are compared in constant time and never echoed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from aiohttp import web

from s3d.protocol.errors import S3Error
from s3d.protocol.routing import Target
from s3d.protocol.sigv4 import SignedRequest
from s3d.server.auth import Authenticator
from s3d.server.handler import request_headers

BEARER = "bearer"
"""The principal a bearer token authenticates as (the token itself is never named)."""


class ApiAuthError(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


def authenticate(
    request: web.Request,
    authenticator: Authenticator,
    keys: Mapping[str, str],
    bearer_tokens: frozenset[str],
) -> str | None:
    """The caller's local key id, ``BEARER`` for a bearer token, None for anonymous access.
    Raises ApiAuthError (401, 403)."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        token = credentials.strip()
        if any(hmac.compare_digest(token, known) for known in bearer_tokens):
            return BEARER
        raise ApiAuthError(401, "the bearer token is not one s3d accepts")
    if scheme.lower() == "basic":
        return _basic(credentials.strip(), keys)
    raw_path, _, raw_query = request.raw_path.partition("?")
    signed = SignedRequest(request.method, raw_path, raw_query, request_headers(request))
    try:
        principal = authenticator.authenticate(signed, Target(None, None))
    except S3Error as error:
        if not authorization and "X-Amz-Signature" not in raw_query:
            raise ApiAuthError(401, "authentication required") from None
        raise ApiAuthError(403 if error.status == 403 else 401, error.message) from None
    return None if principal.name == "anonymous" else principal.name


def _basic(credentials: str, keys: Mapping[str, str]) -> str:
    try:
        key_id, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiAuthError(401, "malformed Basic credentials") from None
    known = keys.get(key_id)
    if known is None or not hmac.compare_digest(known, secret):
        raise ApiAuthError(401, "unknown access key id or wrong secret")
    return key_id


def challenge(bearer_tokens: frozenset[str]) -> str:
    """``WWW-Authenticate`` of a 401: the schemes a client may use."""
    schemes = ['Basic realm="s3d"']
    if bearer_tokens:
        schemes.append('Bearer realm="s3d"')
    return ", ".join(schemes)
