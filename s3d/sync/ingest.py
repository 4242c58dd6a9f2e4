"""A complete file of a sync folder into the journal: by hard link when it can, else a copy.

On the data directory's file system the file is hard-linked into the staging area (no byte is
copied: the journal's file and the folder's are one inode until the folder's is removed) and
hashed there; from another file system it is copied while hashing, fsynced, and read back to
check the copy's SHA-256 against the source's. Either way the file's size and mtime are taken
before and after: a file that changed meanwhile was not complete after all, and is left for
the completion rule to look at again (``Changed``). Then the journal's ordinary path: the body
moves into the journal and its put is recorded in one durable transaction, which answers the
job — its ``seq`` is what the journal names when the change is uploaded.

A crash at any point leaves the folder's file untouched: a link or copy in staging is removed
at the next start, a recorded job uploads after it, and the rescan at start ingests the file
again (the newer put supersedes the older while it waits).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from s3d.durable import fsync_dir
from s3d.journal.records import Part
from s3d.journal.service import Journal
from s3d.protocol.model import Headers
from s3d.staging import StagedBody

_CHUNK = 1 << 20


class Changed(Exception):
    """The file changed while it was being taken in: it was not complete."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What says a file is still the one that was taken in: inode, size, mtime."""

    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Identity:
        st = path.stat()
        return cls(st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class Ingested:
    seq: int
    identity: Identity
    linked: bool


async def ingest(
    journal: Journal,
    staging: Path,
    source: Path,
    bucket: str,
    key: str,
    *,
    link: bool = True,
    headers: Headers = (),
) -> Ingested:
    """Journal ``source`` as a put of ``bucket``/``key``. Raises Changed, OSError, and the
    journal's S3 errors (NoSuchBucket…). Cancelled, nothing is recorded or the job is whole
    (the journal sees its commit through)."""
    part_size = journal.settings.part_size
    staged = await asyncio.to_thread(_stage, source, staging, link, part_size)
    body, identity, linked, layout = staged
    parts = layout if body.size > journal.settings.multipart_threshold else None
    try:
        await journal.buckets.check(bucket)
        async with journal.core.locked([(bucket, key)]):
            _change, job = await journal.acks.record_object(bucket, key, body, headers, parts)
    except BaseException:
        await asyncio.to_thread(body.path.unlink, True)
        raise
    return Ingested(job.seq, identity, linked)


def _stage(
    source: Path, staging: Path, link: bool, part_size: int
) -> tuple[StagedBody, Identity, bool, tuple[Part, ...]]:
    before = Identity.of(source)
    target = staging / f"{uuid.uuid4().hex}.part"
    linked = link and _linked(source, target)
    digests = _Digests(part_size)
    try:
        if linked:
            _read(target, digests)
        else:
            _copy(source, target, digests)
        if Identity.of(source) != before or (linked and Identity.of(target) != before):
            raise Changed(str(source))
        fsync_dir(staging)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    body = StagedBody(target, before.size, digests.md5.digest(), digests.sha256.digest())
    return body, before, linked, digests.finish()


class _Digests:
    """MD5 and SHA-256 of the whole, and the MD5 of each ``part_size`` part, in one read (the
    journal's multipart layout: it need not read a large file a second time)."""

    def __init__(self, part_size: int) -> None:
        self.md5, self.sha256 = hashlib.md5(), hashlib.sha256()
        self._part_size = part_size
        self._part = hashlib.md5()
        self._part_length = 0
        self._parts: list[Part] = []
        self._offset = 0

    def update(self, data: bytes) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        view = memoryview(data)
        while view:
            room = self._part_size - self._part_length
            piece, view = view[:room], view[room:]
            self._part.update(piece)
            self._part_length += len(piece)
            if self._part_length == self._part_size:
                self._close_part()

    def _close_part(self) -> None:
        self._parts.append(Part(self._part_length, self._part.hexdigest(), self._offset))
        self._offset += self._part_length
        self._part, self._part_length = hashlib.md5(), 0

    def finish(self) -> tuple[Part, ...]:
        if self._part_length:
            self._close_part()
        return tuple(self._parts)


def _linked(source: Path, target: Path) -> bool:
    """Hard-link ``source`` as ``target``; False where it cannot be (another file system,
    or one without hard links)."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            return False
        raise
    return True


def _read(path: Path, digests: _Digests | hashlib._Hash) -> None:
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digests.update(chunk)


def _copy(source: Path, target: Path, digests: _Digests) -> None:
    """Copy while hashing, fsync, then read the copy back: its SHA-256 must be the source's."""
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(_CHUNK):
            digests.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    check = hashlib.sha256()
    _read(target, check)
    if check.digest() != digests.sha256.digest():
        raise OSError(errno.EIO, f"the copy of {source} does not read back as written")
