"""Virtual-hosted-style addressing (``<bucket>.<base domain>``) with real clients, and the
fall-back to path style for any other Host."""

from __future__ import annotations

import socket
import urllib.parse
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import (
    ACCESS_KEY,
    SECRET_KEY,
    DaemonThread,
    client,
    daemon_settings,
    s3_error_code,
    send,
)

BASE_DOMAIN = "s3.local.test"


@pytest.fixture
def local_test_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve ``s3.local.test`` and every name under it to 127.0.0.1.

    There is no DNS server for that domain here (nor may the test edit /etc/hosts), so name
    resolution is patched in-process: every client in this process (urllib3 for boto3,
    http.client) resolves through ``socket.getaddrinfo``. Other names resolve as before.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and (name == BASE_DOMAIN or name.endswith("." + BASE_DOMAIN)):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def vhost_s3d(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    settings = daemon_settings(
        remote_url, tmp_path_factory.mktemp("vhost-data"), base_domains=(BASE_DOMAIN,)
    )
    with DaemonThread(settings) as daemon:
        yield daemon


@pytest.fixture
def endpoint(vhost_s3d: DaemonThread, local_test_dns: None) -> str:
    """s3d's endpoint under the base domain: ``http://s3.local.test:<port>``."""
    port = urllib.parse.urlsplit(vhost_s3d.endpoint_url).port
    return f"http://{BASE_DOMAIN}:{port}"


def virtual_client(endpoint: str, **config: object):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "virtual"},
            retries={"max_attempts": 1, "mode": "standard"},
            **config,
        ),
    )


def hosts_of(client_, operation: str) -> list[str]:
    """The Host each request for ``operation`` went to, and its path, as "host path"."""
    seen: list[str] = []

    def record(request, **_: object) -> None:
        parts = urllib.parse.urlsplit(request.url)
        seen.append(f"{parts.hostname} {parts.path}")

    client_.meta.events.register(f"before-send.s3.{operation}", record)
    return seen


def test_virtual_hosted_put_get_list_delete(endpoint, remote) -> None:
    s3 = virtual_client(endpoint)
    name = f"vh-{uuid.uuid4().hex[:16]}"
    creates, puts, gets = (hosts_of(s3, op) for op in ("CreateBucket", "PutObject", "GetObject"))
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/a key+plus.txt", Body=b"virtual bytes")
    s3.put_object(Bucket=name, Key="dir/b", Body=b"b")
    # The requests really were virtual-hosted: the bucket in the Host, not in the path.
    assert creates == [f"{name}.{BASE_DOMAIN} /"]
    assert puts[0] == f"{name}.{BASE_DOMAIN} /dir/a%20key%2Bplus.txt"
    got = s3.get_object(Bucket=name, Key="dir/a key+plus.txt")
    assert got["Body"].read() == b"virtual bytes"
    assert gets == [f"{name}.{BASE_DOMAIN} /dir/a%20key%2Bplus.txt"]
    assert remote.get_object(Bucket=name, Key="dir/a key+plus.txt")["Body"].read() == (
        b"virtual bytes"
    )
    head = s3.head_object(Bucket=name, Key="dir/b")
    assert head["ContentLength"] == 1
    listed = s3.list_objects_v2(Bucket=name, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a key+plus.txt", "dir/b"]
    v1 = s3.list_objects(Bucket=name)
    assert [o["Key"] for o in v1["Contents"]] == ["dir/a key+plus.txt", "dir/b"]
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.delete_object(Bucket=name, Key="dir/b")
    deleted = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "dir/a key+plus.txt"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["dir/a key+plus.txt"]
    assert remote.list_objects_v2(Bucket=name)["KeyCount"] == 0
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in remote.list_buckets()["Buckets"]]


def test_virtual_hosted_errors_name_the_bucket(endpoint) -> None:
    s3 = virtual_client(endpoint)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket-vhost", Key="k")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucket"
    # A Host under the base domain whose label is no bucket name, not even a legacy one.
    port = urllib.parse.urlsplit(endpoint).port
    status, _, body = send("GET", f"http://-x.{BASE_DOMAIN}:{port}/", {})
    assert (status, s3_error_code(body)) == (400, "InvalidBucketName")


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_virtual_hosted_presigned_urls(endpoint, signature_version: str) -> None:
    s3 = virtual_client(endpoint)
    name = f"vp-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="shared/file name.txt", Body=b"presigned virtual")
    signer = virtual_client(endpoint, signature_version=signature_version)
    url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": name, "Key": "shared/file name.txt"}, ExpiresIn=300
    )
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == f"{name}.{BASE_DOMAIN}"
    assert parts.path == "/shared/file%20name.txt"
    assert ("X-Amz-Signature=" in url) == (signature_version == "s3v4")
    status, headers, body = send("GET", url, {})
    assert (status, body) == (200, b"presigned virtual")
    assert headers["x-amz-request-id"]
    # The bucket is part of what was signed: the same URL at another bucket's host fails.
    other = url.replace(f"//{name}.", f"//{name}x.", 1)
    status, _, body = send("GET", other, {})
    assert status == 403
    assert s3_error_code(body) == "SignatureDoesNotMatch"
    put_url = signer.generate_presigned_url(
        "put_object", Params={"Bucket": name, "Key": "up"}, ExpiresIn=300
    )
    assert send("PUT", put_url, {}, b"presigned put")[0] == 200
    assert s3.get_object(Bucket=name, Key="up")["Body"].read() == b"presigned put"


def test_other_hosts_fall_back_to_path_style(vhost_s3d, endpoint, remote) -> None:
    name = f"ps-{uuid.uuid4().hex[:16]}"
    # 127.0.0.1 is not under the base domain: the bucket is the first path segment.
    path_style = client(vhost_s3d.endpoint_url)
    puts = hosts_of(path_style, "PutObject")
    path_style.create_bucket(Bucket=name)
    path_style.put_object(Bucket=name, Key="k", Body=b"path style")
    assert puts == [f"127.0.0.1 /{name}/k"]
    assert remote.get_object(Bucket=name, Key="k")["Body"].read() == b"path style"
    # The base domain itself names no bucket either: path style under it works too.
    at_base = client(endpoint)
    gets = hosts_of(at_base, "GetObject")
    assert at_base.get_object(Bucket=name, Key="k")["Body"].read() == b"path style"
    assert gets == [f"{BASE_DOMAIN} /{name}/k"]
    # And a virtual-hosted client sees the same object.
    assert virtual_client(endpoint).get_object(Bucket=name, Key="k")["Body"].read() == (
        b"path style"
    )
