"""Botocore's listing outputs as s3d's listing results.

Keys in results are always decoded: botocore asks ListObjects(V2) for ``encoding-type=url``
and decodes the answer itself; ListMultipartUploads is asked for it here and decoded here the
way botocore decodes (form encoding: '+' is a space) when the remote says it encoded. Each
result carries the client's own ``encoding_type`` for the renderer to apply. Values the client
sent (prefix, delimiter, markers) are echoed from the operation rather than read back, so they
are never decoded twice.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from s3d.protocol import operations as ops
from s3d.protocol.model import (
    BucketEntry,
    ListBucketsResult,
    ListMultipartUploadsResult,
    ListObjectsResult,
    ListPartsResult,
    ObjectEntry,
    PartEntry,
    UploadEntry,
)
from s3d.remote.responses import Output, checksums, optional_str, owner, utc


def list_objects(op: ops.ListObjects, out: Output) -> ListObjectsResult:
    return ListObjectsResult(
        version=op.version,
        bucket=op.bucket,
        prefix=op.prefix,
        delimiter=op.delimiter,
        max_keys=op.max_keys,
        encoding_type=op.encoding_type,
        is_truncated=bool(out.get("IsTruncated")),
        contents=tuple(_object(entry) for entry in out.get("Contents", ())),
        common_prefixes=tuple(p["Prefix"] for p in out.get("CommonPrefixes", ())),
        marker=op.marker if op.version == 1 else None,
        next_marker=optional_str(out.get("NextMarker")) if op.version == 1 else None,
        continuation_token=op.continuation_token if op.version == 2 else None,
        next_continuation_token=optional_str(out.get("NextContinuationToken")),
        start_after=op.start_after if op.version == 2 else None,
    )


def _object(entry: Output) -> ObjectEntry:
    return ObjectEntry(
        key=entry["Key"],
        last_modified=utc(entry["LastModified"]),
        etag=entry.get("ETag", ""),
        size=int(entry.get("Size", 0)),
        storage_class=entry.get("StorageClass") or "STANDARD",
        owner=owner(entry.get("Owner")),
        checksum_algorithms=tuple(entry.get("ChecksumAlgorithm", ())),
        checksum_type=entry.get("ChecksumType"),
    )


def list_uploads(op: ops.ListMultipartUploads, out: Output) -> ListMultipartUploadsResult:
    decode = unquote_plus if out.get("EncodingType") == "url" else _same
    next_key = optional_str(out.get("NextKeyMarker"))
    return ListMultipartUploadsResult(
        bucket=op.bucket,
        prefix=op.prefix,
        delimiter=op.delimiter,
        key_marker=op.key_marker or "",
        upload_id_marker=op.upload_id_marker or "",
        next_key_marker=decode(next_key) if next_key is not None else None,
        next_upload_id_marker=optional_str(out.get("NextUploadIdMarker")),
        max_uploads=op.max_uploads,
        encoding_type=op.encoding_type,
        is_truncated=bool(out.get("IsTruncated")),
        uploads=tuple(
            UploadEntry(
                key=decode(entry["Key"]),
                upload_id=entry["UploadId"],
                initiated=utc(entry["Initiated"]),
                storage_class=entry.get("StorageClass") or "STANDARD",
                owner=owner(entry.get("Owner")),
                initiator=owner(entry.get("Initiator")),
                checksum_algorithm=entry.get("ChecksumAlgorithm"),
            )
            for entry in out.get("Uploads", ())
        ),
        common_prefixes=tuple(decode(p["Prefix"]) for p in out.get("CommonPrefixes", ())),
    )


def _same(value: str) -> str:
    return value


def list_parts(op: ops.ListParts, out: Output) -> ListPartsResult:
    next_marker = out.get("NextPartNumberMarker")
    return ListPartsResult(
        bucket=op.bucket,
        key=op.key,
        upload_id=op.upload_id,
        part_number_marker=op.part_number_marker,
        next_part_number_marker=int(next_marker) if next_marker is not None else None,
        max_parts=op.max_parts,
        is_truncated=bool(out.get("IsTruncated")),
        parts=tuple(
            PartEntry(
                part_number=int(part["PartNumber"]),
                last_modified=utc(part["LastModified"]),
                etag=part.get("ETag", ""),
                size=int(part.get("Size", 0)),
                checksums=checksums(part),
            )
            for part in out.get("Parts", ())
        ),
        storage_class=out.get("StorageClass") or "STANDARD",
        owner=owner(out.get("Owner")),
        initiator=owner(out.get("Initiator")),
        checksum_algorithm=out.get("ChecksumAlgorithm"),
        checksum_type=out.get("ChecksumType"),
    )


def list_buckets(op: ops.ListBuckets, out: Output) -> ListBucketsResult:
    return ListBucketsResult(
        owner=owner(out.get("Owner")),
        buckets=tuple(
            BucketEntry(
                name=entry["Name"],
                created=utc(entry["CreationDate"]),
                region=entry.get("BucketRegion"),
            )
            for entry in out.get("Buckets", ())
        ),
        prefix=op.prefix,
        continuation_token=optional_str(out.get("ContinuationToken")),
    )
