"""The cache's data files: ``<data-dir>/cache/data/<xx>/<entry id>``, named by s3d, never by
object keys.

A whole object (one block) is written to ``<id>.part``, fsynced and renamed into place before
its block is recorded, as every complete file in s3d is. A block-cached object is one sparse
file of the object's size from the start; each block is written at its offset and fdatasync'ed
before it is recorded in the index, so no unrecorded byte is ever served and a crash leaves at
worst blocks that are fetched again. Every file operation runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from s3d.cache.entry import Entry
from s3d.durable import fsync_dir
from s3d.protocol.checksums import Checksum

PART = ".part"


class DataFile:
    """One open data file, shared by the fills writing it and the readers following them.

    ``close`` is idempotent; reads and writes after it raise ``OSError``.
    """

    def __init__(self, path: Path, fd: int, *, partial: bool) -> None:
        self.path = path
        self._fd = fd
        self.partial = partial
        """Still under its ``.part`` name (a whole object not yet complete)."""

    def fileno(self) -> int:
        return self._fd

    async def read(self, offset: int, length: int) -> bytes:
        return await asyncio.to_thread(os.pread, self._fd, length, offset)

    async def sync(self) -> int:
        """fdatasync; returns the file's mtime in nanoseconds, recorded to notice outside
        changes later."""
        return await asyncio.to_thread(self._sync)

    def _sync(self) -> int:
        os.fdatasync(self._fd)
        return os.fstat(self._fd).st_mtime_ns

    async def publish(self) -> int:
        """Rename a complete ``.part`` file into place (fsynced, directory too)."""
        return await asyncio.to_thread(self._publish)

    def _publish(self) -> int:
        mtime = self._sync()
        if self.partial:
            final = self.path.with_name(self.path.name.removesuffix(PART))
            os.replace(self.path, final)
            fsync_dir(final.parent)
            self.path, self.partial = final, False
        return mtime

    async def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            await asyncio.to_thread(os.close, fd)


class DataFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, entry_id: str) -> Path:
        return self.root / entry_id[:2] / entry_id

    async def open(self, entry_id: str, size: int, *, whole: bool, complete: bool) -> DataFile:
        """Open the entry's data file for writing and reading, creating it if needed: a new
        ``.part`` file for a whole object not yet cached, a sparse file of ``size`` bytes for
        blocks; a complete whole object is opened where it lies."""
        return await asyncio.to_thread(self._open, entry_id, size, whole and not complete)

    def _open(self, entry_id: str, size: int, whole: bool) -> DataFile:
        final = self.path(entry_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        if whole:
            part = final.with_name(final.name + PART)
            fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            return DataFile(part, fd, partial=True)
        fd = os.open(final, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size != size:
            os.ftruncate(fd, size)
            fsync_dir(final.parent)
        return DataFile(final, fd, partial=False)

    async def take(self, entry: Entry, source: Path) -> tuple[list[tuple[int, str]], int]:
        """Move a complete file in as ``entry``'s data: each block's (length, CRC32C), and
        the file's mtime once in place."""
        return await asyncio.to_thread(self._take, entry, source)

    def _take(self, entry: Entry, source: Path) -> tuple[list[tuple[int, str]], int]:
        blocks = []
        with open(source, "rb") as file:
            for index in range(entry.blocks):
                start, end = entry.span(index)
                crc = Checksum.new("CRC32C")
                position = start
                while position < end:
                    data = os.pread(file.fileno(), min(1 << 20, end - position), position)
                    if not data:
                        raise OSError(f"{source} is shorter than {entry.size} bytes")
                    crc.update(data)
                    position += len(data)
                blocks.append((end - start, crc.b64digest()))
        final = self.path(entry.id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, final)
        fsync_dir(final.parent)
        return blocks, os.stat(final).st_mtime_ns

    async def remove(self, entry_ids: list[str]) -> None:
        await asyncio.to_thread(self._remove, entry_ids)

    def _remove(self, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            final = self.path(entry_id)
            final.unlink(missing_ok=True)
            final.with_name(final.name + PART).unlink(missing_ok=True)

    def stat(self, entry_id: str) -> os.stat_result | None:
        """The data file's stat, or None when it is missing. Blocking: one syscall."""
        try:
            return os.stat(self.path(entry_id))
        except FileNotFoundError:
            return None

    def scan(self) -> dict[str, Path]:
        """Every file under the data root by name (``.part`` files included). Blocking."""
        found: dict[str, Path] = {}
        if self.root.exists():
            for path in self.root.glob("*/*"):
                found[path.name] = path
        return found
