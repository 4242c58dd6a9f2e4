"""The access log of a real ``s3d serve`` process (one line per request, in JSON and in text),
and a sweep for secrets over everything the process printed and every error it answered."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import DaemonProcess, s3_error_code, send, sign, write_config

LOCAL_KEY = "S3DLOGTESTKEY0000001"
LOCAL_SECRET = "LocalSecret-7f3a9c/never+printed"
REMOTE_KEY_ID = "RemoteKeyIdZq8w3"
REMOTE_SECRET = "RemoteSecret-b81e4d/never+printed"
REMOTE_TOKEN = "RemoteSessionToken-5c2f0a-never-printed"
CLIENT_TOKEN = "ClientSessionToken-e94d71-never-printed"
SSE_C_KEY = b"SSECustomerKey-never-printed-32b"
assert len(SSE_C_KEY) == 32


def start(
    tmp_path: Path, remote_url: str, log_format: str, level: str = "info", *more: str
) -> DaemonProcess:
    config = write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": {
                "port": 0,
                "shutdown_grace": 10.0,
                "access_keys": [{"access_key_id": LOCAL_KEY, "secret_access_key": LOCAL_SECRET}],
            },
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": REMOTE_KEY_ID,
                "secret_access_key": REMOTE_SECRET,
                "session_token": REMOTE_TOKEN,
                "connect_timeout": 2.0,
                "max_attempts": 1,
            },
        },
    )
    return DaemonProcess(
        ["--config", str(config), "--log-format", log_format, "--log-level", level, *more]
    )


def local_client(endpoint: str, *, secret: str = LOCAL_SECRET, **kwargs: object):
    config = kwargs.pop("config", None) or Config(
        s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=LOCAL_KEY,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=config,
        **kwargs,
    )


def request_id(call) -> str:
    """The x-amz-request-id of a boto3 call, whether it succeeded or failed."""
    try:
        result = call()
    except ClientError as exc:
        result = exc.response
    return str(result["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])


def stop(s3d: DaemonProcess) -> None:
    s3d.send_signal(signal.SIGTERM)
    assert s3d.wait(60) == 0, s3d.stderr


@pytest.fixture
def bucket_name(remote) -> str:
    name = f"logs-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    return name


def run_mix(endpoint: str, bucket: str) -> dict[str, tuple[str, str, int, int]]:
    """A mix of requests: request id -> (method, path, status, body bytes expected)."""
    s3 = local_client(endpoint)
    data = b"logged body " * 1000
    expected: dict[str, tuple[str, str, int, int]] = {}
    expected[request_id(lambda: s3.put_object(Bucket=bucket, Key="a b", Body=data))] = (
        "PUT",
        f"/{bucket}/a%20b",
        200,
        0,
    )
    got = s3.get_object(Bucket=bucket, Key="a b")
    assert got["Body"].read() == data
    expected[got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]] = (
        "GET",
        f"/{bucket}/a%20b",
        200,
        len(data),
    )
    expected[request_id(lambda: s3.head_object(Bucket=bucket, Key="a b"))] = (
        "HEAD",
        f"/{bucket}/a%20b",
        200,
        0,
    )
    listing = s3.list_objects_v2(Bucket=bucket)
    expected[listing["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]] = (
        "GET",
        f"/{bucket}",
        200,
        -1,  # an XML document: some bytes
    )
    expected[request_id(lambda: s3.get_object(Bucket=bucket, Key="missing"))] = (
        "GET",
        f"/{bucket}/missing",
        404,
        -1,
    )
    return expected


def test_json_access_log_one_line_per_request(tmp_path, remote_url, bucket_name) -> None:
    with start(tmp_path, remote_url, "json") as s3d:
        expected = run_mix(s3d.endpoint_url, bucket_name)
        # A request refused before it is understood is logged too.
        status, headers, _ = send("GET", f"{s3d.endpoint_url}/{bucket_name}?list-type=2", {})
        assert status == 403
        refused_id = headers["x-amz-request-id"]
        stop(s3d)
    records = [json.loads(line) for line in s3d.stderr.splitlines() if line.strip()]
    access = [r for r in records if r["logger"] == "s3d.access"]
    assert len(access) == len(expected) + 1, access
    by_id = {r["request_id"]: r for r in access}
    assert len(by_id) == len(access), "request ids are unique"
    for rid, (method, path, status, size) in expected.items():
        record = by_id[rid]
        assert (record["method"], record["path"], record["status"]) == (method, path, status)
        assert record["principal"] == LOCAL_KEY
        assert isinstance(record["duration_ms"], int | float)
        assert record["duration_ms"] >= 0
        assert record["level"] == "info"
        if size >= 0:
            assert record["bytes"] == size, record
        else:
            assert record["bytes"] > 0, record
    anonymous = by_id[refused_id]
    assert (anonymous["status"], anonymous["principal"]) == (403, "-")
    assert anonymous["path"] == f"/{bucket_name}"
    assert anonymous["query"] == "list-type=2"
    assert anonymous["bytes"] > 0
    assert LOCAL_SECRET not in s3d.stderr


def test_text_access_log_one_line_per_request(tmp_path, remote_url, bucket_name) -> None:
    with start(tmp_path, remote_url, "text") as s3d:
        expected = run_mix(s3d.endpoint_url, bucket_name)
        stop(s3d)
    lines = [line for line in s3d.stderr.splitlines() if " s3d.access: " in line]
    assert len(lines) == len(expected), lines
    for rid, (method, path, status, _) in expected.items():
        matching = [line for line in lines if f" {rid} " in line]
        assert len(matching) == 1, (rid, lines)
        message = matching[0].split(" s3d.access: ", 1)[1]
        # The path (and query), then the S3 operation, then the status.
        assert message.startswith(f"{method} {path}")
        assert f" {status} " in message
        action = {"PUT": "PutObject", "HEAD": "HeadObject"}.get(method, "GetObject")
        if "?" in message.split()[1]:
            assert message.split()[1:3] == [f"{path}?list-type=2&encoding-type=url",
                                            "ListObjectsV2"]  # fmt: skip
        else:
            assert message.split()[1:4] == [path, action, str(status)]
        assert message.endswith(f" {rid} {LOCAL_KEY}")
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


# --- The secrets sweep ----------------------------------------------------------------------


class ErrorBodies:
    """Every error answer a boto3 client receives, raw, before botocore parses it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def attach(self, client_) -> None:
        client_.meta.events.register("before-parse.s3", self._record)

    def _record(self, response_dict, **_: object) -> None:
        body = response_dict.get("body")
        if response_dict.get("status_code", 200) >= 300 and isinstance(body, bytes):
            self.bodies.append(body)


