"""Readahead for a file open for reading: the bytes of the last fetch kept in memory, the
fetch in flight, and how far the next fetch reaches.

The kernel reads a FUSE file at most 128 KiB at a time, several at once when it reads ahead.
Each read going through the gateway would cost a cache lookup and a file open per 128 KiB; a
sequential reader instead gets a window that doubles with each read continuing the previous
fetch, up to ``MAX_WINDOW``, and the reads inside the window (kept, or still being fetched)
are answered from that one fetch, as mountpoint-s3's prefetcher does. A read elsewhere (a
seek) resets the window to that read's own size: a random reader fetches only what it asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Buffer = bytes | memoryview
"""Bytes, or a view of them (a mapped cache file): pyfuse3 replies from either."""

MAX_WINDOW = 8 << 20
"""The largest fetch: one cache block (8 MiB by default)."""


@dataclass(slots=True)
class _Fetch:
    first: int
    end: int
    data: asyncio.Future[Buffer]

    def holds(self, offset: int, size: int) -> bool:
        return self.first <= offset and offset + size <= self.end

    def part(self, data: Buffer, offset: int, size: int) -> Buffer:
        return data[offset - self.first : offset - self.first + size]


class Readahead:
    """One reader's window. ``read`` raises what ``fetch`` raises."""

    def __init__(self, fetch: Callable[[int, int], Awaitable[Buffer]], file_size: int) -> None:
        self._fetch = fetch
        self._size = file_size
        self._kept: _Fetch | None = None
        self._flying: _Fetch | None = None
        self._frontier = -1
        self._window = 0

    async def read(self, offset: int, size: int) -> Buffer:
        """``size`` bytes from ``offset`` (fewer at the end of the file)."""
        size = min(offset + size, self._size) - offset
        if size <= 0:
            return b""
        for fetch in (self._kept, self._flying):
            if fetch is not None and fetch.holds(offset, size):
                return fetch.part(await asyncio.shield(fetch.data), offset, size)
        first, end = self._plan(offset, size)
        fetch = _Fetch(first, end, asyncio.ensure_future(self._fetch(first, end - 1)))
        self._flying = fetch
        try:
            data = await fetch.data
        finally:
            if self._flying is fetch:
                self._flying = None
        self._kept = fetch
        return fetch.part(data, offset, size)

    def drop(self) -> None:
        """Forget the fetched bytes (the object changed): the next read fetches again."""
        self._kept = self._flying = None

    def _plan(self, offset: int, size: int) -> tuple[int, int]:
        """The (first, end) of the fetch serving a read no fetch holds."""
        known = [f for f in (self._kept, self._flying) if f is not None]
        if offset == self._frontier or any(f.first <= offset < f.end for f in known):
            self._window = min(max(self._window * 2, size), MAX_WINDOW)
        else:
            self._window = size
        end = min(offset + max(self._window, size), self._size)
        self._frontier = end
        return offset, end
