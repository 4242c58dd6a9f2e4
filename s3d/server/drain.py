"""Requests in flight, counted so that a graceful stop can wait for them itself.

aiohttp's own drain (``AppRunner.cleanup``) first marks every connection closing, and a closing
connection drops the bytes that still arrive: an upload in flight would stall until it is cut.
So the daemon stops the listener, waits here until no request is in flight (or the grace period
ends), and only then lets aiohttp close the connections. Once stopping, every response closes
its connection, so a keep-alive client cannot keep the daemon busy with new requests.

Owns a count of the requests being handled; invariant: the idle event is set exactly when the
count is zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def track(self) -> Iterator[None]:
        """Count one request for as long as the block runs."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """From now on responses close their connections; wait up to ``seconds`` for the
        requests in flight to finish. True when none is left. Cancellation propagates."""
        self.stopping = True
        # Requests whose headers arrived just before the listener closed start being
        # handled on the next turn of the loop: let them be counted first.
        await asyncio.sleep(0)
        try:
            async with asyncio.timeout(seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


IN_FLIGHT = web.AppKey("s3d.in_flight", InFlight)
