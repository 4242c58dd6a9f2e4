"""The aiohttp application: one catch-all route, request ids, error rendering, access log.

The route hands each request to the S3 handler, or to the probes (health, metrics:
``s3d/server/probes.py``), the admin handler (``s3d/server/admin.py``) or the DRS API for the
paths they claim; all go through the same middleware.

Every response carries ``x-amz-request-id`` and ``x-amz-id-2``. ``S3Error`` becomes S3 error
XML here; any other exception is logged with its traceback and answered ``500 InternalError``
(the daemon keeps serving). A client that closes its connection before the answer is sent is
no error of s3d's: one INFO line, and status 499 in the access log (nginx's "client closed
request"). One access-log line per request: method, path and query (authentication
parameters left out: a presigned URL's signature and credential), the S3 operation, status,
bytes, duration, request id, principal — never a header value, so never a secret. Beside it,
the request observer (metrics) is told the operation, status, duration and bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol
from urllib.parse import unquote

from aiohttp import web

from s3d.protocol.errors import InternalError, S3Error
from s3d.protocol.routing import is_auth_parameter
from s3d.server.admin import AdminHandler
from s3d.server.drain import IN_FLIGHT, InFlight
from s3d.server.drs import DrsApi
from s3d.server.handler import REQUEST_INFO, RequestInfo, S3Handler
from s3d.server.overload import check_admitted, overload_error, refused_connection
from s3d.server.probes import Probes
from s3d.server.respond import error_response, new_request_id, stamp_ids
from s3d.server.sendfile import BODY_SENT, CLIENT_GONE, client_gone
from s3d.server.spans import finish_request_span, request_span

log = logging.getLogger("s3d.server")
access_log = logging.getLogger("s3d.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Api(Protocol):
    """An HTTP API of s3d's own beside S3 (the snapshots'): answers the requests it claims."""

    def claims(self, request: web.Request) -> bool: ...

    async def __call__(self, request: web.Request) -> web.StreamResponse: ...


RequestObserver = Callable[[str, int, float, int, int], None]
"""Told of every answered request: action, status, seconds, bytes received, bytes sent."""


def _unobserved(action: str, status: int, seconds: float, received: int, sent: int) -> None:
    pass


OBSERVE: web.AppKey[RequestObserver] = web.AppKey("s3d.observe")


@web.middleware
async def s3_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    info = RequestInfo(request_id=new_request_id())
    request[REQUEST_INFO] = info
    started = time.perf_counter()
    response: web.StreamResponse | None = None
    with request.app[IN_FLIGHT].track(), request_span(request) as span:
        try:
            response = await _answer(request, handler, info)
            return response
        finally:
            _log_access(request, info, response, time.perf_counter() - started)
            finish_request_span(span, info, response)


async def _answer(request: web.Request, handler: Handler, info: RequestInfo) -> web.StreamResponse:
    try:
        check_admitted(request)
        response = await handler(request)
    except S3Error as error:
        response = error_response(
            error, info.request_id, head=request.method == "HEAD", resource=request.path
        )
    except web.HTTPException:
        raise
    except ConnectionError as exc:
        if not client_gone(request):
            raise
        log.info(
            "client closed the connection during %s %s (request %s): %s",
            request.method, request.path, info.request_id, exc,
        )  # fmt: skip
        info.client_closed = True
        # Nothing can be sent any more: aiohttp's attempt to send this fails quietly.
        return web.Response(status=CLIENT_CLOSED)
    except Exception as exc:
        response = error_response(
            _unexpected(request, info, exc),
            info.request_id,
            head=request.method == "HEAD",
            resource=request.path,
        )
    if not response.prepared and request.body_exists and not request.content.is_eof():
        # Answered before the body was read (refused, timed out): close rather than let aiohttp
        # read and discard the rest of an upload nobody will use, as S3 closes.
        response.force_close()
    if not response.prepared:
        stamp_ids(response, info.request_id)
    return response


CLIENT_CLOSED = 499
"""The access log's status of a request whose client went away before its answer."""


