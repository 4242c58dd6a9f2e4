"""Bad input gets the error real S3 answers, nothing is stored, and s3d keeps serving."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import socket
import urllib.parse
import zlib

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCESS_KEY, client, send, sign


def code_of(body: bytes) -> str:
    text = body.decode()
    return text.split("<Code>")[1].split("</Code>")[0]


def absent(remote, bucket: str, key: str) -> bool:
    try:
        remote.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


@pytest.fixture(autouse=True)
def still_serving(s3d, request):
    """After every bad request, s3d still answers a good one."""
    yield
    s3 = client(s3d.endpoint_url)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_missing_signature(s3d, remote, bucket) -> None:
    status, headers, body = send("PUT", f"{s3d.endpoint_url}/{bucket}/anon", {}, b"data")
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert headers["x-amz-request-id"]
    assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>" in body.decode()
    assert absent(remote, bucket, "anon")


def test_wrong_secret(s3d, remote, bucket) -> None:
    bad = client(s3d.endpoint_url, secret="not-the-secret")
    with pytest.raises(ClientError) as exc:
        bad.put_object(Bucket=bucket, Key="wrong-sig", Body=b"x")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "not-the-secret" not in str(exc.value.response)
    assert absent(remote, bucket, "wrong-sig")


def test_unknown_access_key(s3d, bucket) -> None:
    bad = client(s3d.endpoint_url, key="AKIANOTKNOWN")
    with pytest.raises(ClientError) as exc:
        bad.get_object(Bucket=bucket, Key="x")
    assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_clock_skew(s3d, remote, bucket) -> None:
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=16)
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/skewed", body=b"x", when=past)
    status, _, body = send("PUT", url, headers, b"x")
    assert (status, code_of(body)) == (403, "RequestTimeTooSkewed")
    assert absent(remote, bucket, "skewed")
    near = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=14)
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/near", body=b"x", when=near)
    assert send("PUT", url, headers, b"x")[0] == 200


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_presigned_urls_and_expiry(s3, s3d, bucket, version: str) -> None:
    # boto3 presigns S3 URLs with SigV2 unless told s3v4: both must work.
    s3.put_object(Bucket=bucket, Key="shared file.txt", Body=b"presigned bytes")
    signer = client(s3d.endpoint_url, signature_version=version)
    good = signer.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared file.txt"}, ExpiresIn=300
    )
    assert ("X-Amz-Signature=" in good) == (version == "s3v4")
    status, _, body = send("GET", good, {})
    assert (status, body) == (200, b"presigned bytes")
    tampered = good.replace("shared%20file.txt", "other.txt")
    status, _, body = send("GET", tampered, {})
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_expired(s3d, bucket) -> None:
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=120)
    url, _ = sign(
        "GET", f"{s3d.endpoint_url}/{bucket}/shared%20file.txt", when=old, presign_expires=60
    )
    status, _, body = send("GET", url, {})
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert b"Request has expired" in body


def test_presigned_put(s3, remote, bucket) -> None:
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300
    )
    status, _, _ = send("PUT", url, {}, b"uploaded via presigned url")
    assert status == 200
    assert (
        remote.get_object(Bucket=bucket, Key="up")["Body"].read() == b"uploaded via presigned url"
    )


def test_wrong_content_sha256(s3d, remote, bucket) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/sha", body=b"body", payload_hash=wrong)
    status, _, body = send("PUT", url, headers, b"body")
    assert (status, code_of(body)) == (400, "XAmzContentSHA256Mismatch")
    assert absent(remote, bucket, "sha")


def test_wrong_content_md5(s3, remote, bucket) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ContentMD5=wrong)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"data", ContentMD5="not base64!")
    assert exc.value.response["Error"]["Code"] == "InvalidDigest"
    assert absent(remote, bucket, "md5")


def test_wrong_checksum_header(s3, remote, bucket) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="crc", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    assert absent(remote, bucket, "crc")


def _unsigned_trailer_body(data: bytes, crc_b64: str) -> bytes:
    return (
        f"{len(data):x}\r\n".encode()
        + data
        + b"\r\n0\r\n"
        + f"x-amz-checksum-crc32:{crc_b64}\r\n\r\n".encode()
    )


def test_checksum_trailer_right_and_wrong(s3d, remote, bucket) -> None:
    data = b"trailer checked data" * 100
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    for key, value, expected in [("good-trailer", crc, 200), ("bad-trailer", "AAAAAA==", 400)]:
        wire = _unsigned_trailer_body(data, value)
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "Content-Length": str(len(wire)),
        }
        url, signed = sign(
            "PUT",
            f"{s3d.endpoint_url}/{bucket}/{key}",
            headers=headers,
            payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        )
        status, _, body = send("PUT", url, signed, wire)
        assert status == expected, body
        if expected == 400:
            assert code_of(body) == "BadDigest"
    assert remote.get_object(Bucket=bucket, Key="good-trailer")["Body"].read() == data
    assert absent(remote, bucket, "bad-trailer")


def _partial_put(url: str, headers: dict[str, str], *, close: bool) -> bytes:
    """Announce 1000 bytes, send 400; then either close the socket or wait for an answer."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = f"PUT {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        sock.sendall(head.encode() + b"\r\n" + b"x" * 400)
        if close:
            return b""
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_body_shorter_than_announced(remote_url, tmp_path, remote, bucket) -> None:
    from tests.support import DaemonThread, daemon_settings

    settings = daemon_settings(remote_url, tmp_path, body_timeout=1.0)
    with DaemonThread(settings) as daemon:
        url, headers = sign(
            "PUT",
            f"{daemon.endpoint_url}/{bucket}/short",
            headers={"Content-Length": "1000"},
            payload_hash="UNSIGNED-PAYLOAD",
        )
        # A client that goes silent is answered as S3 answers it, after the body timeout.
        answer = _partial_put(url, headers, close=False)
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert b"<Code>RequestTimeout</Code>" in answer
        # A client that hangs up mid-body gets nothing, and nothing is stored.
        _partial_put(url, headers, close=True)
        assert client(daemon.endpoint_url).list_buckets()["Buckets"]
        assert list((tmp_path / "staging").iterdir()) == []
    assert absent(remote, bucket, "short")


def test_malformed_xml(s3d, bucket) -> None:
    for query, document in [
        ("delete", b"<Delete><Object><Key>a</Key>"),
        ("delete", b"not xml at all"),
        ("delete", b"<Wrong><Object><Key>a</Key></Object></Wrong>"),
    ]:
        url, headers = sign(
            "POST", f"{s3d.endpoint_url}/{bucket}?{query}", body=document, headers=_md5(document)
        )
        status, _, body = send("POST", url, headers, document)
        assert (status, code_of(body)) == (400, "MalformedXML"), document


def _md5(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def test_delete_objects_needs_a_digest(s3, s3d, remote, bucket) -> None:
    """S3 refuses a multi-object delete whose body carries no Content-MD5 or checksum."""
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    document = b"<Delete><Object><Key>keep</Key></Object></Delete>"
    url, headers = sign("POST", f"{s3d.endpoint_url}/{bucket}?delete", body=document)
    status, _, body = send("POST", url, headers, document)
    assert (status, code_of(body)) == (400, "InvalidRequest"), body
    assert b"Missing required header for this request: Content-MD5" in body
    assert b"<RequestId>" in body
    assert not absent(remote, bucket, "keep")
    # With Content-MD5, or with a checksum header instead, the same request deletes.
    checksum = {"x-amz-checksum-crc32": base64.b64encode(zlib.crc32(document).to_bytes(4, "big"))}
    for digest in (_md5(document), {k: v.decode() for k, v in checksum.items()}):
        s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
        url, headers = sign(
            "POST", f"{s3d.endpoint_url}/{bucket}?delete", body=document, headers=digest
        )
        status, _, body = send("POST", url, headers, document)
        assert status == 200, body
        assert absent(remote, bucket, "keep")
    # boto3 sends a checksum of its own.
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}]})
    assert absent(remote, bucket, "keep")


