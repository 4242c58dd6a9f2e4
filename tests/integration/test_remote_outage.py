"""A remote that is down, silent or refusing: clients get the S3 error that says so, quickly,
with a request id, never a blanket 500; and s3d serves again as soon as the remote is back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from tests.support import (
    DaemonThread,
    client,
    daemon_settings,
    free_port,
    s3_error_code,
    send,
    sign,
)

GENEROUS = 30.0
"""Seconds within which an unreachable remote must be reported (connect timeout: 1 s)."""


def outage_settings(remote_url: str, data_dir: Path, **remote: object):
    settings = daemon_settings(remote_url, data_dir)
    tuned = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_attempts": 1, **remote}
    return replace(settings, remote=replace(settings.remote, **tuned))


class SwitchableRemote:
    """A moto server on a fixed loopback port that the test starts and stops."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            # stop() ends serve_forever but leaves the socket listening: close it, so that
            # the port refuses connections as a remote that is down does.
            listener = getattr(server, "_server", None)
            if listener is not None:
                listener.server_close()


@pytest.fixture
def switchable() -> Iterator[SwitchableRemote]:
    remote = SwitchableRemote()
    try:
        yield remote
    finally:
        remote.stop()


def call(endpoint: str, method: str, path: str, body: bytes = b""):
    """A signed request: (status, headers, body, seconds taken)."""
    url, headers = sign(method, f"{endpoint}{path}", body=body)
    started = time.monotonic()
    status, answer_headers, answer = send(method, url, headers, body)
    return status, answer_headers, answer, time.monotonic() - started


def assert_unavailable(endpoint: str, bucket: str, key: str = "key") -> None:
    for method, path, body in (
        ("GET", f"/{bucket}/{key}", b""),
        ("PUT", f"/{bucket}/{key}", b"data for a remote that is down"),
        ("GET", f"/{bucket}?list-type=2", b""),
        ("GET", f"/{bucket}", b""),
        ("GET", "/", b""),
        ("HEAD", f"/{bucket}/{key}", b""),
    ):
        status, headers, answer, seconds = call(endpoint, method, path, body)
        assert status == 503, (method, path, answer)
        assert headers["x-amz-request-id"]
        assert seconds < GENEROUS, (method, path, seconds)
        if method != "HEAD":
            assert s3_error_code(answer) == "ServiceUnavailable", answer
            assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>" in answer.decode()
            assert b"could not be reached" in answer
            # The remote's address is not the client's business.
            assert str(endpoint).encode() not in answer


def test_remote_down_then_back(switchable: SwitchableRemote, tmp_path: Path) -> None:
    bucket = f"outage-{uuid.uuid4().hex[:12]}"
    with DaemonThread(outage_settings(switchable.url, tmp_path)) as s3d:
        # Down from the start: nothing listens on the remote's port.
        assert_unavailable(s3d.endpoint_url, bucket)
        switchable.start()
        s3 = client(s3d.endpoint_url)
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="key", Body=b"while up")
        assert s3.get_object(Bucket=bucket, Key="key")["Body"].read() == b"while up"
        # Down again, with connections to it in s3d's pool: what was read is still served
        # from the cache; what never was cannot be.
        switchable.stop()
        status, headers, answer, _ = call(s3d.endpoint_url, "GET", f"/{bucket}/key")
        assert (status, answer) == (200, b"while up")
        assert headers["x-s3d-cache"] in ("hit", "stale")
        assert_unavailable(s3d.endpoint_url, bucket, key="never-read")
        assert list((tmp_path / "staging").iterdir()) == []
        # Back: served at once, nothing lost, nothing written while it was down.
        switchable.start()
        assert s3.get_object(Bucket=bucket, Key="key")["Body"].read() == b"while up"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["key"]
        s3.put_object(Bucket=bucket, Key="after", Body=b"back")
        assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"back"


