"""Objects register themselves in the catalogue as they pass through the gateway.

- An acknowledged PutObject: its SHA-256 and MD5 were computed while the body was staged.
- A full GET answered from the remote (a 200 read to its end, never a 206, never a cache
  hit): the body is hashed as it streams to the client; a client that leaves early registers
  nothing.
- A completed multipart upload, or a copy whose source s3d cannot vouch for: registered at
  once under a provisional id with its ETag, then hashed in the background by reading it back
  through the gateway (from the journal's local files while pending, else through the cache)
  with ``If-Match`` on that ETag, and moved to its content id.
- A copy whose source this node knows with the same single-part ETag: the source's record, at
  the new key too.
- A delete: the key's access methods become unavailable. Any write of a key does the same for
  the objects it held before (``CatalogueStore.register``), so an old id never serves new bytes.

Keys named ``drs.index``/``drs.index.gz`` are the catalogue's own files and are not registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from s3d.catalogue.service import Catalogue, Observed, is_index_key
from s3d.protocol import operations as ops
from s3d.protocol.conditions import Conditions
from s3d.protocol.errors import S3Error
from s3d.protocol.model import (
    ByteStream,
    LocalFile,
    ObjectResponse,
    Result,
    bare_etag,
    header,
    stream_of,
)
from s3d.staging import StagedBody

log = logging.getLogger("s3d.catalogue")

Reader = Callable[[ops.GetObject], Awaitable[Result]]
"""Reads an object through the gateway without registering it again."""

HASH_IN_THREAD_FROM = 64 * 1024
"""Chunks at least this long are hashed in a worker thread (hashlib releases the GIL)."""
_MD5_HEX = 32


class CatalogueFeed:
    """Turns the gateway's completed operations into catalogue registrations."""

    def __init__(self, catalogue: Catalogue, read: Reader) -> None:
        self.catalogue = catalogue
        self._read = read
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Stop the background hashing (what it did not finish stays provisional)."""
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def idle(self) -> None:
        """Wait until background hashing started so far is done (tests, export)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.catalogue.settled()

    def observe(self, op: ops.Operation, result: Result, body: StagedBody | None) -> None:
        """``op`` succeeded with ``result``; queue what it teaches the catalogue."""
        catalogue = self.catalogue
        match op:
            case ops.PutObject() if body is not None and not is_index_key(op.key):
                seen = Observed(
                    op.bucket,
                    op.key,
                    body.size,
                    _etag(result) or body.etag,
                    body.sha256.hex(),
                    body.md5.hex(),
                    header(op.headers, "content-type") or "",
                )
                catalogue.submit(lambda: catalogue.register(seen))
            case ops.CompleteMultipartUpload() if not is_index_key(op.key):
                etag = _etag(result)
                if etag:
                    self._spawn(self._learn(op.bucket, op.key, etag))
            case ops.CopyObject() if not is_index_key(op.key):
                etag = _etag(result)
                if etag:
                    self._spawn(self._learn(op.bucket, op.key, etag, op.source))
            case ops.DeleteObject() if op.version_id is None:
                catalogue.submit(lambda: catalogue.gone(op.bucket, op.key))
            case ops.DeleteObjects():
                for item in op.objects:
                    if item.version_id is None:
                        self._gone(op.bucket, item.key)

    def _gone(self, bucket: str, key: str) -> None:
        self.catalogue.submit(lambda: self.catalogue.gone(bucket, key))

    def wrap_read(self, op: ops.GetObject, response: ObjectResponse) -> ObjectResponse:
        """A whole-object GET answered from the remote: its body, hashed as it streams."""
        stream = stream_of(response.body)
        if (
            stream is None  # a hit (local file, memory) or a HEAD: first, the cheapest test
            or op.head
            or op.range is not None
            or op.part_number is not None
            or op.version_id is not None
            or response.status != 200
            or response.provenance.cache not in (None, "miss", "bypass")
            or response.provenance.state == "pending"  # the journal's own bytes
            or is_index_key(op.key)
        ):
            return response
        etag = header(response.headers, "etag")
        length = header(response.headers, "content-length")
        if not etag or length is None or not length.isdigit():
            return response
        size = int(length)
        mime = header(response.headers, "content-type") or ""

        def done(sha256: str, read: int) -> None:
            if read == size:
                seen = Observed(op.bucket, op.key, size, etag, sha256, mime_type=mime)
                self.catalogue.submit(lambda: self.catalogue.register(seen))

        return dataclasses.replace(response, body=HashingStream(stream, done))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _learn(
        self, bucket: str, key: str, etag: str, source: ops.CopySource | None = None
    ) -> None:
        """Register an object known by its ETag: from its copy source's record when that is
        certainly the same bytes, else provisionally, then by its content once hashed."""
        try:
            await self._learn_now(bucket, key, etag, source)
        except S3Error as error:
            # Overwritten since (412), deleted (404), remote unreachable: the record stays
            # provisional, or absent; a later write or read of the key registers it again.
            log.info("catalogue: %s/%s not hashed: %s", bucket, key, error.code)
        except Exception:
            log.exception("catalogue: hashing %s/%s failed", bucket, key)

    async def _learn_now(
        self, bucket: str, key: str, etag: str, source: ops.CopySource | None
    ) -> None:
        catalogue = self.catalogue
        head = await self._read(ops.GetObject(bucket, key, head=True))
        assert isinstance(head, ObjectResponse)
        if bare_etag(header(head.headers, "etag")) != bare_etag(etag):
            return  # written again since: that write registers itself
        size = int(header(head.headers, "content-length") or 0)
        mime = header(head.headers, "content-type") or ""
        seen = Observed(bucket, key, size, etag, "", mime_type=mime)
        if source is not None and source.version_id is None:
            await catalogue.settled()
            for object_id, method in await catalogue.store.at_key(source.bucket, source.key):
                # A single-part ETag is the MD5 of the bytes: equal ETags, equal bytes.
                if method.available and _is_md5(method.etag) and method.etag == bare_etag(etag):
                    record = await catalogue.store.get(object_id)
                    sha256 = dict(record.checksums).get("sha256") if record else None
                    if sha256:
                        copied = Observed(bucket, key, size, etag, sha256, method.etag, mime)
                        catalogue.submit(functools.partial(catalogue.register, copied))
                        return
        provisional: list[str] = []

        async def provisionally() -> None:
            provisional.append(await catalogue.register_provisional(seen))

        catalogue.submit(provisionally)
        got = await self._read(
            ops.GetObject(bucket, key, conditions=Conditions(if_match=(bare_etag(etag),)))
        )
        assert isinstance(got, ObjectResponse)
        sha256, md5, read = await digest_body(got.body)
        if read != size:
            return
        hashed = Observed(bucket, key, size, etag, sha256, md5, mime)
        await catalogue.settled()
        catalogue.submit(lambda: catalogue.register(hashed, replaces=tuple(provisional)))


