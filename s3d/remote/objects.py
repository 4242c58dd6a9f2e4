"""Object operations on the remote: GET/HEAD, PUT, COPY, DELETE and tagging."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from s3d.protocol import operations as ops
from s3d.protocol.model import (
    CopyResult,
    Headers,
    ObjectResponse,
    TaggingResult,
    WriteResult,
    quote_etag,
)
from s3d.remote.bodies import BodyStream, staged_reader
from s3d.remote.calls import Calls
from s3d.remote.responses import (
    Output,
    checksums,
    object_headers,
    result_headers,
    status,
    utc,
)

if TYPE_CHECKING:
    from s3d.staging import StagedBody


class ObjectOperations:
    def __init__(self, call: Calls) -> None:
        self._call = call

    async def get_object(self, op: ops.GetObject) -> ObjectResponse:
        """GetObject, or HeadObject when ``op.head``. The body streams from the remote and
        holds a connection until closed. Raises NoSuchKey, NotModified, PreconditionFailed,
        InvalidRange…; cancellation abandons the request."""
        out = await self._call(
            "HeadObject" if op.head else "GetObject",
            op.headers,
            overrides=op.overrides,
            Bucket=op.bucket,
            Key=op.key,
            Range=str(op.range) if op.range is not None else None,
            VersionId=op.version_id,
            PartNumber=op.part_number,
        )
        headers = object_headers(out)
        if op.head:
            return ObjectResponse(status(out), headers)
        body = out["Body"]
        return ObjectResponse(status(out), headers, BodyStream(body.read, body.close))

    async def put_object(self, op: ops.PutObject, body: StagedBody) -> WriteResult:
        """Upload ``body`` with its verified MD5 and checksums; the file is read in aiohttp's
        executor. Raises S3Error; cancellation abandons the upload (nothing is stored)."""
        async with staged_reader(body) as reader:
            out = await self._call(
                "PutObject",
                op.headers,
                supplied=body_headers(body),
                Bucket=op.bucket,
                Key=op.key,
                Body=reader,
            )
        return WriteResult(result_headers(out), status(out))

    async def copy_object(self, op: ops.CopyObject) -> CopyResult:
        """Server-side copy on the remote. Raises S3Error; cancellation abandons the call."""
        out = await self._call(
            "CopyObject",
            op.headers,
            Bucket=op.bucket,
            Key=op.key,
            CopySource=copy_source(op.source),
        )
        return copy_result(out, out.get("CopyObjectResult") or {}, part=False)

    async def delete_object(self, op: ops.DeleteObject) -> WriteResult:
        """Raises S3Error; cancellation abandons the call (the delete may still happen)."""
        out = await self._call(
            "DeleteObject", op.headers, Bucket=op.bucket, Key=op.key, VersionId=op.version_id
        )
        return WriteResult(result_headers(out), status(out))

    async def get_object_tagging(self, op: ops.GetObjectTagging) -> TaggingResult:
        """Raises S3Error (NoSuchKey…); cancellation abandons the call."""
        out = await self._call(
            "GetObjectTagging", op.headers, Bucket=op.bucket, Key=op.key, VersionId=op.version_id
        )
        tags = tuple((str(tag["Key"]), str(tag["Value"])) for tag in out.get("TagSet", ()))
        return TaggingResult(tags, result_headers(out))

    async def put_object_tagging(self, op: ops.PutObjectTagging) -> WriteResult:
        """Raises S3Error (InvalidTag…); cancellation abandons the call."""
        out = await self._call(
            "PutObjectTagging",
            op.headers,
            Bucket=op.bucket,
            Key=op.key,
            VersionId=op.version_id,
            Tagging={"TagSet": [{"Key": key, "Value": value} for key, value in op.tags]},
        )
        return WriteResult(result_headers(out), status(out))

    async def delete_object_tagging(self, op: ops.DeleteObjectTagging) -> WriteResult:
        """Raises S3Error; cancellation abandons the call."""
        out = await self._call(
            "DeleteObjectTagging",
            op.headers,
            Bucket=op.bucket,
            Key=op.key,
            VersionId=op.version_id,
        )
        return WriteResult(result_headers(out), status(out))


def body_headers(body: StagedBody) -> Headers:
    """The headers s3d vouches for: length, Content-MD5 and the verified checksums, named
    in x-amz-sdk-checksum-algorithm as SDKs do (some servers store a checksum only then)."""
    named = (("x-amz-sdk-checksum-algorithm", body.checksums[0][0]),) if body.checksums else ()
    return (
        ("content-length", str(body.size)),
        ("content-md5", base64.b64encode(body.md5).decode("ascii")),
        *((f"x-amz-checksum-{algorithm.lower()}", value) for algorithm, value in body.checksums),
        *named,
    )


def copy_source(source: ops.CopySource) -> dict[str, str]:
    params = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id is not None:
        params["VersionId"] = source.version_id
    return params


def copy_result(out: Output, result: Output, *, part: bool) -> CopyResult:
    return CopyResult(
        etag=quote_etag(str(result.get("ETag", ""))),
        last_modified=utc(result["LastModified"]),
        headers=result_headers(out),
        checksums=checksums(result),
        part=part,
    )