def test_key_too_long(s3, bucket) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert exc.value.response["Error"]["Code"] == "KeyTooLongError"
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")


@pytest.mark.parametrize(
    "name", ["UPPER_case!", "ab", "192.168.1.1", "a..b", "-dash", "xn--punycode"]
)
def test_invalid_bucket_names(s3d, name: str) -> None:
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{urllib.parse.quote(name)}")
    status, _, body = send("PUT", url, headers)
    assert (status, code_of(body)) == (400, "InvalidBucketName")


def test_unknown_subresource(s3d, bucket) -> None:
    url, headers = sign("GET", f"{s3d.endpoint_url}/{bucket}?nosuchsubresource")
    status, _, body = send("GET", url, headers)
    assert (status, code_of(body)) == (501, "NotImplemented")
    assert b"nosuchsubresource" in body
    url, headers = sign("GET", f"{s3d.endpoint_url}/{bucket}/key?nosuchsubresource")
    status, _, body = send("GET", url, headers)
    assert (status, code_of(body)) == (501, "NotImplemented")


def test_percent_encoded_slash_is_a_slash(s3d, remote, bucket) -> None:
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/a%2Fb%2F..%2Fc", body=b"v")
    assert send("PUT", url, headers, b"v")[0] == 200
    assert remote.get_object(Bucket=bucket, Key="a/b/../c")["Body"].read() == b"v"


def test_invalid_key_encoding(s3d, bucket) -> None:
    url, headers = sign("GET", f"{s3d.endpoint_url}/{bucket}/bad%FF%FEkey")
    status, _, body = send("GET", url, headers)
    assert status == 400
    assert code_of(body) in ("InvalidURI", "SignatureDoesNotMatch")


def test_method_not_allowed(s3d, bucket) -> None:
    url, headers = sign("DELETE", f"{s3d.endpoint_url}/{bucket}?location")
    status, _, body = send("DELETE", url, headers)
    assert (status, code_of(body)) == (405, "MethodNotAllowed")


def test_anonymous_is_refused_by_default(s3d, bucket) -> None:
    status, _, body = send("GET", f"{s3d.endpoint_url}/{bucket}", {})
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert ACCESS_KEY not in body.decode()


def _expect_continue(url: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send the headers with Expect: 100-continue, then what the server says before a body."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        lines = [f"PUT {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Expect: 100-continue"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        first = _read_response(sock, b"")
        if not first.startswith(b"HTTP/1.1 100"):
            return first
        sock.sendall(body)
        return first + _read_response(sock, b"")


def _read_response(sock: socket.socket, data: bytes) -> bytes:
    """One whole response (status line, headers and Content-Length bytes of body)."""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_expect_continue_only_for_authenticated_uploads(s3d, remote, bucket) -> None:
    body = b"x" * 5000
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/expected", body=body)
    answer = _expect_continue(url, headers, body)
    assert answer.startswith(b"HTTP/1.1 100 Continue")
    assert b"HTTP/1.1 200" in answer
    url, headers = sign("PUT", f"{s3d.endpoint_url}/{bucket}/refused", body=body, secret="wrong")
    answer = _expect_continue(url, headers, body)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:40]
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer
    assert absent(remote, bucket, "refused")
