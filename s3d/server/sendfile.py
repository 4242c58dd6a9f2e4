"""Answers whose bytes are already on local disk: sent with sendfile.

The kernel copies from the cache's data file to the socket (``loop.sendfile``); over TLS, where
that cannot be done, asyncio falls back to reading the file in a worker thread. The file is
released (closed, evictable again) however the send ends.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from s3d.protocol.model import Headers, LocalFile

log = logging.getLogger("s3d.server")

BODY_SENT = web.ResponseKey("s3d.body_sent", int)
"""Bytes of body this response sent: what the access log reports."""
CLIENT_GONE = web.ResponseKey("s3d.client_gone", bool)
"""Set on a response whose client closed the connection before it was all sent."""


def client_gone(request: web.Request) -> bool:
    """Whether the client has closed its connection (or it is closing)."""
    transport = request.transport
    return transport is None or transport.is_closing()


def without_length(headers: Headers) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name != "content-length"]


async def send_local(
    request: web.Request, status: int, headers: Headers, local: LocalFile
) -> web.StreamResponse:
    """Send ``local`` as the body of a ``status`` answer. Cancellation and a client that
    goes away end the send; the file is released either way."""
    try:
        response = web.StreamResponse(status=status, headers=without_length(headers))
        response.content_length = local.length
        response[BODY_SENT] = 0
        await response.prepare(request)
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        loop = asyncio.get_running_loop()
        await loop.sendfile(transport, local.file, local.offset, local.length)
        response[BODY_SENT] = local.length
        await response.write_eof()
        return response
    finally:
        local.release()
