"""Bucket names and object keys: what S3 accepts, and how keys arrive on the wire.

Keys are opaque strings to s3d. ``..``, ``//``, a leading ``/`` or a percent-encoded slash are
kept exactly as S3 stores them, and a key is never turned into a local path: files on disk are
named by the cache and journal, never by keys.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from s3d.protocol.errors import InvalidBucketName, InvalidURI, KeyTooLongError

MAX_KEY_BYTES = 1024

_STRICT_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Buckets created long ago in us-east-1 may hold capitals and underscores; S3 still serves
# them, so access to an existing bucket is checked with the legacy rule.
_LEGACY_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str, *, creating: bool = False) -> None:
    """Raise InvalidBucketName unless S3 would accept ``name``: the full naming rules when
    ``creating`` a bucket, the legacy rule for access to an existing one."""
    if not creating:
        if not _LEGACY_BUCKET.match(name):
            raise InvalidBucketName(BucketName=name)
        return
    if (
        not _STRICT_BUCKET.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IPV4.match(name)
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
    ):
        raise InvalidBucketName(BucketName=name)


def decode_path(raw: str) -> str:
    """A path segment from its percent-encoded wire form (``+`` stays a plus in a path).

    Raises InvalidURI when the bytes are not UTF-8."""
    if raw.isascii() and "%" not in raw:
        return raw  # nothing to decode (most keys and query words): no copy, no decoding
    # aiohttp hands bytes that are not UTF-8 over as surrogate escapes: take them back.
    data = unquote_to_bytes(raw.encode("utf-8", "surrogateescape"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidURI() from None


def decode_key(raw: str) -> str:
    """An object key from its percent-encoded wire form.

    Raises InvalidURI when the bytes are not UTF-8 and KeyTooLongError beyond 1024 bytes.
    """
    key = decode_path(raw)
    check_key(key)
    return key


def check_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError(Size=str(size), MaxSizeAllowed=str(MAX_KEY_BYTES))
