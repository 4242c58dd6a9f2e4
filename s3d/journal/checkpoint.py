"""WAL checkpoints of the journal, off the acknowledgement path.

SQLite checkpoints a WAL database from the connection that commits, right after the commit
that crossed ``wal_autocheckpoint`` pages: copying the WAL into the database file and fsyncing
it there delays every acknowledgement of that batch (small bodies make the WAL grow fast). The
journal's connection turns that off (``wal_autocheckpoint=0``) and this task checkpoints from
a connection of its own, in a worker thread, at most every ``CHECKPOINT_EVERY`` seconds after
something was committed. A ``PASSIVE`` checkpoint never blocks the writer; once one has copied
everything, the next commit starts the WAL again from its beginning, overwriting it in place.

Owns the task and a count of commits since the last checkpoint. A crash at any moment is
SQLite's business (a WAL and a checkpoint are crash-safe); a checkpoint that fails is logged
and tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger("s3d.journal")

CHECKPOINT_EVERY = 1.0
"""Seconds between checkpoints while commits go on (the WAL grows at most by what is
committed in that time)."""
PRAGMAS = ("wal_autocheckpoint=0",)
"""For the journal's own connection: no checkpoint in the commit."""


class Checkpointer:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._committed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="s3d-journal-checkpoint")

    def committed(self) -> None:
        """A transaction committed: a checkpoint is due within ``CHECKPOINT_EVERY``."""
        self._committed.set()

    async def aclose(self) -> None:
        """Stop; a checkpoint under way finishes in its thread. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await self._committed.wait()
            await asyncio.sleep(CHECKPOINT_EVERY)
            self._committed.clear()
            try:
                await asyncio.shield(asyncio.to_thread(_checkpoint, self._path))
            except (OSError, sqlite3.Error) as exc:
                log.warning("journal checkpoint failed (tried again later): %s", exc)


def _checkpoint(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        connection.close()
