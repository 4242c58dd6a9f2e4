"""What a request body must prove before it is used: its length, framing and digests.

``plan_body`` reads the headers once, before the body, and says how to decode it (plain or
aws-chunked, signed chunks or not, a trailer or not) and what to check at its end (SHA-256 from
``x-amz-content-sha256``, ``Content-MD5``, one ``x-amz-checksum-*`` value from a header or a
trailer). ``verify_body`` checks what was computed while the body streamed to its staging file
against that plan. Either raises the S3 error real S3 gives; the caller then discards the file,
so nothing unverified is ever used.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from s3d.protocol import checksums
from s3d.protocol.errors import (
    BadDigest,
    EntityTooLarge,
    IncompleteBody,
    InvalidArgument,
    InvalidDigest,
    InvalidRequest,
    MalformedTrailerError,
    MissingContentLength,
    NotImplemented_,
    XAmzContentSHA256Mismatch,
)
from s3d.protocol.model import Headers, header
from s3d.protocol.sigv4 import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
)

MAX_OBJECT_PUT = 5 * 1024**3
"""The largest single PUT or part S3 accepts."""


@dataclass(frozen=True, slots=True)
class BodyPlan:
    length: int
    """Payload bytes expected once decoded (Content-Length, or x-amz-decoded-content-length)."""
    chunked: bool = False
    signed_chunks: bool = False
    trailer: bool = False
    sha256_hex: str | None = None
    md5_b64: str | None = None
    checksum_algorithm: str | None = None
    checksum_value: str | None = None
    """The expected checksum from a header; None with ``checksum_algorithm`` set: a trailer."""

    @property
    def algorithms(self) -> tuple[str, ...]:
        return (self.checksum_algorithm,) if self.checksum_algorithm else ()


def plan_body(headers: Headers, payload_hash: str | None, *, max_size: int) -> BodyPlan:
    """How to read and check the body of a request with these headers.

    ``payload_hash`` is the signed x-amz-content-sha256 value (None for anonymous requests).
    Raises MissingContentLength, NotImplemented (Transfer-Encoding without a length),
    EntityTooLarge, InvalidDigest, InvalidArgument, InvalidRequest.
    """
    value = payload_hash or header(headers, "x-amz-content-sha256")
    chunked = value in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
    if value is not None and not chunked and value != UNSIGNED_PAYLOAD and not _is_hex64(value):
        raise InvalidArgument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
            "or a valid sha256 value.",
            ArgumentName="x-amz-content-sha256",
            ArgumentValue=value,
        )
    length = _length(headers, "x-amz-decoded-content-length" if chunked else "content-length")
    if length > max_size:
        raise EntityTooLarge(ProposedSize=str(length), MaxSizeAllowed=str(max_size))
    algorithm, expected = _checksum(
        headers, trailer=value in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
    )
    return BodyPlan(
        length=length,
        chunked=chunked,
        signed_chunks=value in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER),
        trailer=value in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER),
        sha256_hex=value.lower() if value is not None and _is_hex64(value) else None,
        md5_b64=_content_md5(headers),
        checksum_algorithm=algorithm,
        checksum_value=expected,
    )


def _is_hex64(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


DIGEST_REQUIRED = frozenset({"DeleteObjects"})
"""Actions S3 refuses without a digest of their body, checked before the body is read."""


def require_digest(action: str, headers: Headers) -> None:
    """Raise InvalidRequest, as S3 words it, when ``action`` needs its body's digest and the
    request sends none: neither Content-MD5 nor an ``x-amz-checksum-*`` header or trailer."""
    if action not in DIGEST_REQUIRED or header(headers, "content-md5") is not None:
        return
    if header(headers, "x-amz-trailer") is not None:
        return
    if any(checksums.algorithm_of_header(name) is not None for name, _ in headers):
        return
    raise InvalidRequest("Missing required header for this request: Content-MD5")


def _length(headers: Headers, name: str) -> int:
    raw = header(headers, name)
    if raw is None:
        if name == "content-length" and header(headers, "transfer-encoding") is not None:
            # S3 has never taken a body of unannounced length.
            raise NotImplemented_(
                "A header you provided implies functionality that is not implemented",
                Header="Transfer-Encoding",
            )
        raise MissingContentLength()
    digits = raw.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > 19:
        raise InvalidArgument(f"Invalid {name}", ArgumentName=name, ArgumentValue=raw)
    return int(digits.lstrip("0") or "0")


def _content_md5(headers: Headers) -> str | None:
    raw = header(headers, "content-md5")
    if raw is None:
        return None
    try:
        digest = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        error = InvalidDigest()
        error.details = {"Content-MD5": raw}
        raise error
    return raw


def _checksum(headers: Headers, *, trailer: bool) -> tuple[str | None, str | None]:
    found: list[tuple[str, str | None]] = [
        (alg, value)
        for name, value in headers
        if (alg := checksums.algorithm_of_header(name)) is not None
    ]
    declared = header(headers, "x-amz-trailer") if trailer else None
    if declared is not None:
        alg = checksums.algorithm_of_header(declared.strip().lower())
        if alg is None:
            raise InvalidRequest(
                f"The value specified in the x-amz-trailer header is not supported: {declared}"
            )
        if found:
            raise InvalidRequest("Expecting a single x-amz-checksum- header")
        found.append((alg, None))
    if len(found) > 1:
        raise InvalidRequest(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    if not found:
        return None, None
    alg, value = found[0]
    if value is not None and not checksums.well_formed(alg, value):
        raise InvalidRequest(f"Value for {checksums.header_name(alg)} header is invalid.")
    sdk = header(headers, "x-amz-sdk-checksum-algorithm")
    if sdk is not None and sdk.strip().upper() != alg:
        raise InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
    return alg, value


def verify_body(
    plan: BodyPlan,
    *,
    size: int,
    md5: bytes,
    sha256: bytes,
    computed: Mapping[str, str],
    trailers: Mapping[str, str],
) -> tuple[tuple[str, str], ...]:
    """Check a fully received body; return its verified S3 checksums as (ALGORITHM, b64).

    Raises IncompleteBody, XAmzContentSHA256Mismatch, BadDigest, InvalidRequest,
    MalformedTrailerError.
    """
    if size != plan.length:
        raise IncompleteBody()
    if plan.sha256_hex is not None and not hmac.compare_digest(sha256.hex(), plan.sha256_hex):
        raise XAmzContentSHA256Mismatch(
            ClientComputedContentSHA256=plan.sha256_hex, S3ComputedContentSHA256=sha256.hex()
        )
    if plan.md5_b64 is not None and base64.b64decode(plan.md5_b64) != md5:
        # As S3 words it: the digest sent in hex, the one computed in base64.
        raise BadDigest(
            ExpectedDigest=base64.b64decode(plan.md5_b64).hex(),
            CalculatedDigest=base64.b64encode(md5).decode(),
        )
    _check_trailers(plan, trailers)
    if plan.checksum_algorithm is None:
        return ()
    alg = plan.checksum_algorithm
    expected = plan.checksum_value
    if expected is None:
        expected = trailers.get(checksums.header_name(alg))
        if expected is None:
            raise MalformedTrailerError()
        if not checksums.well_formed(alg, expected):
            raise InvalidRequest(
                f"Value for {checksums.header_name(alg)} trailing header is invalid."
            )
    if computed[alg] != expected:
        raise BadDigest(f"The {alg} you specified did not match the calculated checksum.")
    return ((alg, expected),)


def _check_trailers(plan: BodyPlan, trailers: Mapping[str, str]) -> None:
    """Only the checksum x-amz-trailer announced may come as a trailer."""
    announced = (
        checksums.header_name(plan.checksum_algorithm)
        if plan.trailer and plan.checksum_algorithm is not None and plan.checksum_value is None
        else None
    )
    if any(name != announced for name in trailers):
        raise MalformedTrailerError()
