"""``s3d serve`` as a real process: graceful stop on SIGTERM and SIGINT, the grace period's
end, and the generated local key pair surviving a restart."""

from __future__ import annotations

import json
import signal
import socket
import stat
import time
import urllib.parse
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    DaemonProcess,
    client,
    sign,
    write_config,
)

BODY_SIZE = 4 * 1024 * 1024
PAUSE_MARK = "stopping: draining requests"


def config(tmp_path: Path, remote_url: str, *, grace: float, keys: bool = True) -> Path:
    server: dict[str, object] = {"port": 0, "shutdown_grace": grace, "body_timeout": 120.0}
    if keys:
        server["access_keys"] = [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}]
    return write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": server,
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": REMOTE_KEY,
                "secret_access_key": REMOTE_SECRET,
                "connect_timeout": 2.0,
                "max_attempts": 2,
            },
            "log": {"level": "info"},
        },
    )


class SlowPut:
    """A PUT sent by hand over a socket: the headers now (answered 100 Continue), part of the
    body when told, the rest later, then the answer read back."""

    def __init__(self, endpoint: str, bucket: str, key: str, body: bytes) -> None:
        self.body = body
        url, headers = sign(
            "PUT",
            f"{endpoint}/{bucket}/{key}",
            headers={"Content-Length": str(len(body))},
            payload_hash="UNSIGNED-PAYLOAD",
        )
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        head = f"PUT {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        # Expect: 100-continue, as boto3 sends it: the interim answer comes once s3d is
        # handling the request, so the test knows the request is in flight.
        self.sock.sendall(head.encode() + b"Expect: 100-continue\r\n\r\n")
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            chunk = self.sock.recv(1)
            assert chunk, interim
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        self.sent = 0

    def send(self, size: int) -> None:
        self.sock.sendall(self.body[self.sent : self.sent + size])
        self.sent += size

    def finish(self) -> bytes:
        """Send what is left and read the answer until the server closes the connection."""
        self.sock.sendall(self.body[self.sent :])
        self.sent = len(self.body)
        return self.answer()

    def answer(self) -> bytes:
        received = b""
        try:
            while chunk := self.sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received

    def close(self) -> None:
        self.sock.close()