def secret_forms() -> dict[str, str]:
    return {
        "local secret": LOCAL_SECRET,
        "remote secret": REMOTE_SECRET,
        "remote session token": REMOTE_TOKEN,
        "client session token": CLIENT_TOKEN,
        "SSE-C key": SSE_C_KEY.decode(),
        "SSE-C key (base64)": base64.b64encode(SSE_C_KEY).decode(),
    }


@pytest.fixture
def sweep(tmp_path, remote_url, bucket_name) -> Iterator[tuple[DaemonProcess, list[bytes], str]]:
    """A debug-level JSON-logging daemon with distinctive credentials, and a list to put every
    answer body in; after the test, its whole output and every body are searched."""
    bodies: list[bytes] = []
    with start(tmp_path, remote_url, "json", level="debug") as s3d:
        yield s3d, bodies, bucket_name
        stop(s3d)
    everything = {"stdout": s3d.stdout, "stderr": s3d.stderr}
    everything.update({f"answer {i}": b.decode("utf-8", "replace") for i, b in enumerate(bodies)})
    assert len(bodies) >= 10, "the sweep saw the answers it was meant to see"
    for where, text in everything.items():
        for what, value in secret_forms().items():
            assert value not in text, f"{what} found in {where}"
    # The remote's access key id is shown by its last 4 characters at most.
    assert REMOTE_KEY_ID not in s3d.stdout + s3d.stderr


