"""One client connection: aiohttp's request handler with the edge's limits.

aiohttp reads and parses requests; what it leaves open is closed here:

- **Request head timeout.** Once the first byte of a request head arrives, the whole head must
  arrive within ``header_timeout`` or the connection is closed: a client trickling a byte now
  and then (slowloris) cannot hold a connection. aiohttp's own keep-alive timer runs from the
  previous answer and is not moved by bytes that arrive, so it is cancelled while a head
  arrives (it would cut a head begun just before it fires) and aiohttp restarts it after the
  answer.
- **Idle timeout.** That keep-alive timer, set to ``idle_timeout``, closes a connection that
  waits that long for its next (or first) request.
- **Connection limit.** A connection opened while ``max_connections`` are open is marked
  ``over_limit``: its request is answered 503 SlowDown (``s3d/server/overload.py``) and it is
  closed; it waits for that request no longer than ``header_timeout``.
- **Errors in the request head** (oversize lines, too many headers, a bad Content-Length, a
  malformed request line) are answered with S3 error XML and a request id, as S3 does, where
  aiohttp writes plain text; and logged in one line, not with a traceback.

This reaches into ``RequestHandler`` internals (``_messages``, ``_waiter``,
``_keepalive_handle``, ``_keepalive_timeout``, ``_request_count``), as aiohttp 3.13-3.14's
``web_protocol.py`` has them; ``tests/server/test_edge.py`` exercises each use over real sockets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from s3d.protocol.errors import BadRequest, InternalError, RequestHeaderSectionTooLarge, S3Error
from s3d.server.respond import error_response, new_request_id, stamp_ids

log = logging.getLogger("s3d.server")

LINGER = 2.0
"""After an early answer to an upload (refused, timed out) aiohttp reads and drops the rest of
the body before closing, so the client sees the answer rather than a reset; two seconds of that
is enough, ten (its default) holds clients needlessly."""
READ_BUFFER = 1 << 20
"""Bytes aiohttp reads from a socket at once: large bodies arrive in few, large pieces."""
PARSE_ERROR = "An error occurred when parsing the HTTP request."


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    header_timeout: float = 20.0
    idle_timeout: float = 60.0
    max_connections: int = 1000


class Connection(RequestHandler):
    """aiohttp's ``RequestHandler`` with the limits above; one per accepted connection."""

    def __init__(self, manager: web.Server, *, limits: EdgeLimits, **options: Any) -> None:
        super().__init__(
            manager,
            keepalive_timeout=limits.idle_timeout,
            # s3d writes its own access log (app.py); aiohttp's code takes None for "none",
            # its annotation does not.
            access_log=None,  # type: ignore[arg-type]
            auto_decompress=False,
            read_bufsize=READ_BUFFER,
            lingering_time=LINGER,
            **options,
        )
        self._limits = limits
        self._head_timer: asyncio.TimerHandle | None = None
        self.over_limit = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        manager = self._manager
        if manager is not None and len(manager.connections) >= self._limits.max_connections:
            self.over_limit = True
            # Its one answer is a refusal: it is not kept waiting for as long as a client.
            self._keepalive_timeout = min(self._keepalive_timeout, self._limits.header_timeout)
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        beginning = bool(data) and self._head_timer is None and self._awaiting_request()
        super().data_received(data)
        if self._messages:  # a whole head (or a parse error) is in: the usual case
            self._stop_head_timer()
        elif beginning:
            self._start_head_timer()

    def _awaiting_request(self) -> bool:
        # Bytes begin a request head when nothing is queued and the handler waits for the next
        # request (or has seen none yet); while a request is handled, they are its body.
        return not self._messages and (self._waiter is not None or self._request_count == 0)

    def _start_head_timer(self) -> None:
        if self._keepalive_handle is not None:
            self._keepalive_handle.cancel()
            self._keepalive_handle = None
        timeout = self._limits.header_timeout
        self._head_timer = self._loop.call_later(timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        log.debug(
            "closing a connection from %s: no whole request head within %ss",
            self.peername,
            self._limits.header_timeout,
        )
        self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """S3 error XML for a request aiohttp could not parse (or, should one escape the app's
        middleware, a handler's failure); the connection is closed after it. Raises
        ConnectionError when part of a response is sent already, as aiohttp does."""
        error = _head_error(exc) if status == 400 else InternalError()
        request_id = new_request_id()
        if status == 400:
            # Not aiohttp's message: it quotes the offending line, which may be a credential.
            log.info(
                "refused an unparsable request from %s: %s, %s (request %s)",
                request.remote,
                error.error_code,
                type(exc).__name__,
                request_id,
            )
        else:
            log.error("unhandled error (request %s)", request_id, exc_info=exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the response has begun: no error document can follow")
        response = error_response(error, request_id, head=False, resource=None)
        stamp_ids(response, request_id)
        response.force_close()
        return response


def _head_error(exc: BaseException | None) -> S3Error:
    # aiohttp's C and Python parsers both say "Too many headers" in the message; it has no
    # class of its own.
    if isinstance(exc, LineTooLong) or (
        isinstance(exc, BadHttpMessage) and "too many headers" in exc.message.lower()
    ):
        return RequestHeaderSectionTooLarge()
    return BadRequest(PARSE_ERROR)
