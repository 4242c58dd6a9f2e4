"""The aws-chunked decoder: AWS's worked example, botocore's encoder, any split, any damage."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable

import pytest
from botocore.httpchecksum import AwsChunkedWrapper
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol import sigv4
from s3d.protocol.checksums import ALGORITHMS, Checksum, header_name
from s3d.protocol.chunked import (
    MAX_LINE,
    ChunkedDecoder,
    chunk_signature,
    trailer_signature,
)
from s3d.protocol.errors import S3Error
from s3d.protocol.sigv4 import Scope, SignedRequest, SigningContext
from tests.protocol.test_checksums import BOTOCORE
from tests.protocol.test_sigv4 import SECRET, client_call

# ---------------------------------------------------------------------------------------------
# Helpers: an encoder independent of the decoder, and a driver feeding arbitrary splits.

SCOPE = Scope("AKIDS3DTEST", "20240102", "us-east-1", "s3")
CONTEXT = SigningContext(
    key=sigv4.derive_signing_key(SECRET, SCOPE),
    scope=SCOPE,
    amz_date="20240102T030405Z",
    seed_signature="a" * 64,
)


def encode(
    payload: bytes,
    sizes: Iterable[int],
    *,
    signing: SigningContext | None = None,
    trailers: dict[str, str] | None = None,
) -> bytes:
    """``payload`` as aws-chunked, in chunks of ``sizes`` (cycled); signed if ``signing``."""
    wire = bytearray()
    previous = signing.seed_signature if signing is not None else ""
    chunks, position, sizes = [], 0, list(sizes) or [len(payload) or 1]
    while position < len(payload):
        size = max(1, sizes[len(chunks) % len(sizes)])
        chunks.append(payload[position : position + size])
        position += size
    for chunk in [*chunks, b""]:
        wire += f"{len(chunk):x}".encode()
        if signing is not None:
            previous = chunk_signature(signing, previous, chunk)
            wire += f";chunk-signature={previous}".encode()
        wire += b"\r\n" + (chunk + b"\r\n" if chunk else b"")
    for name, value in (trailers or {}).items():
        wire += f"{name}:{value}\r\n".encode()
    if signing is not None and trailers is not None:
        block = "".join(f"{name}:{value}\n" for name, value in sorted(trailers.items()))
        signature = trailer_signature(signing, previous, block.encode())
        wire += f"x-amz-trailer-signature:{signature}\r\n".encode()
    return bytes(wire + b"\r\n")


def decode(
    wire: bytes,
    cuts: Iterable[int] = (),
    *,
    signing: SigningContext | None = None,
    trailer: bool = False,
    decoded_length: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    decoder = ChunkedDecoder(signing=signing, trailer=trailer, decoded_length=decoded_length)
    bounds = sorted({0, len(wire), *(cut % (len(wire) + 1) for cut in cuts)})
    payload = bytearray()
    for start, end in itertools.pairwise(bounds):
        for piece in decoder.feed(wire[start:end]):
            assert isinstance(piece, bytes)
            payload += piece
    trailers = decoder.finish()
    assert decoder.done
    return bytes(payload), trailers


def crc32_trailer(payload: bytes) -> dict[str, str]:
    checksum = Checksum.new("CRC32")
    checksum.update(payload)
    return {"x-amz-checksum-crc32": checksum.b64digest()}


# ---------------------------------------------------------------------------------------------
# The worked example of "Signature Calculations for the Authorization Header: Transferring
# Payload in Multiple Chunks (Chunked Upload)": 66560 bytes of "a" in 64 KiB chunks.

DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
DOC_REQUEST = SignedRequest(
    "PUT",
    "/examplebucket/chunkObject.txt",
    "",
    (
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            f"x-amz-decoded-content-length;x-amz-storage-class,Signature={DOC_SEED}",
        ),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ),
)
DOC_BODY = (
    f"10000;chunk-signature={DOC_CHUNK_SIGNATURES[0]}\r\n".encode()
    + b"a" * 65536
    + f"\r\n400;chunk-signature={DOC_CHUNK_SIGNATURES[1]}\r\n".encode()
    + b"a" * 1024
    + f"\r\n0;chunk-signature={DOC_CHUNK_SIGNATURES[2]}\r\n\r\n".encode()
)


def doc_context() -> SigningContext:
    auth = sigv4.parse_authorization(DOC_REQUEST)
    assert auth is not None
    return sigv4.verify(DOC_REQUEST, auth, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def test_documentation_seed_and_chunk_signatures() -> None:
    context = doc_context()
    assert context.seed_signature == DOC_SEED
    previous = DOC_SEED
    for chunk, expected in zip([b"a" * 65536, b"a" * 1024, b""], DOC_CHUNK_SIGNATURES, strict=True):
        previous = chunk_signature(context, previous, chunk)
        assert previous == expected
    assert len(DOC_BODY) == 66824


@pytest.mark.parametrize("cuts", [(), (1,), (86, 87, 88), (65624, 65625, 65626), (66000,)])
def test_documentation_body_decodes(cuts: tuple[int, ...]) -> None:
    payload, trailers = decode(DOC_BODY, cuts, signing=doc_context(), decoded_length=66560)
    assert payload == b"a" * 66560
    assert trailers == {}


def test_documentation_body_tampered() -> None:
    damaged = DOC_BODY[:1000] + b"b" + DOC_BODY[1001:]  # one payload byte of the first chunk
    with pytest.raises(S3Error) as caught:
        decode(damaged, signing=doc_context(), decoded_length=66560)
    assert (caught.value.code, caught.value.http_status) == ("SignatureDoesNotMatch", 403)


def test_payload_is_returned_before_the_chunk_completes() -> None:
    decoder = ChunkedDecoder(signing=doc_context(), trailer=False, decoded_length=66560)
    pieces = decoder.feed(DOC_BODY[:1000])
    assert b"".join(pieces) == b"a" * (1000 - 88)
    assert not decoder.done
    with pytest.raises(S3Error) as caught:
        decoder.finish()
    assert caught.value.code == "IncompleteBody"


# ---------------------------------------------------------------------------------------------
# botocore's AwsChunkedWrapper (what boto3 sends by default: STREAMING-UNSIGNED-PAYLOAD-TRAILER).


@settings(deadline=None)
@given(
    algorithm=st.sampled_from(ALGORITHMS),
    payload=st.binary(max_size=3000),
    chunk_size=st.integers(min_value=1, max_value=1500),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_botocore_aws_chunked_wrapper(
    algorithm: str, payload: bytes, chunk_size: int, cuts: list[int]
) -> None:
    name = header_name(algorithm)
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload),
        checksum_cls=BOTOCORE[algorithm],
        checksum_name=name,
        chunk_size=chunk_size,
    )
    wire = wrapper.read()
    decoded, trailers = decode(wire, cuts, trailer=True, decoded_length=len(payload))
    assert decoded == payload
    expected = BOTOCORE[algorithm]()
    expected.update(payload)
    assert trailers == {name: expected.b64digest()}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_boto_client_put_object_body(algorithm: str) -> None:
    payload = bytes(range(256)) * 41
    req, wire = client_call(
        "put_object", Bucket="bucket", Key="k", Body=payload, ChecksumAlgorithm=algorithm
    )
    headers = dict(req.headers)
    assert headers["x-amz-content-sha256"] == sigv4.STREAMING_UNSIGNED_TRAILER
    auth = sigv4.parse_authorization(req)
    assert auth is not None
    signing = sigv4.verify(req, auth, SECRET)
    assert signing.seed_signature == auth.signature
    decoded, trailers = decode(
        wire, trailer=True, decoded_length=int(headers["x-amz-decoded-content-length"])
    )
    assert decoded == payload
    checksum = Checksum.new(algorithm)
    checksum.update(payload)
    assert trailers == {headers["x-amz-trailer"]: checksum.b64digest()}


# ---------------------------------------------------------------------------------------------
# Any payload, any chunking, any split of the wire bytes, all three modes.

MODES = {
    "signed": (CONTEXT, False),
    "signed-trailer": (CONTEXT, True),
    "unsigned-trailer": (None, True),
}


def encode_mode(mode: str, payload: bytes, sizes: list[int]) -> bytes:
    signing, trailer = MODES[mode]
    return encode(
        payload, sizes, signing=signing, trailers=crc32_trailer(payload) if trailer else None
    )


@settings(deadline=None, max_examples=200)
@given(
    mode=st.sampled_from(list(MODES)),
    payload=st.binary(max_size=5000),
    sizes=st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_round_trip_any_split(mode: str, payload: bytes, sizes: list[int], cuts: list[int]) -> None:
    signing, trailer = MODES[mode]
    wire = encode_mode(mode, payload, sizes)
    decoded, trailers = decode(
        wire, cuts, signing=signing, trailer=trailer, decoded_length=len(payload)
    )
    assert decoded == payload
    assert trailers == (crc32_trailer(payload) if trailer else {})


@pytest.mark.parametrize("mode", list(MODES))
def test_one_byte_at_a_time(mode: str) -> None:
    signing, trailer = MODES[mode]
    payload = b"0123456789" * 7
    wire = encode_mode(mode, payload, [16, 5, 33])
    decoded, _ = decode(wire, range(len(wire)), signing=signing, trailer=trailer)
    assert decoded == payload


def test_large_chunk_crosses_many_feeds() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB in one chunk
    wire = encode(payload, [len(payload)], signing=CONTEXT)
    decoded, _ = decode(wire, range(0, len(wire), 7919), signing=CONTEXT)
    assert decoded == payload


def test_unsigned_chunk_extensions_are_ignored() -> None:
    wire = b"5;name=value\r\nhello\r\n0;other\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    decoded, trailers = decode(wire, trailer=True)
    assert decoded == b"hello"
    assert trailers == {"x-amz-checksum-crc32": "NhCmhg=="}


def test_trailer_names_lower_cased_and_values_trimmed() -> None:
    wire = b"0\r\nX-Amz-Checksum-CRC32 :  AAAAAA==  \r\n\r\n"
    _, trailers = decode(wire, trailer=True, decoded_length=0)
    assert trailers == {"x-amz-checksum-crc32": "AAAAAA=="}


# ---------------------------------------------------------------------------------------------
# Damage: tampering, truncation, bad framing, wrong lengths.


def expect_error(
    wire: bytes,
    code: str,
    *,
    signing: SigningContext | None = None,
    trailer: bool = False,
    decoded_length: int | None = None,
) -> S3Error:
    with pytest.raises(S3Error) as caught:
        decode(wire, signing=signing, trailer=trailer, decoded_length=decoded_length)
    assert caught.value.code == code, caught.value.message
    return caught.value


@settings(deadline=None)
@given(
    mode=st.sampled_from(["signed", "signed-trailer"]),
    payload=st.binary(min_size=1, max_size=600),
    sizes=st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=3),
    where=st.integers(min_value=0),
)
def test_tampered_data_is_refused(mode: str, payload: bytes, sizes: list[int], where: int) -> None:
    signing, trailer = MODES[mode]
    wire = encode_mode(mode, payload, sizes)
    index = wire.index(b"\r\n") + 2 + where % min(len(payload), sizes[0])
    damaged = wire[:index] + bytes([wire[index] ^ 1]) + wire[index + 1 :]
    expect_error(damaged, "SignatureDoesNotMatch", signing=signing, trailer=trailer)


@pytest.mark.parametrize("which", [0, 1, 2], ids=["first", "middle", "final"])
def test_tampered_chunk_signature_is_refused(which: int) -> None:
    wire = encode(b"x" * 20, [10], signing=CONTEXT)
    signatures = [part[:64] for part in wire.split(b"chunk-signature=")[1:]]
    damaged = wire.replace(signatures[which], signatures[which][:-1] + b"0", 1)
    if damaged == wire:
        damaged = wire.replace(signatures[which], signatures[which][:-1] + b"1", 1)
    expect_error(damaged, "SignatureDoesNotMatch", signing=CONTEXT)


def test_chunks_out_of_order_are_refused() -> None:
    wire = encode(b"A" * 10 + b"B" * 10, [10], signing=CONTEXT)
    # Each data chunk is two lines (header, data); swap the first two chunks.
    lines = wire.split(b"\r\n")
    swapped = b"\r\n".join([*lines[2:4], *lines[0:2], *lines[4:]])
    expect_error(swapped, "SignatureDoesNotMatch", signing=CONTEXT)


def test_tampered_trailer_is_refused() -> None:
    payload = b"hello world"
    wire = encode(payload, [4], signing=CONTEXT, trailers=crc32_trailer(payload))
    value = crc32_trailer(payload)["x-amz-checksum-crc32"].encode()
    damaged = wire.replace(value, b"AAAAAA==")
    expect_error(damaged, "SignatureDoesNotMatch", signing=CONTEXT, trailer=True)


def test_tampered_trailer_signature_is_refused() -> None:
    payload = b"hello world"
    wire = encode(payload, [4], signing=CONTEXT, trailers=crc32_trailer(payload))
    head, _, signature = wire.rstrip(b"\r\n").rpartition(b"x-amz-trailer-signature:")
    damaged = head + b"x-amz-trailer-signature:" + signature[::-1] + b"\r\n\r\n"
    expect_error(damaged, "SignatureDoesNotMatch", signing=CONTEXT, trailer=True)


def test_wrong_signing_key_is_refused() -> None:
    other = SigningContext(
        sigv4.derive_signing_key("other", SCOPE), SCOPE, CONTEXT.amz_date, CONTEXT.seed_signature
    )
    expect_error(encode(b"data", [2], signing=CONTEXT), "SignatureDoesNotMatch", signing=other)


@pytest.mark.parametrize("mode", list(MODES))
def test_truncated_anywhere_never_succeeds(mode: str) -> None:
    signing, trailer = MODES[mode]
    payload = b"truncate me, please" * 3
    wire = encode_mode(mode, payload, [13, 7])
    for end in range(len(wire)):
        decoder = ChunkedDecoder(signing=signing, trailer=trailer, decoded_length=len(payload))

        def run(decoder: ChunkedDecoder = decoder, end: int = end) -> None:
            decoder.feed(wire[:end])
            decoder.finish()

        with pytest.raises(S3Error) as caught:
            run()
        assert caught.value.code in ("IncompleteBody", "InvalidRequest"), (end, caught.value)
        assert not decoder.done


GARBAGE = {
    "bad-hex": (b"zz\r\n", None),
    "hex-prefix": (b"0x5\r\nhello\r\n0\r\n\r\n", None),
    "plus-sign": (b"+5\r\nhello\r\n0\r\n\r\n", None),
    "leading-space": (b" 5\r\nhello\r\n0\r\n\r\n", None),
    "empty-size": (b"\r\n", None),
    "too-many-digits": (b"00000000000000001\r\n", None),
    "lf-only": (b"5\nhello\r\n0\r\n\r\n", None),
    "no-crlf-after-data": (b"5\r\nhelloX\r\n0\r\n\r\n", None),
    "cr-only-after-data": (b"5\r\nhello\r0\r\n\r\n", None),
    "long-line": (b"5;" + b"x" * MAX_LINE + b"\r\n", None),
    "long-line-no-newline": (b"5" * (MAX_LINE + 1), None),
    "data-after-end": (b"0\r\n\r\nextra", None),
    "trailer-without-colon": (b"0\r\nx-amz-checksum-crc32\r\n\r\n", None),
    "bad-trailer-name": (b"0\r\nx amz:1\r\n\r\n", None),
    "duplicate-trailer": (b"0\r\na:1\r\na:2\r\n\r\n", None),
    "trailer-signature-unsigned": (
        b"0\r\nx-amz-trailer-signature:" + b"0" * 64 + b"\r\n\r\n",
        None,
    ),
    "signed-missing-signature": (b"5\r\nhello\r\n", CONTEXT),
    "signed-other-extension": (b"5;foo=bar\r\nhello\r\n", CONTEXT),
    "signed-short-signature": (b"5;chunk-signature=abc\r\nhello\r\n", CONTEXT),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_framing_is_invalid_request(name: str) -> None:
    wire, signing = GARBAGE[name]
    error = expect_error(wire, "InvalidRequest", signing=signing, trailer=signing is None)
    assert error.http_status == 400
    assert error.message.startswith("Malformed aws-chunked body: ")


def test_trailer_in_signed_mode_without_trailer() -> None:
    wire = encode(b"abc", [3], signing=CONTEXT, trailers=None)
    with_trailer = wire[:-2] + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    expect_error(with_trailer, "InvalidRequest", signing=CONTEXT, trailer=False)


def test_signed_trailer_mode_requires_the_trailer_signature() -> None:
    payload = b"abc"
    wire = encode(payload, [3], signing=CONTEXT)
    with_unsigned = wire[:-2] + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    expect_error(with_unsigned, "InvalidRequest", signing=CONTEXT, trailer=True)


def test_trailer_after_the_trailer_signature() -> None:
    payload = b"abc"
    wire = encode(payload, [3], signing=CONTEXT, trailers=crc32_trailer(payload))
    extended = wire[:-2] + b"late:1\r\n\r\n"
    expect_error(extended, "InvalidRequest", signing=CONTEXT, trailer=True)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("declared", [0, 99, 101, 1000])
def test_decoded_length_mismatch(mode: str, declared: int) -> None:
    signing, trailer = MODES[mode]
    wire = encode_mode(mode, b"z" * 100, [30])
    expect_error(wire, "IncompleteBody", signing=signing, trailer=trailer, decoded_length=declared)


def test_longer_than_declared_fails_before_the_data() -> None:
    decoder = ChunkedDecoder(signing=None, trailer=True, decoded_length=10)
    with pytest.raises(S3Error) as caught:
        decoder.feed(b"b\r\n")
    assert caught.value.code == "IncompleteBody"


def test_empty_body_is_incomplete() -> None:
    decoder = ChunkedDecoder(signing=None, trailer=True, decoded_length=None)
    assert decoder.feed(b"") == []
    with pytest.raises(S3Error) as caught:
        decoder.finish()
    assert caught.value.code == "IncompleteBody"