def test_remote_that_never_answers(tmp_path: Path) -> None:
    # A listener that accepts connections (the kernel does, from its backlog) and never
    # answers: the read timeout, not the connect timeout, ends the wait.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with DaemonThread(outage_settings(url, tmp_path, read_timeout=1.0)) as s3d:
            for method, path in (("GET", "/silent-bucket/key"), ("GET", "/silent-bucket")):
                status, headers, answer, seconds = call(s3d.endpoint_url, method, path)
                assert (status, s3_error_code(answer)) == (503, "ServiceUnavailable"), answer
                assert b"stopped answering" in answer
                assert headers["x-amz-request-id"]
                assert seconds < GENEROUS


# --- A remote that answers with errors -------------------------------------------------------


def test_missing_bucket_is_no_such_bucket(s3, s3d) -> None:
    name = f"never-created-{uuid.uuid4().hex[:12]}"
    for operation in (
        lambda: s3.get_object(Bucket=name, Key="k"),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.list_objects(Bucket=name),
        lambda: s3.delete_object(Bucket=name, Key="k"),
        lambda: s3.create_multipart_upload(Bucket=name, Key="k"),
    ):
        with pytest.raises(ClientError) as exc:
            operation()
        assert exc.value.response["Error"]["Code"] == "NoSuchBucket"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert exc.value.response["Error"]["BucketName"] == name
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.fixture(scope="module")
def enforcing_remote() -> Iterator[tuple[str, str, str]]:
    """moto in its own process with authorization enforced (it is a process-wide setting, so
    not the session's moto): a bucket, and a user allowed only s3:ListBucket.

    Moto lets the first INITIAL_NO_AUTH_ACTION_COUNT requests through unchecked: the four
    that set this up. Yields (url, the user's key id, the user's secret)."""
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "moto did not start"
                assert time.monotonic() < deadline, "moto did not start listening"
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        setup = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key": "setup",
        }
        boto3.client("s3", **setup).create_bucket(Bucket="locked")
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="s3d")
        key = iam.create_access_key(UserName="s3d")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="s3d", PolicyName="list-only", PolicyDocument=json.dumps(policy)
        )
        yield url, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        process.kill()
        process.wait(30)


def test_remote_refusing_s3d_credentials_is_access_denied(enforcing_remote, tmp_path) -> None:
    url, _, _ = enforcing_remote
    settings = outage_settings(
        url, tmp_path, access_key_id="AKIAUNKNOWNTOREMOTE0", secret_access_key="unknown-secret"
    )
    with DaemonThread(settings) as s3d:
        s3 = client(s3d.endpoint_url)
        for operation in (
            lambda: s3.list_objects_v2(Bucket="locked"),
            lambda: s3.get_object(Bucket="locked", Key="k"),
            lambda: s3.put_object(Bucket="locked", Key="k", Body=b"x"),
        ):
            with pytest.raises(ClientError) as exc:
                operation()
            error = exc.value.response["Error"]
            assert error["Code"] == "AccessDenied"
            assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            # Said to be s3d's credentials, not the client's, and without the key id.
            assert "refused s3d's credentials" in error["Message"]
            assert "AKIAUNKNOWNTOREMOTE0" not in str(exc.value.response)
        # The client's own signature was fine: a wrong one is still told apart.
        bad = client(s3d.endpoint_url, secret="wrong")
        with pytest.raises(ClientError) as exc:
            bad.list_objects_v2(Bucket="locked")
        assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_remote_policy_denial_is_access_denied(enforcing_remote, tmp_path) -> None:
    url, key_id, secret = enforcing_remote
    settings = outage_settings(url, tmp_path, access_key_id=key_id, secret_access_key=secret)
    with DaemonThread(settings) as s3d:
        s3 = client(s3d.endpoint_url)
        # Allowed by the user's policy: s3d signs correctly for a remote that checks.
        assert s3.list_objects_v2(Bucket="locked")["KeyCount"] == 0
        for operation in (
            lambda: s3.get_object(Bucket="locked", Key="k"),
            lambda: s3.put_object(Bucket="locked", Key="k", Body=b"x"),
        ):
            with pytest.raises(ClientError) as exc:
                operation()
            assert exc.value.response["Error"]["Code"] == "AccessDenied"
            assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        status, headers, _, _ = call(s3d.endpoint_url, "HEAD", "/locked/k")
        assert status == 403
        assert headers["x-amz-request-id"]
