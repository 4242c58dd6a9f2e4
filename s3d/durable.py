"""Making a rename or a new file survive a crash: the fsync of a directory.

A file written, fsynced and renamed into place is durable only once its directory is fsynced
too (the rename is an entry of the directory). Every store that moves files into place (the
staging area, the cache's data files, the journal's files) does it here. ``fsync_dir`` blocks:
call it from a worker thread (``asyncio.to_thread``), never on the event loop;
``SharedDirSync`` shares one such fsync between concurrent writers.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s directory entries (renames, creations, removals) to disk. Raises
    OSError (the directory is gone, the disk failed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SharedDirSync:
    """fsyncs of one directory shared by concurrent writers (group commit for renames).

    A caller's renames into the directory are durable once an fsync that *started after
    them* has finished. ``sync`` takes a ticket, then waits its turn: the fsync run by the
    first waiter covers every ticket taken before it started, so eight concurrent PUTs pay
    for one or two directory fsyncs rather than eight, and one alone pays for one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._requested = 0
        self._covered = 0

    async def sync(self) -> None:
        """Return once every rename made before the call is durable. Raises OSError (then
        no ticket is counted as covered). Cancelling the wait does not stop an fsync under
        way."""
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._covered >= ticket:
                return  # an fsync that started after our rename has finished
            upto = self._requested
            await asyncio.shield(asyncio.to_thread(fsync_dir, self.path))
            self._covered = max(self._covered, upto)