def test_no_secret_in_output_or_errors(sweep, remote) -> None:
    s3d, bodies, bucket = sweep
    endpoint = s3d.endpoint_url
    errors = ErrorBodies()
    good = local_client(endpoint)
    errors.attach(good)
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSE_C_KEY}

    good.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    assert good.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"plain"
    # SSE-C: whatever the remote makes of it, the key is never repeated back or logged.
    for call in (
        lambda: good.put_object(Bucket=bucket, Key="sse-c", Body=b"secret data", **sse_c),
        lambda: good.get_object(Bucket=bucket, Key="sse-c", **sse_c),
        lambda: good.head_object(Bucket=bucket, Key="plain", **sse_c),
    ):
        request_id(call)
    # Bad signatures, with SSE-C headers and a session token among the signed headers.
    wrong = local_client(endpoint, secret="not-the-local-secret")
    errors.attach(wrong)
    with pytest.raises(ClientError) as exc:
        wrong.put_object(Bucket=bucket, Key="sse-c-bad", Body=b"x", **sse_c)
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    tokened_wrong = local_client(
        endpoint, secret="not-the-local-secret", aws_session_token=CLIENT_TOKEN
    )
    errors.attach(tokened_wrong)
    with pytest.raises(ClientError) as exc:
        tokened_wrong.get_object(Bucket=bucket, Key="plain", **sse_c)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A client session token with the right secret: accepted or refused, never echoed.
    tokened = local_client(endpoint, aws_session_token=CLIENT_TOKEN)
    errors.attach(tokened)
    request_id(lambda: tokened.get_object(Bucket=bucket, Key="plain"))
    # Remote errors: a bucket the remote does not have.
    with pytest.raises(ClientError) as exc:
        good.list_objects_v2(Bucket=f"absent-{uuid.uuid4().hex[:12]}")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucket"
    bodies.extend(errors.bodies)

    # Presigned URLs, SigV2 and SigV4, good and tampered, with and without a session token.
    for version in ("s3", "s3v4"):
        for token in (None, CLIENT_TOKEN):
            signer = local_client(
                endpoint,
                aws_session_token=token,
                config=Config(s3={"addressing_style": "path"}, signature_version=version),
            )
            url = signer.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": "plain"}, ExpiresIn=300
            )
            for target in (url, url.replace("/plain?", "/other?")):
                status, _, body = send("GET", target, {})
                bodies.append(body)
                if target != url:
                    assert status == 403, body
    # SSE-C headers on a raw request whose body does not match its signed hash.
    sse_headers = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(SSE_C_KEY).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
            hashlib.md5(SSE_C_KEY).digest()
        ).decode(),
        "X-Amz-Security-Token": CLIENT_TOKEN,
    }
    url, headers = sign(
        "PUT",
        f"{endpoint}/{bucket}/mismatch",
        headers=sse_headers,
        body=b"signed body",
        key=LOCAL_KEY,
        secret=LOCAL_SECRET,
    )
    status, _, body = send("PUT", url, headers, b"SIGNED BODY")
    assert (status, s3_error_code(body)) == (400, "XAmzContentSHA256Mismatch"), body
    bodies.append(body)
    assert errors.bodies, "error answers were captured"


# --- What the log says of operations, presigned URLs and clients that go away --------------


def test_access_log_names_the_operation_and_its_query_without_credentials(
    tmp_path, remote_url, bucket_name
) -> None:
    with start(tmp_path, remote_url, "json") as s3d:
        s3 = local_client(s3d.endpoint_url)
        upload = s3.create_multipart_upload(Bucket=bucket_name, Key="big")["UploadId"]
        s3.upload_part(Bucket=bucket_name, Key="big", UploadId=upload, PartNumber=1, Body=b"x")
        s3.abort_multipart_upload(Bucket=bucket_name, Key="big", UploadId=upload)
        url = s3.generate_presigned_url("get_object", {"Bucket": bucket_name, "Key": "nothing"})
        assert send("GET", url, {})[0] == 404
        stop(s3d)
    records = [json.loads(line) for line in s3d.stderr.splitlines() if line.strip()]
    access = {r["action"]: r for r in records if r["logger"] == "s3d.access"}
    part = access["UploadPart"]
    assert (part["method"], part["path"]) == ("PUT", f"/{bucket_name}/big")
    assert part["query"] == f"uploadId={upload}&partNumber=1"
    assert access["CreateMultipartUpload"]["query"] == "uploads"
    presigned = access["GetObject"]
    assert (presigned["status"], presigned["query"]) == (404, "")
    assert "Signature" not in s3d.stderr
    assert "Credential" not in s3d.stderr


def test_a_client_closing_mid_answer_is_no_error(tmp_path, remote_url, bucket_name) -> None:
    import socket
    import struct
    from urllib.parse import urlsplit

    size = 48 * 1024 * 1024
    with start(tmp_path, remote_url, "text") as s3d:
        s3 = local_client(s3d.endpoint_url)
        s3.put_object(Bucket=bucket_name, Key="large", Body=b"L" * size)
        # Read once whole: the next answer comes from the cache.
        assert len(s3.get_object(Bucket=bucket_name, Key="large")["Body"].read()) == size
        url, headers = sign("GET", f"{s3d.endpoint_url}/{bucket_name}/large",
                            key=LOCAL_KEY, secret=LOCAL_SECRET)  # fmt: skip
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            lines = [f"GET {parts.path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
            sock.sendall(("\r\n".join([*lines, f"Host: {parts.netloc}", "", ""])).encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            # Reset rather than close: the daemon's next write fails at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s3d.wait_for_output(" 499 ")
        assert s3.head_object(Bucket=bucket_name, Key="large")["ContentLength"] == size
        stop(s3d)
    assert " ERROR " not in s3d.stderr, s3d.stderr
    assert "Traceback" not in s3d.stderr
    first, cut = [x for x in s3d.stderr.splitlines() if f"GET /{bucket_name}/large " in x]
    assert f" GetObject 200 {size} " in first
    assert " GetObject 499 " in cut
    assert " WARNING s3d.server" not in s3d.stderr
