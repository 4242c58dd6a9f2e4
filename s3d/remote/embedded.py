"""``EmbeddedRemote``: moto's S3 server as the remote, for laptops, demos and tests.

Owns one ``ThreadedMotoServer`` on 127.0.0.1 and a free port, serving from its own thread;
its buckets live in this process's memory and vanish when it stops. Moto accepts any
credentials. Starting and stopping run in a worker thread, never on the event loop. moto is
imported only when one starts: a daemon with a real remote does not carry its ~60,000 objects
(every full garbage collection would walk them). It is an optional dependency (the
``embedded`` extra): without it, starting one raises ``EmbeddedRemoteMissing`` saying what to
install.
"""

from __future__ import annotations

import asyncio
from typing import Any, Self

from s3d.settings import ConfigError


class EmbeddedRemoteMissing(ConfigError):
    """No remote is configured and moto, the embedded one, is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "no remote is configured (--remote URL), and the embedded remote used instead "
            "needs moto, which is not installed: install it with "
            "`pip install 's3d[embedded]'` (`make run` does), or give --remote"
        )


class EmbeddedRemote:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: Any = None
        self.endpoint_url = ""

    async def __aenter__(self) -> Self:
        """Start the server and wait until it listens. Cancellation stops it again. Raises
        EmbeddedRemoteMissing when moto is not installed."""
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise EmbeddedRemoteMissing() from None

        server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        self._server = server
        starting = asyncio.ensure_future(asyncio.to_thread(server.start))
        try:
            await asyncio.shield(starting)
        except BaseException:
            # The start goes on in its thread: let it finish, then stop what it started.
            await asyncio.wait([starting])
            await self.aclose()
            raise
        host, port = server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop serving and release the port. Idempotent; shielded from cancellation."""
        server, self._server = self._server, None
        if server is not None:
            await asyncio.shield(asyncio.to_thread(_stop, server))


def _stop(server: Any) -> None:
    if getattr(server, "_thread", None) is None:
        return
    server.stop()
    # ThreadedMotoServer.stop ends serve_forever but leaves the socket listening, which would
    # queue connections nobody answers; close it so the port refuses them.
    listener = getattr(server, "_server", None)
    if listener is not None:
        listener.server_close()
