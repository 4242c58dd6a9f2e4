"""The listening sockets and their accept loops: an aiohttp site that keeps accepting under
overload.

asyncio's own accept loop (``loop.create_server``) logs a traceback for every failed
``accept()`` once the process is out of file descriptors, and on Python 3.11 keeps going round
its backlog after the first one: a daemon at its open-file limit wrote tens of thousands of
tracebacks a second. Here, as trio's server loop does, running out of descriptors or memory
(EMFILE, ENFILE, ENOBUFS, ENOMEM) is overload: it is logged once per episode, accepting pauses
for ``BACKOFF`` and resumes, and the connections already open are served throughout. An error
of one incoming connection (ECONNABORTED, EPROTO, EPERM) drops that connection. Any other
error is logged with its traceback, once per episode, and retried the same way: the daemon
never stops accepting without saying so.

Owns the listening sockets, one accept task per socket and the tasks opening accepted
connections (TLS handshakes). Invariant: once ``stop()`` returns, no socket it opened is
listening and none of its tasks runs.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from s3d.server.connection import Connection, EdgeLimits
from s3d.server.overload import OVERLOAD

log = logging.getLogger("s3d.server")

DROPPED = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
BACKOFF = 0.1
"""Seconds accepting pauses after a failed accept()."""


class AcceptingSite(web.BaseSite):
    """Listen on ``host``:``port`` (every address the name resolves to) and hand each accepted
    connection to a ``Connection`` with ``limits``; TLS when ``ssl_context`` is given."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        limits: EdgeLimits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port = host, port
        self._limits = limits
        self._sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._factory: Callable[[], Connection] | None = None

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    @property
    def addresses(self) -> list[Any]:
        """The bound addresses, as ``getsockname()`` gives them (the real port for port 0)."""
        return [sock.getsockname() for sock in self._sockets]

    async def start(self) -> None:
        """Bind and listen, then accept in the background. Raises OSError when an address
        cannot be bound (nothing is left open then)."""
        await super().start()
        server = self._runner.server
        assert server is not None  # BaseSite checked it
        self._factory = functools.partial(
            Connection, server, loop=asyncio.get_running_loop(), limits=self._limits
        )
        self._sockets = await _bind(self._host, self._port, self._backlog)
        for sock in self._sockets:
            self._spawn(self._accept_loop(sock))

    async def stop(self) -> None:
        """Stop accepting and close the listening sockets; connections already open stay (the
        runner's clean-up closes them). Cancellation propagates after the sockets close."""
        try:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            for sock in self._sockets:
                sock.close()
            self._sockets = []
            await super().stop()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        failing = False
        while True:
            try:
                conn, _ = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno in DROPPED:
                    continue
                if not failing:
                    self._report(exc)
                failing = True
                await asyncio.sleep(BACKOFF)
                continue
            if failing:
                log.warning("accepting connections again (%d open)", self._open_connections())
                failing = False
            self._spawn(self._open(loop, conn))

    def _report(self, exc: OSError) -> None:
        if exc.errno in OVERLOAD:
            log.warning(
                "cannot accept connections: %s (%d open); retrying every %ss until resources "
                "free up (raise the open-file limit, LimitNOFILE, or lower "
                "server.max_connections)",
                exc.strerror,
                self._open_connections(),
                BACKOFF,
            )
        else:
            log.error("accepting a connection failed; retrying", exc_info=exc)

    def _open_connections(self) -> int:
        server = self._runner.server
        return len(server.connections) if server is not None else 0

    async def _open(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        factory = self._factory
        assert factory is not None  # set by start()
        try:
            if self._ssl_context is None:
                await loop.connect_accepted_socket(factory, conn)
            else:
                # The handshake counts as part of the request head's time.
                await loop.connect_accepted_socket(
                    factory,
                    conn,
                    ssl=self._ssl_context,
                    ssl_handshake_timeout=self._limits.header_timeout,
                )
        except (OSError, TimeoutError) as exc:  # the client left, or its TLS handshake failed
            log.debug("dropped an incoming connection: %s", exc)
            conn.close()


async def _bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for every address ``host`` resolves to, as ``loop.create_server``
    makes them (SO_REUSEADDR; IPv6 sockets IPv6 only, so v4 and v6 can share a port)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:  # worded as asyncio words it: which address, and why
                reason = (exc.strerror or str(exc)).lower()
                raise OSError(
                    exc.errno, f"error while attempting to bind on address {address!r}: {reason}"
                ) from None
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
