"""Multipart upload operations on the remote."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchBucket, NoSuchUpload
from s3d.protocol.model import (
    CompleteMultipartResult,
    CopyResult,
    CreateMultipartResult,
    ListMultipartUploadsResult,
    ListPartsResult,
    WriteResult,
    quote_etag,
)
from s3d.remote import listings
from s3d.remote.bodies import staged_reader
from s3d.remote.calls import Calls
from s3d.remote.objects import body_headers, copy_result, copy_source
from s3d.remote.responses import checksum_params, checksums, result_headers, status

if TYPE_CHECKING:
    from s3d.staging import StagedBody


class MultipartOperations:
    def __init__(self, call: Calls) -> None:
        self._call = call

    async def create_multipart_upload(self, op: ops.CreateMultipartUpload) -> CreateMultipartResult:
        """Raises S3Error; cancellation abandons the call (an upload may still be created)."""
        out = await self._call("CreateMultipartUpload", op.headers, Bucket=op.bucket, Key=op.key)
        return CreateMultipartResult(op.bucket, op.key, str(out["UploadId"]), result_headers(out))

    async def upload_part(self, op: ops.UploadPart, body: StagedBody) -> WriteResult:
        """Upload one part from its staged file, with its verified MD5 and checksums.
        Raises S3Error (NoSuchUpload…); cancellation abandons the part."""
        async with staged_reader(body) as reader:
            out = await self._call(
                "UploadPart",
                op.headers,
                missing=NoSuchUpload,
                supplied=body_headers(body),
                Bucket=op.bucket,
                Key=op.key,
                UploadId=op.upload_id,
                PartNumber=op.part_number,
                Body=reader,
            )
        return WriteResult(result_headers(out), status(out))

    async def upload_part_copy(self, op: ops.UploadPartCopy) -> CopyResult:
        """A part copied on the remote (x-amz-copy-source-range comes from the headers).
        Raises S3Error; cancellation abandons the call."""
        out = await self._call(
            "UploadPartCopy",
            op.headers,
            missing=NoSuchUpload,
            Bucket=op.bucket,
            Key=op.key,
            UploadId=op.upload_id,
            PartNumber=op.part_number,
            CopySource=copy_source(op.source),
        )
        return copy_result(out, out.get("CopyPartResult") or {}, part=True)

    async def complete_multipart_upload(
        self, op: ops.CompleteMultipartUpload
    ) -> CompleteMultipartResult:
        """Raises S3Error (InvalidPart, InvalidPartOrder, NoSuchUpload…), including an error
        the remote reports inside a 200 answer; cancellation abandons the call."""
        parts = [
            {"PartNumber": part.part_number, "ETag": part.etag, **checksum_params(part.checksums)}
            for part in op.parts
        ]
        out = await self._call(
            "CompleteMultipartUpload",
            op.headers,
            missing=NoSuchUpload,
            Bucket=op.bucket,
            Key=op.key,
            UploadId=op.upload_id,
            MultipartUpload={"Parts": parts},
        )
        return CompleteMultipartResult(
            location=str(out.get("Location", "")),
            bucket=op.bucket,
            key=op.key,
            etag=quote_etag(str(out.get("ETag", ""))),
            headers=result_headers(out),
            checksums=checksums(out),
            checksum_type=out.get("ChecksumType"),
        )

    async def abort_multipart_upload(self, op: ops.AbortMultipartUpload) -> WriteResult:
        """Raises S3Error (NoSuchUpload…); cancellation abandons the call."""
        out = await self._call(
            "AbortMultipartUpload",
            op.headers,
            missing=NoSuchUpload,
            Bucket=op.bucket,
            Key=op.key,
            UploadId=op.upload_id,
        )
        return WriteResult(result_headers(out), status(out))

    async def list_parts(self, op: ops.ListParts) -> ListPartsResult:
        """Raises S3Error (NoSuchUpload…); cancellation abandons the call."""
        out = await self._call(
            "ListParts",
            op.headers,
            missing=NoSuchUpload,
            Bucket=op.bucket,
            Key=op.key,
            UploadId=op.upload_id,
            MaxParts=op.max_parts,
            PartNumberMarker=op.part_number_marker or None,
        )
        return listings.list_parts(op, out)

    async def list_multipart_uploads(
        self, op: ops.ListMultipartUploads
    ) -> ListMultipartUploadsResult:
        """Keys come back decoded. Raises S3Error (NoSuchBucket…); cancellation abandons the
        call."""
        out = await self._call(
            "ListMultipartUploads",
            op.headers,
            missing=NoSuchBucket,
            Bucket=op.bucket,
            Prefix=op.prefix or None,
            Delimiter=op.delimiter,
            KeyMarker=op.key_marker,
            UploadIdMarker=op.upload_id_marker,
            MaxUploads=op.max_uploads,
            EncodingType="url",
        )
        return listings.list_uploads(op, out)
