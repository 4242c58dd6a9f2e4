"""A complete file of a sync folder into the journal: by hard link when it can, else a copy.

On the data directory's file system the file is hard-linked into the staging area (no byte is
copied: the journal's file and the folder's are one inode until the folder's is removed) and
hashed there (``digests.py``); from another file system it is copied while hashing, fsynced,
and read back to check the copy's SHA-256 against the source's. Either way the file's size
and mtime are taken before and after: a file that changed meanwhile was not complete after
all, and is left for the completion rule to look at again (``Changed``). Then the journal's
ordinary path: the body moves into the journal and its put is recorded in one durable
transaction, which answers the job — its ``seq`` is what the journal names when the change
is uploaded.

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
from s3d.settings import JournalSettings
from s3d.staging import StagedBody
from s3d.sync.digests import CHUNK, file_digests


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
    body, identity, linked, parts = await _stage(source, staging, link, journal.settings)
    try:
        await journal.buckets.check(bucket)
        async with journal.core.locked([(bucket, key)]):
            _change, job = await journal.acks.record_object(bucket, key, body, headers, parts)
    except BaseException:
        await asyncio.to_thread(body.path.unlink, True)
        raise
    return Ingested(job.seq, identity, linked)


async def _stage(
    source: Path, staging: Path, link: bool, settings: JournalSettings
) -> tuple[StagedBody, Identity, bool, tuple[Part, ...] | None]:
    """``source`` linked (or copied) into ``staging`` and hashed; the body, the identity it
    was taken with, whether it was linked, its part layout (None: one PutObject)."""
    before = await asyncio.to_thread(Identity.of, source)
    target = staging / f"{uuid.uuid4().hex}.part"
    multipart = before.size > settings.multipart_threshold
    try:
        linked, copied = await asyncio.to_thread(_place, source, target, link)
        part_size = settings.part_size if multipart else None
        digests = await file_digests(target, part_size, sha256=copied is not None)
        if copied is not None and copied != digests.sha256:
            raise OSError(errno.EIO, f"the copy of {source} does not read back as written")
        await asyncio.to_thread(_unchanged, source, target, before, linked)
    except BaseException:
        await asyncio.to_thread(target.unlink, True)
        raise
    body = StagedBody(target, before.size, digests.md5, digests.sha256)
    return body, before, linked, digests.parts if multipart else None


def _place(source: Path, target: Path, link: bool) -> tuple[bool, bytes | None]:
    """Link ``source`` as ``target`` (True, None), or copy it (False, the SHA-256 read from
    the source while copying, to check the copy against)."""
    if link and _linked(source, target):
        return True, None
    return False, _copy(source, target)


def _unchanged(source: Path, target: Path, before: Identity, linked: bool) -> None:
    """Raises Changed when ``source`` (or, linked, the one inode) is not as it was taken;
    else makes ``target``'s name durable."""
    if Identity.of(source) != before or (linked and Identity.of(target) != before):
        raise Changed(str(source))
    fsync_dir(target.parent)


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


def _copy(source: Path, target: Path) -> bytes:
    """Copy, hashing what is read, and fsync; the source's SHA-256 as read."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.digest()
