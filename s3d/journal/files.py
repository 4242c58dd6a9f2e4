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

from s3d.durable import SharedDirSync
from s3d.staging import StagedBody


class JournalFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._dir_sync = SharedDirSync(root)

    async def open(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / name

    async def adopt(self, body: StagedBody) -> str:
        """Move a staged body into the journal, durably (its bytes, then its name); its new
        name. Concurrent adoptions share their directory fsyncs. Raises OSError."""
        name = await asyncio.to_thread(self._adopt, body.path)
        await self._dir_sync.sync()
        return name

    def _adopt(self, source: Path) -> str:
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)  # the bytes first, then the name that makes them part of the journal
        finally:
            os.close(fd)
        name = uuid.uuid4().hex
        os.replace(source, self.root / name)
        return name

    async def take_small(self, body: StagedBody) -> tuple[str, bytes]:
        """Move a small staged body into the journal *without* making it durable; its new
        name and its bytes, which the caller commits with the job (``journal/inline.py``).
        One hop: the bytes are in the page cache, the rename is a metadata change."""
        return await asyncio.to_thread(self._take_small, body.path, body.size)

    def _take_small(self, source: Path, size: int) -> tuple[str, bytes]:
        with open(source, "rb") as file:
            data = file.read(size + 1)
        if len(data) != size:
            raise OSError(f"staged body {source.name}: {len(data)} bytes, expected {size}")
        name = uuid.uuid4().hex
        os.replace(source, self.root / name)
        return name, data

    async def restore(self, bodies: list[tuple[str, bytes]]) -> int:
        """Write back each (name, bytes) whose file a crash left short, missing or other; how
        many. Not fsynced: the bytes' durable home is their row, kept until the job leaves
        (``journal/inline.py``)."""
        return await asyncio.to_thread(self._restore, bodies)

    def _restore(self, bodies: list[tuple[str, bytes]]) -> int:
        rewritten = 0
        for name, data in bodies:
            path = self.root / name
            try:
                with open(path, "rb") as file:
                    if file.read(len(data) + 1) == data:
                        continue
            except FileNotFoundError:
                pass
            with open(path, "wb") as file:
                file.write(data)
            rewritten += 1
        return rewritten

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
