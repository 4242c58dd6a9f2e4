"""The operators' endpoints: ``/_s3d/health/live``, ``/_s3d/health/ready``, ``/_s3d/metrics``.

Unlike the admin commands they are not SigV4-signed, so that a kubelet or a Prometheus can
reach them: the health endpoints answer anyone, with nothing but a status (``ok``, ``ready``,
``not ready``: the reason is logged, not told); the metrics ask a bearer token when
``metrics.bearer_token_file`` is set, and are open otherwise. They are claimed as the admin
endpoint claims its paths (path style only: under a virtual-hosted Host the path is a key),
answer GET and HEAD, and go through the app's middleware (request id, access log, errors).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from s3d.protocol.errors import MethodNotAllowed, S3Error
from s3d.server.admin import claims_path
from s3d.server.handler import REQUEST_INFO, request_headers
from s3d.server.health import Health

LIVE = "/_s3d/health/live"
READY = "/_s3d/health/ready"
METRICS = "/_s3d/metrics"
_ACTIONS = {LIVE: "s3d:GetLiveness", READY: "s3d:GetReadiness", METRICS: "s3d:GetMetrics"}

Scrape = Callable[[], Awaitable[tuple[bytes, str]]]
"""The metrics text and its content type."""


class MetricsUnauthorized(S3Error):
    code = "AccessDenied"
    status = 401
    default_message = "The metrics ask for a bearer token s3d accepts."


class Probes:
    """Answers the health endpoints, and the metrics when ``scrape`` is given."""

    def __init__(
        self,
        health: Health,
        scrape: Scrape | None,
        tokens: frozenset[str],
        base_domains: tuple[str, ...],
    ) -> None:
        self._health = health
        self._scrape = scrape
        self._tokens = tokens
        self._base_domains = base_domains
        self._paths = {LIVE, READY} | ({METRICS} if scrape is not None else set())

    def claims(self, request: web.Request) -> bool:
        """Whether ``request`` is for one of the endpoints answered here."""
        path = request.raw_path.partition("?")[0]
        if path not in self._paths:
            return False
        return claims_path(path, path, request_headers(request), self._base_domains)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        """The endpoint's answer. Raises MethodNotAllowed and MetricsUnauthorized."""
        path = request.raw_path.partition("?")[0]
        request[REQUEST_INFO].action = _ACTIONS[path]
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(Method=request.method, headers={"Allow": "GET, HEAD"})
        if path == LIVE:
            return _text(200, "ok")
        if path == READY:
            reason = await self._health.not_ready()
            return _text(200, "ready") if reason is None else _text(503, "not ready")
        self._authorize(request)
        assert self._scrape is not None
        body, content_type = await self._scrape()
        response = web.Response(body=body, headers={"Cache-Control": "no-store"})
        response.headers["Content-Type"] = content_type
        return response

    def _authorize(self, request: web.Request) -> None:
        if not self._tokens:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and any(
            hmac.compare_digest(token.encode(), known.encode()) for known in self._tokens
        ):
            request[REQUEST_INFO].principal = "bearer"
            return
        raise MetricsUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="s3d metrics"'})


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers={"Cache-Control": "no-store"})
