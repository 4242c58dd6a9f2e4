"""Which operations the journal answers in write-back mode, and how.

Writes of keys go to the journal (acknowledged when durable on local disk); reads of keys
with pending changes, listings and multipart uploads created through s3d are answered from
it, merged with the remote where the remote also has a say. Writes of specific versions, and
multipart uploads the remote created (their ids are not s3d's), go to the remote directly:
the journal does not model versions. ``handle`` returns None for operations it leaves to the
rest of the gateway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from s3d.journal.merged_listing import RemotePage, list_merged
from s3d.journal.service import Journal
from s3d.journal.uploads import is_local
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import BucketNotEmpty, InternalError, ServiceUnavailable
from s3d.protocol.model import (
    ListMultipartUploadsResult,
    ListObjectsResult,
    ObjectEntry,
    Result,
    TaggingResult,
    UploadEntry,
)
from s3d.staging import StagedBody

KnownKeys = Callable[[str, str, str | None, int], Awaitable[list[ObjectEntry]]]
"""(bucket, prefix, start_after, limit) -> keys this node knows of (the read cache's)."""


log = logging.getLogger("s3d.journal")


class WriteBack:
    def __init__(self, journal: Journal, remote: Remote, known: KnownKeys | None = None) -> None:
        self.journal = journal
        self._remote = remote
        self._known = known

    async def handle(self, op: ops.Operation, body: StagedBody | None) -> Result | None:
        """The journal's answer to ``op``, or None when the remote (or cache) answers it."""
        journal = self.journal
        bucket, key = getattr(op, "bucket", None), getattr(op, "key", None)
        if _customer_keyed(op):
            # An SSE-C key is never written to disk: such a write goes to the remote now,
            # after the key's pending changes (kept in order).
            await journal.settle(bucket, key)
            return None
        if isinstance(op, ops.Forwarded) and op.method in ("PUT", "POST", "DELETE"):
            # ACLs, retention, legal holds… act on the remote object: let it get there first.
            await journal.uploaded(bucket, key)
            return None
        match op:
            case ops.GetObject():
                return await journal.read(op)
            case ops.PutObject():
                return await journal.put(op, _body(body))
            case ops.DeleteObject() if op.version_id is None:
                return await journal.delete(op)
            case ops.DeleteObjects() if all(o.version_id is None for o in op.objects):
                return await journal.delete_many(op)
            case ops.CopyObject():
                return await journal.copy(op)
            case ops.PutObjectTagging() | ops.DeleteObjectTagging() if op.version_id is None:
                return await journal.tagging(op)
            case ops.GetObjectTagging() if op.version_id is None:
                tags = journal.pending_tags(op.bucket, op.key)
                return None if tags is None else TaggingResult(tags)
            case ops.ListObjects():
                return await self._list(op)
        return await self._others(op, body)

    async def _others(self, op: ops.Operation, body: StagedBody | None) -> Result | None:
        journal = self.journal
        match op:
            case ops.CreateMultipartUpload():
                return await journal.create_upload(op)
            case ops.UploadPart() if is_local(op.upload_id):
                return await journal.upload_part(op, _body(body))
            case ops.UploadPartCopy() if is_local(op.upload_id):
                return await journal.upload_part_copy(op)
            case ops.CompleteMultipartUpload() if is_local(op.upload_id):
                return await journal.complete(op)
            case ops.AbortMultipartUpload() if is_local(op.upload_id):
                return await journal.abort(op)
            case ops.ListParts() if is_local(op.upload_id):
                return journal.list_parts(op)
            case ops.ListMultipartUploads():
                return self._with_local_uploads(op, await self._remote.list_multipart_uploads(op))
            case ops.DeleteBucket() if journal.overlay(op.bucket).puts:
                raise BucketNotEmpty(BucketName=op.bucket)
        return None

    async def _list(self, op: ops.ListObjects) -> ListObjectsResult:
        overlay = self.journal.overlay(op.bucket)

        async def fetch(start_after: str | None, max_keys: int) -> RemotePage:
            page = await self._remote.list_objects(
                ops.ListObjects(
                    op.bucket,
                    version=2,
                    prefix=op.prefix,
                    delimiter=op.delimiter,
                    max_keys=max_keys,
                    start_after=start_after,
                    fetch_owner=op.fetch_owner or op.version == 1,
                )
            )
            return RemotePage(page.contents, page.common_prefixes, page.is_truncated)

        async def has_live_key(prefix: str) -> bool:
            start: str | None = None
            while True:
                page = await self._remote.list_objects(
                    ops.ListObjects(op.bucket, version=2, prefix=prefix, start_after=start)
                )
                if any(e.key not in overlay.deletes for e in page.contents):
                    return True
                if not page.is_truncated or not page.contents:
                    return False
                start = page.contents[-1].key

        try:
            return await list_merged(op, overlay, fetch, has_live_key)
        except ServiceUnavailable:
            if self._known is None:
                raise
        # The remote cannot be reached: list what this node knows — its pending changes and
        # the objects its cache holds — rather than nothing.
        known = self._known
        log.warning("listing %s from local knowledge: the remote cannot be reached", op.bucket)

        async def local(start_after: str | None, max_keys: int) -> RemotePage:
            entries = await known(op.bucket, op.prefix, start_after, max_keys + _ROLL_UP_SLACK)
            return rolled_up(entries, op.prefix, op.delimiter, max_keys, len(entries) > max_keys)

        async def none_live(prefix: str) -> bool:
            return False

        return await list_merged(op, overlay, local, none_live)

    def _with_local_uploads(
        self, op: ops.ListMultipartUploads, remote: ListMultipartUploadsResult
    ) -> ListMultipartUploadsResult:
        """The remote's uploads and those assembled here, in key then id order."""
        local = [
            UploadEntry(u["key"], upload_id, _datetime(u["created"]))
            for upload_id, u in self.journal.uploads.items()
            if u["bucket"] == op.bucket
            and u["key"].startswith(op.prefix)
            and (op.key_marker is None or u["key"] > op.key_marker)
        ]
        merged = sorted([*remote.uploads, *local], key=lambda u: (u.key, u.upload_id))
        shown = merged[: op.max_uploads]
        truncated = remote.is_truncated or len(merged) > len(shown)
        last = shown[-1] if shown and truncated else None
        return ListMultipartUploadsResult(
            bucket=remote.bucket,
            prefix=remote.prefix,
            delimiter=remote.delimiter,
            key_marker=remote.key_marker,
            upload_id_marker=remote.upload_id_marker,
            next_key_marker=last.key if last else None,
            next_upload_id_marker=last.upload_id if last else None,
            max_uploads=remote.max_uploads,
            encoding_type=remote.encoding_type,
            is_truncated=truncated,
            uploads=tuple(shown),
            common_prefixes=remote.common_prefixes,
        )


_ROLL_UP_SLACK = 1000


def rolled_up(
    entries: list[ObjectEntry], prefix: str, delimiter: str | None, max_keys: int, more: bool
) -> RemotePage:
    """A page as S3 would cut it from sorted keys: keys past the delimiter rolled up into
    common prefixes, keys and prefixes counted together up to ``max_keys``."""
    keys: list[ObjectEntry] = []
    prefixes: list[str] = []
    for entry in entries:
        rest = entry.key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if prefixes and prefixes[-1] == common:
                continue
            prefixes.append(common)
        else:
            keys.append(entry)
        if len(keys) + len(prefixes) >= max_keys:
            return RemotePage(tuple(keys), tuple(prefixes), True)
    return RemotePage(tuple(keys), tuple(prefixes), more)


def _customer_keyed(op: ops.Operation) -> bool:
    if isinstance(op, ops.GetObject | ops.ListObjects | ops.Forwarded):
        return False
    return any(name.startswith(_CUSTOMER_KEY_HEADERS) for name, _ in getattr(op, "headers", ()))


_CUSTOMER_KEY_HEADERS = (
    "x-amz-server-side-encryption-customer-",
    "x-amz-copy-source-server-side-encryption-customer-",
)


def _body(body: StagedBody | None) -> StagedBody:
    if body is None:
        raise InternalError("an object body was expected and none was staged")
    return body


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
