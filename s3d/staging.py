"""The staging area: request bodies land here, verified, before anything reaches the remote.

Owns ``<data-dir>/staging``. A body is written to a uniquely named temporary file while its
MD5, SHA-256 and any requested S3 checksum are computed; it becomes a ``StagedBody`` only
when complete. A writer that is abandoned (bad signature, short body, client gone) deletes
its file. Files left by a crash are removed when the area opens. The write-back journal keeps
staged files (fsynced) as its pending data; in write-through they are deleted after upload.

File work runs in worker threads (``asyncio.to_thread``): hashing releases the GIL, so a
large upload hashes on another core while the event loop keeps serving. A small body (at most
``MEMORY_MAX`` bytes, its length known) stays in memory instead, hashed on the loop as it
arrives: no file and no worker-thread hop. The write-back journal commits such a body's bytes
with its job; every other consumer asks for it on disk first (``on_disk``). A body above
``hash_parts``'s size also gets the MD5 of each part of the layout it will be uploaded in, as
it is written, so that its acknowledgement does not read it back to compute them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from s3d.durable import fsync_dir
from s3d.protocol.checksums import Checksum

_FLUSH_AT = 1 << 20
MEMORY_MAX = 128 * 1024
"""Largest body kept in memory: hashing it on the loop (~0.3 ms at this size) costs less than
the worker-thread hops a file costs, which wait for a busy loop to come back to them."""


@dataclass(frozen=True, slots=True)
class StagedBody:
    """A complete, verified request body on local disk."""

    path: Path
    size: int
    md5: bytes
    sha256: bytes
    checksums: tuple[tuple[str, str], ...] = ()
    """Verified S3 checksums as (algorithm upper-case, base64 value)."""
    offset: int = 0
    """Where the body starts in ``path``: a part of a larger journaled file."""
    data: bytes | None = None
    """The bytes of a body kept in memory; then nothing is at ``path`` (see ``on_disk``)."""
    part_size: int = 0
    part_md5s: tuple[bytes, ...] = ()
    """MD5 of each ``part_size`` piece of the body, when staging computed them."""

    @property
    def etag(self) -> str:
        return f'"{self.md5.hex()}"'

    def read_bytes(self) -> bytes:
        """The whole body; for the small XML documents of control operations only."""
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as file:
            return os.pread(file.fileno(), self.size, self.offset)


@dataclass(slots=True)
class _Digests:
    md5: hashlib._Hash = field(default_factory=hashlib.md5)
    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    extra: dict[str, Checksum] = field(default_factory=dict)

    def update(self, data: bytes) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        for checksum in self.extra.values():
            checksum.update(data)


@dataclass(slots=True)
class _PartMd5s:
    """MD5s of consecutive ``size``-byte pieces of what is written."""

    size: int
    done: list[bytes] = field(default_factory=list)
    current: hashlib._Hash = field(default_factory=hashlib.md5)
    filled: int = 0

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self.size - self.filled)
            self.current.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.size:
                self.done.append(self.current.digest())
                self.current, self.filled = hashlib.md5(), 0

    def digests(self) -> tuple[bytes, ...]:
        return (*self.done, self.current.digest()) if self.filled else tuple(self.done)


class StagingWriter:
    """Writes one body. ``write`` chunks, then ``finish`` or ``abort``; used as an async
    context manager it aborts unless finished. Cancellation aborts and deletes the file."""

    def __init__(
        self,
        path: Path,
        algorithms: tuple[str, ...],
        *,
        in_memory: bool = False,
        part_size: int = 0,
    ) -> None:
        self._path = path
        self._file: BinaryIO | None = None  # opened by the first write, in a worker thread
        self._digests = _Digests(extra={alg: Checksum.new(alg) for alg in algorithms})
        self._parts = _PartMd5s(part_size) if part_size > 0 else None
        self._in_memory = in_memory
        self._buffer = bytearray()
        self._size = 0
        self._done = False

    @property
    def size(self) -> int:
        return self._size

    async def write(self, data: bytes) -> None:
        self._buffer += data
        self._size += len(data)
        if self._in_memory:
            # Hashed as it arrives, on the loop; the caller stops a body longer than announced.
            self._digests.update(data)
        elif len(self._buffer) >= _FLUSH_AT:
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer:
            return
        chunk = bytes(self._buffer)
        self._buffer.clear()
        await asyncio.to_thread(self._write_chunk, chunk)

    def _opened(self) -> BinaryIO:
        if self._file is None:
            self._file = open(self._path, "xb")  # noqa: SIM115 - closed by finish/abort
        return self._file

    def _write_chunk(self, chunk: bytes) -> None:
        self._opened().write(chunk)
        self._digests.update(chunk)
        if self._parts is not None:
            self._parts.update(chunk)

    def digest(self, algorithm: str) -> str:
        """The base64 value of a checksum requested at open; valid after ``finish``."""
        return self._digests.extra[algorithm].b64digest()

    async def finish(self, *, durable: bool = False) -> StagedBody:
        """Flush and close the file; with ``durable`` fsync it and its directory. One hop to
        a worker thread for what is still buffered (all of a small body) and the close; none
        for a body kept in memory (``durable`` does not apply to it)."""
        chunk = bytes(self._buffer)
        self._buffer.clear()
        if not self._in_memory:
            await asyncio.to_thread(self._write_and_close, chunk, durable)
        self._done = True
        parts = self._parts
        return StagedBody(
            path=self._path,
            size=self._size,
            md5=self._digests.md5.digest(),
            sha256=self._digests.sha256.digest(),
            checksums=tuple(
                (alg, checksum.b64digest()) for alg, checksum in self._digests.extra.items()
            ),
            data=chunk if self._in_memory else None,
            part_size=parts.size if parts is not None else 0,
            part_md5s=parts.digests() if parts is not None else (),
        )

    def _write_and_close(self, chunk: bytes, durable: bool) -> None:
        if chunk:
            self._write_chunk(chunk)
        self._close(durable)

    def _close(self, durable: bool) -> None:
        file = self._opened()
        file.flush()
        if durable:
            os.fsync(file.fileno())
        file.close()
        if durable:
            fsync_dir(self._path.parent)

    async def abort(self) -> None:
        """Close and delete the file. Safe to call twice and after finish (then a no-op)."""
        if self._done:
            return
        self._done = True
        if self._in_memory:
            self._buffer.clear()
            return
        await asyncio.to_thread(self._discard)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self._path.unlink(missing_ok=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            await asyncio.shield(self.abort())


class StagingArea:
    """The ``staging`` directory of the data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._parts_above = -1
        self._part_size = 0

    def hash_parts(self, above: int, part_size: int) -> None:
        """Bodies longer than ``above`` get the MD5s of their ``part_size`` pieces as they are
        staged (the write-back journal uploads them in that layout and answers its ETag)."""
        self._parts_above, self._part_size = above, part_size

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self._reset)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def _reset(self) -> None:
        # Nothing in staging outlives the process in this mode: a body there was never
        # acknowledged. The write-back journal moves what it acknowledges out of here.
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)

    def writer(self, algorithms: tuple[str, ...] = (), length: int | None = None) -> StagingWriter:
        """A writer for a new body computing MD5, SHA-256 and ``algorithms`` (CRC32…).
        ``length``: the body's announced length, when known: a small body stays in memory, a
        large one gets its part MD5s (``hash_parts``)."""
        in_memory = length is not None and length <= MEMORY_MAX
        hashed = length is not None and 0 <= self._parts_above < length and self._part_size > 0
        return StagingWriter(
            self.root / f"{uuid.uuid4().hex}.part",
            algorithms,
            in_memory=in_memory,
            part_size=self._part_size if hashed else 0,
        )

    async def on_disk(self, body: StagedBody) -> StagedBody:
        """``body`` with its bytes in its file: a body kept in memory is written out (one
        worker-thread hop), for consumers that read a file (remote calls, parts, copies).
        Raises OSError."""
        if body.data is None:
            return body
        await asyncio.to_thread(_write_file, body.path, body.data)
        return replace(body, data=None)

    async def discard(self, body: StagedBody) -> None:
        """Delete ``body``'s file, if it is still here (the journal moves the bodies it keeps:
        then nothing is left to do, and no worker thread is woken for it)."""
        if _still_there(body.path):
            await asyncio.to_thread(body.path.unlink, True)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as file:
        file.write(data)


def _still_there(path: Path) -> bool:
    # One lstat on the event loop (a cached directory entry: about a microsecond), where a
    # worker-thread hop costs tens of microseconds idle and milliseconds on a busy loop.
    return os.path.lexists(path)
