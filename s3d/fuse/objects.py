"""The S3 operations a mount makes, each through the gateway like an S3 request.

So a file read or written through the mount gets the cache (blocks, revalidation), the journal
(durability, per-key order, read-your-writes) and the catalogue exactly as a client of the S3
API does. Answers are turned into the few values a file system needs.
"""

from __future__ import annotations

import asyncio
import mmap
import os
from dataclasses import dataclass
from datetime import datetime

from s3d.gateway import Gateway
from s3d.protocol import operations as ops
from s3d.protocol.conditions import parse_http_date
from s3d.protocol.errors import InvalidRange, NoSuchKey
from s3d.protocol.model import (
    ByteStream,
    ListObjectsResult,
    LocalFile,
    ObjectResponse,
    header,
)
from s3d.protocol.ranges import ByteRange
from s3d.staging import StagedBody

PAGE = 999
"""Keys asked per listing page, and what a directory handle holds at a time: one fewer than
S3's most, because the merged listing looks one entry beyond a page to know whether another
follows. At 999 a single remote page of 1,000 answers that; at 1,000 every page would cost
a second remote call for one key (and moto scans the whole bucket for each call)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What ``stat`` needs of an object."""

    size: int
    mtime_ns: int
    etag: str


def mtime_ns(when: datetime | None) -> int:
    return int(when.timestamp() * 1e9) if when is not None else 0


class Objects:
    """The mount's view of one bucket, through ``gateway``. Raises S3Error (the errno edge in
    ``s3d/fuse/errors.py`` turns it into an errno)."""

    def __init__(self, gateway: Gateway, bucket: str) -> None:
        self.gateway = gateway
        self.bucket = bucket

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size, date and ETag (pending changes included); None when absent."""
        try:
            answer = await self.gateway.execute(ops.GetObject(self.bucket, key, head=True))
        except NoSuchKey:
            return None
        assert isinstance(answer, ObjectResponse)
        length = header(answer.headers, "content-length") or "0"
        modified = parse_http_date(header(answer.headers, "last-modified"))
        etag = header(answer.headers, "etag") or ""
        return ObjectInfo(int(length), mtime_ns(modified), etag)

    async def page(
        self,
        prefix: str,
        token: str | None = None,
        *,
        delimiter: str | None = "/",
        keys: int = PAGE,
    ) -> ListObjectsResult:
        """One page of the merged listing under ``prefix`` (pending puts in, deletes out)."""
        op = ops.ListObjects(
            self.bucket,
            version=2,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=keys,
            continuation_token=token,
        )
        result = await self.gateway.execute(op)
        assert isinstance(result, ListObjectsResult)
        return result

    async def read(self, key: str, first: int, last: int) -> tuple[bytes | memoryview, str]:
        """Bytes ``first`` to ``last`` (inclusive) of the object, through the cache (only the
        blocks holding them are fetched), and the ETag of the object they are from. Short (or
        empty) past the object's end. Cached bytes come mapped (``mapped``), not copied."""
        op = ops.GetObject(self.bucket, key, range=ByteRange(first, last))
        try:
            answer = await self.gateway.execute(op)
        except InvalidRange:
            return b"", ""  # the object is shorter than the kernel thought: end of file
        assert isinstance(answer, ObjectResponse)
        etag = header(answer.headers, "etag") or ""
        if isinstance(answer.body, LocalFile):
            return await asyncio.to_thread(mapped, answer.body), etag
        return await body_bytes(answer.body), etag

    async def put(self, key: str, body: StagedBody) -> None:
        """PUT ``body`` (the gateway owns it from here): durable once this returns."""
        await self.gateway.execute(ops.PutObject(self.bucket, key), body)

    async def delete(self, key: str) -> None:
        await self.gateway.execute(ops.DeleteObject(self.bucket, key))

    async def copy(self, source: str, target: str) -> None:
        await self.gateway.execute(
            ops.CopyObject(self.bucket, target, ops.CopySource(self.bucket, source))
        )


async def body_bytes(body: ByteStream | LocalFile | bytes | None) -> bytes:
    """The bytes of an answer's body, whatever form it came in; a local file is released and a
    stream closed, also on cancellation."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, LocalFile):
        try:
            return await asyncio.to_thread(os.pread, body.file.fileno(), body.length, body.offset)
        finally:
            body.release()
    chunks: list[bytes] = []
    try:
        async for chunk in body:
            chunks.append(chunk)
    finally:
        await body.aclose()
    return b"".join(chunks)


def mapped(body: LocalFile) -> memoryview:
    """The bytes of a cached file, mapped rather than read (blocking: call in a thread).

    The kernel then copies them from the page cache straight into its FUSE reply: one copy
    fewer than reading them into memory, and slicing the view copies nothing. The pages are
    mapped in here (``MAP_POPULATE``), so touching them later on the event loop does not wait
    for the disk. A data file keeps the object's size from its creation (eviction unlinks it,
    which a mapping outlives), so the mapping never points past its end. The mapping goes
    when the last view of it does; the file is released at once."""
    try:
        if body.length == 0:
            return memoryview(b"")
        start = body.offset - body.offset % mmap.ALLOCATIONGRANULARITY
        flags = mmap.MAP_SHARED | mmap.MAP_POPULATE
        area = mmap.mmap(
            body.file.fileno(),
            body.offset + body.length - start,
            flags=flags,
            prot=mmap.PROT_READ,
            offset=start,
        )
        skip = body.offset - start
        return memoryview(area)[skip : skip + body.length]
    finally:
        body.release()
