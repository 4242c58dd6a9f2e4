"""What s3d's own log says at start and of the embedded remote (``s3d/daemon/logs.py``)."""

from __future__ import annotations

import io
import json
import logging
import signal
from pathlib import Path

import pytest

from s3d.daemon.logs import configure_logging
from s3d.settings import LogSettings
from tests.support import DaemonProcess, free_port


@pytest.fixture
def captured() -> io.StringIO:
    """The daemon's logging set-up, writing to a buffer instead of stderr."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(LogSettings(level="info"))
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], root.level = saved_handlers, saved_level
    for name in ("botocore", "aiobotocore", "urllib3", "werkzeug", "moto", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_traceback_of_the_embedded_remote_is_one_line(captured: io.StringIO) -> None:
    try:
        raise ValueError("no such thing\nsecond line")
    except ValueError:
        # What Flask inside moto does for a request that fails with a 500.
        logging.getLogger("moto.moto_server.werkzeug_app").exception("Exception on /b/k [PUT]")
        logging.getLogger("s3d.server").exception("s3d's own error keeps its traceback")
    lines = captured.getvalue().splitlines()
    assert lines[0].endswith(
        "ERROR moto.moto_server.werkzeug_app: embedded remote: Exception on /b/k [PUT] "
        "(ValueError: no such thing)"
    )
    assert lines[1].endswith("ERROR s3d.server: s3d's own error keeps its traceback")
    assert lines[2] == "Traceback (most recent call last):"
    assert len([line for line in lines if line.startswith("Traceback")]) == 1


def test_the_embedded_remote_needs_no_credentials_and_says_none(tmp_path: Path) -> None:
    args = ["--port", str(free_port()), "--data-dir", str(tmp_path / "data")]
    with DaemonProcess([*args, "--log-level", "info"]) as daemon:
        daemon.wait_for_output("s3d serving S3 at")
        from tests.test_cli import s3d

        status = s3d("status", "--json", *args)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    assert "remote credentials" not in daemon.stderr, daemon.stderr
    assert status.returncode == 0, status.stderr
    credentials = json.loads(status.stdout)["remote_credentials"]
    assert credentials["source"] == "none needed (the embedded remote accepts any)"
    assert credentials["key_id_suffix"] is None
