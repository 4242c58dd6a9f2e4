"""The read cache: GetObject and HeadObject answered from local disk when s3d may.

Owns ``<data-dir>/cache`` (the index and the data files), the entries in use (``Active``), the
fills in flight and the counters. Invariants: one entry per bucket and key; a block is served
only once recorded complete; an entry in use is never evicted; a key written through s3d is
dropped at once (``invalidate``) and no fill started before that write commits after it.

A read goes: bypass (versions, parts, SSE-C…) → look up the entry → fresh, or revalidated
with a conditional HEAD on its ETag (unchanged: keep; changed: replace; gone: drop; remote
unreachable or silent past ``cache.revalidation_deadline``: serve stale) → conditions and
range on the cached ETag and size → bytes from the data file with sendfile when every block
is there, else a body that follows the fills bringing the missing blocks. The answer carries
``x-s3d-cache``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self

from s3d.cache import lookup
from s3d.cache.datafile import DataFiles
from s3d.cache.entry import (
    HANDED_OVER,
    Entry,
    layout,
    provenance,
    response_headers,
    stored_headers,
)
from s3d.cache.filling import Filling
from s3d.cache.index import CacheIndex
from s3d.cache.integrity import Integrity
from s3d.cache.ram import ITEM_MAX, RamTier
from s3d.cache.space import Space
from s3d.cache.stats import CacheStats
from s3d.cache.tagsets import TagSets
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.answer_headers import checksums_asked
from s3d.protocol.errors import NotModified, S3Error, ServiceUnavailable
from s3d.protocol.model import (
    CacheState,
    Headers,
    LocalFile,
    ObjectEntry,
    ObjectResponse,
    Provenance,
    header,
    quote_etag,
)
from s3d.rules.syntax import Action
from s3d.settings import CacheSettings
from s3d.telemetry import deferred, tracing

log = logging.getLogger("s3d.cache")

_BYPASS_HEADERS = ("x-amz-server-side-encryption-customer-", "x-amz-expected-bucket-owner")


class ReadRules(Protocol):
    """The filter rules' say on reads (``s3d.decisions``): cache, bypass, pin, freshness."""

    async def read(self, op: ops.GetObject) -> Action | None: ...

    def forget(self, bucket: str, key: str) -> None: ...


