"""Cached bytes are checked before they are served.

Every block is recorded with the CRC32C of the bytes written. Before an answer is sent from a
data file: the file must exist at the object's size (a truncated file is caught at once), and
each block served is checked against its CRC32C the first time it is served by this process,
and again whenever the file's mtime differs from the one s3d recorded (someone else wrote to
it). A block that fails is dropped from the index, counted, and fetched again; it is never
served. Blocks written by this process are trusted without a second read.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import BinaryIO

from s3d.cache.datafile import DataFiles
from s3d.cache.entry import Entry
from s3d.cache.index import CacheIndex
from s3d.cache.space import Space
from s3d.cache.stats import CacheStats
from s3d.protocol.checksums import Checksum

log = logging.getLogger("s3d.cache")

_READ = 1 << 20
SMALL_READ = 256 * 1024
"""Answers up to this size are read into memory rather than sent with sendfile."""


class Integrity:
    def __init__(
        self, index: CacheIndex, files: DataFiles, space: Space, stats: CacheStats
    ) -> None:
        self._index = index
        self._files = files
        self._space = space
        self._stats = stats
        self._checked: dict[str, set[int]] = {}

    def verified(self, entry_id: str, block: int) -> None:
        """A block this process just wrote and recorded."""
        self._checked.setdefault(entry_id, set()).add(block)

    def forget(self, entry_id: str) -> None:
        self._checked.pop(entry_id, None)

    async def open_checked(
        self, entry: Entry, present: dict[int, str], first: int, last: int
    ) -> BinaryIO | bytes | None:
        """Bytes ``first``..``last`` once the blocks holding them pass the checks: read into
        memory when small (one thread hop, no sendfile set-up), else the data file opened for
        sendfile. None when the file or a block is bad (dropped here, fetched again)."""
        checked = self._checked.setdefault(entry.id, set())
        blocks = entry.blocks_for(first, last)
        small = (first, last - first + 1) if last - first + 1 <= SMALL_READ else None
        opened, mtime, bad = await asyncio.to_thread(
            self._open_and_check, entry, present, blocks, checked, small
        )
        if bad:
            self._stats.corrupt_dropped += len(bad)
            log.warning(
                "cache: %d corrupt block(s) of %s/%s dropped; fetching again",
                len(bad),
                entry.bucket,
                entry.key,
            )
            checked.difference_update(bad)
            await self._space.drop_blocks(entry.id, bad)
        elif mtime is not None and mtime != entry.mtime_ns:
            await self._index.set_mtime(entry.id, mtime)
        return opened

    def _open_and_check(
        self,
        entry: Entry,
        present: dict[int, str],
        blocks: range,
        checked: set[int],
        small: tuple[int, int] | None,
    ) -> tuple[BinaryIO | bytes | None, int | None, list[int]]:
        try:
            file = open(self._files.path(entry.id), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            return None, None, list(present)
        try:
            stat = os.fstat(file.fileno())
            if stat.st_size != entry.size:
                file.close()
                return None, None, list(present)
            if stat.st_mtime_ns != entry.mtime_ns:
                checked.clear()
            bad = [b for b in blocks if b not in checked and not _intact(file, entry, b, present)]
        except BaseException:
            file.close()
            raise
        if bad:
            file.close()
            return None, None, bad
        checked.update(blocks)
        if small is not None:
            return _read_and_close(file, *small), stat.st_mtime_ns, []
        return file, stat.st_mtime_ns, []


def _read_and_close(file: BinaryIO, offset: int, length: int) -> bytes:
    try:
        return os.pread(file.fileno(), length, offset)
    finally:
        file.close()


def _intact(file: BinaryIO, entry: Entry, block: int, present: dict[int, str]) -> bool:
    start, end = entry.span(block)
    crc = Checksum.new("CRC32C")
    position = start
    while position < end:
        data = os.pread(file.fileno(), min(_READ, end - position), position)
        if not data:
            return False
        crc.update(data)
        position += len(data)
    return crc.b64digest() == present.get(block)
