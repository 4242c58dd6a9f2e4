"""CopyObject and UploadPartCopy in write-back mode.

The source's bytes are made local — a pending object's journal files, else the remote's
object (or range) streamed into the staging area — and the copy is journaled as a put of the
destination (or a part of a local upload). That keeps one rule for every write: what is
acknowledged is on local disk, readable at once, and uploaded in key order; the ETag answered
is the MD5 of the bytes, which the remote computes too. A copy whose source is neither pending
nor reachable answers ServiceUnavailable.
"""

from __future__ import annotations

from datetime import UTC, datetime

from s3d.journal.acks import Acknowledgements
from s3d.journal.buckets import KnownBuckets
from s3d.journal.core import JournalCore
from s3d.journal.objects import object_headers
from s3d.journal.reads import Reads
from s3d.journal.records import Stored
from s3d.journal.sources import cut, open_segments, stage_from
from s3d.journal.uploads import LocalMultipart
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.conditions import parse_http_date
from s3d.protocol.customer_keys import source_key_for_read
from s3d.protocol.errors import InvalidRequest, NoSuchKey
from s3d.protocol.model import PENDING, ByteStream, CopyResult, Headers, header, stream_of
from s3d.protocol.ranges import ByteRange, parse_copy_source_range
from s3d.protocol.tagging import render_tagging_header
from s3d.staging import StagingArea

_OBJECT_DESCRIPTION = (
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-website-redirect-location",
)
_COPY_CONTROL = (
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-tagging-directive",
    "x-amz-tagging",
)
_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)

Source = tuple[ByteStream, Headers, str, datetime]
"""The source's bytes, its headers as a GET answers them, its ETag and Last-Modified."""


class Copies:
    def __init__(
        self,
        core: JournalCore,
        acks: Acknowledgements,
        reads: Reads,
        multipart: LocalMultipart,
        buckets: KnownBuckets,
        remote: Remote,
        staging: StagingArea,
    ) -> None:
        self._core = core
        self._acks = acks
        self._reads = reads
        self._multipart = multipart
        self._buckets = buckets
        self._remote = remote
        self._staging = staging

    async def _source(
        self, source: ops.CopySource, span: tuple[int, int] | None, headers: Headers = ()
    ) -> Source:
        """The source object, pending or remote (read with the SSE-C key the copy names for
        it, from ``headers``). Raises NoSuchKey, ServiceUnavailable…"""
        queue = self._core.queue
        job = None if source.version_id else queue.newest_state(source.bucket, source.key)
        if job is not None:
            change = job.change
            if not isinstance(change, Stored):
                raise NoSuchKey(Key=source.key)
            segments = self._reads.segments(change, job.size)
            first, last = span if span is not None else (0, job.size - 1)
            stream = await open_segments(cut(segments, first, last) if job.size else [])
            return stream, object_headers(change), change.etag, change.acknowledged
        answer = await self._remote.get_object(
            ops.GetObject(
                source.bucket,
                source.key,
                version_id=source.version_id,
                range=ByteRange(*span) if span is not None else None,
                headers=source_key_for_read(headers),
            )
        )
        body = stream_of(answer.body)
        if body is None:
            raise InvalidRequest("The copy source answered without a body")
        modified = parse_http_date(header(answer.headers, "last-modified"))
        return body, answer.headers, header(answer.headers, "etag") or "", modified or _now()

    async def copy(self, op: ops.CopyObject) -> CopyResult:
        """Journal a CopyObject as a put of the destination. Raises what S3 raises for the
        source (NoSuchKey, PreconditionFailed…), InvalidRequest for a pointless self-copy."""
        await self._buckets.check(op.bucket)
        if _pointless_self_copy(op):
            raise InvalidRequest(_SELF_COPY)
        stream, source_headers, etag, modified = await self._source(op.source, None)
        try:
            op.source.conditions.check_copy_source(etag, modified)
        except BaseException:
            await stream.aclose()
            raise
        body = await stage_from(stream, self._staging)
        headers = await self._destination_headers(op, source_headers)
        async with self._core.locked([(op.bucket, op.key)]):
            change, _job = await self._acks.record_object(op.bucket, op.key, body, headers)
        return CopyResult(change.etag, change.acknowledged, provenance=PENDING)

    async def _destination_headers(self, op: ops.CopyObject, source: Headers) -> Headers:
        own = [(n, v) for n, v in op.headers if not n.startswith(_COPY_CONTROL)]
        replace = (header(op.headers, "x-amz-metadata-directive") or "COPY").upper() == "REPLACE"
        if not replace:
            own = [(n, v) for n, v in own if n not in _OBJECT_DESCRIPTION]
            own = [(n, v) for n, v in own if not n.startswith("x-amz-meta-")]
            own += [(n, v) for n, v in source if n in _OBJECT_DESCRIPTION]
            own += [(n, v) for n, v in source if n.startswith("x-amz-meta-")]
        tags = await self._destination_tags(op, source)
        if tags:
            own.append(("x-amz-tagging", tags))
        return tuple(own)

    async def _destination_tags(self, op: ops.CopyObject, source: Headers) -> str | None:
        if (header(op.headers, "x-amz-tagging-directive") or "COPY").upper() == "REPLACE":
            return header(op.headers, "x-amz-tagging")
        pending = (
            None
            if op.source.version_id
            else self._reads.pending_tags(op.source.bucket, op.source.key)
        )
        if pending is not None:
            return render_tagging_header(pending) if pending else None
        if int(header(source, "x-amz-tagging-count") or 0) == 0:
            return None
        tagging = await self._remote.get_object_tagging(
            ops.GetObjectTagging(op.source.bucket, op.source.key, op.source.version_id)
        )
        return render_tagging_header(tagging.tags) if tagging.tags else None

    async def upload_part_copy(self, op: ops.UploadPartCopy) -> CopyResult:
        """A part of a local upload copied from a source object (or a range of it)."""
        self._multipart.upload_of(op.bucket, op.key, op.upload_id)
        span = parse_copy_source_range(header(op.headers, "x-amz-copy-source-range"))
        stream, _, etag, modified = await self._source(op.source, span, op.headers)
        try:
            op.source.conditions.check_copy_source(etag, modified)
        except BaseException:
            await stream.aclose()
            raise
        body = await stage_from(stream, self._staging)
        part = ops.UploadPart(op.bucket, op.key, op.upload_id, op.part_number)
        await self._multipart.upload_part(part, body)
        return CopyResult(body.etag, _now(), part=True, provenance=PENDING)


def _pointless_self_copy(op: ops.CopyObject) -> bool:
    same = (op.source.bucket, op.source.key) == (op.bucket, op.key) and not op.source.version_id
    changes = (header(op.headers, "x-amz-metadata-directive") or "").upper() == "REPLACE" or any(
        n in ("x-amz-storage-class", "x-amz-website-redirect-location")
        or n.startswith("x-amz-server-side-encryption")
        for n, _ in op.headers
    )
    return same and not changes


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