class ReadCache:
    """Enter to open (reconciling files and index), exit to stop fills and close."""

    def __init__(
        self,
        root: Path,
        settings: CacheSettings,
        remote: Remote,
        reserved: Callable[[], int] = lambda: 0,
        rules: ReadRules | None = None,
    ) -> None:
        self.settings = settings
        self._rules = rules
        self._pinned: set[tuple[str, str]] = set()
        """Keys pinned by a rule during this run: pinned once, not at every read."""
        self._remote = remote
        self._index = CacheIndex(root / "index.sqlite")
        self.tag_sets = TagSets(self._index)
        """Tag sets looked up for read rules, kept with their entries."""
        self._files = DataFiles(root / "data")
        self.stats = CacheStats(enabled=settings.enabled, max_size=settings.max_size)
        self.is_open = False
        """Entered and not yet closing (readiness reads it)."""
        self._busy: Counter[str] = Counter()
        # ``reserved``: bytes of pending writes on the same volume (the journal's, in
        # write-back): they count toward ``max_size`` and are never evicted, so clean entries
        # make way for them.
        self._ram = RamTier(settings.memory_size)
        self._space = Space(
            self._index,
            self._files,
            settings,
            self.stats,
            self._is_busy,
            self._spawn,
            self._ram.forget,
            reserved,
        )
        self._integrity = Integrity(self._index, self._files, self._space, self.stats)
        self._filling = Filling(
            self._index,
            self._files,
            self._space,
            self._integrity,
            self.stats,
            remote,
            self.invalidate,
        )
        self._lookups = lookup.Lookups(
            self._index,
            self._space,
            remote,
            self._new_entry,
            self._filling.adopt,
            settings.revalidation_deadline,
        )

    async def __aenter__(self) -> Self:
        await self._index.__aenter__()
        try:
            await self._space.open()
        except BaseException:
            await self._index.aclose()
            raise
        self.is_open = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel fills (their partial blocks are never recorded), flush access times, close
        the index. Idempotent."""
        self.is_open = False
        await self._filling.aclose()
        with contextlib.suppress(Exception):
            await self._space.close()
        await self._index.aclose()

    def _is_busy(self, entry_id: str) -> bool:
        return entry_id in self._filling.active or self._busy[entry_id] > 0

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._filling.spawn(coroutine)

    # -- reads ----------------------------------------------------------------------------

    async def get(self, op: ops.GetObject) -> ObjectResponse:
        """Answer a GetObject or HeadObject. Raises S3Error as the remote would (NoSuchKey,
        InvalidRange, NotModified, PreconditionFailed, ServiceUnavailable…)."""
        if not tracing():
            return await self._get(op)
        with deferred("cache get") as span:  # its parent, the gateway's, names the key
            answer = await self._get(op)
            if answer.provenance.cache is not None:
                span.set_attribute("s3d.cache.result", answer.provenance.cache)
            return answer

    async def _get(self, op: ops.GetObject) -> ObjectResponse:
        if _bypass(op):
            self.stats.bypass += 1
            return _marked(await self._remote.get_object(op), "bypass")
        key = (op.bucket, op.key)
        freshness = self.settings.freshness
        if self._rules is not None:
            choice = await self._rules.read(op)
            if choice is not None and choice.verb == "bypass":
                self.stats.bypass += 1
                return _marked(await self._remote.get_object(op), "bypass")
            if choice is not None and choice.freshness is not None:
                freshness = choice.freshness
            if choice is not None and choice.verb == "pin" and key not in self._pinned:
                await self.pin(op.bucket, op.key)
                self._pinned.add(key)
        generation = self._filling.generation[key]
        found = await self._lookups.current(op.bucket, op.key, freshness)
        if found is None:
            if not op.conditions.empty:
                self.stats.bypass += 1
                return _marked(await self._remote.get_object(op), "bypass")
            try:
                whole = not op.head and op.range is None
                found = await self._lookups.discover(op.bucket, op.key, whole=whole)
            except S3Error as exc:
                if op.head or exc.http_status >= 500:
                    raise
                # A HEAD's error has no document (NoSuchKey or NoSuchBucket? which key?): ask
                # the remote the question the client asked, for the answer S3 gives it.
                self.stats.bypass += 1
                return _marked(await self._remote.get_object(op), "bypass")
        if self._filling.generation[key] != generation:
            # Written through s3d while we looked: answer from the remote, cache nothing. An
            # entry the discovery recorded after the write's invalidation describes the object
            # before the write (a deleted one would answer HEAD 200): it goes too.
            await self._space.drop_key(op.bucket, op.key)
            self.stats.bypass += 1
            return _marked(await self._remote.get_object(op), "bypass")
        entry, present, state = found
        self._space.touch(entry.id)
        try:
            op.conditions.check_read(entry.etag, entry.last_modified)
        except NotModified as exc:
            exc.headers["ETag"] = entry.etag
            exc.provenance = provenance(entry, state)
            raise
        return await self._answer(op, entry, present, state)

    def _new_entry(self, head: ObjectResponse, bucket: str, key: str) -> Entry:
        return lookup.entry_from(head, bucket, key, uuid.uuid4().hex, self.settings, time.time())

    async def _answer(
        self, op: ops.GetObject, entry: Entry, present: dict[int, str], state: CacheState
    ) -> ObjectResponse:
        span = op.range.resolve(entry.size) if op.range is not None else None
        checksums = checksums_asked(op.headers)
        headers = response_headers(entry, span, checksums=checksums, overrides=op.overrides)
        status = 206 if span is not None else 200
        if op.head or entry.size == 0:
            self._count(state)
            return ObjectResponse(status, headers, provenance=provenance(entry, state))
        first, last = span if span is not None else (0, entry.size - 1)
        blocks = entry.blocks_for(first, last)
        active = self._filling.active.get(entry.id)
        if active is not None:
            present = active.present  # kept current by the fills, unlike the lookup's copy
        if all(b in present for b in blocks):
            local: LocalFile | bytes | None
            if self._in_memory(entry):
                small = await self._small(entry, present)
                local = None if small is None else small[first : last + 1]
            else:
                local = await self._local(entry, present, first, last)
            if local is not None:
                self._count(state)
                return ObjectResponse(status, headers, local, provenance(entry, state))
            present = (await self._lookups.reload(entry))[1]
        if not all(b in present for b in blocks) and state not in ("miss", "stale"):
            state = "miss"
        if state == "stale":
            # The remote is unreachable and the bytes are not all here: say so now, rather
            # than start an answer that would be cut.
            raise ServiceUnavailable("The remote S3 endpoint could not be reached")
        self._count(state)
        body = await self._filling.follow(entry, first, last)
        return ObjectResponse(status, headers, body, provenance(entry, state))

    def _count(self, state: str) -> None:
        stats = self.stats
        if state == "hit":
            stats.hits += 1
        elif state == "revalidated":
            stats.revalidated += 1
        elif state == "stale":
            stats.stale += 1
        else:
            stats.misses += 1

    def _in_memory(self, entry: Entry) -> bool:
        return entry.whole and entry.size <= min(ITEM_MAX, self.settings.memory_size)

    async def _small(self, entry: Entry, present: dict[int, str]) -> bytes | None:
        """A small whole object's bytes from memory, read (and checked) once from disk; None
        when the disk copy turned out bad (dropped, to be fetched again)."""
        data = self._ram.get(entry.id)
        if data is None:
            read = await self._local(entry, present, 0, entry.size - 1)
            if not isinstance(read, bytes):
                return None
            self._ram.keep(entry.id, read)
            data = read
        return data

    async def _local(
        self, entry: Entry, present: dict[int, str], first: int, last: int
    ) -> LocalFile | bytes | None:
        """The bytes, after the integrity check: in memory when small, else as a local file
        for sendfile; None when a block turned out bad (dropped, to be fetched again)."""
        self._busy[entry.id] += 1
        try:
            file = await self._integrity.open_checked(entry, present, first, last)
        except BaseException:
            self._release(entry.id)
            raise
        if file is None or isinstance(file, bytes):
            self._release(entry.id)
            return file

        def release() -> None:
            file.close()
            self._release(entry.id)

        return LocalFile(file, first, last - first + 1, release)

    def _release(self, entry_id: str) -> None:
        self._busy[entry_id] -= 1
        if self._busy[entry_id] <= 0:
            del self._busy[entry_id]

    # -- writes through s3d, pins ---------------------------------------------------------

    async def invalidate(self, bucket: str, key: str) -> None:
        """Forget the key at once: its entry, its data, and any fill of it still running."""
        self._filling.invalidate(bucket, key)
        self._lookups.forget(bucket, key)
        if self._rules is not None:
            self._rules.forget(bucket, key)
        await self._space.drop_key(bucket, key)

    async def adopt(
        self,
        bucket: str,
        key: str,
        path: Path,
        headers: Headers,
        size: int,
        last_modified: datetime,
    ) -> bool:
        """Take an uploaded file as the key's clean entry (moved, not copied); False when the
        cache is off. ``headers`` are the object's, as a GET answers them."""
        if not self.settings.enabled:
            return False
        etag = quote_etag(header(headers, "etag") or "")
        block_size = layout(size, self.settings.block_size, self.settings.whole_object_max)
        entry = Entry(
            id=uuid.uuid4().hex,
            bucket=bucket,
            key=key,
            etag=etag,
            size=size,
            last_modified=last_modified,
            headers=(*stored_headers(headers), HANDED_OVER),
            block_size=block_size,
            validated_at=time.time(),
        )
        # A write of the key while this runs (its invalidation bumps the generation) must win:
        # the entry, recorded after that invalidation, would otherwise hold older bytes.
        generation = self._filling.generation[(bucket, key)]
        blocks, mtime = await self._files.take(entry, path)
        await self._space.record(entry)
        for index, (length, crc) in enumerate(blocks):
            await self._index.add_block(entry.id, index, length, crc, mtime)
            self._integrity.verified(entry.id, index)
            self._space.added(length)
        if self._filling.generation[(bucket, key)] != generation:
            await self._space.drop_key(bucket, key)
        return True

    async def known_keys(
        self, bucket: str, prefix: str, start_after: str | None, limit: int
    ) -> list[ObjectEntry]:
        """What the cache knows of a bucket's keys, in key order: a listing of last resort
        while the remote cannot be reached."""
        rows = await self._index.listing(bucket, prefix, start_after, limit)
        return [
            ObjectEntry(key, datetime.fromisoformat(modified), etag, size)
            for key, etag, size, modified in rows
        ]

    async def make_room(self, incoming: int = 0) -> None:
        """Before (and after) pending writes grow by ``incoming`` bytes: evict clean entries,
        least recently used first, until they and the pending writes fit ``max_size``. Pending
        writes are never evicted. Cancelled: what was dropped stays dropped. Raises only what
        the index raises."""
        if self.settings.enabled:
            await self._space.make_room(incoming)

    def make_room_soon(self, incoming: int) -> None:
        """``make_room`` in the background, as a write is admitted: its body is received
        meanwhile. The task is the cache's own, cancelled when it closes."""
        if self.settings.enabled:
            self._space.make_room_soon(incoming)

    async def pin(self, bucket: str, key: str, pinned: bool = True) -> None:
        """Pinned keys are never evicted (filter rules use this)."""
        if not pinned:
            self._pinned.discard((bucket, key))
        await self._index.pin(bucket, key, pinned)
        self.stats.pinned = (await self._index.totals())[2]


def _bypass(op: ops.GetObject) -> bool:
    if op.version_id is not None or op.part_number is not None:
        return True
    return any(name.startswith(_BYPASS_HEADERS) for name, _ in op.headers)


def _marked(response: ObjectResponse, state: CacheState) -> ObjectResponse:
    return dataclasses.replace(response, provenance=Provenance(cache=state))
