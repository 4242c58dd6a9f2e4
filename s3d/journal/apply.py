"""Applying one journal job to the remote.

A put no larger than the multipart threshold is one PutObject; a larger one is a multipart
upload in the part layout its acknowledged ETag was computed from; a client's multipart
upload keeps the client's part boundaries. Parts go up in parallel (bounded). A
CompleteMultipartUpload whose answer is lost, or that the remote says is already in progress,
is settled by looking at the remote object: if it has the expected ETag, the job is done. A
multipart upload that fails otherwise is aborted on the remote. ETags are compared unquoted.
Every multipart upload opened on the remote is recorded (``RemoteUploads``) until it is
completed or aborted, so that one a crash leaves open is aborted at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from s3d.journal.files import JournalFiles
from s3d.journal.jobs import Job, Queue, retryable
from s3d.journal.records import Delete, Put, Stored, Tagging
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import InternalError, NoSuchBucket, NoSuchUpload, S3Error
from s3d.protocol.model import Headers, bare_etag, header
from s3d.staging import StagedBody

log = logging.getLogger("s3d.journal")


class StoredBytesDiffer(InternalError):
    """The remote's ETag after an upload is not the MD5 s3d acknowledged, where the remote
    computes it from the bytes (no SSE-C or SSE-KMS): it stored other bytes than those
    acknowledged — corruption on the way, or a remote that altered the body. Passing (500):
    the upload is tried again; the uploader dead-letters it if it persists."""


class UploadCorrupted(S3Error):
    """A ``StoredBytesDiffer`` that persisted: given up as a dead letter, never a success."""

    code = "BadDigest"
    status = 400
    default_message = "The remote kept storing other bytes than those acknowledged."


@dataclass(frozen=True, slots=True)
class PartSource:
    path: Path
    offset: int
    size: int
    md5: bytes


class RemoteUploads(Protocol):
    """Where the uploader records the multipart uploads it has open on the remote."""

    async def opened(self, bucket: str, key: str, upload_id: str) -> None: ...

    async def closed(self, upload_id: str) -> None: ...


def moot(job: Job, error: BaseException, queue: Queue) -> bool:
    """Whether a change the remote refused because its bucket is gone is needed no more: a
    delete (the object went with its bucket), or a put or tagging that a newer put or delete
    of the key replaces. Such a change is dropped, not dead-lettered."""
    if not isinstance(error, NoSuchBucket):
        return False
    if isinstance(job.change, Delete):
        return True
    newest = queue.newest_state(job.bucket, job.key)
    return newest is not None and newest.seq > job.seq


def part_layout(size: int, part_size: int) -> list[tuple[int, int]]:
    """(offset, length) of each part s3d cuts a large single PUT into."""
    return [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]


async def apply(
    job: Job,
    remote: Remote,
    files: JournalFiles,
    concurrency: int,
    uploads: RemoteUploads,
    opaque_etags: bool = False,
) -> str | None:
    """Carry ``job`` out on the remote; the ETag the remote gave the object (puts and
    multipart uploads), None for other jobs. ``opaque_etags``: the remote encrypts with
    s3d's SSE-C key, so its ETags are not MD5s and are not compared with them. Raises S3Error
    as the remote answers (the caller retries or dead-letters), ``StoredBytesDiffer`` when the
    remote's ETag shows it stored other bytes; cancellation abandons it (a multipart upload is
    aborted)."""
    change = job.change
    if isinstance(change, Delete):
        await remote.delete_object(ops.DeleteObject(job.bucket, job.key))
        return None
    if isinstance(change, Tagging):
        await _tagging(job.bucket, job.key, change, remote)
        return None
    headers = change.headers
    opaque = opaque_etags or _encrypted(headers)
    if isinstance(change, Put) and not change.parts:
        body = _body(files.path(change.files[0]), change, job.size)
        result = await remote.put_object(ops.PutObject(job.bucket, job.key, headers=headers), body)
        etag = header(result.headers, "etag")
        if etag and not opaque and bare_etag(etag) != change.md5:
            raise StoredBytesDiffer(
                f"the remote stored {job.bucket}/{job.key} with ETag {bare_etag(etag)}, "
                f"not the MD5 acknowledged ({change.md5})"
            )
        return etag
    sources = _sources(change, files)
    return await _multipart(job, change, remote, sources, concurrency, uploads, opaque)


def _body(path: Path, change: Stored, size: int) -> StagedBody:
    return StagedBody(
        path=path,
        size=size,
        md5=bytes.fromhex(change.md5),
        sha256=bytes.fromhex(change.sha256),
        checksums=change.checksums,
    )


def _sources(change: Stored, files: JournalFiles) -> list[PartSource]:
    """The parts to upload: the client's files, or regions of one large file."""
    if len(change.files) == len(change.parts):
        return [
            PartSource(files.path(name), 0, part.size, bytes.fromhex(part.md5))
            for name, part in zip(change.files, change.parts, strict=True)
        ]
    path = files.path(change.files[0])
    return [
        PartSource(path, part.offset, part.size, bytes.fromhex(part.md5)) for part in change.parts
    ]


