"""The contracts s3d's services depend on, fulfilled by adapters.

``Remote`` is what the remote adapter (``s3d/remote``) provides to the gateway and the cache:
one coroutine per S3 operation, S3 errors raised as ``S3Error``, bodies streamed, never held
whole. ``Promote`` is what the journal needs of the read cache: to take an uploaded file as a
key's clean entry.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from s3d.protocol import operations as ops
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
    TaggingResult,
    WriteResult,
)
from s3d.staging import StagedBody


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


class Promote(Protocol):
    """Hands an uploaded file to the read cache as the key's clean entry (moved, not copied).
    ``headers`` are the object's as a GET answers them. False when the cache declined (it
    is off); the file is then the caller's still."""

    async def __call__(
        self,
        bucket: str,
        key: str,
        path: Path,
        headers: Headers,
        size: int,
        last_modified: datetime,
    ) -> bool: ...
