"""The cache's share of the data volume: accounting, eviction, and reconciliation at start.

Owns the byte and entry counts (in ``CacheStats``) and the last-access times gathered in memory
between flushes to the index. Invariant: ``stats.bytes`` is the sum of the recorded blocks'
lengths. Eviction runs as one task at a time, when bytes pass the high watermark or free space
drops below the minimum, and drops the entries ``plan_eviction`` picks: index rows first, then
files, so a crash between the two leaves only orphan files, removed at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any

from s3d.cache.datafile import PART, DataFiles
from s3d.cache.entry import Entry
from s3d.cache.index import CacheIndex
from s3d.cache.planner import Budget, Candidate, plan_eviction
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
        self._evicting = False
        self._space_checked = 0.0

    async def open(self) -> None:
        """Reconcile data files and index, then count what is stored; logs the time taken."""
        started = time.perf_counter()
        layouts = await self._index.layouts()
        stored = await self._index.stored_by_entry()
        orphans, broken = await asyncio.to_thread(self._reconcile, layouts, stored)
        await self._index.delete(broken)
        await self._files.remove(broken)
        entries, used, pins = await self._index.totals()
        self._stats.entries, self._stats.bytes, self._stats.pinned = entries, used, pins
        log.info(
            "cache opened in %.3fs: %d entries, %d bytes; removed %d orphan files, "
            "dropped %d entries without their data",
            time.perf_counter() - started,
            entries,
            used,
            orphans,
            len(broken),
        )
        if self._budget.needs_eviction(used, None):
            self._spawn(self._evict())

    def _reconcile(
        self, layouts: dict[str, tuple[int, int]], stored: dict[str, int]
    ) -> tuple[int, list[str]]:
        """Remove files no entry names (``.part`` files of fills cut short included); list
        entries whose blocks were recorded but whose file is missing or of the wrong size."""
        files = self._files.scan()
        orphans = 0
        for name, path in files.items():
            if name.endswith(PART) or name not in layouts:
                path.unlink(missing_ok=True)
                orphans += 1
        broken = []
        for entry_id, (size, _block_size) in layouts.items():
            if stored.get(entry_id, 0) == 0:
                continue
            found = files.get(entry_id)
            if found is None or os.stat(found).st_size != size:
                broken.append(entry_id)
        return orphans, broken

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
        self._stats.bytes -= await self._index.drop_blocks(entry_id, blocks)

    async def _forget(self, gone: list[tuple[str, int]]) -> None:
        for entry_id, _ in gone:
            self._forgotten(entry_id)
        self._stats.entries -= len(gone)
        self._stats.bytes -= sum(stored for _, stored in gone)
        await self._files.remove([entry_id for entry_id, _ in gone])

    def _used(self) -> int:
        """Bytes on the volume: the cache's, and the pending writes that share it."""
        return self._stats.bytes + self._reserved()

    def added(self, length: int) -> None:
        """A block was recorded: count it, and start eviction when over budget."""
        self._stats.bytes += length
        if not self._evicting and self._over_size():
            self._spawn(self._evict())

    def _over_size(self) -> bool:
        if self._budget.needs_eviction(self._used(), None):
            return True
        # Free space is a syscall away: look at most once a second.
        if self._budget.min_free_space > 0 and time.monotonic() - self._space_checked > 1.0:
            self._space_checked = time.monotonic()
            return True
        return False

    async def _free(self) -> int | None:
        if self._budget.min_free_space <= 0:
            return None
        stat = await asyncio.to_thread(os.statvfs, self._files.root.parent)
        return stat.f_bavail * stat.f_frsize

    async def _evict(self) -> None:
        if self._evicting:
            return
        self._evicting = True
        try:
            while await self._evict_round():
                pass
        finally:
            self._evicting = False
        self._space_checked = 0.0

    async def _evict_round(self) -> bool:
        """One round of eviction; True when another may be needed."""
        free = await self._free()
        if not self._budget.needs_eviction(self._used(), free):
            return False
        await self.flush()
        rows = await self._index.candidates(CANDIDATES)
        chosen = plan_eviction(
            [Candidate(i, s, a, p, self._is_busy(i)) for i, s, a, p in rows],
            self._budget.to_free(self._used(), free),
        )
        if not chosen:
            log.warning("cache over budget, but every entry is pinned or in use")
            return False
        await self._index.delete([c.entry_id for c in chosen])
        await self._forget([(c.entry_id, c.stored) for c in chosen])
        self._stats.evictions += len(chosen)
        self._stats.evicted_bytes += sum(c.stored for c in chosen)
        return True
