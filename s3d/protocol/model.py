"""Typed values exchanged between the layers: listings, object descriptions, write results.

These are what the remote adapter returns and the server adapter renders; the gateway, the
cache and the journal reason about them without knowing botocore or aiohttp. Timestamps are
timezone-aware UTC ``datetime`` values. ETags are kept quoted, as S3 sends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Literal, Protocol

Headers = tuple[tuple[str, str], ...]
"""HTTP headers as ordered (name, value) pairs; names lower-case."""


def header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (lower-case) in ``headers``, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def bare_etag(etag: str | None) -> str:
    """An ETag without its quotes (and blanks), as ETags are compared and stored."""
    return (etag or "").strip().strip('"')


def quote_etag(etag: str) -> str:
    """An ETag in the quoted form S3 answers, whatever form it arrived in."""
    return f'"{bare_etag(etag)}"'


class ByteStream(Protocol):
    """An object body flowing through s3d: iterate for chunks, always ``aclose()``."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class LocalFile:
    """Object bytes already on local disk: ``length`` bytes of the open ``file`` from
    ``offset``, sent with sendfile. ``release`` (closes the file, lets the cache evict it again)
    is called exactly once, when they are sent or the send failed."""

    file: BinaryIO
    offset: int
    length: int
    release: Callable[[], None]


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class BucketEntry:
    name: str
    created: datetime
    region: str | None = None


@dataclass(frozen=True, slots=True)
class ListBucketsResult:
    owner: Owner | None
    buckets: tuple[BucketEntry, ...]
    prefix: str | None = None
    continuation_token: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One key of a listing."""

    key: str
    last_modified: datetime
    etag: str
    size: int
    storage_class: str = "STANDARD"
    owner: Owner | None = None
    checksum_algorithms: tuple[str, ...] = ()
    checksum_type: str | None = None


@dataclass(frozen=True, slots=True)
class ListObjectsResult:
    """ListObjects (V1) and ListObjectsV2 share one shape; ``version`` says which."""

    version: int
    bucket: str
    prefix: str
    delimiter: str | None
    max_keys: int
    encoding_type: str | None
    is_truncated: bool
    contents: tuple[ObjectEntry, ...]
    common_prefixes: tuple[str, ...]
    # V1
    marker: str | None = None
    next_marker: str | None = None
    # V2
    continuation_token: str | None = None
    next_continuation_token: str | None = None
    start_after: str | None = None


@dataclass(frozen=True, slots=True)
class UploadEntry:
    key: str
    upload_id: str
    initiated: datetime
    storage_class: str = "STANDARD"
    owner: Owner | None = None
    initiator: Owner | None = None
    checksum_algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class ListMultipartUploadsResult:
    bucket: str
    prefix: str
    delimiter: str | None
    key_marker: str
    upload_id_marker: str
    next_key_marker: str | None
    next_upload_id_marker: str | None
    max_uploads: int
    encoding_type: str | None
    is_truncated: bool
    uploads: tuple[UploadEntry, ...]
    common_prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PartEntry:
    part_number: int
    last_modified: datetime
    etag: str
    size: int
    checksums: tuple[tuple[str, str], ...] = ()
    """(algorithm upper-case, base64 value) pairs, e.g. ("CRC32", "AAAAAA==")."""


@dataclass(frozen=True, slots=True)
class ListPartsResult:
    bucket: str
    key: str
    upload_id: str
    part_number_marker: int
    next_part_number_marker: int | None
    max_parts: int
    is_truncated: bool
    parts: tuple[PartEntry, ...]
    storage_class: str = "STANDARD"
    owner: Owner | None = None
    initiator: Owner | None = None
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


CacheState = Literal["hit", "miss", "revalidated", "stale", "bypass"]
ObjectState = Literal["pending", "uploaded"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an answer came from: how the read cache answered (``cache``), and whether the
    object is a change still waiting for upload or one the journal handed over once uploaded
    (``state``). Services read it (the catalogue hashes only bytes fresh from the remote); the
    server adapter alone shows it to clients (``x-s3d-cache``, ``x-s3d-state``)."""

    cache: CacheState | None = None
    state: ObjectState | None = None


FROM_REMOTE = Provenance()
PENDING = Provenance(state="pending")


@dataclass(frozen=True, slots=True)
class ObjectResponse:
    """A GET or HEAD answer: status (200, 206), the headers to send, and for GET the body,
    streamed or from a local file."""

    status: int
    headers: Headers
    body: ByteStream | LocalFile | bytes | None = None
    provenance: Provenance = FROM_REMOTE


def stream_of(body: ByteStream | LocalFile | bytes | None) -> ByteStream | None:
    """``body`` when it is a stream (what the remote answers), else None."""
    if body is None or isinstance(body, LocalFile | bytes):
        return None
    return body


@dataclass(frozen=True, slots=True)
class WriteResult:
    """PutObject, UploadPart, DeleteObject, tagging writes, CreateBucket, DeleteBucket…:
    no document, only headers (ETag, x-amz-version-id, x-amz-checksum-*…)."""

    headers: Headers = ()
    status: int = 200
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class CopyResult:
    """CopyObject and UploadPartCopy: a CopyObjectResult / CopyPartResult document."""

    etag: str
    last_modified: datetime
    headers: Headers = ()
    checksums: tuple[tuple[str, str], ...] = ()
    part: bool = False
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class CreateMultipartResult:
    bucket: str
    key: str
    upload_id: str
    headers: Headers = ()
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class CompleteMultipartResult:
    location: str
    bucket: str
    key: str
    etag: str
    headers: Headers = ()
    checksums: tuple[tuple[str, str], ...] = ()
    checksum_type: str | None = None
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class DeletedEntry:
    key: str
    version_id: str | None = None
    delete_marker: bool = False
    delete_marker_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteErrorEntry:
    key: str
    code: str
    message: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteObjectsResult:
    deleted: tuple[DeletedEntry, ...]
    errors: tuple[DeleteErrorEntry, ...]
    quiet: bool = False
    headers: Headers = ()
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class TaggingResult:
    tags: tuple[tuple[str, str], ...]
    headers: Headers = ()
    provenance: Provenance = FROM_REMOTE


@dataclass(frozen=True, slots=True)
class LocationResult:
    region: str | None
    """None (rendered as an empty LocationConstraint) means us-east-1, as S3 answers."""


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A forwarded operation's answer, passed to the client as the remote gave it."""

    status: int
    headers: Headers
    body: ByteStream | None = None


Result = (
    ObjectResponse
    | WriteResult
    | CopyResult
    | CreateMultipartResult
    | CompleteMultipartResult
    | DeleteObjectsResult
    | TaggingResult
    | LocationResult
    | ListBucketsResult
    | ListObjectsResult
    | ListMultipartUploadsResult
    | ListPartsResult
    | RawResponse
)
