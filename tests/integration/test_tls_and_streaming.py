"""Streaming request bodies as real clients send them: over HTTPS (where botocore switches to
aws-chunked bodies with unsigned payloads and checksum trailers) and signed aws-chunked bodies
built by hand over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from awscrt import checksums as crt
from botocore.config import Config
from botocore.exceptions import ClientError

from s3d.protocol.chunked import chunk_signature, trailer_signature
from s3d.protocol.sigv4 import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    Scope,
    SigningContext,
    derive_signing_key,
)
from tests.support import (
    ACCESS_KEY,
    SECRET_KEY,
    DaemonThread,
    daemon_settings,
    make_tls_cert,
    s3_error_code,
    send,
    sign,
)

AWS = str(Path(sys.executable).with_name("aws"))

EXPECTED: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": lambda data: crt.crc32c(data).to_bytes(4, "big"),
    "CRC64NVME": lambda data: crt.crc64nvme(data).to_bytes(8, "big"),
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}


def checksum_b64(algorithm: str, data: bytes) -> str:
    return base64.b64encode(EXPECTED[algorithm](data)).decode()


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- HTTPS: what current SDKs send by default -----------------------------------------------


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_tls_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_s3d(
    remote_url: str, tls_cert: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaemonThread]:
    cert, key = tls_cert
    settings = daemon_settings(
        remote_url, tmp_path_factory.mktemp("tls-data"), tls_cert_file=cert, tls_key_file=key
    )
    with DaemonThread(settings) as daemon:
        yield daemon


@pytest.fixture
def tls_client(tls_s3d: DaemonThread, tls_cert: tuple[Path, Path]):
    """boto3 with its default settings (checksums "when_supported"), verifying s3d's cert."""
    assert tls_s3d.endpoint_url.startswith("https://127.0.0.1:")
    return boto3.client(
        "s3",
        endpoint_url=tls_s3d.endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        verify=str(tls_cert[0]),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def capture(client, event: str) -> list[dict[str, str]]:
    """The headers of every request ``client`` sends for ``event`` (e.g. "s3.PutObject")."""
    seen: list[dict[str, str]] = []

    def record(request, **_: object) -> None:
        seen.append({k.lower(): text(v) for k, v in request.headers.items()})

    client.meta.events.register(f"before-send.{event}", record)
    return seen


def assert_unsigned_trailer(headers: dict[str, str], algorithm: str, length: int) -> None:
    assert headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert "aws-chunked" in headers["content-encoding"]
    assert headers["transfer-encoding"] == "chunked"
    assert headers["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}"
    assert headers["x-amz-decoded-content-length"] == str(length)
    assert "content-length" not in headers
    # The checksum travels in the trailer, not in a header.
    assert not any(name.startswith("x-amz-checksum-") for name in headers)


def test_https_default_put_is_unsigned_payload_with_crc32_trailer(
    tls_client, remote, bucket
) -> None:
    seen = capture(tls_client, "s3.PutObject")
    data = os.urandom(300_000)
    put = tls_client.put_object(Bucket=bucket, Key="default", Body=data)
    assert len(seen) == 1
    assert_unsigned_trailer(seen[0], "CRC32", len(data))
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert put["ChecksumCRC32"] == checksum_b64("CRC32", data)
    assert remote.get_object(Bucket=bucket, Key="default")["Body"].read() == data
    # And back through s3d over TLS, with botocore validating the response checksum.
    got = tls_client.get_object(Bucket=bucket, Key="default", ChecksumMode="ENABLED")
    assert got["Body"].read() == data


@pytest.mark.parametrize("algorithm", list(EXPECTED))
def test_https_put_with_each_checksum_algorithm(tls_client, remote, bucket, algorithm) -> None:
    seen = capture(tls_client, "s3.PutObject")
    data = os.urandom(70_000) + algorithm.encode()
    put = tls_client.put_object(
        Bucket=bucket, Key=f"alg/{algorithm}", Body=data, ChecksumAlgorithm=algorithm
    )
    assert_unsigned_trailer(seen[-1], algorithm, len(data))
    assert seen[-1]["x-amz-sdk-checksum-algorithm"] == algorithm
    expected = checksum_b64(algorithm, data)
    assert put[f"Checksum{algorithm}"] == expected
    stored = remote.get_object(Bucket=bucket, Key=f"alg/{algorithm}", ChecksumMode="ENABLED")
    assert stored["Body"].read() == data
    # s3d passed the checksum it verified on to the remote.
    assert stored[f"Checksum{algorithm}"] == expected


def test_https_tampered_trailer_is_bad_digest(tls_client, remote, bucket) -> None:
    """The trailer really is checked: the same botocore request with its trailer value
    replaced (after the body was framed) is refused and nothing is stored."""

    def corrupt_trailer(request, **_: object) -> None:
        framed = request.body.read()
        value = re.search(rb"x-amz-checksum-crc32:([A-Za-z0-9+/=]+)\r\n", framed)
        assert value is not None, framed[-200:]
        wrong = base64.b64encode(b"\x00\x00\x00\x01")
        assert wrong != value.group(1)
        request.body = framed.replace(value.group(0), b"x-amz-checksum-crc32:" + wrong + b"\r\n")

    tls_client.meta.events.register("before-send.s3.PutObject", corrupt_trailer)
    with pytest.raises(ClientError) as exc:
        tls_client.put_object(Bucket=bucket, Key="tampered", Body=b"payload" * 1000)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError) as missing:
        remote.head_object(Bucket=bucket, Key="tampered")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_https_upload_part_uses_trailers(tls_client, remote, bucket) -> None:
    seen = capture(tls_client, "s3.UploadPart")
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(123_457)]
    upload = tls_client.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
    layout = []
    for number, data in enumerate(parts, start=1):
        part = tls_client.upload_part(
            Bucket=bucket,
            Key="mp",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
        )
        assert_unsigned_trailer(seen[-1], "SHA256", len(data))
        assert part["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert part["ChecksumSHA256"] == checksum_b64("SHA256", data)
        layout.append(
            {"PartNumber": number, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}
        )
    assert len(seen) == 2
    done = tls_client.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": layout}
    )
    assert done["ETag"].endswith('-2"')
    stored = remote.get_object(Bucket=bucket, Key="mp")
    assert stored["Body"].read() == b"".join(parts)
    assert stored["ETag"] == done["ETag"]


