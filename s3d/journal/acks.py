"""Acknowledging writes: PutObject, DeleteObject(s), object tagging.

Each acknowledgement holds its key's lock, checks what S3 would check at that moment (the
bucket exists, conditional writes against the newest state of the key: a pending change, else
the remote), moves the verified body into the journal, and answers only once the journal's
transaction has committed. The answer carries the ETag the remote will compute and
``x-s3d-state: pending``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from s3d.journal.core import JournalCore
from s3d.journal.objects import multipart_etag, now_iso, stored_request_headers
from s3d.journal.store import update_payload
from s3d.protocol import operations as ops
from s3d.protocol.errors import (
    NoSuchBucket,
    NoSuchKey,
    PreconditionFailed,
    S3Error,
    ServiceUnavailable,
)
from s3d.protocol.model import DeletedEntry, DeleteObjectsResult, Headers, WriteResult, header
from s3d.protocol.tagging import render_tagging_header
from s3d.staging import StagedBody

PENDING = ("x-s3d-state", "pending")
BUCKET_KNOWN_FOR = 300.0
"""Seconds a bucket the remote confirmed is taken to exist without asking again; after that
it is asked again in the background while writes go on."""
BUCKET_CHECK_WAIT = 2.0
"""Seconds a write waits for the remote to say whether an unknown bucket exists; a remote
that takes longer is given the benefit of the doubt (the write is journaled)."""


class Acknowledgements(JournalCore):
    _known_buckets: dict[str, float]
    """Bucket -> when the remote last confirmed it (monotonic)."""
    _bucket_checks: dict[str, asyncio.Task[S3Error | None]]

    async def check_bucket(self, bucket: str) -> None:
        """NoSuchBucket now rather than a dead letter later. A bucket confirmed before is
        trusted at once (and asked about again in the background once the confirmation is
        ``BUCKET_KNOWN_FOR`` old); an unreachable or stalled remote is given the benefit of
        the doubt: the write never waits on the remote for more than ``BUCKET_CHECK_WAIT``."""
        confirmed = self._known_buckets.get(bucket)
        if confirmed is not None:
            if time.monotonic() - confirmed > BUCKET_KNOWN_FOR:
                self._bucket_check(bucket)
            return
        try:
            async with asyncio.timeout(BUCKET_CHECK_WAIT):
                error = await asyncio.shield(self._bucket_check(bucket))
        except TimeoutError:
            return
        if error is None:
            if bucket not in self._known_buckets:
                raise NoSuchBucket(BucketName=bucket)
        elif not isinstance(error, ServiceUnavailable):
            raise error

    def _bucket_check(self, bucket: str) -> asyncio.Task[S3Error | None]:
        """The running check of ``bucket`` (one at a time), started if none runs."""
        running = self._bucket_checks.get(bucket)
        if running is None or running.done():
            running = asyncio.create_task(self._ask_bucket(bucket), name="s3d-bucket-check")
            self._bucket_checks[bucket] = running
            running.add_done_callback(
                lambda task: (
                    self._bucket_checks.pop(bucket)
                    if self._bucket_checks.get(bucket) is task
                    else None
                )
            )
        return running

    async def _ask_bucket(self, bucket: str) -> S3Error | None:
        """Ask the remote: the bucket is confirmed, or forgotten (NoSuchBucket); any other
        answer changes nothing and is returned."""
        try:
            await self.remote.head_bucket(ops.HeadBucket(bucket))
        except NoSuchBucket:
            self._known_buckets.pop(bucket, None)
            return None
        except S3Error as error:
            return error
        self.bucket_exists(bucket)
        return None

    def bucket_exists(self, bucket: str) -> None:
        self._known_buckets[bucket] = time.monotonic()

    async def current_etag(self, bucket: str, key: str) -> str | None:
        """The key's ETag as a reader of s3d would see it now; None when it does not exist.
        Raises ServiceUnavailable when only the remote could say and it cannot be reached."""
        newest = self.queue.newest_state(bucket, key)
        if newest is not None:
            return None if newest.kind == "delete" else str(newest.payload["etag"])
        try:
            head = await self.remote.get_object(ops.GetObject(bucket, key, head=True))
        except NoSuchKey:
            return None
        return header(head.headers, "etag")

    async def _check_conditions(self, op: ops.PutObject) -> None:
        conditions = op.conditions
        if conditions.if_match is None and conditions.if_none_match is None:
            return
        etag = await self.current_etag(op.bucket, op.key)
        if conditions.if_none_match is not None and etag is not None:
            raise PreconditionFailed(Condition="If-None-Match")
        if conditions.if_match is not None:
            if etag is None:
                raise NoSuchKey(Key=op.key)
            if "*" not in conditions.if_match and etag.strip('"') not in conditions.if_match:
                raise PreconditionFailed(Condition="If-Match")

    async def put(self, op: ops.PutObject, body: StagedBody) -> WriteResult:
        """Journal a PutObject. Raises NoSuchBucket, PreconditionFailed, NoSuchKey,
        ServiceUnavailable (a condition only the unreachable remote could decide)."""
        await self.check_bucket(op.bucket)
        async with self.locked([(op.bucket, op.key)]):
            await self._check_conditions(op)
            payload = await self.put_payload(body, op.headers)
            await self.record([(op.bucket, op.key, "put", payload, body.size)])
        return WriteResult(ack_headers(payload))

    async def put_payload(self, body: StagedBody, headers: Headers) -> dict[str, Any]:
        """Move ``body`` into the journal; what its job needs. A body above the multipart
        threshold gets the part layout it will be uploaded in, and that layout's ETag."""
        name = await self.files.adopt(body)
        payload: dict[str, Any] = {
            "files": [name],
            "headers": stored_request_headers(headers),
            "md5": body.md5.hex(),
            "sha256": body.sha256.hex(),
            "checksums": [list(pair) for pair in body.checksums],
            "last_modified": now_iso(),
            "etag": body.etag,
        }
        if body.size > self.settings.multipart_threshold:
            parts = await asyncio.to_thread(
                _part_md5s, self.files.path(name), body.size, self.settings.part_size
            )
            payload["parts"] = parts
            payload["etag"] = multipart_etag([bytes.fromhex(p["md5"]) for p in parts])
            payload["checksums"] = []  # a whole-object checksum is not sent with parts
        return payload

    async def delete(self, op: ops.DeleteObject) -> WriteResult:
        await self.check_bucket(op.bucket)
        async with self.locked([(op.bucket, op.key)]):
            await self.record([(op.bucket, op.key, "delete", {}, 0)])
        return WriteResult((PENDING,), status=204)

    async def delete_many(self, op: ops.DeleteObjects) -> DeleteObjectsResult:
        """Every key deleted in one transaction (S3 deletes what does not exist, too)."""
        await self.check_bucket(op.bucket)
        keys = list(dict.fromkeys(o.key for o in op.objects))
        async with self.locked([(op.bucket, key) for key in keys]):
            await self.record([(op.bucket, key, "delete", {}, 0) for key in keys])
        deleted = tuple(DeletedEntry(o.key) for o in op.objects)
        return DeleteObjectsResult(deleted, (), op.quiet, (PENDING,))

    async def tagging(self, op: ops.PutObjectTagging | ops.DeleteObjectTagging) -> WriteResult:
        """Tags of a pending object are rewritten in its job; otherwise a tagging job follows
        the key's other changes. Raises NoSuchKey for a key that does not exist."""
        tags = op.tags if isinstance(op, ops.PutObjectTagging) else None
        async with self.locked([(op.bucket, op.key)]):
            newest = self.queue.newest_state(op.bucket, op.key)
            if newest is not None and newest.kind == "delete":
                raise NoSuchKey(Key=op.key)
            if newest is not None and not newest.running:
                await self._retag(newest, tags)
                if newest.running:  # taken by the uploader meanwhile, with the old tags
                    payload = {"tags": [list(t) for t in tags] if tags is not None else None}
                    await self.record([(op.bucket, op.key, "tagging", payload, 0)])
                # Taggings queued after it are older than this one: it replaces them.
                later = [j for j in self.queue.of(op.bucket, op.key) if j.seq > newest.seq]
                await self.drop([j for j in later if j.kind == "tagging" and not j.running])
            else:
                if newest is None and await self._absent(op.bucket, op.key):
                    raise NoSuchKey(Key=op.key)
                payload = {"tags": [list(t) for t in tags] if tags is not None else None}
                await self.record([(op.bucket, op.key, "tagging", payload, 0)])
        return WriteResult((PENDING,), status=200 if tags is not None else 204)

    async def _retag(self, job: Any, tags: tuple[tuple[str, str], ...] | None) -> None:
        payload = dict(job.payload)
        headers = [pair for pair in payload["headers"] if pair[0] != "x-amz-tagging"]
        if tags:
            headers.append(["x-amz-tagging", render_tagging_header(tags)])
        payload["headers"] = headers
        await self.store.write([update_payload(job.seq, payload, job.size)])
        job.payload = payload

    async def _absent(self, bucket: str, key: str) -> bool:
        try:
            await self.remote.get_object(ops.GetObject(bucket, key, head=True))
        except NoSuchKey:
            return True
        except S3Error:
            return False  # unknown now; the remote says so when the job runs
        return False


def ack_headers(payload: dict[str, Any]) -> Headers:
    checksums = tuple((f"x-amz-checksum-{alg.lower()}", v) for alg, v in payload["checksums"])
    return (("etag", payload["etag"]), *checksums, PENDING)


def _part_md5s(path: Path, size: int, part_size: int) -> list[dict[str, Any]]:
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
            parts.append({"offset": offset, "size": length, "md5": digest.hexdigest()})
    return parts
