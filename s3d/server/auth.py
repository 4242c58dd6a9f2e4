"""Who is asking: SigV4 verification against s3d's local access keys.

Holds the configured keys (id -> secret) and the anonymous-access setting. A request with no
authentication is served only when anonymous access is configured, and then only reads when
it is ``read``. With ``remote``, an unsigned S3 request is the ``UNSIGNED`` principal: it is
forwarded unsigned, so the remote's ACLs and policies decide (s3d's own APIs, which have no
remote behind them, refuse it). The remote is never reached with a client's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from s3d.protocol import sigv2, sigv4
from s3d.protocol.errors import AccessDenied, InvalidAccessKeyId
from s3d.protocol.routing import Target
from s3d.settings import AnonymousAccess

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: an access key id or "anonymous", and what its signature covers."""

    name: str
    authorization: sigv4.Authorization | None = None
    signing: sigv4.SigningContext | None = None
    unsigned: bool = False
    """An unsigned request to forward unsigned to the remote (``anonymous = "remote"``)."""

    @property
    def payload_hash(self) -> str | None:
        return self.authorization.payload_hash if self.authorization else None


ANONYMOUS = Principal("anonymous")
UNSIGNED = Principal("anonymous", unsigned=True)


class Authenticator:
    def __init__(self, keys: Mapping[str, str], anonymous: AnonymousAccess) -> None:
        self._keys = dict(keys)
        self._anonymous = anonymous

    def authenticate(
        self,
        req: sigv4.SignedRequest,
        target: Target,
        now: datetime | None = None,
        *,
        forwarding: bool = False,
    ) -> Principal:
        """The verified principal of ``req`` (SigV4, or SigV2 for older clients). An unsigned
        request is ``UNSIGNED`` when ``forwarding`` (the S3 API) and anonymous access is
        ``remote``.

        Raises AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed
        and the malformed-authorization errors of ``sigv4.parse_authorization``.
        """
        now = now or datetime.now(UTC)
        v2 = sigv2.parse_v2(req)
        if v2 is not None:
            sigv2.check_time_v2(req, v2, now)
            secret = self.secret(v2.access_key_id)
            sigv2.verify_v2(req, v2, secret, target.bucket, target.virtual_host)
            return Principal(v2.access_key_id)
        auth = sigv4.parse_authorization(req)
        if auth is None:
            return self._anonymous_principal(req.method, forwarding)
        secret = self.secret(auth.scope.access_key_id)
        sigv4.check_time(auth, now)
        signing = sigv4.verify(req, auth, secret)
        return Principal(auth.scope.access_key_id, auth, signing)

    def secret(self, access_key_id: str) -> str:
        """The secret of a local key. Raises InvalidAccessKeyId."""
        secret = self._keys.get(access_key_id)
        if secret is None:
            raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
        return secret

    def _anonymous_principal(self, method: str, forwarding: bool) -> Principal:
        if self._anonymous == "remote" and forwarding:
            return UNSIGNED
        if self._anonymous == "read-write":
            return ANONYMOUS
        if self._anonymous == "read" and method in READ_METHODS:
            return ANONYMOUS
        raise AccessDenied()
