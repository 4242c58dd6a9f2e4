"""Service and bucket operations on the remote: buckets, listings, DeleteObjects."""

from __future__ import annotations

from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchBucket
from s3d.protocol.model import (
    DeletedEntry,
    DeleteErrorEntry,
    DeleteObjectsResult,
    ListBucketsResult,
    ListObjectsResult,
    LocationResult,
    WriteResult,
)
from s3d.remote import listings
from s3d.remote.calls import Calls
from s3d.remote.responses import optional_str, result_headers, status
from s3d.settings import RemoteSettings


class BucketOperations:
    def __init__(self, call: Calls, settings: RemoteSettings) -> None:
        self._call = call
        self.settings = settings

    async def list_buckets(self, op: ops.ListBuckets) -> ListBucketsResult:
        """Raises S3Error; cancellation abandons the call."""
        out = await self._call(
            "ListBuckets",
            op.headers,
            Prefix=op.prefix,
            MaxBuckets=op.max_buckets,
            ContinuationToken=op.continuation_token,
            BucketRegion=op.bucket_region,
        )
        return listings.list_buckets(op, out)

    async def create_bucket(self, op: ops.CreateBucket) -> WriteResult:
        """Raises S3Error (BucketAlreadyOwnedByYou…); cancellation abandons the call."""
        configuration = (
            {"LocationConstraint": op.location_constraint} if op.location_constraint else None
        )
        out = await self._call(
            "CreateBucket",
            op.headers,
            missing=NoSuchBucket,
            Bucket=op.bucket,
            CreateBucketConfiguration=configuration,
        )
        return WriteResult(result_headers(out), status(out))

    async def head_bucket(self, op: ops.HeadBucket) -> WriteResult:
        """Headers such as x-amz-bucket-region. Raises NoSuchBucket, AccessDenied…;
        cancellation abandons the call."""
        out = await self._call("HeadBucket", op.headers, missing=NoSuchBucket, Bucket=op.bucket)
        return WriteResult(result_headers(out), status(out))

    async def delete_bucket(self, op: ops.DeleteBucket) -> WriteResult:
        """Raises S3Error (BucketNotEmpty…); cancellation abandons the call."""
        out = await self._call("DeleteBucket", op.headers, missing=NoSuchBucket, Bucket=op.bucket)
        return WriteResult(result_headers(out), status(out))

    async def get_bucket_location(self, op: ops.GetBucketLocation) -> LocationResult:
        """Raises S3Error; cancellation abandons the call."""
        out = await self._call(
            "GetBucketLocation", op.headers, missing=NoSuchBucket, Bucket=op.bucket
        )
        return LocationResult(optional_str(out.get("LocationConstraint")))

    async def list_objects(self, op: ops.ListObjects) -> ListObjectsResult:
        """ListObjects or ListObjectsV2 by ``op.version``; keys come back decoded. Raises
        S3Error (NoSuchBucket…), ServiceUnavailable when the remote has not answered within
        ``remote.listing_deadline`` (a write-back listing then answers from what this node
        knows); cancellation abandons the call."""
        if op.version == 2:
            out = await self._call(
                "ListObjectsV2",
                op.headers,
                missing=NoSuchBucket,
                deadline=self.settings.listing_deadline,
                Bucket=op.bucket,
                Prefix=op.prefix or None,
                Delimiter=op.delimiter,
                MaxKeys=op.max_keys,
                ContinuationToken=op.continuation_token,
                StartAfter=op.start_after,
                FetchOwner=op.fetch_owner or None,
            )
        else:
            out = await self._call(
                "ListObjects",
                op.headers,
                missing=NoSuchBucket,
                deadline=self.settings.listing_deadline,
                Bucket=op.bucket,
                Prefix=op.prefix or None,
                Delimiter=op.delimiter,
                MaxKeys=op.max_keys,
                Marker=op.marker,
            )
        return listings.list_objects(op, out)

    async def delete_objects(self, op: ops.DeleteObjects) -> DeleteObjectsResult:
        """Per-key failures come back in ``errors``. Raises S3Error for the request as a
        whole; cancellation abandons the call (some keys may be deleted)."""
        objects = [
            {"Key": o.key, **({"VersionId": o.version_id} if o.version_id else {})}
            for o in op.objects
        ]
        out = await self._call(
            "DeleteObjects",
            op.headers,
            missing=NoSuchBucket,
            Bucket=op.bucket,
            Delete={"Objects": objects, "Quiet": op.quiet},
        )
        return DeleteObjectsResult(
            deleted=tuple(
                DeletedEntry(
                    key=str(entry["Key"]),
                    version_id=entry.get("VersionId"),
                    delete_marker=bool(entry.get("DeleteMarker")),
                    delete_marker_version_id=entry.get("DeleteMarkerVersionId"),
                )
                # Quiet means errors only, whatever the remote sent (moto lists all).
                for entry in (() if op.quiet else out.get("Deleted", ()))
            ),
            errors=tuple(
                DeleteErrorEntry(
                    key=str(entry.get("Key", "")),
                    code=str(entry.get("Code", "")),
                    message=str(entry.get("Message", "")),
                    version_id=entry.get("VersionId"),
                )
                for entry in out.get("Errors", ())
            ),
            quiet=op.quiet,
            headers=result_headers(out),
        )
