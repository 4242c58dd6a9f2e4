"""The gateway: carries out one S3 operation across s3d's services.

Every operation the server parsed comes here, and only here, so that nothing that changes an
object's bytes can reach the remote around it. Today every operation goes to the remote; the
read cache and the write-back journal attach here (reads consult the cache first, writes go to
the journal), which is why the server never calls the remote itself.

``Remote`` is the contract the remote adapter (``s3d/remote``) fulfils: one coroutine per
operation, S3 errors raised as ``S3Error``, bodies streamed, never held whole.
"""

from __future__ import annotations

from typing import Protocol

from s3d.journal.staging import StagedBody, StagingArea
from s3d.protocol import operations as ops
from s3d.protocol.conditions import parse_http_date
from s3d.protocol.errors import InternalError
from s3d.protocol.listing import cap_page
from s3d.protocol.model import (
    CompleteMultipartResult,
    CopyResult,
    CreateMultipartResult,
    DeleteObjectsResult,
    Headers,
    ListBucketsResult,
    ListMultipartUploadsResult,
    ListObjectsResult,
    ListPartsResult,
    LocationResult,
    ObjectResponse,
    RawResponse,
    Result,
    TaggingResult,
    WriteResult,
    header,
)


class Remote(Protocol):
    """The remote bucket store. Each call raises ``S3Error`` for what the remote refused and
    ``ServiceUnavailable`` when it cannot be reached; cancellation abandons the call."""

    async def list_buckets(self, op: ops.ListBuckets) -> ListBucketsResult: ...
    async def create_bucket(self, op: ops.CreateBucket) -> WriteResult: ...
    async def head_bucket(self, op: ops.HeadBucket) -> WriteResult: ...
    async def delete_bucket(self, op: ops.DeleteBucket) -> WriteResult: ...
    async def get_bucket_location(self, op: ops.GetBucketLocation) -> LocationResult: ...
    async def list_objects(self, op: ops.ListObjects) -> ListObjectsResult: ...
    async def list_multipart_uploads(
        self, op: ops.ListMultipartUploads
    ) -> ListMultipartUploadsResult: ...
    async def delete_objects(self, op: ops.DeleteObjects) -> DeleteObjectsResult: ...
    async def get_object(self, op: ops.GetObject) -> ObjectResponse: ...
    async def put_object(self, op: ops.PutObject, body: StagedBody) -> WriteResult: ...
    async def copy_object(self, op: ops.CopyObject) -> CopyResult: ...
    async def delete_object(self, op: ops.DeleteObject) -> WriteResult: ...
    async def create_multipart_upload(
        self, op: ops.CreateMultipartUpload
    ) -> CreateMultipartResult: ...
    async def upload_part(self, op: ops.UploadPart, body: StagedBody) -> WriteResult: ...
    async def upload_part_copy(self, op: ops.UploadPartCopy) -> CopyResult: ...
    async def complete_multipart_upload(
        self, op: ops.CompleteMultipartUpload
    ) -> CompleteMultipartResult: ...
    async def abort_multipart_upload(self, op: ops.AbortMultipartUpload) -> WriteResult: ...
    async def list_parts(self, op: ops.ListParts) -> ListPartsResult: ...
    async def get_object_tagging(self, op: ops.GetObjectTagging) -> TaggingResult: ...
    async def put_object_tagging(self, op: ops.PutObjectTagging) -> WriteResult: ...
    async def delete_object_tagging(self, op: ops.DeleteObjectTagging) -> WriteResult: ...
    async def forward(self, op: ops.Forwarded, body: StagedBody | None) -> RawResponse: ...


class Gateway:
    """Dispatches operations. Owns no state of its own; the services it composes do."""

    def __init__(self, remote: Remote, staging: StagingArea) -> None:
        self._remote = remote
        self.staging = staging

    async def execute(self, op: ops.Operation, body: StagedBody | None = None) -> Result:
        """Carry out ``op``. ``body`` is the staged request body of PutObject, UploadPart and
        forwarded operations that have one; the gateway owns it from here on (today it is
        deleted once the remote has it). Raises ``S3Error``."""
        try:
            return await self._dispatch(op, body)
        finally:
            if body is not None:
                await self.staging.discard(body)

    async def _dispatch(self, op: ops.Operation, body: StagedBody | None) -> Result:
        remote = self._remote
        match op:
            case ops.GetObject():
                return await remote.get_object(op)
            case ops.PutObject():
                return await remote.put_object(op, _required(body))
            case ops.UploadPart():
                return await remote.upload_part(op, _required(body))
            case ops.ListObjects():
                return cap_page(await remote.list_objects(op))
            case ops.CopyObject():
                await self._check_copy_source(op.source, op.headers)
                return await remote.copy_object(op)
            case ops.DeleteObject():
                return await remote.delete_object(op)
            case ops.DeleteObjects():
                return await remote.delete_objects(op)
            case ops.CreateMultipartUpload():
                return await remote.create_multipart_upload(op)
            case ops.UploadPartCopy():
                await self._check_copy_source(op.source, op.headers)
                return await remote.upload_part_copy(op)
            case ops.CompleteMultipartUpload():
                return await remote.complete_multipart_upload(op)
            case ops.AbortMultipartUpload():
                return await remote.abort_multipart_upload(op)
            case ops.ListParts():
                return await remote.list_parts(op)
            case ops.ListMultipartUploads():
                return await remote.list_multipart_uploads(op)
            case ops.GetObjectTagging():
                return await remote.get_object_tagging(op)
            case ops.PutObjectTagging():
                return await remote.put_object_tagging(op)
            case ops.DeleteObjectTagging():
                return await remote.delete_object_tagging(op)
            case ops.ListBuckets():
                return await remote.list_buckets(op)
            case ops.CreateBucket():
                return await remote.create_bucket(op)
            case ops.HeadBucket():
                return await remote.head_bucket(op)
            case ops.DeleteBucket():
                return await remote.delete_bucket(op)
            case ops.GetBucketLocation():
                return await remote.get_bucket_location(op)
            case ops.Forwarded():
                return await remote.forward(op, body)

    async def _check_copy_source(self, source: ops.CopySource, headers: Headers) -> None:
        """Evaluate x-amz-copy-source-if-* against the source's current ETag and date.

        The headers also go to the remote, which checks them atomically where it implements
        them; checking here as well gives S3's answer in front of remotes that ignore them.
        """
        if source.conditions.empty:
            return
        prefix = "x-amz-copy-source-server-side-encryption-customer-"
        sse_c = tuple(
            ("x-amz-server-side-encryption-customer-" + name[len(prefix) :], value)
            for name, value in headers
            if name.startswith(prefix)
        )
        head = await self._remote.get_object(
            ops.GetObject(
                source.bucket, source.key, head=True, version_id=source.version_id, headers=sse_c
            )
        )
        etag = header(head.headers, "etag") or ""
        modified = parse_http_date(header(head.headers, "last-modified"))
        if modified is None:
            raise InternalError("the copy source has no Last-Modified date")
        source.conditions.check_copy_source(etag, modified)


def _required(body: StagedBody | None) -> StagedBody:
    if body is None:
        raise InternalError("an object body was expected and none was staged")
    return body
