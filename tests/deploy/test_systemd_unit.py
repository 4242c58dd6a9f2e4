"""The systemd unit: its stop timeout covers s3d's own stop, and its readiness gate
(ExecStartPost) waits for GET /_s3d/health/ready, as systemd would run it."""

from __future__ import annotations

import http.server
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from s3d.settings import JournalSettings, ServerSettings
from tests.deploy.kube import DEPLOY, HEALTH_READY

UNIT = DEPLOY / "systemd" / "s3d.service"


def directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_stop_timeout_covers_the_drain_and_the_last_flush() -> None:
    (timeout,) = directives()["TimeoutStopSec"]
    assert int(timeout) > ServerSettings().shutdown_grace + JournalSettings().flush_on_stop


class NotReadyTwice(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first two readiness requests, then 200: a daemon still starting."""

    asked: list[str] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        ready = self.path == HEALTH_READY and len(self.asked) > 2
        self.send_response(200 if ready else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def starting_daemon() -> Iterator[tuple[int, list[str]]]:
    NotReadyTwice.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotReadyTwice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], NotReadyTwice.asked
    server.shutdown()
    server.server_close()


def test_start_waits_until_ready(starting_daemon: tuple[int, list[str]]) -> None:
    port, asked = starting_daemon
    (command,) = directives()["ExecStartPost"]
    # systemd turns $$ into $ and passes the Environment= variables; the unit's python is the
    # venv's, here this interpreter.
    argv = shlex.split(command.replace("$$", "$").replace("/opt/s3d/bin/python", sys.executable))
    assert argv[:2] == ["/bin/sh", "-c"]
    (url,) = [v for v in directives()["Environment"] if v.startswith("S3D_READY_URL=")]
    assert url.endswith(":9333" + HEALTH_READY)
    ready_url = f"http://127.0.0.1:{port}{HEALTH_READY}"
    env = {**os.environ, "S3D_READY_URL": ready_url}
    done = subprocess.run(argv, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert asked == [HEALTH_READY] * 3
