"""The journal's files: acknowledged bodies waiting for upload, ``<data-dir>/journal/files``.

A staged body joins the journal by a rename within the data volume followed by an fsync of the
directory, before the transaction recording it commits: after a crash, every file the journal
names exists complete, and a file no job names (the crash fell between the rename and the
commit, so the write was never acknowledged) is removed at the next start. Names are s3d's
own (``<uuid>``), never object keys. Every operation runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from s3d.durable import fsync_dir
from s3d.staging import StagedBody


class JournalFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def open(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / name

    async def adopt(self, body: StagedBody) -> str:
        """Move a staged (complete, fsynced) body into the journal; its new name."""
        return await asyncio.to_thread(self._adopt, body.path)

    def _adopt(self, source: Path) -> str:
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)  # the bytes first, then the name that makes them part of the journal
        finally:
            os.close(fd)
        name = uuid.uuid4().hex
        os.replace(source, self.root / name)
        fsync_dir(self.root)
        return name

    async def remove(self, names: Iterable[str]) -> None:
        await asyncio.to_thread(self._remove, list(names))

    def _remove(self, names: list[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)

    async def reconcile(self, referenced: set[str]) -> int:
        """Remove the files no job or upload names; how many."""
        return await asyncio.to_thread(self._reconcile, referenced)

    def _reconcile(self, referenced: set[str]) -> int:
        removed = 0
        for path in self.root.iterdir():
            if path.name not in referenced:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
