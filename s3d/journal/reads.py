"""Read your writes: what GET, HEAD, GetObjectTagging and listings answer while changes wait.

A pending put or multipart object is answered from its journal files with the headers it was
acknowledged with (``x-s3d-state: pending``), Range and conditions included; a pending delete
is a 404. Listings merge the pending state of the bucket (``overlay``) into the remote's.
"""

from __future__ import annotations

from typing import Any

from s3d.journal.objects import acknowledged_at, listing_entry, object_headers
from s3d.journal.overlay import Overlay
from s3d.journal.sources import Segment, cut, open_segments
from s3d.journal.uploads import LocalMultipart
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchKey, NotModified
from s3d.protocol.model import ObjectEntry, ObjectResponse, header
from s3d.protocol.tagging import parse_tagging_header


class Reads(LocalMultipart):
    async def read(self, op: ops.GetObject) -> ObjectResponse | None:
        """The answer from the journal, or None when the key has no pending state (or the
        client asks for a version or a part: the remote's business). Raises NoSuchKey for a
        pending delete, NotModified/PreconditionFailed/InvalidRange as S3 would."""
        if op.version_id is not None or op.part_number is not None:
            return None
        job = self.queue.newest_state(op.bucket, op.key)
        if job is None:
            return None
        if job.kind == "delete":
            raise NoSuchKey(Key=op.key)
        payload, size = job.payload, job.size
        headers = object_headers(payload, size)
        try:
            op.conditions.check_read(payload["etag"], acknowledged_at(payload))
        except NotModified as exc:
            exc.headers.update({"ETag": payload["etag"], "x-s3d-state": "pending"})
            raise
        span = op.range.resolve(size) if op.range is not None else None
        replaced = {name for name, _ in op.overrides}
        # The object's checksums describe all of it: only on whole reads that ask for them.
        asked = (header(op.headers, "x-amz-checksum-mode") or "").upper() == "ENABLED"
        if span is not None or not asked:
            replaced |= {n for n, _ in headers if n.startswith("x-amz-checksum-")}
        out = [(n, v) for n, v in headers if n not in replaced] + list(op.overrides)
        out.append(("accept-ranges", "bytes"))
        first, last = span if span is not None else (0, size - 1)
        out.append(("content-length", str(last - first + 1 if size else 0)))
        if span is not None:
            out.append(("content-range", f"bytes {first}-{last}/{size}"))
        status = 206 if span is not None else 200
        if op.head or size == 0:
            return ObjectResponse(status, tuple(out))
        try:
            body = await open_segments(cut(self._segments(job.payload, size), first, last))
        except FileNotFoundError:
            return None  # uploaded and handed to the cache meanwhile: read it there
        return ObjectResponse(status, tuple(out), body)

    def _segments(self, payload: dict[str, Any], size: int) -> list[Segment]:
        names = payload["files"]
        parts = payload.get("parts")
        if parts and len(parts) == len(names):
            return [
                (self.files.path(n), 0, int(p["size"])) for n, p in zip(names, parts, strict=True)
            ]
        return [(self.files.path(names[0]), 0, size)]

    def overlay(self, bucket: str) -> Overlay:
        puts: dict[str, ObjectEntry] = {}
        deletes = set()
        for (job_bucket, key), _ in self.queue.by_key.items():
            if job_bucket != bucket:
                continue
            job = self.queue.newest_state(bucket, key)
            if job is None:
                continue
            if job.kind == "delete":
                deletes.add(key)
            else:
                puts[key] = listing_entry(key, job.payload, job.size)
        return Overlay(puts, frozenset(deletes))

    def pending_tags(self, bucket: str, key: str) -> tuple[tuple[str, str], ...] | None:
        """The tags the key will have once its pending changes are applied; None when the
        journal has nothing to say about them. Raises NoSuchKey for a pending delete."""
        jobs = self.queue.of(bucket, key)
        for job in reversed(jobs):
            if job.kind == "tagging":
                return tuple((str(k), str(v)) for k, v in job.payload["tags"] or [])
            if job.kind == "delete":
                raise NoSuchKey(Key=key)
            if job.kind in ("put", "multipart"):
                value = next((v for n, v in job.payload["headers"] if n == "x-amz-tagging"), None)
                return parse_tagging_header(value) if value else ()
        return None
