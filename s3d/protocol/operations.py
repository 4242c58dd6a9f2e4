"""S3 operations as typed values: a request is parsed once into one of these, then dispatched
on its type.

Each operation carries the fields s3d's own logic reads (keys, ranges, conditions, parts) and
``headers``: the client's request headers that are the operation's parameters (metadata,
Content-Type, storage class, SSE, conditions…), with authentication and transport headers
removed. The remote adapter turns ``headers`` into the remote call's parameters using the S3
service model, so every documented header reaches the remote without a field here for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from s3d.protocol.conditions import NO_CONDITIONS, Conditions
from s3d.protocol.model import Headers
from s3d.protocol.ranges import ByteRange


@dataclass(frozen=True, slots=True)
class CopySource:
    bucket: str
    key: str
    version_id: str | None = None
    conditions: Conditions = NO_CONDITIONS
    """The x-amz-copy-source-if-* headers."""


@dataclass(frozen=True, slots=True)
class ObjectIdentifier:
    key: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class CompletedPart:
    part_number: int
    etag: str
    checksums: tuple[tuple[str, str], ...] = ()


# Service level.


@dataclass(frozen=True, slots=True)
class ListBuckets:
    name: ClassVar[str] = "ListBuckets"
    prefix: str | None = None
    max_buckets: int | None = None
    continuation_token: str | None = None
    bucket_region: str | None = None
    headers: Headers = ()


# Bucket level.


@dataclass(frozen=True, slots=True)
class CreateBucket:
    name: ClassVar[str] = "CreateBucket"
    bucket: str
    location_constraint: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class HeadBucket:
    name: ClassVar[str] = "HeadBucket"
    bucket: str
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class DeleteBucket:
    name: ClassVar[str] = "DeleteBucket"
    bucket: str
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class GetBucketLocation:
    name: ClassVar[str] = "GetBucketLocation"
    bucket: str
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ListObjects:
    """ListObjects (``version`` 1) and ListObjectsV2 (``version`` 2)."""

    name: ClassVar[str] = "ListObjects"
    bucket: str
    version: int = 1
    prefix: str = ""
    delimiter: str | None = None
    max_keys: int = 1000
    encoding_type: str | None = None
    marker: str | None = None
    continuation_token: str | None = None
    start_after: str | None = None
    fetch_owner: bool = False
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ListMultipartUploads:
    name: ClassVar[str] = "ListMultipartUploads"
    bucket: str
    prefix: str = ""
    delimiter: str | None = None
    key_marker: str | None = None
    upload_id_marker: str | None = None
    max_uploads: int = 1000
    encoding_type: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class DeleteObjects:
    name: ClassVar[str] = "DeleteObjects"
    bucket: str
    objects: tuple[ObjectIdentifier, ...]
    quiet: bool = False
    headers: Headers = ()


# Object level.


@dataclass(frozen=True, slots=True)
class GetObject:
    """GetObject and HeadObject (``head``)."""

    name: ClassVar[str] = "GetObject"
    bucket: str
    key: str
    head: bool = False
    range: ByteRange | None = None
    conditions: Conditions = NO_CONDITIONS
    version_id: str | None = None
    part_number: int | None = None
    overrides: tuple[tuple[str, str], ...] = ()
    """``response-*`` query parameters as (header name, value), e.g. ("content-type", …)."""
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class PutObject:
    name: ClassVar[str] = "PutObject"
    bucket: str
    key: str
    conditions: Conditions = NO_CONDITIONS
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class CopyObject:
    name: ClassVar[str] = "CopyObject"
    bucket: str
    key: str
    source: CopySource
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class DeleteObject:
    name: ClassVar[str] = "DeleteObject"
    bucket: str
    key: str
    version_id: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class CreateMultipartUpload:
    name: ClassVar[str] = "CreateMultipartUpload"
    bucket: str
    key: str
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class UploadPart:
    name: ClassVar[str] = "UploadPart"
    bucket: str
    key: str
    upload_id: str
    part_number: int
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class UploadPartCopy:
    name: ClassVar[str] = "UploadPartCopy"
    bucket: str
    key: str
    upload_id: str
    part_number: int
    source: CopySource
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class CompleteMultipartUpload:
    name: ClassVar[str] = "CompleteMultipartUpload"
    bucket: str
    key: str
    upload_id: str
    parts: tuple[CompletedPart, ...]
    headers: Headers = ()
    conditions: Conditions = NO_CONDITIONS
    """If-Match / If-None-Match: a conditional write of the key, as for PutObject."""


@dataclass(frozen=True, slots=True)
class AbortMultipartUpload:
    name: ClassVar[str] = "AbortMultipartUpload"
    bucket: str
    key: str
    upload_id: str
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ListParts:
    name: ClassVar[str] = "ListParts"
    bucket: str
    key: str
    upload_id: str
    max_parts: int = 1000
    part_number_marker: int = 0
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class GetObjectTagging:
    name: ClassVar[str] = "GetObjectTagging"
    bucket: str
    key: str
    version_id: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class PutObjectTagging:
    name: ClassVar[str] = "PutObjectTagging"
    bucket: str
    key: str
    tags: tuple[tuple[str, str], ...]
    version_id: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class DeleteObjectTagging:
    name: ClassVar[str] = "DeleteObjectTagging"
    bucket: str
    key: str
    version_id: str | None = None
    headers: Headers = ()


# Everything else S3 defines that s3d passes to the remote untouched.


@dataclass(frozen=True, slots=True)
class Forwarded:
    """An operation forwarded to the remote as it is, re-signed with the remote's credentials.

    ``action`` is the S3 API name (GetBucketVersioning, PutObjectAcl…); ``query`` the client's
    query parameters minus authentication ones, in their order.
    """

    name: ClassVar[str] = "Forwarded"
    action: str
    method: str
    bucket: str | None
    key: str | None
    query: tuple[tuple[str, str], ...] = ()
    headers: Headers = ()


Operation = (
    ListBuckets
    | CreateBucket
    | HeadBucket
    | DeleteBucket
    | GetBucketLocation
    | ListObjects
    | ListMultipartUploads
    | DeleteObjects
    | GetObject
    | PutObject
    | CopyObject
    | DeleteObject
    | CreateMultipartUpload
    | UploadPart
    | UploadPartCopy
    | CompleteMultipartUpload
    | AbortMultipartUpload
    | ListParts
    | GetObjectTagging
    | PutObjectTagging
    | DeleteObjectTagging
    | Forwarded
)

BODY_STREAMING = (PutObject, UploadPart)
"""Operations whose body is object data, staged to a file before anything else happens."""
