"""Finding the entry a read answers from: fresh, revalidated, stale or newly discovered.

Revalidation and discovery are single-flight per key: concurrent reads of a stale or unknown
key share one conditional HEAD. A HEAD (not a GET) learns an unknown object's size, so that a
ranged read of a large object fetches only its blocks, and a small object is fetched whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from s3d.cache.entry import Entry, layout, stored_headers
from s3d.cache.fill import Fill
from s3d.cache.index import CacheIndex
from s3d.cache.space import Space
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.conditions import parse_http_date
from s3d.protocol.errors import (
    InternalError,
    NoSuchKey,
    NotModified,
    ServiceUnavailable,
)
from s3d.protocol.model import (
    ByteStream,
    CacheState,
    ObjectResponse,
    header,
    quote_etag,
    stream_of,
)
from s3d.protocol.ranges import ByteRange
from s3d.settings import CacheSettings
from s3d.telemetry import object_attributes, trace, tracing

Found = tuple[Entry, dict[int, str], CacheState]
"""An entry, its complete blocks, and how it was found: hit, revalidated, stale or miss."""

MakeEntry = Callable[[ObjectResponse, str, str], Entry]
Adopt = Callable[[Entry, ByteStream], Awaitable[None]]

_CHECKSUM_MODE = (("x-amz-checksum-mode", "ENABLED"),)


class Lookups:
    def __init__(
        self,
        index: CacheIndex,
        space: Space,
        remote: Remote,
        make: MakeEntry,
        adopt: Adopt,
        deadline: float,
    ) -> None:
        """``deadline``: seconds a revalidation waits for the remote before the entry is
        served stale."""
        self._index = index
        self._deadline = deadline
        self._space = space
        self._remote = remote
        self._make = make
        self._adopt = adopt
        self._inflight: dict[tuple[str, str], asyncio.Future[Found]] = {}

    async def current(self, bucket: str, key: str, freshness: float) -> Found | None:
        """The key's entry if cached: as is within ``freshness`` seconds of its last
        validation, else revalidated; stale when the remote cannot be reached or has not
        answered within the revalidation deadline. None when not cached. Raises NoSuchKey
        when the remote says the object is gone (the entry is dropped)."""
        stored = await self._index.get(bucket, key)
        if stored is None:
            return None
        entry, blocks = stored
        if time.time() - entry.validated_at <= freshness:
            return entry, blocks, "hit"
        return await self._single((bucket, key), lambda: self._revalidated(entry, blocks))

    async def reload(self, entry: Entry) -> Found:
        stored = await self._index.get(entry.bucket, entry.key)
        if stored is None or stored[0].id != entry.id:
            return entry, {}, "miss"
        return stored[0], stored[1], "miss"

    async def discover(self, bucket: str, key: str, *, whole: bool) -> Found:
        """A new entry for an uncached key; single-flight per key. For a read of the whole
        object one GET both describes it and starts filling it (handed to ``adopt``);
        otherwise a HEAD describes it, so that a ranged read fetches only its blocks. Raises
        NoSuchKey (and any other S3Error) as the remote answers."""
        return await self._single((bucket, key), lambda: self._discovered(bucket, key, whole))

    async def _discovered(self, bucket: str, key: str, whole: bool) -> Found:
        with trace("cache discover", object_attributes(bucket, key) if tracing() else None):
            return await self._discover(bucket, key, whole)

    async def _revalidated(self, entry: Entry, blocks: dict[int, str]) -> Found:
        where = object_attributes(entry.bucket, entry.key) if tracing() else None
        with trace("cache revalidate", where) as span:
            found = await self._revalidate(entry, blocks)
            span.set_attribute("s3d.cache.result", found[2])
            return found

    async def _discover(self, bucket: str, key: str, whole: bool) -> Found:
        answer = await self._remote.get_object(
            ops.GetObject(bucket, key, head=not whole, headers=_CHECKSUM_MODE)
        )
        body = stream_of(answer.body)
        try:
            entry = self._make(answer, bucket, key)
            await self._space.record(entry)
        except BaseException:
            if body is not None:
                await body.aclose()
            raise
        if body is not None:
            await self._adopt(entry, body)
        return entry, {}, "miss"

    async def _revalidate(self, entry: Entry, blocks: dict[int, str]) -> Found:
        conditional = (*_CHECKSUM_MODE, ("if-none-match", entry.etag))
        now = time.time()
        try:
            # A remote that accepts connections and never answers is as unreachable as one
            # that refuses them: the reader gets the stale copy, not the remote's timeouts.
            async with asyncio.timeout(self._deadline):
                head = await self._remote.get_object(
                    ops.GetObject(entry.bucket, entry.key, head=True, headers=conditional)
                )
        except NotModified:
            return await self._confirmed(entry, blocks, now)
        except NoSuchKey:
            await self._space.drop_key(entry.bucket, entry.key)
            raise
        except (ServiceUnavailable, TimeoutError):
            return entry, blocks, "stale"
        if quote_etag(header(head.headers, "etag") or "") == entry.etag:
            return await self._confirmed(entry, blocks, now)
        replacement = self._make(head, entry.bucket, entry.key)
        await self._space.record(replacement)
        return replacement, {}, "miss"

    async def _confirmed(self, entry: Entry, blocks: dict[int, str], now: float) -> Found:
        await self._index.validated(entry.id, now)
        return dataclasses.replace(entry, validated_at=now), blocks, "revalidated"

    async def _single(self, key: tuple[str, str], work: Callable[[], Awaitable[Found]]) -> Found:
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            found = await work()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters may be none
            raise
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
        future.set_result(found)
        return found

    def forget(self, bucket: str, key: str) -> None:
        """A write of the key: reads after it start a lookup of their own rather than share
        one begun before it, whose answer may describe the object before the write."""
        self._inflight.pop((bucket, key), None)


def entry_from(
    head: ObjectResponse,
    bucket: str,
    key: str,
    entry_id: str,
    settings: CacheSettings,
    now: float,
) -> Entry:
    """An entry for the object a HEAD described."""
    size = int(header(head.headers, "content-length") or 0)
    modified = parse_http_date(header(head.headers, "last-modified")) or datetime.now(UTC)
    block_size = layout(size, settings.block_size, settings.whole_object_max)
    return Entry(
        id=entry_id,
        bucket=bucket,
        key=key,
        etag=quote_etag(header(head.headers, "etag") or ""),
        size=size,
        last_modified=modified,
        headers=stored_headers(head.headers),
        block_size=block_size,
        validated_at=now,
    )


async def fetch_range(remote: Remote, fill: Fill) -> ByteStream:
    """The remote's bytes for ``fill``: a ranged GET conditional on the entry's ETag, so
    blocks of different versions never mix (412 PreconditionFailed if it changed)."""
    entry = fill.entry
    response = await remote.get_object(
        ops.GetObject(
            entry.bucket,
            entry.key,
            range=ByteRange(fill.start, fill.end - 1),
            headers=(("if-match", entry.etag),),
        )
    )
    body = stream_of(response.body)
    if body is None:
        raise InternalError("the remote answered a ranged read without a body")
    expected = f"bytes {fill.start}-{fill.end - 1}/{entry.size}"
    got = header(response.headers, "content-range")
    whole = response.status == 200 and fill.start == 0 and fill.end == entry.size
    if not whole and got != expected:
        await body.aclose()
        raise ServiceUnavailable(f"The remote answered {got!r} for {expected!r}")
    return body
