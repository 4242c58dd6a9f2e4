"""Liveness and readiness of the daemon, for ``/_s3d/health/live`` and ``/_s3d/health/ready``.

Live: the event loop answers (a request reaching ``live`` is the proof). Ready: listening, the
data directory writable, the journal and the cache open, and not stopping. Readiness never
follows the remote: s3d serves cached reads and accepts writes while it is down.

Owns the ``stopping`` flag (set once, by the daemon, as a stop begins: SIGTERM turns readiness
false before the listener closes) and the last result of the data-directory check, which runs
in a worker thread at most once every ``WRITABLE_EVERY`` seconds however often probes come.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger("s3d.daemon")

WRITABLE_EVERY = 5.0
"""Seconds a data-directory check is trusted before the next probe runs it again."""
PROBE_FILE = ".ready-probe"
NOT_WRITABLE = "data directory not writable"
STOPPING = "stopping"


class Health:
    """``checks``: each a name and a cheap in-memory test (``journal open``); all must hold."""

    def __init__(self, data_dir: Path, checks: Mapping[str, Callable[[], bool]]) -> None:
        self._data_dir = data_dir
        self._checks = dict(checks)
        self.stopping = False
        self._writable: tuple[float, bool] | None = None
        self._checking: asyncio.Future[bool] | None = None
        self._last_reason: str | None = None

    async def not_ready(self) -> str | None:
        """None when ready, else why not (logged when it changes, never answered: the probe
        endpoints are unauthenticated). Cancellation leaves a running check to finish."""
        reason = await self._reason()
        if reason != self._last_reason:
            if reason is None:
                log.info("ready")
            else:
                log.warning("not ready: %s", reason)
            self._last_reason = reason
        return reason

    async def _reason(self) -> str | None:
        if self.stopping:
            return STOPPING
        for name, check in self._checks.items():
            if not check():
                return name
        return None if await self._data_dir_writable() else NOT_WRITABLE

    async def _data_dir_writable(self) -> bool:
        now = time.monotonic()
        if self._writable is not None and now - self._writable[0] < WRITABLE_EVERY:
            return self._writable[1]
        if self._checking is None:
            # One check at a time: concurrent probes wait for the same answer.
            self._checking = asyncio.ensure_future(asyncio.to_thread(_try_write, self._data_dir))
        checking = self._checking
        try:
            writable = await asyncio.shield(checking)
        finally:
            if checking.done() and self._checking is checking:
                self._checking = None
        self._writable = (time.monotonic(), writable)
        return writable


def _try_write(data_dir: Path) -> bool:
    """Create, write and remove a small file: fails on a read-only or vanished directory."""
    path = data_dir / PROBE_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
        os.unlink(path)
    except OSError as error:
        log.warning("data directory %s is not writable: %s", data_dir, error)
        return False
    return True
