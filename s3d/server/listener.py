"""The HTTP listener: aiohttp's runner and TCP site around the application, and its stop order.

Entered, it listens and knows its URL; exited, it stops accepting first, waits for the requests
in flight (within the grace period, ``InFlight``), and only then lets aiohttp close the
connections and cut what still runs. Owns the runner and its site; exiting twice is safe.
"""

from __future__ import annotations

import logging
import ssl
from typing import Self

from aiohttp import web

from s3d.server.drain import IN_FLIGHT, InFlight

log = logging.getLogger("s3d.daemon")

LINGER = 2.0
READ_BUFFER = 1 << 20
"""Bytes aiohttp reads from a socket at once: large bodies arrive in few, large pieces."""
CUT_TIMEOUT = 2.0
"""Seconds a request still running when the grace period ends is given to unwind once cut
(aiohttp waits this long, then again as long after cancelling it; 0 would mean forever)."""


class Listener:
    """Serve ``app`` on ``host``:``port`` (0: any free port); ``endpoint_url`` once entered."""

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        shutdown_grace: float,
    ) -> None:
        self._app, self._host, self._port, self._tls = app, host, port, tls
        self._shutdown_grace = shutdown_grace
        self._runner: web.AppRunner | None = None
        self.endpoint_url = ""

    async def __aenter__(self) -> Self:
        """Listen. Raises OSError (port in use…); nothing is left open then."""
        runner = web.AppRunner(
            self._app,
            handle_signals=False,
            shutdown_timeout=CUT_TIMEOUT,
            access_log=None,
            auto_decompress=False,
            read_bufsize=READ_BUFFER,
            # After an early answer to an upload (refused, timed out) aiohttp reads and drops
            # the rest of the body before closing, so the client sees the answer rather than a
            # reset; two seconds of that is enough, ten (its default) holds clients needlessly.
            lingering_time=LINGER,
        )
        await runner.setup()
        self._runner = runner
        try:
            site = web.TCPSite(runner, self._host, self._port, ssl_context=self._tls)
            await site.start()
        except BaseException:
            await self.aclose()
            raise
        host, port = runner.addresses[0][:2]
        scheme = "https" if self._tls is not None else "http"
        self.endpoint_url = f"{scheme}://{_url_host(host)}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop accepting, drain, close. Idempotent; on cancellation aiohttp's clean-up
        still runs (it is in a ``finally``)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await _stop_serving(runner, self._app[IN_FLIGHT], self._shutdown_grace)


async def _stop_serving(runner: web.AppRunner, in_flight: InFlight, grace: float) -> None:
    # The listener first, then the requests in flight for up to the grace period, and only
    # then aiohttp's own clean-up: it closes idle connections and cuts what still runs (a
    # connection it closes stops reading, so an upload in flight could not finish there).
    try:
        for site in list(runner.sites):
            await site.stop()
        if not await in_flight.drain(grace):
            log.warning(
                "%d request(s) still in flight after %ss: cutting them", in_flight.count, grace
            )
    finally:
        await runner.cleanup()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
