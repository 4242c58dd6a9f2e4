"""A file being written through the mount: its bytes in a scratch file until uploaded.

Owns one scratch file in the staging directory (removed by the staging area at the next start
if the daemon dies: nothing in it was acknowledged). Writes land at any offset; ``load`` first
brings the object's current bytes when the writer did not truncate it (random writes and
appends, as rclone's VFS write cache does). ``stage`` copies the bytes, hashed, into a staged
body the gateway PUTs; the scratch file stays for further writes until ``close``.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import uuid
from pathlib import Path

from s3d.fuse.digests import RunningDigests
from s3d.protocol.model import LocalFile, ObjectResponse
from s3d.staging import StagedBody

_CHUNK = 1 << 20


class Scratch:
    """The scratch file of one open-for-writing handle. Every method may raise OSError."""

    def __init__(self, directory: Path, path: Path, fd: int) -> None:
        self._directory = directory
        self.path = path
        self._fd = fd
        self.size = 0
        self.dirty = False
        self.unlinked = False
        """Its name was unlinked while open: nothing is uploaded any more."""
        self.digests = RunningDigests()

    @classmethod
    async def create(cls, directory: Path) -> Scratch:
        """A new, empty scratch file in ``directory``."""
        path = directory / f"{uuid.uuid4().hex}.fuse"
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
        return cls(directory, path, await asyncio.to_thread(os.open, path, flags, 0o600))

    async def fill(self, answer: ObjectResponse) -> None:
        """Replace the content with a GET answer's body (the object's current bytes)."""
        body = answer.body
        await asyncio.to_thread(os.ftruncate, self._fd, 0)
        self.digests.reset()
        offset = 0
        if isinstance(body, bytes):
            offset = await self.write(0, body)
        elif isinstance(body, LocalFile):
            self.digests.give_up()  # copied without being seen
            try:
                offset = await asyncio.to_thread(self._copy_from, body)
            finally:
                body.release()
        elif body is not None:
            try:
                async for chunk in body:
                    offset += await self.write(offset, chunk)
            finally:
                await body.aclose()
        self.size = offset
        self.dirty = False

    def _copy_from(self, body: LocalFile) -> int:
        done = 0
        while done < body.length:
            chunk = os.pread(
                body.file.fileno(), min(_CHUNK, body.length - done), body.offset + done
            )
            if not chunk:
                break
            os.pwrite(self._fd, chunk, done)
            done += len(chunk)
        return done

    async def write(self, offset: int, data: bytes) -> int:
        written = await asyncio.to_thread(self._write, offset, data)
        self.size = max(self.size, offset + written)
        self.dirty = True
        return written

    def _write(self, offset: int, data: bytes) -> int:
        written = os.pwrite(self._fd, data, offset)
        self.digests.wrote(offset, data[:written])
        return written

    async def read(self, offset: int, size: int) -> bytes:
        return await asyncio.to_thread(os.pread, self._fd, size, offset)

    async def truncate(self, size: int) -> None:
        await asyncio.to_thread(os.ftruncate, self._fd, size)
        if size == 0:
            self.digests.reset()
        elif size != self.size:
            self.digests.give_up()
        self.size = size
        self.dirty = True

    async def stage(self) -> StagedBody:
        """A copy of the bytes as a staged body (MD5 and SHA-256 computed on the way)."""
        return await asyncio.to_thread(self._stage)

    def _stage(self) -> StagedBody:
        target = self._directory / f"{uuid.uuid4().hex}.part"
        known = self.digests.of(self.size)
        if known is not None:  # hashed as written: a copy in the kernel is enough
            with open(target, "xb") as out:
                _copy_range(self._fd, out.fileno(), self.size)
            return StagedBody(target, self.size, *known)
        md5, sha256 = hashlib.md5(), hashlib.sha256()
        done = 0
        with open(target, "xb") as out:
            while done < self.size:
                chunk = os.pread(self._fd, min(_CHUNK, self.size - done), done)
                if not chunk:
                    break
                md5.update(chunk)
                sha256.update(chunk)
                out.write(chunk)
                done += len(chunk)
        return StagedBody(target, done, md5.digest(), sha256.digest())

    async def close(self) -> None:
        """Close and delete the scratch file. Safe to call twice."""
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        await asyncio.to_thread(_discard, fd, self.path)


def _copy_range(source: int, target: int, size: int) -> None:
    done = 0
    while done < size:
        copied = os.copy_file_range(source, target, size - done, done, done)
        if copied == 0:
            raise OSError(errno.EIO, "the scratch file ended before its size")
        done += copied


def _discard(fd: int, path: Path) -> None:
    os.close(fd)
    path.unlink(missing_ok=True)
