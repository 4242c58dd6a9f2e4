"""Acknowledging writes: PutObject, DeleteObject(s), object tagging.

Each acknowledgement holds its key's lock, checks what S3 would check at that moment (the
bucket exists, conditional writes against the newest state of the key: a pending change, else
the remote, by the rule in ``protocol/conditions.py``), moves the verified body into the
journal, and answers only once the journal's transaction has committed. The answer carries
the ETag the remote will compute and ``x-s3d-state: pending``.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path

from s3d.journal.buckets import KnownBuckets
from s3d.journal.core import JournalCore, NewChange
from s3d.journal.inline import INLINE_MAX
from s3d.journal.jobs import Job
from s3d.journal.objects import multipart_etag, now, stored_request_headers
from s3d.journal.reads import Reads
from s3d.journal.records import Delete, Multipart, Part, Put, Tagging, Tags
from s3d.journal.store import Files, Statement, update_change
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchKey, S3Error
from s3d.protocol.model import (
    PENDING,
    DeletedEntry,
    DeleteObjectsResult,
    Headers,
    WriteResult,
)
from s3d.protocol.tagging import render_tagging_header
from s3d.settings import JournalSettings
from s3d.staging import StagedBody


class Acknowledgements:
    def __init__(
        self,
        core: JournalCore,
        buckets: KnownBuckets,
        reads: Reads,
        remote: Remote,
        settings: JournalSettings,
    ) -> None:
        self._core = core
        self._buckets = buckets
        self._reads = reads
        self._remote = remote
        self._settings = settings

    async def put(self, op: ops.PutObject, body: StagedBody) -> WriteResult:
        """Journal a PutObject. Raises NoSuchBucket, PreconditionFailed, NoSuchKey,
        ServiceUnavailable (a condition only the unreachable remote could decide)."""
        await self._buckets.check(op.bucket)
        async with self._core.locked([(op.bucket, op.key)]):
            await self._reads.check_write(op.bucket, op.key, op.conditions)
            change, _job = await self.record_object(op.bucket, op.key, body, op.headers)
        return WriteResult(ack_headers(change), provenance=PENDING)

    async def record_object(
        self,
        bucket: str,
        key: str,
        body: StagedBody,
        headers: Headers,
        parts: tuple[Part, ...] | None = None,
    ) -> tuple[Put, Job]:
        """Journal ``body`` as the new state of the key (its lock held); the put recorded and
        its job. ``parts``: the multipart layout, computed already by a caller that read the
        body anyway (sync folders)."""
        change, extra, files = await self.new_object(body, headers, parts)
        [job] = await self._core.record([NewChange(bucket, key, change, body.size)], extra, files)
        return change, job

    async def new_object(
        self, body: StagedBody, headers: Headers, parts: tuple[Part, ...] | None = None
    ) -> tuple[Put, list[Statement], Files]:
        """Move ``body`` into the journal; the put that names it, the statements to commit
        with it and the files to write in that commit (a small body's bytes:
        ``journal/inline.py``). A body above the multipart threshold gets the part layout it
        will be uploaded in, and that layout's ETag (``parts``: that layout computed already,
        by the caller or while staging)."""
        extra: list[Statement] = []
        files: Files = ()
        if body.size <= INLINE_MAX:
            name, extra, files = await self._core.inline.take(body)
        else:
            name = await self._core.files.adopt(body)
        put = Put(
            files=(name,),
            headers=stored_request_headers(headers),
            etag=body.etag,
            acknowledged=now(),
            md5=body.md5.hex(),
            sha256=body.sha256.hex(),
            checksums=body.checksums,
        )
        if body.size <= self._settings.multipart_threshold:
            return put, extra, files
        if parts is None and body.part_size == self._settings.part_size and body.part_md5s:
            parts = _staged_parts(body)
        if parts is None:
            path = self._core.files.path(name)
            parts = await asyncio.to_thread(_part_md5s, path, body.size, self._settings.part_size)
        etag = multipart_etag([bytes.fromhex(part.md5) for part in parts])
        # A whole-object checksum is not sent with parts.
        layout = (put.files, put.headers, etag, put.acknowledged, put.md5, put.sha256, (), parts)
        return Put(*layout), extra, files

    async def delete(self, op: ops.DeleteObject) -> WriteResult:
        await self._buckets.check(op.bucket)
        async with self._core.locked([(op.bucket, op.key)]):
            await self._core.record([NewChange(op.bucket, op.key, Delete())])
        return WriteResult(status=204, provenance=PENDING)

    async def delete_many(self, op: ops.DeleteObjects) -> DeleteObjectsResult:
        """Every key deleted in one transaction (S3 deletes what does not exist, too)."""
        await self._buckets.check(op.bucket)
        keys = list(dict.fromkeys(o.key for o in op.objects))
        async with self._core.locked([(op.bucket, key) for key in keys]):
            await self._core.record([NewChange(op.bucket, key, Delete()) for key in keys])
        deleted = tuple(DeletedEntry(o.key) for o in op.objects)
        return DeleteObjectsResult(deleted, (), op.quiet, provenance=PENDING)

    async def tagging(self, op: ops.PutObjectTagging | ops.DeleteObjectTagging) -> WriteResult:
        """Tags of a pending object are rewritten in its job; otherwise a tagging job follows
        the key's other changes. Raises NoSuchKey for a key that does not exist."""
        tags = op.tags if isinstance(op, ops.PutObjectTagging) else None
        core = self._core
        async with core.locked([(op.bucket, op.key)]):
            newest = core.queue.newest_state(op.bucket, op.key)
            if newest is not None and isinstance(newest.change, Delete):
                raise NoSuchKey(Key=op.key)
            if newest is None and await self._absent(op.bucket, op.key):
                raise NoSuchKey(Key=op.key)
            answer = WriteResult(status=200 if tags is not None else 204, provenance=PENDING)
            if newest is not None and isinstance(newest.change, Put | Multipart):
                retagged = _retagged(newest.change, tags)
                statement = update_change(newest.seq, retagged, newest.size)
                if await core.rewrite(newest, retagged, statement):
                    # Taggings queued after it are older than this one: it replaces them.
                    later = core.queue.of(op.bucket, op.key)
                    await core.drop([j for j in later if j.seq > newest.seq and _free_tagging(j)])
                    return answer
            # Nothing pending, or the uploader has the object already: tags follow it.
            await core.record([NewChange(op.bucket, op.key, Tagging(tags))])
        return answer

    async def _absent(self, bucket: str, key: str) -> bool:
        try:
            await self._remote.get_object(ops.GetObject(bucket, key, head=True))
        except NoSuchKey:
            return True
        except S3Error:
            return False  # unknown now; the remote says so when the job runs
        return False


