"""``/_s3d/health/live`` and ``/_s3d/health/ready``: no credentials, nothing but a status;
readiness falls when the data directory cannot be written and as soon as SIGTERM starts the
drain, while liveness stays."""

from __future__ import annotations

import http.client
import signal
import time
import urllib.parse
from pathlib import Path

from s3d.server.health import PROBE_FILE
from tests.integration.test_lifecycle import PAUSE_MARK, SlowPut, config
from tests.support import DaemonProcess, DaemonThread, client, daemon_settings, send

LIVE, READY = "/_s3d/health/live", "/_s3d/health/ready"


def test_health_answers_without_credentials(s3d: DaemonThread) -> None:
    for path, text in ((LIVE, b"ok\n"), (READY, b"ready\n")):
        status, headers, body = send("GET", s3d.endpoint_url + path, {})
        assert (status, body) == (200, text)
        assert headers["content-type"].startswith("text/plain")
        assert headers["x-amz-request-id"]
        assert send("HEAD", s3d.endpoint_url + path, {})[0] == 200
    status, headers, _ = send("POST", s3d.endpoint_url + READY, {})
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_other_admin_paths_still_ask_for_a_signature(s3d: DaemonThread) -> None:
    assert send("GET", s3d.endpoint_url + "/_s3d/status", {})[0] == 403
    assert send("GET", s3d.endpoint_url + "/_s3d/health/other", {})[0] == 403


def wait_for(url: str, status: int, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        answered, _, body = send("GET", url, {})
        if answered == status:
            return body
        assert time.monotonic() < deadline, (answered, body)
        time.sleep(0.2)


def test_not_ready_while_the_data_directory_cannot_be_written(
    remote_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with DaemonThread(daemon_settings(remote_url, data)) as daemon:
        ready = daemon.endpoint_url + READY
        assert send("GET", ready, {})[:3:2] == (200, b"ready\n")
        # A directory where the check writes its file: the write fails as on a read-only
        # volume (the tests run as root, for whom permissions do not stop a write).
        (data / PROBE_FILE).mkdir()
        assert wait_for(ready, 503) == b"not ready\n"  # the reason is logged, not told
        assert send("GET", daemon.endpoint_url + LIVE, {})[0] == 200
        (data / PROBE_FILE).rmdir()
        assert wait_for(ready, 200) == b"ready\n"


def kept_alive(endpoint: str) -> http.client.HTTPConnection:
    """A connection opened (and used once) now, to ask on after the listener has closed."""
    parts = urllib.parse.urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request("GET", LIVE)
    answer = connection.getresponse()
    assert (answer.status, answer.read()) == (200, b"ok\n")
    return connection


def ask(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_ready_falls_when_sigterm_starts_the_drain(
    remote_url: str, bucket: str, tmp_path: Path
) -> None:
    body = b"d" * (1 << 20)
    with DaemonProcess(["--config", str(config(tmp_path, remote_url, grace=60.0))]) as s3d:
        assert client(s3d.endpoint_url).head_bucket(Bucket=bucket)
        for_ready, for_live = kept_alive(s3d.endpoint_url), kept_alive(s3d.endpoint_url)
        assert ask(for_ready, READY) == (200, b"ready\n")
        upload = SlowPut(s3d.endpoint_url, bucket, "held", body)
        try:
            upload.send(1000)  # the upload in flight holds the drain open
            s3d.send_signal(signal.SIGTERM)
            s3d.wait_for_output(PAUSE_MARK)
            assert ask(for_ready, READY) == (503, b"not ready\n")
            assert ask(for_live, LIVE) == (200, b"ok\n")
            assert s3d.process.poll() is None
            answer = upload.finish()
        finally:
            upload.close()
            for_ready.close()
            for_live.close()
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        assert s3d.wait(90) == 0, s3d.stderr
    assert "not ready: stopping" in s3d.stderr