def refuses_connections(endpoint: str, timeout: float = 60) -> bool:
    """Whether s3d's port starts refusing connections within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(endpoint)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            probe = socket.create_connection((parts.hostname, parts.port), timeout=5)
        except ConnectionRefusedError:
            return True
        probe.close()
        time.sleep(0.05)
    return False


def exists(remote, bucket: str, key: str) -> bool:
    try:
        remote.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_finishes_the_request_in_flight(
    sig: signal.Signals, remote_url, remote, bucket, tmp_path: Path
) -> None:
    grace = 30.0
    body = bytes(range(256)) * (BODY_SIZE // 256)
    with DaemonProcess(["--config", str(config(tmp_path, remote_url, grace=grace))]) as s3d:
        assert client(s3d.endpoint_url).head_bucket(Bucket=bucket)
        upload = SlowPut(s3d.endpoint_url, bucket, "in-flight", body)
        try:
            upload.send(BODY_SIZE // 4)
            s3d.send_signal(sig)
            s3d.wait_for_output(PAUSE_MARK)
            # Listener closed at once, while the upload is still being received.
            assert refuses_connections(s3d.endpoint_url)
            assert s3d.process.poll() is None, "exited before the request in flight finished"
            upload.send(BODY_SIZE // 4)
            answer = upload.finish()
        finally:
            upload.close()
        assert answer.startswith(b"HTTP/1.1 200 "), (answer[:500], s3d.stderr)
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert b"x-amz-request-id: " in head
        # The connection is not kept alive for another request: the daemon is stopping.
        assert b"connection: close" in head
        assert s3d.wait(grace + 30) == 0, s3d.stderr
    assert remote.get_object(Bucket=bucket, Key="in-flight")["Body"].read() == body
    assert "stopped" in s3d.stderr
    assert "Traceback" not in s3d.stderr
    assert list((tmp_path / "data" / "staging").iterdir()) == []


def test_stop_finishes_a_download_in_flight(remote_url, remote, bucket, tmp_path: Path) -> None:
    grace = 30.0
    data = bytes(reversed(range(256))) * (32 * 1024 * 1024 // 256)
    remote.put_object(Bucket=bucket, Key="download", Body=data)
    with DaemonProcess(["--config", str(config(tmp_path, remote_url, grace=grace))]) as s3d:
        url, headers = sign("GET", f"{s3d.endpoint_url}/{bucket}/download")
        parts = urllib.parse.urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
            request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
                f"{name}: {value}\r\n" for name, value in headers.items()
            )
            sock.sendall(request.encode() + b"\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                assert chunk, (received, s3d.stderr)
                received += chunk
            assert received.startswith(b"HTTP/1.1 200 "), (received[:500], s3d.stderr)
            # The client reads slowly: most of the object is still to come when s3d is told.
            s3d.send_signal(signal.SIGTERM)
            s3d.wait_for_output(PAUSE_MARK)
            assert refuses_connections(s3d.endpoint_url)
            while chunk := sock.recv(1 << 20):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert f"content-length: {len(data)}".encode() in head.lower(), head
        assert len(body) == len(data), (len(body), s3d.stderr)
        assert body == data
        assert s3d.wait(grace + 30) == 0, s3d.stderr


def test_idle_daemon_stops_at_once(remote_url, tmp_path: Path) -> None:
    # Idle keep-alive connections do not hold the stop for the grace period.
    grace = 120.0
    with DaemonProcess(["--config", str(config(tmp_path, remote_url, grace=grace))]) as s3d:
        s3 = client(s3d.endpoint_url)
        s3.list_buckets()  # leaves an idle keep-alive connection in boto3's pool
        started = time.monotonic()
        s3d.send_signal(signal.SIGTERM)
        assert s3d.wait(grace + 30) == 0, s3d.stderr
        assert time.monotonic() - started < grace / 2, "waited on an idle connection"
        assert "Traceback" not in s3d.stderr


def test_request_outliving_the_grace_period_is_cut(
    remote_url, remote, bucket, tmp_path: Path
) -> None:
    grace = 1.0
    body = b"z" * BODY_SIZE
    with DaemonProcess(["--config", str(config(tmp_path, remote_url, grace=grace))]) as s3d:
        upload = SlowPut(s3d.endpoint_url, bucket, "cut", body)
        try:
            upload.send(BODY_SIZE // 2)
            s3d.send_signal(signal.SIGTERM)
            # The client never sends the rest: the process must still exit, and by itself.
            code = s3d.wait(grace * 2 + 60)
            answer = upload.answer()
        finally:
            upload.close()
        assert code == 0, s3d.stderr
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:500]
    assert "still in flight after 1.0s: cutting them" in s3d.stderr
    assert not exists(remote, bucket, "cut")
    assert list((tmp_path / "data" / "staging").iterdir()) == []


def test_restart_keeps_the_generated_key_pair(remote_url, bucket, tmp_path: Path) -> None:
    settings = str(config(tmp_path, remote_url, grace=5.0, keys=False))
    with DaemonProcess(["--config", settings]) as first:
        key_id, secret = first.access_key_id, first.secret_access_key
        assert key_id.startswith("S3D")
        assert len(secret) >= 30
        # Off a terminal the banner names the file that keeps the pair, not the secret.
        assert "shown only on a terminal" in first.stdout
        assert secret not in first.stdout
        s3 = client(first.endpoint_url, key=key_id, secret=secret)
        s3.put_object(Bucket=bucket, Key="before-restart", Body=b"1")
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0, first.stderr
    stored = tmp_path / "data" / "local-credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["access_key_id"] == key_id
    with DaemonProcess(["--config", settings]) as second:
        assert (second.access_key_id, second.secret_access_key) == (key_id, secret)
        s3 = client(second.endpoint_url, key=key_id, secret=secret)
        assert s3.get_object(Bucket=bucket, Key="before-restart")["Body"].read() == b"1"
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, second.stderr
    # A fresh data directory gets a fresh pair.
    other = tmp_path / "other"
    other.mkdir()
    with DaemonProcess(["--config", settings, "--data-dir", str(other / "data")]) as third:
        assert third.access_key_id != key_id
        assert third.secret_access_key != secret