def _free_tagging(job: Job) -> bool:
    return isinstance(job.change, Tagging) and not (job.running or job.held)


def _retagged(change: Put | Multipart, tags: Tags | None) -> Put | Multipart:
    headers = tuple(pair for pair in change.headers if pair[0] != "x-amz-tagging")
    if tags:
        headers += (("x-amz-tagging", render_tagging_header(tags)),)
    return replace(change, headers=headers)


def ack_headers(change: Put) -> Headers:
    checksums = tuple((f"x-amz-checksum-{alg.lower()}", v) for alg, v in change.checksums)
    return (("etag", change.etag), *checksums)


def _staged_parts(body: StagedBody) -> tuple[Part, ...]:
    """The part layout from the MD5s staging computed as the body was written."""
    offsets = range(0, body.size, body.part_size)
    return tuple(
        Part(min(body.part_size, body.size - offset), md5.hex(), offset)
        for offset, md5 in zip(offsets, body.part_md5s, strict=True)
    )


def _part_md5s(path: Path, size: int, part_size: int) -> tuple[Part, ...]:
    parts = []
    with open(path, "rb") as file:
        for offset in range(0, size, part_size):
            length = min(part_size, size - offset)
            digest = hashlib.md5()
            position = offset
            while position < offset + length:
                data = file.read(min(1 << 20, offset + length - position))
                digest.update(data)
                position += len(data)
            parts.append(Part(length, digest.hexdigest(), offset))
    return tuple(parts)
