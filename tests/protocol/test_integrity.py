"""Body plans from headers (length, aws-chunked modes, x-amz-content-sha256, Content-MD5,
x-amz-checksum-* as a header or a trailer) and the check at the end of the body, with the
codes and messages S3 answers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol.checksums import ALGORITHMS, Checksum, header_name
from s3d.protocol.errors import S3Error
from s3d.protocol.integrity import (
    MAX_OBJECT_PUT,
    BodyPlan,
    plan_body,
    require_digest,
    verify_body,
)
from s3d.protocol.model import Headers
from s3d.protocol.sigv4 import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
)

BODY = b"hello world"
SHA256 = hashlib.sha256(BODY).hexdigest()
MD5_B64 = base64.b64encode(hashlib.md5(BODY).digest()).decode()
CAP = 1000


def b64(algorithm: str, data: bytes = BODY) -> str:
    checksum = Checksum.new(algorithm)
    checksum.update(data)
    return checksum.b64digest()


def plan(headers: Headers, payload_hash: str | None = None, max_size: int = CAP) -> BodyPlan:
    return plan_body(headers, payload_hash, max_size=max_size)


def verify(
    body_plan: BodyPlan, data: bytes = BODY, trailers: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    return verify_body(
        body_plan,
        size=len(data),
        md5=hashlib.md5(data).digest(),
        sha256=hashlib.sha256(data).digest(),
        computed={alg: b64(alg, data) for alg in body_plan.algorithms},
        trailers=trailers or {},
    )


def failure(call: Callable[[], Any]) -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()
    return caught.value


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    error = failure(call)
    return error.error_code, error.http_status, error.message


LENGTH = (("content-length", str(len(BODY))),)
DECODED = (("x-amz-decoded-content-length", str(len(BODY))),)


# ---------------------------------------------------------------------------------------------
# Payload hash forms.


def test_plain_body() -> None:
    assert plan(LENGTH) == BodyPlan(length=len(BODY))


@pytest.mark.parametrize(
    ("payload_hash", "headers", "expected"),
    [
        (SHA256, LENGTH, BodyPlan(len(BODY), sha256_hex=SHA256)),
        (SHA256.upper(), LENGTH, BodyPlan(len(BODY), sha256_hex=SHA256)),
        (UNSIGNED_PAYLOAD, LENGTH, BodyPlan(len(BODY))),
        (STREAMING_SIGNED, DECODED, BodyPlan(len(BODY), chunked=True, signed_chunks=True)),
        (
            STREAMING_SIGNED_TRAILER,
            DECODED,
            BodyPlan(len(BODY), chunked=True, signed_chunks=True, trailer=True),
        ),
        (STREAMING_UNSIGNED_TRAILER, DECODED, BodyPlan(len(BODY), chunked=True, trailer=True)),
    ],
)
def test_payload_hash_forms(payload_hash: str, headers: Headers, expected: BodyPlan) -> None:
    assert plan(headers, payload_hash) == expected
    # Unsigned requests (anonymous, SigV2) take the same value from the header.
    assert plan((*headers, ("x-amz-content-sha256", payload_hash))) == expected


def test_signed_payload_hash_wins_over_the_header() -> None:
    headers = (*LENGTH, ("x-amz-content-sha256", "f" * 64))
    assert plan(headers, UNSIGNED_PAYLOAD).sha256_hex is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "z" * 64,
        SHA256 + "0",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "unsigned-payload",
    ],
)
def test_bad_payload_hash(value: str) -> None:
    error = failure(lambda: plan((*LENGTH, ("x-amz-content-sha256", value))))
    assert (error.error_code, error.http_status) == ("InvalidArgument", 400)
    assert error.message.startswith("x-amz-content-sha256 must be UNSIGNED-PAYLOAD")
    assert error.details == {"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value}


# ---------------------------------------------------------------------------------------------
# Lengths.


def test_missing_content_length() -> None:
    assert refused(lambda: plan(())) == (
        "MissingContentLength",
        411,
        "You must provide the Content-Length HTTP header.",
    )
    # aws-chunked bodies announce their decoded length instead.
    assert refused(lambda: plan(LENGTH, STREAMING_SIGNED))[:2] == ("MissingContentLength", 411)


def test_transfer_encoding_without_a_length_is_not_implemented() -> None:
    error = failure(lambda: plan((("transfer-encoding", "chunked"),)))
    assert (error.error_code, error.http_status) == ("NotImplemented", 501)
    assert error.details == {"Header": "Transfer-Encoding"}


def test_aws_chunked_over_transfer_encoding_is_fine() -> None:
    # What boto3 sends over TLS: Transfer-Encoding chunked, the decoded length announced.
    headers = (("transfer-encoding", "chunked"), *DECODED)
    assert plan(headers, STREAMING_UNSIGNED_TRAILER).length == len(BODY)


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "+5", "²", "", "1" * 30])
def test_bad_length(value: str) -> None:
    error = failure(lambda: plan((("content-length", value),)))
    assert (error.error_code, error.http_status) == ("InvalidArgument", 400)
    assert error.details == {"ArgumentName": "content-length", "ArgumentValue": value}


def test_length_with_leading_zeros_and_spaces() -> None:
    assert plan((("content-length", " 0011 "),)).length == 11
    assert plan((("content-length", "0" * 5000),)).length == 0


def test_size_cap() -> None:
    assert plan((("content-length", str(CAP)),)).length == CAP
    error = failure(lambda: plan((("content-length", str(CAP + 1)),)))
    assert (error.error_code, error.http_status) == ("EntityTooLarge", 400)
    assert error.details == {"ProposedSize": str(CAP + 1), "MaxSizeAllowed": str(CAP)}
    decoded = (("x-amz-decoded-content-length", str(CAP + 1)),)
    assert refused(lambda: plan(decoded, STREAMING_SIGNED))[0] == "EntityTooLarge"


def test_s3_largest_single_put() -> None:
    assert MAX_OBJECT_PUT == 5 * 1024**3
    headers = (("content-length", str(MAX_OBJECT_PUT + 1)),)
    assert refused(lambda: plan(headers, max_size=MAX_OBJECT_PUT))[0] == "EntityTooLarge"


# ---------------------------------------------------------------------------------------------
# Content-MD5.


def test_content_md5() -> None:
    assert plan((*LENGTH, ("content-md5", MD5_B64))).md5_b64 == MD5_B64


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        hashlib.md5(BODY).hexdigest(),  # hex, not base64
        base64.b64encode(b"x" * 15).decode(),
        base64.b64encode(b"x" * 17).decode(),
        MD5_B64.rstrip("="),
    ],
)
def test_bad_content_md5_is_invalid_digest(value: str) -> None:
    error = failure(lambda: plan((*LENGTH, ("content-md5", value))))
    assert (error.error_code, error.http_status) == ("InvalidDigest", 400)
    assert error.details == {"Content-MD5": value}


# ---------------------------------------------------------------------------------------------
# x-amz-checksum-*: header or trailer.


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_header(algorithm: str) -> None:
    headers = (*LENGTH, (header_name(algorithm), b64(algorithm)))
    body_plan = plan(headers)
    assert (body_plan.checksum_algorithm, body_plan.checksum_value) == (algorithm, b64(algorithm))
    assert body_plan.algorithms == (algorithm,)
    assert verify(body_plan) == ((algorithm, b64(algorithm)),)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_trailer(algorithm: str) -> None:
    headers = (*DECODED, ("x-amz-trailer", header_name(algorithm).upper()))
    for mode in (STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED_TRAILER):
        body_plan = plan(headers, mode)
        assert (body_plan.checksum_algorithm, body_plan.checksum_value) == (algorithm, None)
        trailers = {header_name(algorithm): b64(algorithm)}
        assert verify(body_plan, trailers=trailers) == ((algorithm, b64(algorithm)),)


def test_no_checksum_verifies_to_nothing() -> None:
    assert verify(plan(LENGTH)) == ()
    assert verify(plan(DECODED, STREAMING_UNSIGNED_TRAILER)) == ()


@pytest.mark.parametrize(
    "value", ["", "AAAA", "AAAAAAAA", "not base64", b64("CRC64NVME"), "AAAAAB==", " AAAAAA=="]
)
def test_bad_checksum_value(value: str) -> None:
    assert refused(lambda: plan((*LENGTH, ("x-amz-checksum-crc32", value)))) == (
        "InvalidRequest",
        400,
        "Value for x-amz-checksum-crc32 header is invalid.",
    )


def test_two_checksum_headers() -> None:
    headers = (*LENGTH, ("x-amz-checksum-crc32", b64("CRC32")), ("x-amz-checksum-sha1", ""))
    assert refused(lambda: plan(headers)) == (
        "InvalidRequest",
        400,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )


def test_checksum_header_and_trailer() -> None:
    headers = (
        *DECODED,
        ("x-amz-checksum-sha1", b64("SHA1")),
        ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
    )
    assert refused(lambda: plan(headers, STREAMING_UNSIGNED_TRAILER)) == (
        "InvalidRequest",
        400,
        "Expecting a single x-amz-checksum- header",
    )


@pytest.mark.parametrize(
    "value", ["x-amz-checksum-md5", "x-amz-checksum-crc16", "content-md5", "x-amz-meta-a", ""]
)
def test_unsupported_trailer(value: str) -> None:
    headers = (*DECODED, ("x-amz-trailer", value))
    code, status, message = refused(lambda: plan(headers, STREAMING_SIGNED_TRAILER))
    assert (code, status) == ("InvalidRequest", 400)
    assert message.startswith("The value specified in the x-amz-trailer header is not supported")


def test_trailer_header_outside_trailer_modes_is_ignored() -> None:
    headers = (*LENGTH, ("x-amz-trailer", "x-amz-checksum-crc32"))
    assert plan(headers, UNSIGNED_PAYLOAD).checksum_algorithm is None


def test_checksum_type_and_algorithm_headers_are_not_checksums() -> None:
    headers = (
        *LENGTH,
        ("x-amz-checksum-type", "FULL_OBJECT"),
        ("x-amz-checksum-algorithm", "CRC32"),
        ("x-amz-checksum-crc32c", b64("CRC32C")),
    )
    assert plan(headers).checksum_algorithm == "CRC32C"


def test_sdk_checksum_algorithm_must_name_the_checksum_sent() -> None:
    headers = (*LENGTH, ("x-amz-checksum-crc32c", b64("CRC32C")))
    assert plan((*headers, ("x-amz-sdk-checksum-algorithm", "crc32c"))).checksum_value
    assert refused(lambda: plan((*headers, ("x-amz-sdk-checksum-algorithm", "CRC32")))) == (
        "InvalidRequest",
        400,
        "Value for x-amz-sdk-checksum-algorithm header is invalid.",
    )
    trailer = (*DECODED, ("x-amz-trailer", "x-amz-checksum-crc64nvme"))
    mismatch = (*trailer, ("x-amz-sdk-checksum-algorithm", "SHA1"))
    assert refused(lambda: plan(mismatch, STREAMING_UNSIGNED_TRAILER))[0] == "InvalidRequest"


# ---------------------------------------------------------------------------------------------
# verify_body: mismatches of each kind.


@pytest.mark.parametrize("size", [len(BODY) - 1, len(BODY) + 1, 0])
def test_size_shorter_or_longer_is_incomplete_body(size: int) -> None:
    data = (BODY * 2)[:size]
    assert refused(lambda: verify(plan(LENGTH), data))[:2] == ("IncompleteBody", 400)


def test_sha256_mismatch() -> None:
    other = hashlib.sha256(b"other").hexdigest()
    error = failure(lambda: verify(plan(LENGTH, other)))
    assert (error.error_code, error.http_status) == ("XAmzContentSHA256Mismatch", 400)
    assert error.details == {
        "ClientComputedContentSHA256": other,
        "S3ComputedContentSHA256": SHA256,
    }


def test_sha256_match() -> None:
    assert verify(plan(LENGTH, SHA256.upper())) == ()


def test_md5_mismatch() -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    error = failure(lambda: verify(plan((*LENGTH, ("content-md5", wrong)))))
    assert (error.error_code, error.http_status, error.message) == (
        "BadDigest",
        400,
        "The Content-MD5 you specified did not match what we received.",
    )
    # As S3 words it: the expected digest in hex, the calculated one in base64.
    assert error.details == {
        "ExpectedDigest": hashlib.md5(b"other").hexdigest(),
        "CalculatedDigest": MD5_B64,
    }


def test_md5_match() -> None:
    assert verify(plan((*LENGTH, ("content-md5", MD5_B64)))) == ()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_header_mismatch(algorithm: str) -> None:
    headers = (*LENGTH, (header_name(algorithm), b64(algorithm, b"other")))
    assert refused(lambda: verify(plan(headers))) == (
        "BadDigest",
        400,
        f"The {algorithm} you specified did not match the calculated checksum.",
    )


def test_checksum_trailer_mismatch() -> None:
    body_plan = plan(
        (*DECODED, ("x-amz-trailer", "x-amz-checksum-sha256")), STREAMING_SIGNED_TRAILER
    )
    trailers = {"x-amz-checksum-sha256": b64("SHA256", b"other")}
    assert refused(lambda: verify(body_plan, trailers=trailers)) == (
        "BadDigest",
        400,
        "The SHA256 you specified did not match the calculated checksum.",
    )


MALFORMED_TRAILER = (
    "MalformedTrailerError",
    400,
    "The request contained trailing data that was not well-formed or did not conform to our "
    "published schema.",
)


def test_announced_trailer_missing() -> None:
    body_plan = plan(
        (*DECODED, ("x-amz-trailer", "x-amz-checksum-crc32")), STREAMING_UNSIGNED_TRAILER
    )
    assert refused(lambda: verify(body_plan)) == MALFORMED_TRAILER
    other = {"x-amz-checksum-crc32c": b64("CRC32C")}
    assert refused(lambda: verify(body_plan, trailers=other)) == MALFORMED_TRAILER


def test_trailer_that_was_not_announced() -> None:
    body_plan = plan(DECODED, STREAMING_UNSIGNED_TRAILER)
    trailers = {"x-amz-checksum-crc32": b64("CRC32")}
    assert refused(lambda: verify(body_plan, trailers=trailers)) == MALFORMED_TRAILER
    both = {"x-amz-checksum-crc32": b64("CRC32"), "x-amz-checksum-sha1": b64("SHA1")}
    announced = plan(
        (*DECODED, ("x-amz-trailer", "x-amz-checksum-crc32")), STREAMING_SIGNED_TRAILER
    )
    assert refused(lambda: verify(announced, trailers=both)) == MALFORMED_TRAILER


@pytest.mark.parametrize("value", ["", "AAAA", "!!!!!!!!"])
def test_announced_trailer_invalid(value: str) -> None:
    body_plan = plan(
        (*DECODED, ("x-amz-trailer", "x-amz-checksum-crc32")), STREAMING_UNSIGNED_TRAILER
    )
    assert refused(lambda: verify(body_plan, trailers={"x-amz-checksum-crc32": value})) == (
        "InvalidRequest",
        400,
        "Value for x-amz-checksum-crc32 trailing header is invalid.",
    )


def test_length_is_judged_before_digests() -> None:
    headers = (*LENGTH, ("content-md5", MD5_B64), ("x-amz-checksum-crc32", b64("CRC32")))
    assert refused(lambda: verify(plan(headers), BODY + b"!"))[0] == "IncompleteBody"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), algorithm=st.sampled_from(ALGORITHMS), trailer=st.booleans())
def test_any_body_with_its_own_digests_verifies(data: bytes, algorithm: str, trailer: bool) -> None:
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    if trailer:
        headers: Headers = (
            ("x-amz-decoded-content-length", str(len(data))),
            ("content-md5", md5),
            ("x-amz-trailer", header_name(algorithm)),
        )
        body_plan = plan(headers, STREAMING_SIGNED_TRAILER, max_size=len(data))
        trailers = {header_name(algorithm): b64(algorithm, data)}
    else:
        headers = (
            ("content-length", str(len(data))),
            ("content-md5", md5),
            (header_name(algorithm), b64(algorithm, data)),
        )
        body_plan = plan(headers, hashlib.sha256(data).hexdigest(), max_size=len(data))
        trailers = {}
    assert verify(body_plan, data, trailers) == ((algorithm, b64(algorithm, data)),)


@pytest.mark.parametrize(
    "headers",
    [
        (("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),),
        (("x-amz-checksum-crc32", "AAAAAA=="),),
        (("x-amz-checksum-sha256", "x"),),  # its form is judged with the body
        (("x-amz-trailer", "x-amz-checksum-crc32c"),),
    ],
)
def test_delete_objects_with_a_digest(headers: Headers) -> None:
    require_digest("DeleteObjects", headers)


def test_delete_objects_without_a_digest() -> None:
    headers = (("content-length", "10"), ("x-amz-sdk-checksum-algorithm", "CRC32"))
    with pytest.raises(S3Error) as refused:
        require_digest("DeleteObjects", headers)
    assert (refused.value.code, refused.value.status) == ("InvalidRequest", 400)
    assert refused.value.message == "Missing required header for this request: Content-MD5"
    require_digest("PutObject", headers)  # other actions need none
