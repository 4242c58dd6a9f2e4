"""The HTTP listener: aiohttp's runner and TCP site around the application, and its stop order.

Entered, it listens (through ``AcceptingSite``, which keeps accepting under overload) and
knows its URL; exited, it stops accepting first, waits for the requests in flight (within the
grace period, ``InFlight``), and only then lets aiohttp close the connections and cut what
still runs. Owns the runner and its site; exiting twice is safe.
"""

from __future__ import annotations

import logging
import ssl
from typing import Self

from aiohttp import web

from s3d.server.accept import AcceptingSite
from s3d.server.connection import EdgeLimits
from s3d.server.drain import IN_FLIGHT, InFlight
from s3d.server.overload import fit_open_file_limit

log = logging.getLogger("s3d.daemon")

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
        limits: EdgeLimits,
    ) -> None:
        self._app, self._host, self._port, self._tls = app, host, port, tls
        self._shutdown_grace = shutdown_grace
        self._limits = limits
        self._runner: web.AppRunner | None = None
        self.endpoint_url = ""

    async def __aenter__(self) -> Self:
        """Listen. Raises OSError (port in use…); nothing is left open then."""
        # The connections' own options (buffer size, lingering, timeouts) are Connection's.
        runner = web.AppRunner(self._app, handle_signals=False, shutdown_timeout=CUT_TIMEOUT)
        await runner.setup()
        self._runner = runner
        fit_open_file_limit(self._limits.max_connections)
        site = AcceptingSite(
            runner, self._host, self._port, limits=self._limits, ssl_context=self._tls
        )
        try:
            await site.start()
        except BaseException:
            await self.aclose()
            raise
        host, port = site.addresses[0][:2]
        scheme = "https" if self._tls is not None else "http"
        self.endpoint_url = f"{scheme}://{_url_host(host)}:{port}"
        return self

    @property
    def listening(self) -> bool:
        """Entered and not yet closing."""
        return self._runner is not None

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