def test_aws_cli_multipart_cp_over_https(tls_s3d, tls_cert, remote, bucket, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
    }
    common = [AWS, "--ca-bundle", str(tls_cert[0]), "--endpoint-url", tls_s3d.endpoint_url]
    # --debug logs each request's headers: the proof of how the CLI sent the parts.
    up = subprocess.run(
        [*common, "--debug", "s3", "cp", str(src), f"s3://{bucket}/cli/big.bin"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert up.returncode == 0, up.stderr[-5000:]
    sent = [line for line in up.stderr.splitlines() if "Sending http request:" in line]
    part_requests = [line for line in sent if "uploadId=" in line and "partNumber=" in line]
    assert len(part_requests) == 3, "20 MiB in the CLI's 8 MiB parts"
    for line in part_requests:
        assert "STREAMING-UNSIGNED-PAYLOAD-TRAILER" in line
        assert "aws-chunked" in line
    head = remote.head_object(Bucket=bucket, Key="cli/big.bin")
    assert head["ContentLength"] == 20 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-3")
    down = tmp_path / "down.bin"
    back = subprocess.run(
        [*common, "s3", "cp", f"s3://{bucket}/cli/big.bin", str(down)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert back.returncode == 0, back.stderr[-5000:]
    assert hashlib.sha256(down.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


# --- Signed aws-chunked bodies, built by hand -------------------------------------------------

SIGNATURE_PLACEHOLDER = "0" * 64


def frame(
    data: bytes,
    chunk_size: int,
    sign_chunk: Callable[[bytes], str],
    trailers: dict[str, str] | None = None,
    sign_trailers: Callable[[bytes], str] | None = None,
) -> bytes:
    """An aws-chunked body with chunk-signature extensions (and a signed trailer section)."""
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    wire = bytearray()
    for piece in pieces:
        wire += f"{len(piece):x};chunk-signature={sign_chunk(piece)}\r\n".encode()
        wire += piece + (b"\r\n" if piece else b"")
    if trailers is None:
        return bytes(wire + b"\r\n")
    block = "".join(f"{name}:{value}\n" for name, value in sorted(trailers.items())).encode()
    for name, value in trailers.items():
        wire += f"{name}:{value}\r\n".encode()
    assert sign_trailers is not None
    wire += f"x-amz-trailer-signature:{sign_trailers(block)}\r\n\r\n".encode()
    return bytes(wire)


class SignedChunkedPut:
    """A PUT whose headers botocore signs with a STREAMING-* payload hash; its seed signature
    starts the chain of chunk signatures."""

    def __init__(self, url: str, data: bytes, chunk_size: int, trailer: str | None = None):
        self.url, self.data, self.chunk_size = url, data, chunk_size
        self.trailers = (
            {f"x-amz-checksum-{trailer.lower()}": checksum_b64(trailer, data)} if trailer else None
        )
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
        }
        if trailer:
            headers["x-amz-trailer"] = f"x-amz-checksum-{trailer.lower()}"
        # Signatures have a fixed length, so the framed length is known before signing.
        placeholder = frame(
            data,
            chunk_size,
            lambda _: SIGNATURE_PLACEHOLDER,
            self.trailers,
            lambda _: SIGNATURE_PLACEHOLDER,
        )
        headers["Content-Length"] = str(len(placeholder))
        self.signed_url, self.headers = sign(
            "PUT",
            url,
            headers=headers,
            payload_hash=STREAMING_SIGNED_TRAILER if trailer else STREAMING_SIGNED,
        )
        authorization = self.headers["Authorization"]
        seed = authorization.rsplit("Signature=", 1)[1]
        amz_date = self.headers["X-Amz-Date"]
        scope = Scope(ACCESS_KEY, amz_date[:8], "us-east-1", "s3")
        self.context = SigningContext(
            key=derive_signing_key(SECRET_KEY, scope),
            scope=scope,
            amz_date=amz_date,
            seed_signature=seed,
        )

    def wire(self, *, tamper_chunk: int | None = None, trailers: dict[str, str] | None = None):
        """The signed body; ``tamper_chunk``: flip a byte of that chunk after signing it;
        ``trailers``: send these trailer values instead of the ones signed."""
        previous = [self.context.seed_signature]

        def sign_chunk(piece: bytes) -> str:
            previous.append(chunk_signature(self.context, previous[-1], piece))
            return previous[-1]

        def sign_trailers(block: bytes) -> str:
            return trailer_signature(self.context, previous[-1], block)

        body = frame(self.data, self.chunk_size, sign_chunk, self.trailers, sign_trailers)
        if tamper_chunk is not None:
            start = self._data_offset(tamper_chunk)
            body = body[:start] + bytes([body[start] ^ 0x01]) + body[start + 1 :]
        if trailers is not None and self.trailers is not None:
            for name, value in self.trailers.items():
                body = body.replace(f"{name}:{value}".encode(), f"{name}:{trailers[name]}".encode())
        assert len(body) == int(self.headers["Content-Length"])
        return body

    def _data_offset(self, index: int) -> int:
        """Where the data of chunk ``index`` starts in the framed body."""
        offset = 0
        for number, start in enumerate(range(0, len(self.data), self.chunk_size)):
            size = len(self.data[start : start + self.chunk_size])
            offset += len(f"{size:x};chunk-signature=") + 64 + 2
            if number == index:
                return offset
            offset += size + 2
        raise IndexError(index)

    def send(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        return send("PUT", self.signed_url, self.headers, body)


def absent(remote, bucket: str, key: str) -> bool:
    try:
        remote.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


def test_signed_chunked_put(s3d, remote, bucket) -> None:
    data = os.urandom(200_000)
    put = SignedChunkedPut(f"{s3d.endpoint_url}/{bucket}/signed", data, 64 * 1024)
    status, headers, body = put.send(put.wire())
    assert status == 200, body
    assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert remote.get_object(Bucket=bucket, Key="signed")["Body"].read() == data


def test_signed_chunked_put_single_chunk_and_empty(s3d, remote, bucket) -> None:
    for key, data in (("one-chunk", b"small body"), ("empty", b"")):
        put = SignedChunkedPut(f"{s3d.endpoint_url}/{bucket}/{key}", data, 64 * 1024)
        status, _, body = put.send(put.wire())
        assert status == 200, body
        assert remote.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_signed_chunked_tampered_chunk_is_refused(s3d, remote, bucket) -> None:
    data = os.urandom(3 * 8192 + 100)
    put = SignedChunkedPut(f"{s3d.endpoint_url}/{bucket}/tampered", data, 8192)
    # Chunk 0 intact, chunk 1 altered: the decoder has already passed good data along.
    status, headers, body = put.send(put.wire(tamper_chunk=1))
    assert (status, s3_error_code(body)) == (403, "SignatureDoesNotMatch")
    assert headers["x-amz-request-id"]
    assert absent(remote, bucket, "tampered")
    assert list((s3d.settings.data_dir / "staging").iterdir()) == []


def test_signed_chunked_with_wrong_seed_is_refused(s3d, remote, bucket) -> None:
    put = SignedChunkedPut(f"{s3d.endpoint_url}/{bucket}/reseeded", b"x" * 1000, 512)
    honest = put.wire()
    put.context = SigningContext(
        key=put.context.key,
        scope=put.context.scope,
        amz_date=put.context.amz_date,
        seed_signature="f" * 64,
    )
    forged = put.wire()
    assert forged != honest
    status, _, body = put.send(forged)
    assert (status, s3_error_code(body)) == (403, "SignatureDoesNotMatch")
    assert absent(remote, bucket, "reseeded")


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256", "CRC64NVME"])
def test_signed_chunked_with_signed_trailer(s3d, remote, bucket, algorithm) -> None:
    data = os.urandom(150_000)
    put = SignedChunkedPut(f"{s3d.endpoint_url}/{bucket}/st-{algorithm}", data, 65536, algorithm)
    assert put.headers["X-Amz-Content-SHA256"] == STREAMING_SIGNED_TRAILER
    status, _, body = put.send(put.wire())
    assert status == 200, body
    stored = remote.get_object(Bucket=bucket, Key=f"st-{algorithm}", ChecksumMode="ENABLED")
    assert stored["Body"].read() == data
    assert stored[f"Checksum{algorithm}"] == checksum_b64(algorithm, data)


def test_signed_trailer_errors(s3d, remote, bucket) -> None:
    data = os.urandom(10_000)
    url = f"{s3d.endpoint_url}/{bucket}/st-bad"
    name = "x-amz-checksum-crc32"
    wrong = base64.b64encode(b"\xde\xad\xbe\xef").decode()
    # A trailer changed after signing: the trailer signature no longer matches.
    put = SignedChunkedPut(url, data, 4096, "CRC32")
    status, _, body = put.send(put.wire(trailers={name: wrong}))
    assert (status, s3_error_code(body)) == (403, "SignatureDoesNotMatch")
    # A wrong checksum, honestly signed: the signature holds, the data does not match it.
    put = SignedChunkedPut(url, data, 4096, "CRC32")
    put.trailers = {name: wrong}
    status, _, body = put.send(put.wire())
    assert (status, s3_error_code(body)) == (400, "BadDigest")
    assert absent(remote, bucket, "st-bad")


def test_https_cache_hits_without_kernel_sendfile(tls_client, remote, bucket) -> None:
    # Over TLS the kernel cannot sendfile: cached bytes must still arrive intact, whole and
    # ranged, from the cache (asyncio's read-and-write fallback).
    data = os.urandom(3 * 1024 * 1024 + 17)
    remote.put_object(Bucket=bucket, Key="tls-cached", Body=data)
    first = tls_client.get_object(Bucket=bucket, Key="tls-cached")
    assert first["Body"].read() == data
    again = tls_client.get_object(Bucket=bucket, Key="tls-cached")
    assert again["Body"].read() == data
    assert again["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "hit"
    part = tls_client.get_object(Bucket=bucket, Key="tls-cached", Range="bytes=1000-99999")
    assert part["Body"].read() == data[1000:100000]
    assert part["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "hit"
