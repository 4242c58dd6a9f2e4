"""A fill: one remote GET streaming a run of an entry's blocks into its data file.

Readers follow a fill as it progresses (``wait_for``), so a client never waits for more than
the bytes it is about to receive, and concurrent readers of the same blocks share one remote
request. Each block is committed (fdatasync, CRC32C, index row) by ``on_block`` as soon as its
last byte is written; a fill that fails, is stopped or whose entry was invalidated commits
nothing more, so a half-written block is never recorded.

State: ``progress`` is the absolute offset up to which bytes are written, contiguous from the
fill's start; it only grows. ``finished`` is set once, with ``error`` when it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from s3d.cache.datafile import DataFile
from s3d.cache.entry import Entry
from s3d.protocol.checksums import Checksum
from s3d.protocol.errors import InternalError, S3Error, ServiceUnavailable
from s3d.protocol.model import ByteStream

log = logging.getLogger("s3d.cache")

WRITE_CHUNK = 1 << 20
"""Bytes gathered before one write to the data file (one worker-thread hop)."""

OnBlock = Callable[[int, int, str, int], Awaitable[bool]]
"""(block index, length, CRC32C, data file mtime_ns) -> False when the entry is gone."""


class Fill:
    def __init__(self, entry: Entry, first: int, last: int, file: DataFile, on_block: OnBlock):
        self.entry = entry
        self.first, self.last = first, last
        self.start = entry.span(first)[0]
        self.end = entry.span(last)[1]
        self.file = file
        self.progress = self.start
        self.finished = False
        self.error: BaseException | None = None
        self.stop_after: int | None = None
        """Set when no reader is left: stop after this block rather than fetch the rest."""
        self.cancelled = False
        self.committed: set[int] = set()
        self._on_block = on_block
        self._changed = asyncio.Event()

    def covers(self, block: int) -> bool:
        if self.finished and self.error is not None:
            return False
        limit = self.last if self.stop_after is None else min(self.last, self.stop_after)
        return self.first <= block <= limit

    async def settled(self, block: int) -> None:
        """Return once ``block`` is committed or the fill has ended, however it ended."""
        while block not in self.committed and not self.finished:
            await self._changed.wait()

    async def wait_for(self, offset: int) -> None:
        """Return once byte ``offset`` is written. Raises the fill's error (or
        ServiceUnavailable) when it ended before reaching it."""
        while self.progress <= offset and not self.finished:
            await self._changed.wait()
        if self.progress <= offset:
            raise (
                self.error
                if isinstance(self.error, S3Error)
                else ServiceUnavailable("The remote stopped sending this object")
            )

    def fail(self, error: BaseException) -> None:
        """End the fill before it started streaming (its remote request failed)."""
        if not self.finished:
            self.error = error
            self.finished = True
            self._changed.set()

    def _advance(self, offset: int) -> None:
        self.progress = offset
        self._changed.set()
        self._changed = asyncio.Event()

    async def run(self, body: ByteStream) -> None:
        """Stream ``body`` (the remote's answer for bytes start..end-1) into the file.
        Never raises: the outcome is in ``error`` for the readers."""
        try:
            await self._stream(body)
            if self.progress < self.end and not self._stopped():
                raise ServiceUnavailable("The remote sent fewer bytes than announced")
        except asyncio.CancelledError:
            self.error = ServiceUnavailable("s3d is stopping")
            raise
        except Exception as exc:  # every failure ends in `error`, read by the followers
            self.error = exc if isinstance(exc, S3Error) else InternalError(str(exc))
            if not isinstance(exc, S3Error):
                log.exception("cache fill of %s/%s failed", self.entry.bucket, self.entry.key)
        finally:
            self.finished = True
            self._changed.set()
            with contextlib.suppress(Exception):
                await body.aclose()

    def _stopped(self) -> bool:
        return self.cancelled or (
            self.stop_after is not None and self.progress >= self.entry.span(self.stop_after)[1]
        )

    async def _stream(self, body: ByteStream) -> None:
        block = self.first
        block_end = self.entry.span(block)[1]
        crc = Checksum.new("CRC32C")
        pending = bytearray()
        written = self.progress
        async for chunk in body:
            view = memoryview(chunk)
            while view:
                take = min(len(view), block_end - (written + len(pending)))
                pending += view[:take]
                view = view[take:]
                if written + len(pending) == block_end or len(pending) >= WRITE_CHUNK:
                    written = await self._write(written, pending, crc)
                    pending = bytearray()
                if written == block_end:
                    if not await self._commit(block, crc) or self._stopped():
                        return
                    if block == self.last:
                        return
                    block += 1
                    block_end = self.entry.span(block)[1]
                    crc = Checksum.new("CRC32C")
            if self.cancelled:
                return
        if pending:
            await self._write(written, pending, crc)

    async def _write(self, offset: int, data: bytearray, crc: Checksum) -> int:
        payload = bytes(data)
        await asyncio.to_thread(_write_and_hash, self.file, offset, payload, crc)
        self._advance(offset + len(payload))
        return offset + len(payload)

    async def _commit(self, block: int, crc: Checksum) -> bool:
        if self.cancelled:
            return False
        start, end = self.entry.span(block)
        mtime = await (self.file.publish() if self.file.partial else self.file.sync())
        if not await self._on_block(block, end - start, crc.b64digest(), mtime):
            return False
        self.committed.add(block)
        self._changed.set()
        self._changed = asyncio.Event()
        return True


def _write_and_hash(file: DataFile, offset: int, data: bytes, crc: Checksum) -> None:
    # One worker-thread hop for both: the write and the CRC of the same bytes.
    os.pwrite(file.fileno(), data, offset)
    crc.update(data)
