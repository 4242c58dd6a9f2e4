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
from s3d.journal.core import NewChange
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
    body, identity, linked = await asyncio.to_thread(_stage, source, staging, link)
    try:
        await journal.buckets.check(bucket)
        async with journal.core.locked([(bucket, key)]):
            change = await journal.acks.new_object(body, headers)
            [job] = await journal.core.record([NewChange(bucket, key, change, body.size)])
    except BaseException:
        await asyncio.to_thread(body.path.unlink, True)
        raise
    return Ingested(job.seq, identity, linked)


def _stage(source: Path, staging: Path, link: bool) -> tuple[StagedBody, Identity, bool]:
    before = Identity.of(source)
    target = staging / f"{uuid.uuid4().hex}.part"
    linked = link and _linked(source, target)
    try:
        if linked:
            md5, sha256 = _digests(target)
        else:
            md5, sha256 = _copy(source, target)
        if Identity.of(source) != before or (linked and Identity.of(target) != before):
            raise Changed(str(source))
        fsync_dir(staging)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StagedBody(target, before.size, md5.digest(), sha256.digest()), before, linked


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


def _digests(path: Path) -> tuple[hashlib._Hash, hashlib._Hash]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5, sha256


def _copy(source: Path, target: Path) -> tuple[hashlib._Hash, hashlib._Hash]:
    """Copy while hashing, fsync, then read the copy back: its SHA-256 must be the source's."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if _digests(target)[1].digest() != sha256.digest():
        raise OSError(errno.EIO, f"the copy of {source} does not read back as written")
    return md5, sha256
