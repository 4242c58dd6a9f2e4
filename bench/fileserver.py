"""The ceiling: a bare aiohttp server answering ``GET /<bucket>/<key>`` with ``FileResponse``.

Run as ``python -m bench.fileserver ROOT``; prints ``serving at http://127.0.0.1:PORT`` once
listening and serves files under ROOT until SIGTERM or SIGINT. No authentication and the query
string is ignored, so the same presigned-URL shape works against it. This is what serving bytes
from local disk costs in Python on this machine (sendfile where the platform has it), which is
the most an aiohttp cache can hope for.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiohttp import web

BANNER = "serving at "


def build_app(root: Path) -> web.Application:
    async def get(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["path"].split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise web.HTTPNotFound()
        # FileResponse opens and stats the file off the event loop, and answers 404 if missing.
        return web.FileResponse(root.joinpath(*parts))

    app = web.Application()
    app.router.add_get("/{path:.+}", get)
    return app


async def serve(root: Path) -> None:
    runner = web.AppRunner(build_app(root), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"{BANNER}http://{host}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.fileserver ROOT", file=sys.stderr)
        return 2
    asyncio.run(serve(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