class HashingStream:
    """A ``ByteStream`` passing another's chunks through while hashing them (SHA-256); calls
    ``done(sha256_hex, bytes)`` once the inner stream ends, never when the reader leaves early."""

    def __init__(self, inner: ByteStream, done: Callable[[str, int], None]) -> None:
        self._inner = inner
        self._done = done
        self._sha256 = hashlib.sha256()
        self._read = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if len(chunk) >= HASH_IN_THREAD_FROM:
                await asyncio.to_thread(self._sha256.update, chunk)
            else:
                self._sha256.update(chunk)
            self._read += len(chunk)
            yield chunk
        self._done(self._sha256.hexdigest(), self._read)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def chunks_of(body: ByteStream | LocalFile | bytes | None) -> AsyncGenerator[bytes, None]:
    """The bytes of an object body of any kind, which is released at the end (or on error)."""
    if isinstance(body, bytes):
        yield body
    elif isinstance(body, LocalFile):
        try:
            done, fd = 0, body.file.fileno()
            while done < body.length:
                size = min(1 << 20, body.length - done)
                chunk = await asyncio.to_thread(os.pread, fd, size, body.offset + done)
                if not chunk:
                    return
                done += len(chunk)
                yield chunk
        finally:
            body.release()
    elif body is not None:
        try:
            async for chunk in body:
                yield chunk
        finally:
            await body.aclose()


async def digest_body(body: ByteStream | LocalFile | bytes | None) -> tuple[str, str, int]:
    """(SHA-256 hex, MD5 hex, length) of an object body of any kind, which is released."""
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    length = 0

    def update(chunk: bytes) -> None:
        sha256.update(chunk)
        md5.update(chunk)

    async with contextlib.aclosing(chunks_of(body)) as chunks:
        async for chunk in chunks:
            await asyncio.to_thread(update, chunk)
            length += len(chunk)
    return sha256.hexdigest(), md5.hexdigest(), length


def _etag(result: Result) -> str | None:
    etag = getattr(result, "etag", None)
    if isinstance(etag, str) and etag:
        return etag
    headers = getattr(result, "headers", None)
    return header(headers, "etag") if headers else None


def _is_md5(etag: str) -> bool:
    return len(etag) == _MD5_HEX and all(c in "0123456789abcdef" for c in etag)
