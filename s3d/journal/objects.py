"""What an acknowledged object looks like to readers and listings (pure).

A pending put keeps the request headers that describe the object (Content-Type, Cache-Control,
user metadata, storage class…) and what s3d computed (ETag, size, checksums, the time it was
acknowledged). From them come the headers of the acknowledgement, of GET and HEAD answers
while the object waits for upload, and its entry in merged listings.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from s3d.journal.records import Stored
from s3d.protocol.model import Headers, ObjectEntry, header
from s3d.protocol.tagging import parse_tagging_header

# Request headers that describe the stored object and come back on GET and HEAD.
_DESCRIBING = frozenset(
    {
        "content-type",
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
        "x-amz-storage-class",
        "x-amz-website-redirect-location",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
    }
)
# Request headers that only condition the write: never stored with it.
_CONDITIONAL = frozenset(
    {"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "content-md5"}
)


def stored_request_headers(headers: Headers) -> Headers:
    """The request headers to keep with a pending put: everything that is a parameter of the
    write, less conditions and digests already checked."""
    return tuple(
        (name, value)
        for name, value in headers
        if name not in _CONDITIONAL and not name.startswith("x-amz-checksum-")
    )


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 gives a multipart upload: MD5 of the parts' MD5s, a dash, the count."""
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


def now() -> datetime:
    """An acknowledgement's time, to the second as S3 keeps Last-Modified."""
    return datetime.now(UTC).replace(microsecond=0)


def object_headers(change: Stored) -> Headers:
    """The headers of a GET or HEAD of a pending object (its length excepted)."""
    stored = change.headers
    out = [(name, value) for name, value in stored if name in _DESCRIBING]
    out += [(name, value) for name, value in stored if name.startswith("x-amz-meta-")]
    if not any(name == "content-type" for name, _ in out):
        out.append(("content-type", "binary/octet-stream"))
    tagging = next((value for name, value in stored if name == "x-amz-tagging"), None)
    if tagging:
        out.append(("x-amz-tagging-count", str(len(parse_tagging_header(tagging)))))
    out.append(("etag", change.etag))
    out.append(("last-modified", format_datetime(change.acknowledged, usegmt=True)))
    out += [(f"x-amz-checksum-{alg.lower()}", value) for alg, value in change.checksums]
    return tuple(out)


def listing_entry(key: str, change: Stored, size: int) -> ObjectEntry:
    return ObjectEntry(
        key=key,
        last_modified=change.acknowledged,
        etag=change.etag,
        size=size,
        storage_class=header(change.headers, "x-amz-storage-class") or "STANDARD",
        checksum_algorithms=tuple(alg for alg, _ in change.checksums),
    )
