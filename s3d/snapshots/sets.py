"""Snapshot sets read through the gateway: listed from the merged listing, opened pinned.

``list`` pages through the gateway's ListObjectsV2 of the set's prefix — in write-back, the
merged listing: a snapshot written here and not uploaded yet is listed (and served) like any
other. ``open`` GETs the chosen snapshot through the gateway (journal, then cache, then the
remote) with ``If-Match`` on the ETag the listing gave: if the key was overwritten between
the two, the download is refused with 412 rather than serving other bytes under the listed
name. ``chunks`` reads any body the gateway answers (bytes, a cached file, a stream) as
chunks, releasing it however the reading ends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from s3d.gateway import Gateway
from s3d.protocol import operations as ops
from s3d.protocol.conditions import Conditions
from s3d.protocol.model import (
    ByteStream,
    ListObjectsResult,
    LocalFile,
    ObjectEntry,
    ObjectResponse,
    bare_etag,
)
from s3d.snapshots.naming import NamingRules, Snapshot, snapshots

MAX_LISTED = 100_000
"""Keys one listing of a set reads at most (a set is backups, not a data lake)."""
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SnapshotSets:
    gateway: Gateway
    rules: NamingRules

    async def list(self, bucket: str, prefix: str) -> list[Snapshot]:
        """The set's snapshots, newest first. Raises the gateway's S3 errors (NoSuchBucket…)."""
        entries: list[ObjectEntry] = []
        token: str | None = None
        while len(entries) < MAX_LISTED:
            op = ops.ListObjects(bucket, version=2, prefix=prefix, continuation_token=token)
            result = await self.gateway.execute(op)
            assert isinstance(result, ListObjectsResult)
            entries += result.contents
            token = result.next_continuation_token
            if not result.is_truncated or not token:
                break
        return snapshots(entries, prefix, self.rules)

    async def open(self, bucket: str, snapshot: Snapshot) -> ObjectResponse:
        """GET the snapshot pinned to its listed ETag. Raises PreconditionFailed, NoSuchKey."""
        pinned = Conditions(if_match=(bare_etag(snapshot.etag),))
        result = await self.gateway.execute(ops.GetObject(bucket, snapshot.key, conditions=pinned))
        assert isinstance(result, ObjectResponse)
        return result


async def chunks(body: ByteStream | LocalFile | bytes | None) -> AsyncIterator[bytes]:
    """The bytes of ``body`` in chunks; the body is closed or released at the end, on error
    and on cancellation."""
    if body is None:
        return
    if isinstance(body, bytes):
        yield body
        return
    if isinstance(body, LocalFile):
        try:
            left, offset = body.length, body.offset
            while left > 0:
                data = await asyncio.to_thread(_pread, body, offset, min(_CHUNK, left))
                if not data:
                    raise EOFError("the cached file is shorter than its entry")
                left, offset = left - len(data), offset + len(data)
                yield data
        finally:
            body.release()
        return
    try:
        async for data in body:
            yield data
    finally:
        await body.aclose()


def _pread(body: LocalFile, offset: int, size: int) -> bytes:
    return os.pread(body.file.fileno(), size, offset)
