"""The entries in use and the fills bringing their missing blocks.

Owns the ``Active`` entries (one per entry being read or filled), the fill tasks and the
per-key generations that stop fills started before a write from committing after it.
Invariants: one ``Active`` per entry id; an ``Active`` is closed only when it has no reader
and no fill; a fill commits a block only while its entry is valid and its key's generation
is the one it started under.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from s3d.cache import lookup
from s3d.cache.active import Active, CachedBody
from s3d.cache.datafile import DataFiles
from s3d.cache.entry import Entry
from s3d.cache.fill import Fill
from s3d.cache.index import CacheIndex
from s3d.cache.integrity import Integrity
from s3d.cache.space import Space
from s3d.cache.stats import CacheStats
from s3d.ports import Remote
from s3d.protocol.errors import S3Error
from s3d.protocol.model import ByteStream
from s3d.telemetry import Attributes, object_attributes, trace, tracing

Invalidate = Callable[[str, str], Awaitable[None]]


class Filling:
    def __init__(
        self,
        index: CacheIndex,
        files: DataFiles,
        space: Space,
        integrity: Integrity,
        stats: CacheStats,
        remote: Remote,
        on_conflict: Invalidate,
    ) -> None:
        self._index = index
        self._files = files
        self._space = space
        self._integrity = integrity
        self._stats = stats
        self._remote = remote
        self.active: dict[str, Active] = {}
        self.generation: Counter[tuple[str, str]] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self._on_conflict = on_conflict
        """Called when a block fetch finds the object changed (412 on If-Match)."""

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def aclose(self) -> None:
        """Cancel the fills (their partial blocks are never recorded) and close the files."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        for active in list(self.active.values()):
            await active.file.close()
        self.active.clear()

    async def follow(self, entry: Entry, first: int, last: int) -> CachedBody:
        """A body for bytes first..last of ``entry``, starting the fills of the blocks that
        are neither complete nor being fetched."""
        active = self.active.get(entry.id)
        if active is None:
            stored = await self._index.get(entry.bucket, entry.key)
            present = stored[1] if stored is not None and stored[0].id == entry.id else {}
            file = await self._files.open(
                entry.id, entry.size, whole=entry.whole, complete=0 in present
            )
            active = self.active.setdefault(entry.id, Active(entry, present, file))
            if active.file is not file:
                await file.close()
        active.readers += 1
        blocks = entry.blocks_for(first, last)
        for run_first, run_last in active.missing_runs(blocks.start, blocks.stop - 1):
            self.start(active, run_first, run_last)
        return CachedBody(active, first, last, self.start, lambda: self._detach(active))

    def _detach(self, active: Active) -> None:
        active.detach()
        self._maybe_close(active)

    def _maybe_close(self, active: Active) -> None:
        if active.idle and self.active.get(active.entry.id) is active:
            del self.active[active.entry.id]
            self.spawn(active.file.close())

    async def adopt(self, entry: Entry, body: ByteStream) -> None:
        """Fill a new entry from the remote's answer that described it (a whole GET)."""
        if entry.blocks == 0:
            await body.aclose()
            return
        file = await self._files.open(entry.id, entry.size, whole=entry.whole, complete=False)
        active = self.active[entry.id] = Active(entry, {}, file)
        self.start(active, 0, entry.blocks - 1, body)

    def start(self, active: Active, first: int, last: int, body: ByteStream | None = None) -> Fill:
        """Start fetching blocks first..last of an active entry (from ``body`` if the remote's
        answer is already there)."""
        entry = active.entry
        key = (entry.bucket, entry.key)
        generation = self.generation[key]

        async def on_block(index: int, length: int, crc: str, mtime: int) -> bool:
            if active.invalid or self.generation[key] != generation:
                return False
            if not await self._index.add_block(entry.id, index, length, crc, mtime):
                return False
            active.present[index] = crc
            self._integrity.verified(entry.id, index)
            self._space.added(length)
            return True

        fill = Fill(entry, first, last, active.file, on_block)
        active.fills.append(fill)
        self._stats.remote_fetches += 1
        self.spawn(self._run(active, fill, body))
        return fill

    async def _run(self, active: Active, fill: Fill, body: ByteStream | None) -> None:
        # Spawned by the read that needed the blocks: its span is this one's parent.
        with trace("cache fill", _fill_attributes(fill) if tracing() else None):
            await self._fill(active, fill, body)

    async def _fill(self, active: Active, fill: Fill, body: ByteStream | None) -> None:
        try:
            if body is None:
                body = await lookup.fetch_range(self._remote, fill)
        except S3Error as exc:
            fill.fail(exc)
            if exc.error_code == "PreconditionFailed":
                # The object changed under this entry: drop it; the next read starts afresh.
                await self._on_conflict(fill.entry.bucket, fill.entry.key)
        except BaseException as exc:
            fill.fail(exc)
            raise
        else:
            await fill.run(body)
        finally:
            active.fills.remove(fill)
            self._maybe_close(active)

    def invalidate(self, bucket: str, key: str) -> None:
        """A write of the key: its active entries commit nothing more."""
        self.generation[(bucket, key)] += 1
        for active in self.active.values():
            if active.entry.bucket == bucket and active.entry.key == key:
                active.invalid = True
                self._integrity.forget(active.entry.id)
                for fill in active.fills:
                    fill.cancelled = True


def _fill_attributes(fill: Fill) -> Attributes:
    entry = fill.entry
    return {
        **object_attributes(entry.bucket, entry.key),
        "s3d.cache.first_block": fill.first,
        "s3d.cache.last_block": fill.last,
        "s3d.cache.bytes": fill.end - fill.start,
    }