def _unexpected(request: web.Request, info: RequestInfo, exc: Exception) -> S3Error:
    overload = overload_error(exc)
    if overload is not None:
        # Out of files or memory: one line, no traceback (under overload there are many).
        log.warning(
            "out of resources on %s %s (request %s): %s",
            request.method,
            request.path,
            info.request_id,
            exc,
        )
        return overload
    log.exception(
        "internal error on %s %s (request %s)", request.method, request.path, info.request_id
    )
    return InternalError()


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    if request.app[IN_FLIGHT].stopping or refused_connection(request):
        # No further request on this connection: the daemon is stopping, or the connection
        # is one too many. (The header is set by hand: aiohttp has already derived its own
        # from keep-alive when this hook runs.)
        response.force_close()
        response.headers["Connection"] = "close"
    # Streamed responses are prepared inside the handler: stamp them here as well.
    info = request.get(REQUEST_INFO)
    if info is not None:
        stamp_ids(response, info.request_id)


def _log_access(
    request: web.Request, info: RequestInfo, response: web.StreamResponse | None, seconds: float
) -> None:
    status = response.status if response is not None else CLIENT_CLOSED
    if info.client_closed or (response is not None and response.get(CLIENT_GONE)):
        status = CLIENT_CLOSED
    sent = _body_bytes(response)
    received = request.content_length or 0
    request.app[OBSERVE](info.action, status, seconds, received, sent)
    if not access_log.isEnabledFor(logging.INFO):
        return  # the line and its fields are not built for nobody (a warm hit's cost)
    # The raw path and query: percent-encoding keeps odd keys on one line. Presigned query
    # strings carry credentials: those parameters are left out.
    path, _, raw_query = request.raw_path.partition("?")
    query = logged_query(raw_query)
    access_log.info(
        "%s %s%s %s %s %d %.1fms %s %s",
        request.method,
        path,
        f"?{query}" if query else "",
        info.action,
        status,
        sent,
        seconds * 1000,
        info.request_id,
        info.principal,
        extra={
            "method": request.method,
            "path": path,
            "query": query,
            "status": status,
            "bytes": sent,
            "duration_ms": round(seconds * 1000, 3),
            "request_id": info.request_id,
            "principal": info.principal,
            "action": info.action,
            "received": received,
        },
    )


def logged_query(raw_query: str) -> str:
    """The query as sent, without its authentication parameters (``X-Amz-Signature``,
    ``X-Amz-Credential``, ``X-Amz-Security-Token``…)."""
    kept = [
        part
        for part in raw_query.split("&")
        if part and not is_auth_parameter(unquote(part.partition("=")[0]))
    ]
    return "&".join(kept)


def _body_bytes(response: web.StreamResponse | None) -> int:
    """Body bytes sent, as S3's access log counts them: no status line, no headers. (A
    response returned here is logged before aiohttp sends it: its body_length is still 0.)"""
    if response is None:
        return 0
    if BODY_SENT in response:
        return response[BODY_SENT]
    body = response.body if isinstance(response, web.Response) else None
    return len(body) if isinstance(body, bytes | bytearray) else 0


def build_app(
    handler: S3Handler,
    admin: AdminHandler | None = None,
    drs: DrsApi | None = None,
    *,
    probes: Probes | None = None,
    observe: RequestObserver | None = None,
    apis: Sequence[Api] = (),
) -> web.Application:
    """The application: every request goes to ``handler``, or to ``probes``, ``admin`` or
    ``drs`` when they claim it (``/_s3d/…``, ``/ga4gh/drs/v1/…``, path style), through the
    same middleware: request ids, errors, access log, and ``observe``."""
    app = web.Application(middlewares=[s3_middleware], client_max_size=MAX_CLIENT_BODY)
    app.router.add_route(
        "*",
        "/{tail:.*}",
        _dispatch(handler, admin, drs, probes, apis),
        expect_handler=handler.expect,
    )
    app.on_response_prepare.append(_on_prepare)
    app[IN_FLIGHT] = InFlight()
    app[OBSERVE] = observe or _unobserved
    return app


def _dispatch(
    handler: S3Handler,
    admin: AdminHandler | None,
    drs: DrsApi | None,
    probes: Probes | None,
    apis: Sequence[Api] = (),
) -> Handler:
    if admin is None and drs is None and probes is None and not apis:
        return handler.__call__

    async def dispatch(request: web.Request) -> web.StreamResponse:
        if probes is not None and probes.claims(request):
            return await probes(request)
        for api in apis:  # before the admin handler, which claims the rest of /_s3d/
            if api.claims(request):
                return await api(request)
        if admin is not None and admin.claims(request):
            return await admin(request)
        if drs is not None and drs.claims(request):
            return await drs(request)
        return await handler(request)

    return dispatch


MAX_CLIENT_BODY = 5 * 1024**3
