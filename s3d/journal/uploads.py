"""Multipart uploads assembled locally in write-back mode.

An upload created through s3d gets an id of s3d's own (``s3d-…``); its parts are staged,
verified and kept in the journal's files as they arrive (``parts`` rows, a re-sent part number
replacing the earlier one). CompleteMultipartUpload validates as S3 does — part order, each
ETag, EntityTooSmall below 5 MiB except for the last part — and turns the upload into one
journal job that keeps the client's part boundaries, so the remote computes the same
MD5-of-MD5s-N ETag that is answered now.

An upload is *busy* while a part or its completion is being recorded: ``idle_uploads`` (the
ones expiry and space reclaim may give up) leaves it out, so that a part is never recorded
for an upload given up meanwhile, nor a completion's files removed under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterator

from s3d.journal.buckets import KnownBuckets
from s3d.journal.core import JournalCore, NewChange
from s3d.journal.objects import multipart_etag, now, stored_request_headers
from s3d.journal.reads import Reads
from s3d.journal.records import LocalPart, LocalUpload, Multipart, Part
from s3d.journal.store import delete_upload, insert_part, insert_upload
from s3d.protocol import operations as ops
from s3d.protocol.errors import EntityTooSmall, InvalidPart, NoSuchUpload
from s3d.protocol.model import (
    PENDING,
    CompleteMultipartResult,
    CreateMultipartResult,
    ListPartsResult,
    PartEntry,
    WriteResult,
    bare_etag,
    quote_etag,
)
from s3d.staging import StagedBody

LOCAL_PREFIX = "s3d-"
MIN_PART = 5 * 1024 * 1024
_COMPLETIONS_KEPT = 1000


def is_local(upload_id: str) -> bool:
    return upload_id.startswith(LOCAL_PREFIX)


class LocalMultipart:
    """Owns the local uploads (``uploads``, by id), loaded from the store at start."""

    def __init__(self, core: JournalCore, buckets: KnownBuckets, reads: Reads) -> None:
        self._core = core
        self._buckets = buckets
        self._reads = reads
        self.uploads: dict[str, LocalUpload] = {}
        self._busy: Counter[str] = Counter()
        self._quiet = asyncio.Event()
        """Set (then replaced) whenever an upload stops being busy."""
        self._completed: dict[str, CompleteMultipartResult] = {}
        """The answers of the latest completions, by upload id, oldest first (in memory:
        a retried completion comes seconds after the first, not across a restart)."""

    async def load(self) -> None:
        self.uploads = {u.upload_id: u for u in await self._core.store.uploads()}

    def files(self) -> set[str]:
        """The journal files the uploads' parts hold."""
        return {part.file for u in self.uploads.values() for part in u.parts.values()}

    @property
    def pending_bytes(self) -> int:
        return sum(upload.size for upload in self.uploads.values())

    def idle_uploads(self) -> list[LocalUpload]:
        """The uploads no part or completion is being recorded for: those that may be given up."""
        return [u for u in self.uploads.values() if not self._busy[u.upload_id]]

    @contextlib.contextmanager
    def _recording(self, upload_id: str) -> Iterator[None]:
        self._busy[upload_id] += 1
        try:
            yield
        finally:
            self._busy[upload_id] -= 1
            if not self._busy[upload_id]:
                del self._busy[upload_id]
                self._quiet.set()
                self._quiet = asyncio.Event()

    async def _settled(self, bucket: str, key: str, upload_id: str) -> LocalUpload:
        """The upload once no part or completion of it is being recorded (a completion or an
        abort acts on what is there, never under a part being written). Raises NoSuchUpload,
        also when what was being recorded completed it."""
        while self._busy[upload_id]:
            quiet = self._quiet
            await quiet.wait()
        return self.upload_of(bucket, key, upload_id)

    def upload_of(self, bucket: str, key: str, upload_id: str) -> LocalUpload:
        """The local upload ``upload_id`` of the key. Raises NoSuchUpload."""
        upload = self.uploads.get(upload_id)
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise NoSuchUpload(UploadId=upload_id)
        return upload

    async def create_upload(self, op: ops.CreateMultipartUpload) -> CreateMultipartResult:
        await self._buckets.check(op.bucket)
        upload_id = LOCAL_PREFIX + uuid.uuid4().hex
        headers = stored_request_headers(op.headers)
        upload = LocalUpload(upload_id, op.bucket, op.key, headers, time.time())
        await self._core.store.write([insert_upload(upload)])
        self.uploads[upload_id] = upload
        return CreateMultipartResult(op.bucket, op.key, upload_id, provenance=PENDING)

    async def upload_part(self, op: ops.UploadPart, body: StagedBody) -> WriteResult:
        """Keep a verified part. Raises NoSuchUpload."""
        upload = self.upload_of(op.bucket, op.key, op.upload_id)
        with self._recording(op.upload_id):
            name = await self._core.files.adopt(body)
            part = LocalPart(name, body.size, body.md5.hex(), now(), body.checksums)
            await self._core.store.write([insert_part(op.upload_id, op.part_number, part)])
            old = upload.parts.get(op.part_number)
            upload.parts[op.part_number] = part
            if old is not None:
                await self._core.files.remove([old.file])
        return WriteResult((("etag", body.etag),), provenance=PENDING)

    async def complete(self, op: ops.CompleteMultipartUpload) -> CompleteMultipartResult:
        """Raises NoSuchUpload, InvalidPart, EntityTooSmall, and for a conditional completion
        PreconditionFailed, NoSuchKey (as PutObject). A completion of an upload completed a
        while ago answers as that completion did, as S3 does (an SDK retrying a completion
        whose answer was lost must not see NoSuchUpload)."""
        try:
            upload = await self._settled(op.bucket, op.key, op.upload_id)
        except NoSuchUpload:
            done = self._completed.get(op.upload_id)
            if done is None or (done.bucket, done.key) != (op.bucket, op.key):
                raise
            return done
        with self._recording(op.upload_id):
            done = await self._complete(op, upload)
        self._completed[op.upload_id] = done
        while len(self._completed) > _COMPLETIONS_KEPT:
            del self._completed[next(iter(self._completed))]
        return done

    async def _complete(
        self, op: ops.CompleteMultipartUpload, upload: LocalUpload
    ) -> CompleteMultipartResult:
        chosen = _validated(upload.parts, op.parts)
        etag = multipart_etag([bytes.fromhex(part.md5) for part in chosen])
        change = Multipart(
            files=tuple(part.file for part in chosen),
            headers=upload.headers,
            etag=etag,
            acknowledged=now(),
            parts=tuple(Part(part.size, part.md5) for part in chosen),
        )
        size = sum(part.size for part in chosen)
        unused = [p.file for p in upload.parts.values() if p not in chosen]
        async with self._core.locked([(op.bucket, op.key)]):
            await self._reads.check_write(op.bucket, op.key, op.conditions)
            await self._core.record(
                [NewChange(op.bucket, op.key, change, size)], [delete_upload(op.upload_id)]
            )
        self.uploads.pop(op.upload_id, None)
        await self._core.files.remove(unused)
        location = f"/{op.bucket}/{op.key}"
        return CompleteMultipartResult(location, op.bucket, op.key, etag, provenance=PENDING)

    async def abort(self, op: ops.AbortMultipartUpload) -> WriteResult:
        """Raises NoSuchUpload (also when a completion under way won)."""
        await self.abandon(await self._settled(op.bucket, op.key, op.upload_id))
        return WriteResult(status=204)

    async def abandon(self, upload: LocalUpload) -> None:
        """Give ``upload`` up: its row (its parts' rows go with it) and its part files; it
        answers NoSuchUpload from now on. Doing it twice is harmless. Cancelled, the row still
        goes; part files left behind are removed at the next start."""
        if self.uploads.get(upload.upload_id) is not upload:
            return
        del self.uploads[upload.upload_id]  # before any await: nothing else picks it meanwhile
        try:
            await self._core.store.write([delete_upload(upload.upload_id)])
        except Exception:
            self.uploads[upload.upload_id] = upload  # still stored: still there
            raise
        await self._core.files.remove(part.file for part in upload.parts.values())

    def list_parts(self, op: ops.ListParts) -> ListPartsResult:
        upload = self.upload_of(op.bucket, op.key, op.upload_id)
        numbers = sorted(n for n in upload.parts if n > op.part_number_marker)
        shown = numbers[: op.max_parts]
        truncated = len(numbers) > len(shown)
        parts = tuple(
            PartEntry(
                n, upload.parts[n].uploaded, quote_etag(upload.parts[n].md5), upload.parts[n].size
            )
            for n in shown
        )
        return ListPartsResult(
            bucket=op.bucket,
            key=op.key,
            upload_id=op.upload_id,
            part_number_marker=op.part_number_marker,
            next_part_number_marker=shown[-1] if truncated and shown else None,
            max_parts=op.max_parts,
            is_truncated=truncated,
            parts=parts,
        )


def _validated(
    uploaded: dict[int, LocalPart], asked: tuple[ops.CompletedPart, ...]
) -> list[LocalPart]:
    chosen = []
    for part in asked:
        have = uploaded.get(part.part_number)
        if have is None or bare_etag(part.etag) != have.md5:
            raise InvalidPart(PartNumber=str(part.part_number), ETag=part.etag)
        chosen.append(have)
    for part, have in zip(asked[:-1], chosen[:-1], strict=True):
        if have.size < MIN_PART:
            raise EntityTooSmall(
                ProposedSize=str(have.size),
                MinSizeAllowed=str(MIN_PART),
                PartNumber=str(part.part_number),
                ETag=part.etag,
            )
    return chosen
