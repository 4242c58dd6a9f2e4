"""Bytes of objects as the journal sees them: pending ones from its files, others from the
remote, streamed into the staging area when a copy needs them locally.

``open_segments`` opens journal files (in a worker thread) as one ``ByteStream`` over byte
ranges of them — a pending object's single file or its parts. ``stage_from`` streams any
``ByteStream`` into a new staged body, computing its digests, in bounded memory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from s3d.protocol.model import ByteStream
from s3d.staging import StagedBody, StagingArea

CHUNK = 1 << 20

Segment = tuple[Path, int, int]
"""(file, offset, length)."""


class SegmentsStream:
    """Consecutive byte ranges of files, read in worker threads. Always ``aclose``."""

    def __init__(self, fds: list[tuple[int, int, int]]) -> None:
        self._fds = fds
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        for fd, offset, length in self._fds:
            position, end = offset, offset + length
            while position < end and not self._closed:
                data = await asyncio.to_thread(os.pread, fd, min(CHUNK, end - position), position)
                if not data:
                    raise OSError("a journal file ended early")
                position += len(data)
                yield data

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await asyncio.to_thread(_close_all, [fd for fd, _, _ in self._fds])


def _close_all(fds: list[int]) -> None:
    for fd in dict.fromkeys(fds):
        os.close(fd)


async def open_segments(segments: list[Segment]) -> SegmentsStream:
    """Open the files now (so a file moved or deleted later is still read whole)."""
    return SegmentsStream(await asyncio.to_thread(_open_all, segments))


def _open_all(segments: list[Segment]) -> list[tuple[int, int, int]]:
    opened: dict[Path, int] = {}
    try:
        for path, _, _ in segments:
            if path not in opened:
                opened[path] = os.open(path, os.O_RDONLY)
    except BaseException:
        _close_all(list(opened.values()))
        raise
    return [(opened[path], offset, length) for path, offset, length in segments]


def cut(segments: list[Segment], first: int, last: int) -> list[Segment]:
    """The sub-ranges of ``segments`` holding bytes first..last (inclusive) of their
    concatenation."""
    out: list[Segment] = []
    start = 0
    for path, offset, length in segments:
        end = start + length
        lo, hi = max(first, start), min(last + 1, end)
        if lo < hi:
            out.append((path, offset + lo - start, hi - lo))
        start = end
    return out


async def stage_from(stream: ByteStream, staging: StagingArea) -> StagedBody:
    """A staged body holding everything ``stream`` yields (closed afterwards). Raises what
    the stream raises; the staged file is deleted then."""
    try:
        async with staging.writer() as writer:
            async for chunk in stream:
                await writer.write(chunk)
            return await writer.finish(durable=True)
    finally:
        await stream.aclose()
