"""What s3d keeps of the remote's answers: headers, statuses, checksums, timestamps.

Botocore's parsed output (a dict) is read here and nowhere above this package. The remote's
own request ids, date, server and hop-by-hop headers never pass: s3d answers with its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from s3d.protocol.model import Headers, Owner

Output = Mapping[str, Any]
"""A botocore operation's parsed output."""

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REMOTE_OWN = frozenset({"x-amz-request-id", "x-amz-id-2", "x-amzn-requestid", "date", "server"})
# Request headers, never S3 response headers (moto echoes them back).
_REQUEST_ONLY = frozenset({"content-md5", "x-amz-content-sha256"})
_DROPPED = _HOP_BY_HOP | _REMOTE_OWN | _REQUEST_ONLY
_RESULT_HEADERS = frozenset({"etag", "location", "last-modified"})
CHECKSUM_MEMBERS = (
    "CRC32",
    "CRC32C",
    "CRC64NVME",
    "SHA1",
    "SHA256",
    "SHA512",
    "MD5",
    "XXHASH64",
    "XXHASH3",
    "XXHASH128",
)


def passed_headers(raw: Mapping[str, str]) -> Headers:
    """Headers of an object or forwarded answer: everything but hop-by-hop and the remote's
    own identity headers; names lower-case."""
    return tuple(
        (name.lower(), value) for name, value in raw.items() if name.lower() not in _DROPPED
    )


def http_headers(output: Output) -> Mapping[str, str]:
    headers: Mapping[str, str] = output.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers


def object_headers(output: Output) -> Headers:
    """GET and HEAD: the headers describing the object and its body."""
    return passed_headers(http_headers(output))


def result_headers(output: Output) -> Headers:
    """Writes and documents s3d renders itself: ETag, Location and ``x-amz-*`` only, as the
    remote's body length and type describe a body s3d does not send."""
    return written_headers(http_headers(output))


def written_headers(raw: Mapping[str, str]) -> Headers:
    """``result_headers`` of an answer's raw headers."""
    return tuple(
        (name, value)
        for name, value in passed_headers(raw)
        if name in _RESULT_HEADERS or name.startswith("x-amz-")
    )


def status(output: Output) -> int:
    return int(output.get("ResponseMetadata", {}).get("HTTPStatusCode", 200))


def checksums(entry: Output) -> tuple[tuple[str, str], ...]:
    """(algorithm, base64 value) for each ``Checksum<ALG>`` member present."""
    return tuple(
        (algorithm, str(entry[f"Checksum{algorithm}"]))
        for algorithm in CHECKSUM_MEMBERS
        if entry.get(f"Checksum{algorithm}")
    )


def checksum_params(values: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """``Checksum<ALG>`` members of completed parts from (algorithm, value) pairs."""
    return {f"Checksum{algorithm.upper()}": value for algorithm, value in values}


def utc(value: object) -> datetime:
    """A botocore timestamp as an aware UTC datetime."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def owner(value: Output | None) -> Owner | None:
    if not value or not value.get("ID"):
        return None
    return Owner(id=str(value["ID"]), display_name=value.get("DisplayName"))


def optional_str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
