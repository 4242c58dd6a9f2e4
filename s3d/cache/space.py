"""The cache's share of the data volume: accounting, eviction, and reconciliation at start.

Owns the byte and entry counts (in ``CacheStats``) and the last-access times gathered in memory
between flushes to the index. Invariants: ``stats.bytes`` is the sum of the recorded blocks'
lengths; ``stats.disk_bytes`` is what those take on disk (whole filesystem blocks per entry)
plus the index's SQLite files as last measured. The volume is shared with the pending writes
(``reserved``): they count toward the budget, and only clean entries make way for them.

Eviction runs one at a time (a lock): after the cache adds bytes past the high watermark or
free space drops below the minimum, and before a write joins the pending ones (``make_room``).
It drops the entries ``plan_eviction`` picks: index rows first, then files, so a crash between
the two leaves only orphan files, removed at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from s3d.cache.datafile import DataFiles
from s3d.cache.entry import Entry
from s3d.cache.index import CacheIndex
from s3d.cache.planner import Budget, Candidate, Usage, footprint, plan_eviction
from s3d.cache.reconcile import reconcile
from s3d.cache.stats import CacheStats
from s3d.settings import CacheSettings

log = logging.getLogger("s3d.cache")

FLUSH_EVERY = 5.0
"""Seconds between writes of last-access times to the index."""
CANDIDATES = 1024


class Space:
    def __init__(
        self,
        index: CacheIndex,
        files: DataFiles,
        settings: CacheSettings,
        stats: CacheStats,
        is_busy: Callable[[str], bool],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        forgotten: Callable[[str], None] = lambda entry_id: None,
        reserved: Callable[[], int] = lambda: 0,
    ) -> None:
        self._index = index
        self._files = files
        self._stats = stats
        self._is_busy = is_busy
        self._spawn = spawn
        self._forgotten = forgotten
        self._reserved = reserved
        self._budget = Budget(
            settings.max_size,
            settings.high_watermark,
            settings.low_watermark,
            settings.min_free_space,
        )
        self._accesses: dict[str, float] = {}
        self._flushed = time.monotonic()
        self._evicting = asyncio.Lock()
        self._space_checked = 0.0
        self._allocated = 0
        """Disk taken by the data files: each entry's recorded bytes in filesystem blocks."""
        self._overhead = 0
        self._measured_at = 0.0
        """When the index's own files were last measured (monotonic)."""
        """Disk taken by the index's SQLite files (database, WAL, shared memory), as measured."""

    async def open(self) -> None:
        """Reconcile data files and index, then count what is stored; logs the time taken."""
        started = time.perf_counter()
        layouts = await self._index.layouts()
        stored = await self._index.stored_by_entry()
        orphans, broken = await asyncio.to_thread(reconcile, self._files, layouts, stored)
        await self._index.delete(broken)
        await self._files.remove(broken)
        entries, used, pins = await self._index.totals()
        self._stats.entries, self._stats.bytes, self._stats.pinned = entries, used, pins
        gone = set(broken)
        self._allocated = sum(footprint(n) for i, n in stored.items() if i not in gone)
        await self._measure()
        log.info(
            "cache opened in %.3fs: %d entries, %d bytes; removed %d orphan files, "
            "dropped %d entries without their data",
            time.perf_counter() - started,
            entries,
            used,
            orphans,
            len(broken),
        )
        if self._budget.needs_eviction(self._usage()):
            self._spawn(self._evict())

    async def close(self) -> None:
        await self.flush()

    def touch(self, entry_id: str) -> None:
        self._accesses[entry_id] = time.time()
        if time.monotonic() - self._flushed > FLUSH_EVERY:
            self._flushed = time.monotonic()
            self._spawn(self.flush())

    async def flush(self) -> None:
        accesses, self._accesses = self._accesses, {}
        await self._index.touch(accesses)

    async def record(self, entry: Entry) -> None:
        """Record a new entry, replacing (and deleting the data of) the key's previous one."""
        old = await self._index.put(entry, time.time())
        self._stats.entries += 1
        if old is not None:
            await self._forget([old])

    async def drop_key(self, bucket: str, key: str) -> None:
        old = await self._index.delete_key(bucket, key)
        if old is not None:
            await self._forget([old])

    async def drop_blocks(self, entry_id: str, blocks: list[int]) -> None:
        self._forgotten(entry_id)
        dropped = await self._index.drop_blocks(entry_id, blocks)
        self._stats.bytes -= dropped
        self._count_disk(-footprint(dropped))

    async def _forget(self, gone: list[tuple[str, int]]) -> None:
        for entry_id, _ in gone:
            self._forgotten(entry_id)
        self._stats.entries -= len(gone)
        self._stats.bytes -= sum(stored for _, stored in gone)
        self._count_disk(-sum(footprint(stored) for _, stored in gone))
        await self._files.remove([entry_id for entry_id, _ in gone])

    def _count_disk(self, change: int) -> None:
        self._allocated = max(0, self._allocated + change)
        self._stats.disk_bytes = self._allocated + self._overhead

    def _usage(self, incoming: int = 0, free: int | None = None) -> Usage:
        """The volume as accounted: the cache's bytes on disk, the pending writes sharing it
        and ``incoming`` bytes about to join them."""
        return Usage(self._allocated + self._overhead, self._reserved() + incoming, free)

    def added(self, length: int) -> None:
        """A block was recorded: count it, and start eviction when over budget."""
        self._stats.bytes += length
        self._count_disk(footprint(length))
        if not self._evicting.locked() and self._over_size():
            self._spawn(self._evict())

    def _over_size(self) -> bool:
        if self._budget.needs_eviction(self._usage()):
            return True
        # Free space is a syscall away: look at most once a second.
        if self._budget.min_free_space > 0 and time.monotonic() - self._space_checked > 1.0:
            self._space_checked = time.monotonic()
            return True
        return False

    async def make_room(self, incoming: int = 0) -> None:
        """Evict clean entries, least recently used first, until they, the pending writes and
        ``incoming`` bytes about to join those fit the budget; waits for an eviction already
        under way first. Returns early (logged) when what is left is pinned or in use.
        Cancelled: the entries dropped so far stay dropped. Index errors propagate.

        Every write asks (twice): far from the budget, with a recent measure of the index's
        files, it returns at once — no lock, no thread hop — so that concurrent writes are not
        serialised behind it."""
        fresh = time.monotonic() - self._measured_at < MEASURE_EVERY
        if fresh and not self._budget.needs_eviction(self._usage(incoming)):
            return
        await self._evict(incoming)

    def make_room_soon(self, incoming: int) -> None:
        """``make_room`` in the background, when the last measure says it is needed."""
        if self._budget.needs_eviction(self._usage(incoming)):
            self._spawn(self.make_room(incoming))

    async def _evict(self, incoming: int = 0) -> None:
        async with self._evicting:
            if time.monotonic() - self._measured_at >= MEASURE_EVERY:
                await self._measure()
            while await self._evict_round(incoming):
                pass
        self._space_checked = 0.0

    async def _measure(self) -> None:
        self._overhead = await asyncio.to_thread(_allocated, self._index.files)
        self._measured_at = time.monotonic()
        self._count_disk(0)

    async def _free(self) -> int | None:
        if self._budget.min_free_space <= 0:
            return None
        stat = await asyncio.to_thread(os.statvfs, self._files.root.parent)
        return stat.f_bavail * stat.f_frsize

    async def _evict_round(self, incoming: int) -> bool:
        """One round of eviction; True when another may be needed."""
        usage = self._usage(incoming, await self._free())
        if not self._budget.needs_eviction(usage):
            return False
        await self.flush()
        rows = await self._index.candidates(CANDIDATES)
        chosen = plan_eviction(
            [Candidate(i, s, a, p, self._is_busy(i)) for i, s, a, p in rows],
            self._budget.to_free(usage),
        )
        if not chosen:
            if rows:
                log.warning("cache over budget, but every entry is pinned or in use")
            return False
        await self._index.delete([c.entry_id for c in chosen])
        await self._forget([(c.entry_id, c.stored) for c in chosen])
        self._stats.evictions += len(chosen)
        self._stats.evicted_bytes += sum(c.stored for c in chosen)
        return True


MEASURE_EVERY = 0.25
"""Seconds a measure of the index's files (its database and WAL, which count toward the size)
is trusted; they grow by a few KiB between measures, well inside the high watermark's room."""


def _allocated(paths: list[Path]) -> int:
    """Bytes the disk gives up for the files that exist among ``paths``."""
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_blocks * 512
        except FileNotFoundError:
            continue
    return total
