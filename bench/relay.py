"""A delaying TCP relay: the remote made far away, for the write-back benchmark.

Run as ``python -m bench.relay UPSTREAM_PORT DELAY_MS``; prints ``relaying at
http://127.0.0.1:PORT control at http://127.0.0.1:PORT`` once listening, and relays until
SIGTERM or SIGINT. Each accepted connection opens one to ``127.0.0.1:UPSTREAM_PORT``.

Theory of operation. The relay is a link with a one-way latency of half the delay and no
bandwidth limit: every chunk read from one side is written to the other ``DELAY/2`` after it
arrived, in order, so a request and its answer cost ``DELAY`` more than without the relay,
whatever HTTP does on top. Opening a connection is not delayed: moto closes its connection
after every answer, so a delayed handshake would charge each request twice, unlike a remote
that keeps connections alive. At most ``WINDOW`` bytes wait per direction (then the relay
stops reading that side, and TCP pushes back), which caps a stream at ``WINDOW / (DELAY/2)``.

The control port (plain HTTP) answers ``POST /hold`` (bytes towards the upstream stop being
delivered: the remote looks stalled, connections still open), ``POST /release`` (they flow
again, the held ones at once) and ``GET /stats`` (as JSON: connections accepted, closed and open,
bytes each way, and ``busy_seconds``, the connection-seconds so far).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import sys

from aiohttp import web

BANNER = "relaying at "
CONTROL = " control at "
CHUNK = 256 << 10
WINDOW = 16 << 20


class Link:
    """One direction of one connection: chunks in arrival order, each with the loop time at
    which it is due on the far side; ``b""`` is the end of the stream."""

    def __init__(self, one_way: float) -> None:
        self._one_way = one_way
        self._chunks: collections.deque[tuple[float, bytes]] = collections.deque()
        self._queued = 0
        self._changed = asyncio.Event()

    async def carry(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while self._queued > WINDOW:
                self._changed.clear()
                await self._changed.wait()
            data = await reader.read(CHUNK)
            self._chunks.append((loop.time() + self._one_way, data))
            self._queued += len(data)
            self._changed.set()
            if not data:
                return

    async def deliver(self, writer: asyncio.StreamWriter, gate: asyncio.Event) -> int:
        """Write each chunk when due (and the gate is open); the bytes written."""
        loop = asyncio.get_running_loop()
        written = 0
        while True:
            while not self._chunks:
                self._changed.clear()
                await self._changed.wait()
            due, data = self._chunks.popleft()
            self._queued -= len(data)
            self._changed.set()
            await gate.wait()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return written
            writer.write(data)
            await writer.drain()
            written += len(data)


class Relay:
    """Owns the gate and the counters; every connection is served by ``serve``."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.one_way = delay / 2
        self.gate = asyncio.Event()
        self.gate.set()
        self.stats = {"connections": 0, "closed": 0, "bytes_up": 0, "bytes_down": 0, "open": 0}
        self._busy = 0.0
        self._since = asyncio.get_running_loop().time()

    def busy_seconds(self) -> float:
        """Connection-seconds so far: the integral over time of the connections open. Its
        change over a window, divided by the window, is the mean number open in it."""
        now = asyncio.get_running_loop().time()
        self._busy += self.stats["open"] * (now - self._since)
        self._since = now
        return self._busy

    def _opened(self, change: int) -> None:
        self.busy_seconds()
        self.stats["open"] += change
        if change < 0:
            self.stats["closed"] -= change

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        self._opened(1)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            self._opened(-1)
            return
        always = asyncio.Event()
        always.set()
        up, down = Link(self.one_way), Link(self.one_way)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(up.carry(reader))
                group.create_task(down.carry(up_reader))
                sent = group.create_task(up.deliver(up_writer, self.gate))
                received = group.create_task(down.deliver(writer, always))
            self.stats["bytes_up"] += sent.result()
            self.stats["bytes_down"] += received.result()
        except* (ConnectionError, OSError):
            pass  # either side went away: close both
        finally:
            self._opened(-1)
            for side in (writer, up_writer):
                side.close()

    def control_app(self) -> web.Application:
        async def hold(request: web.Request) -> web.Response:
            self.gate.clear()
            return web.json_response({"held": True})

        async def release(request: web.Request) -> web.Response:
            self.gate.set()
            return web.json_response({"held": False})

        async def stats(request: web.Request) -> web.Response:
            held = not self.gate.is_set()
            return web.json_response(
                {**self.stats, "busy_seconds": self.busy_seconds(), "held": held}
            )

        app = web.Application()
        app.router.add_post("/hold", hold)
        app.router.add_post("/release", release)
        app.router.add_get("/stats", stats)
        return app


async def run(upstream_port: int, delay: float) -> None:
    relay = Relay(upstream_port, delay)
    server = await asyncio.start_server(relay.serve, "127.0.0.1", 0)
    runner = web.AppRunner(relay.control_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = server.sockets[0].getsockname()[1]
        control = runner.addresses[0][1]
        print(f"{BANNER}http://127.0.0.1:{port}{CONTROL}http://127.0.0.1:{control}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        server.close()
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.relay UPSTREAM_PORT DELAY_MS", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(int(argv[0]), float(argv[1]) / 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
