"""SSE-C with s3d's own key (``remote.sse_customer_key_file``): every upload to and read from
the remote carries the SSE-C headers, with the key's MD5; a client's own SSE-C headers win.

moto stores SSE-C objects but does not enforce the key (a GET without it answers the bytes):
"unreadable without the key" cannot be shown against it. What is checked is what reaches the
remote — every header of every request, recorded by a relay in front of moto — and that the
bytes come back whole through s3d.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from s3d.config import ConfigError
from tests.support import CountingRelay, DaemonThread, client, daemon_settings

KEY = os.urandom(32)
KEY_B64 = base64.b64encode(KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
PREFIX = "x-amz-server-side-encryption-customer-"
COPY_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"


@pytest.fixture(scope="module")
def relay(remote_url: str) -> Iterator[CountingRelay]:
    with CountingRelay(remote_url) as running:
        yield running


@pytest.fixture(scope="module")
def daemon(
    relay: CountingRelay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaemonThread]:
    directory = tmp_path_factory.mktemp("sse-c")
    key_file = directory / "sse-c.key"
    key_file.write_text(KEY_B64 + "\n")  # as `openssl rand -base64 32` writes it
    settings = daemon_settings(relay.url, directory / "data")
    settings = replace(settings, remote=replace(settings.remote, sse_customer_key_file=key_file))
    with DaemonThread(settings) as running:
        yield running


def sent(relay: CountingRelay, method: str, path: str) -> list[dict[str, str]]:
    return [h for m, p, h in relay.headers if m == method and p.startswith(path)]


def carries_key(headers: dict[str, str], prefix: str = PREFIX, md5: str = KEY_MD5) -> bool:
    return (
        headers.get(prefix + "algorithm") == "AES256"
        and headers.get(prefix + "key-md5") == md5
        and bool(headers.get(prefix + "key"))
    )


def test_uploads_reads_and_copies_carry_the_key(daemon: DaemonThread, relay: CountingRelay) -> None:
    s3 = client(daemon.endpoint_url)
    bucket = f"ssec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(10_000)
    s3.put_object(Bucket=bucket, Key="one", Body=data)
    [put] = sent(relay, "PUT", f"/{bucket}/one")
    assert carries_key(put)
    assert put[PREFIX + "key"] == KEY_B64

    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == data
    assert all(carries_key(h) for h in sent(relay, "GET", f"/{bucket}/one"))

    s3.copy_object(Bucket=bucket, Key="two", CopySource={"Bucket": bucket, "Key": "one"})
    copies = [h for h in sent(relay, "PUT", f"/{bucket}/two") if "x-amz-copy-source" in h]
    assert copies
    assert all(carries_key(h) and carries_key(h, COPY_PREFIX) for h in copies)


def test_multipart_uploads_carry_the_key(daemon: DaemonThread, relay: CountingRelay) -> None:
    s3 = client(daemon.endpoint_url)
    bucket = f"ssec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    part = os.urandom(5 * 1024 * 1024)
    etag = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=1, Body=part)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": etag["ETag"], "PartNumber": 1}]},
    )
    for method, path in (("POST", f"/{bucket}/m?uploads"), ("PUT", f"/{bucket}/m?")):
        requests = sent(relay, method, path)
        assert requests, (method, path)
        assert all(carries_key(h) for h in requests), (method, path)


def test_a_clients_own_sse_c_headers_win(daemon: DaemonThread, relay: CountingRelay) -> None:
    s3 = client(daemon.endpoint_url)
    bucket = f"ssec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    own = os.urandom(32)
    own_md5 = base64.b64encode(hashlib.md5(own).digest()).decode()
    s3.put_object(
        Bucket=bucket, Key="own", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=own
    )
    [put] = sent(relay, "PUT", f"/{bucket}/own")
    assert carries_key(put, md5=own_md5)


def test_a_key_file_of_the_wrong_size_stops_the_start(remote_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "short.key"
    key_file.write_bytes(os.urandom(16))
    settings = daemon_settings(remote_url, tmp_path / "data")
    settings = replace(settings, remote=replace(settings.remote, sse_customer_key_file=key_file))
    with pytest.raises(ConfigError) as caught, DaemonThread(settings):
        pass
    assert str(key_file) in str(caught.value)
    assert "32 bytes" in str(caught.value)