async def _tagging(bucket: str, key: str, change: Tagging, remote: Remote) -> None:
    if change.tags is None:
        await remote.delete_object_tagging(ops.DeleteObjectTagging(bucket, key))
    else:
        await remote.put_object_tagging(ops.PutObjectTagging(bucket, key, change.tags))


async def _multipart(
    job: Job,
    change: Stored,
    remote: Remote,
    sources: list[PartSource],
    concurrency: int,
    uploads: RemoteUploads,
    opaque: bool,
) -> str | None:
    created = await remote.create_multipart_upload(
        ops.CreateMultipartUpload(job.bucket, job.key, headers=change.headers)
    )
    upload_id = created.upload_id
    try:
        await uploads.opened(job.bucket, job.key, upload_id)
        etags = await _upload_parts(job, remote, upload_id, sources, concurrency, opaque)
        etag = await _complete(job, change.etag, remote, upload_id, etags, opaque)
    except BaseException:
        # An abort that fails leaves the upload recorded: the next start aborts it.
        with contextlib.suppress(Exception):
            await asyncio.shield(abort_remote_upload(remote, job.bucket, job.key, upload_id))
            await uploads.closed(upload_id)
        raise
    await uploads.closed(upload_id)
    return etag


async def abort_remote_upload(remote: Remote, bucket: str, key: str, upload_id: str) -> None:
    """Abort an upload on the remote; one already gone (completed or aborted) is fine."""
    with contextlib.suppress(NoSuchUpload):
        await remote.abort_multipart_upload(ops.AbortMultipartUpload(bucket, key, upload_id))


async def _upload_parts(
    job: Job,
    remote: Remote,
    upload_id: str,
    sources: list[PartSource],
    concurrency: int,
    opaque: bool,
) -> list[str]:
    limit = asyncio.Semaphore(concurrency)

    async def one(number: int, source: PartSource) -> str:
        async with limit:
            body = StagedBody(source.path, source.size, source.md5, b"", offset=source.offset)
            result = await remote.upload_part(
                ops.UploadPart(job.bucket, job.key, upload_id, number), body
            )
        etag = bare_etag(header(result.headers, "etag") or "")
        if etag != source.md5.hex() and not opaque:
            raise StoredBytesDiffer(f"part {number} came back with ETag {etag}, not its MD5")
        return f'"{etag}"'

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(n, s)) for n, s in enumerate(sources, start=1)]
    except* Exception as failures:
        # One part's failure says why the upload failed: keep it, S3Error and all.
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def _complete(
    job: Job, expected: str, remote: Remote, upload_id: str, etags: list[str], opaque: bool
) -> str | None:
    """The object's ETag on the remote once completed. With opaque ETags a completion whose
    answer is lost cannot be settled by comparing ETags: it is retried instead."""
    parts = tuple(ops.CompletedPart(n, etag) for n, etag in enumerate(etags, start=1))
    try:
        result = await remote.complete_multipart_upload(
            ops.CompleteMultipartUpload(job.bucket, job.key, upload_id, parts)
        )
    except S3Error as exc:
        if opaque or not (retryable(exc) or isinstance(exc, NoSuchUpload)):
            raise
        # The answer was lost, or the remote is still completing: look at the object.
        if await _settled(job, expected, remote):
            log.info("completion of %s/%s settled by its ETag on the remote", job.bucket, job.key)
            return expected
        raise
    if bare_etag(result.etag) != bare_etag(expected) and not opaque:
        raise StoredBytesDiffer(f"the remote answered ETag {result.etag}, not {expected}")
    return result.etag


def _encrypted(headers: Headers) -> bool:
    """With SSE-KMS or SSE-C the remote's ETags are not MD5s (contract 4): not compared."""
    return any(name.startswith("x-amz-server-side-encryption") for name, _ in headers)


async def _settled(job: Job, expected: str, remote: Remote) -> bool:
    try:
        head = await remote.get_object(ops.GetObject(job.bucket, job.key, head=True))
    except S3Error:
        return False
    return bare_etag(header(head.headers, "etag")) == bare_etag(expected)
