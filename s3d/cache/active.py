"""An entry being read or filled, and the body readers receive from it.

``Active`` holds what only matters while an entry is in use: its open data file, its complete
blocks (updated as fills commit), its fills and how many readers follow it. The cache creates
one on demand and closes it when the last reader and fill are gone; while it exists the entry
is busy and never evicted.

``CachedBody`` is the body of one answer: for each block of the range it reads the block from
the data file if complete, else follows the fill writing it, so bytes reach the client as
soon as they reach the disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from s3d.cache.datafile import DataFile
from s3d.cache.entry import Entry
from s3d.cache.fill import Fill
from s3d.protocol.errors import ServiceUnavailable

READ_CHUNK = 1 << 20


class Active:
    def __init__(self, entry: Entry, present: dict[int, str], file: DataFile) -> None:
        self.entry = entry
        self.present = present
        """Complete blocks: index -> CRC32C."""
        self.file = file
        self.fills: list[Fill] = []
        self.readers = 0
        self.invalid = False
        """The entry was replaced or dropped: nothing more may be committed for it."""

    @property
    def idle(self) -> bool:
        return self.readers == 0 and not self.fills

    def fill_for(self, block: int) -> Fill | None:
        return next((fill for fill in self.fills if fill.covers(block)), None)

    def missing_runs(self, first: int, last: int) -> list[tuple[int, int]]:
        """Runs of blocks in first..last neither complete nor being filled."""
        runs: list[tuple[int, int]] = []
        for block in range(first, last + 1):
            if block in self.present or self.fill_for(block) is not None:
                continue
            if runs and runs[-1][1] == block - 1:
                runs[-1] = (runs[-1][0], block)
            else:
                runs.append((block, block))
        return runs

    def detach(self) -> None:
        """One reader fewer; with none left, fills stop after the block they are writing."""
        self.readers -= 1
        if self.readers == 0:
            for fill in self.fills:
                fill.stop_after = fill.first + max(
                    0, (fill.progress - fill.start) // self.entry.block_size
                )


StartFill = Callable[[Active, int, int], Fill]


class CachedBody:
    """Bytes first..last (inclusive) of an active entry. Iterate once; always ``aclose``."""

    def __init__(
        self, active: Active, first: int, last: int, start_fill: StartFill, done: Callable[[], None]
    ) -> None:
        self._active = active
        self._first, self._last = first, last
        self._start_fill = start_fill
        self._done: Callable[[], None] | None = done

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        active, entry = self._active, self._active.entry
        position = self._first
        fill: Fill | None = None
        while position <= self._last:
            block = position // entry.block_size
            block_end = min(entry.span(block)[1], self._last + 1)
            if block in active.present:
                limit = block_end
            else:
                fill = active.fill_for(block) or self._start_fill(active, block, self._last_block)
                await fill.wait_for(position)
                limit = min(fill.progress, block_end)
            data = await active.file.read(position, min(limit - position, READ_CHUNK))
            if not data:
                raise ServiceUnavailable("The cached object ended early")
            position += len(data)
            if position > self._last and fill is not None:
                # Finish the answer only once its last block is on disk: a client that reads
                # again after this one completes finds the bytes cached.
                await fill.settled(block)
            yield data

    @property
    def _last_block(self) -> int:
        return self._last // self._active.entry.block_size

    async def aclose(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()
