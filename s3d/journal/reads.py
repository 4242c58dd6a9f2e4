"""Read your writes: what GET, HEAD, GetObjectTagging and listings answer while changes wait.

A pending put or multipart object is answered from its journal files with the headers it was
acknowledged with (``x-s3d-state: pending``), Range and conditions included; a pending delete
is a 404. Listings merge the pending state of the bucket (``overlay``) into the remote's.
"""

from __future__ import annotations

from s3d.journal.core import JournalCore
from s3d.journal.jobs import Job
from s3d.journal.objects import listing_entry, object_headers
from s3d.journal.overlay import Overlay
from s3d.journal.records import Delete, Stored, Tagging, segments_of
from s3d.journal.sources import Segment, cut, open_segments
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.answer_headers import answer_headers, checksums_asked
from s3d.protocol.conditions import Conditions
from s3d.protocol.errors import NoSuchKey, NotModified
from s3d.protocol.model import PENDING, Headers, ObjectEntry, ObjectResponse, header
from s3d.protocol.tagging import parse_tagging_header

_REREADS = 3
"""How often a read looks again when the files it chose left (superseded, or handed to the
cache) before it opened them."""


class Reads:
    def __init__(self, core: JournalCore, remote: Remote) -> None:
        self._core = core
        self._remote = remote

    async def newest(self, op: ops.GetObject) -> ObjectResponse:
        """The key's newest state, as a HEAD or GET answers it: a pending change, else the
        remote's object (never the cache's: another node may have written the key a moment
        ago). Raises NoSuchKey, ServiceUnavailable, what the remote raises."""
        pending = await self.read(op)
        return pending if pending is not None else await self._remote.get_object(op)

    async def current_etag(self, bucket: str, key: str) -> str | None:
        """The key's ETag as a reader of s3d would see it now; None when it does not exist.
        Raises ServiceUnavailable when only the remote could say and it cannot be reached."""
        try:
            head = await self.newest(ops.GetObject(bucket, key, head=True))
        except NoSuchKey:
            return None
        return header(head.headers, "etag")

    async def check_write(self, bucket: str, key: str, conditions: Conditions) -> None:
        """A conditional write (If-Match, If-None-Match) checked against the key's newest
        state, as S3 checks it. Call with the key's lock held. Raises PreconditionFailed,
        NoSuchKey, NotImplemented_, ServiceUnavailable (only the unreachable remote knows)."""
        if conditions.guards_write:
            conditions.check_write(await self.current_etag(bucket, key), key)

    async def read(self, op: ops.GetObject) -> ObjectResponse | None:
        """The answer from the journal, or None when the key has no pending state (or the
        client asks for a version or a part: the remote's business). Raises NoSuchKey for a
        pending delete, NotModified/PreconditionFailed/InvalidRange as S3 would."""
        if op.version_id is not None or op.part_number is not None:
            return None
        for _ in range(_REREADS):
            job = self._core.queue.newest_state(op.bucket, op.key)
            if job is None:
                return None
            try:
                return await self._answer(op, job)
            except FileNotFoundError:
                continue  # its files left meanwhile: the key's state moved on, look again
        return None

    async def _answer(self, op: ops.GetObject, job: Job) -> ObjectResponse:
        change = job.change
        if not isinstance(change, Stored):
            raise NoSuchKey(Key=op.key)
        size = job.size
        try:
            op.conditions.check_read(change.etag, change.acknowledged)
        except NotModified as exc:
            exc.headers["ETag"] = change.etag
            exc.provenance = PENDING
            raise
        span = op.range.resolve(size) if op.range is not None else None
        headers = answer_headers(
            self._tag_counted(op.bucket, op.key, object_headers(change)),
            size,
            span,
            checksums=checksums_asked(op.headers),
            overrides=op.overrides,
        )
        status = 206 if span is not None else 200
        if op.head or size == 0:
            return ObjectResponse(status, headers, provenance=PENDING)
        first, last = span if span is not None else (0, size - 1)
        body = await open_segments(cut(self.segments(change, size), first, last))
        return ObjectResponse(status, headers, body, provenance=PENDING)

    def _tag_counted(self, bucket: str, key: str, headers: Headers) -> Headers:
        """``headers`` with the count of the tags the key has once its pending changes are
        applied (a pending PutObjectTagging after the put changes it)."""
        tags = self.pending_tags(bucket, key)
        out = tuple((n, v) for n, v in headers if n != "x-amz-tagging-count")
        return out + ((("x-amz-tagging-count", str(len(tags))),) if tags else ())

    def segments(self, change: Stored, size: int) -> list[Segment]:
        path = self._core.files.path
        return [(path(name), offset, length) for name, offset, length in segments_of(change, size)]

    def overlay(self, bucket: str) -> Overlay:
        puts: dict[str, ObjectEntry] = {}
        deletes = set()
        queue = self._core.queue
        for job_bucket, key in list(queue.by_key):
            if job_bucket != bucket:
                continue
            job = queue.newest_state(bucket, key)
            if job is None:
                continue
            if isinstance(job.change, Stored):
                puts[key] = listing_entry(key, job.change, job.size)
            else:
                deletes.add(key)
        return Overlay(puts, frozenset(deletes))

    def pending_tags(self, bucket: str, key: str) -> tuple[tuple[str, str], ...] | None:
        """The tags the key will have once its pending changes are applied; None when the
        journal has nothing to say about them. Raises NoSuchKey for a pending delete."""
        for job in reversed(self._core.queue.of(bucket, key)):
            change = job.change
            if isinstance(change, Tagging):
                return change.tags or ()
            if isinstance(change, Delete):
                raise NoSuchKey(Key=key)
            value = header(change.headers, "x-amz-tagging")
            return parse_tagging_header(value) if value else ()
        return None
