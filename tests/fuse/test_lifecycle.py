"""A mount's life with the daemon process: ``s3d serve --mount``, SIGTERM unmounts before the
stop, ``kill -9`` leaves a stale mount that the next start clears, and a file whose ``fsync``
returned survives the kill and reaches the remote."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s3d.settings import MountSpec
from tests.fuse.conftest import fuse_settings, mounted, unmount
from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    CountingRelay,
    DaemonProcess,
    DaemonThread,
    write_config,
)


def config(tmp_path: Path, remote_url: str) -> Path:
    return write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": {
                "port": 0,
                "shutdown_grace": 5.0,
                "access_keys": [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}],
            },
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": REMOTE_KEY,
                "secret_access_key": REMOTE_SECRET,
                "connect_timeout": 2.0,
                "max_attempts": 2,
            },
            "journal": {"mode": "write-back", "retry_base": 0.2, "retry_max": 1.0},
            "fuse": {"metadata_ttl": 0.0},
            "log": {"level": "info"},
        },
    )


def serve(tmp_path: Path, remote_url: str, bucket: str, point: Path) -> DaemonProcess:
    """``s3d serve --mount BUCKET:POINT``."""
    return DaemonProcess(
        ["--config", str(config(tmp_path, remote_url)), "--mount", f"{bucket}:{point}"]
    )


def mount_command(tmp_path: Path, remote_url: str, bucket: str, point: Path) -> DaemonProcess:
    """``s3d mount BUCKET POINT``, the shortcut."""
    process = DaemonProcess([])
    settings = ["--config", str(config(tmp_path, remote_url))]
    process.args = [sys.executable, "-m", "s3d", "mount", bucket, str(point), *settings]
    return process


def status_of(tmp_path: Path, daemon: DaemonProcess) -> dict[str, Any]:
    """``s3d status --json`` of a running daemon."""
    settings = ["--config", str(tmp_path / "s3d.toml"), "--endpoint", daemon.endpoint_url]
    shown = subprocess.run(
        [sys.executable, "-m", "s3d", "status", "--json", *settings],
        capture_output=True,
        text=True,
        check=True,
        env=daemon.env,
    )
    return dict(json.loads(shown.stdout))


def remote_body(remote: Any, bucket: str, key: str, seconds: float = 60.0) -> bytes | None:
    """The object at the remote once it is there (a bounded wait); None if it never came."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(remote.exceptions.NoSuchKey):
            return bytes(remote.get_object(Bucket=bucket, Key=key)["Body"].read())
        time.sleep(0.2)
    return None


def test_sigterm_unmounts_then_flushes(
    tmp_path: Path, remote_url: str, remote: Any, bucket_name: str
) -> None:
    point = tmp_path / "mnt"
    point.mkdir()
    try:
        with serve(tmp_path, remote_url, bucket_name, point) as s3d:
            assert mounted(point)
            (point / "written.txt").write_bytes(b"before the stop")
            shown = status_of(tmp_path, s3d)["fuse"]["mounts"][0]
            assert shown["mountpoint"] == str(point)
            assert shown["operations"]["write"] >= 1
            assert shown["operations"]["flush"] >= 1
            s3d.send_signal(signal.SIGTERM)
            assert s3d.wait(60) == 0, s3d.stderr
            assert not mounted(point)
            assert "unmounted" in s3d.stderr
            assert "Traceback" not in s3d.stderr
        assert remote_body(remote, bucket_name, "written.txt", 5) == b"before the stop"
    finally:
        unmount(point)


def test_fsynced_file_survives_kill_9_and_the_stale_mount_is_cleared(
    tmp_path: Path, remote_url: str, remote: Any, bucket_name: str
) -> None:
    point = tmp_path / "mnt"
    point.mkdir()
    try:
        with CountingRelay(remote_url) as relay:
            relay.hold_writes(True)  # nothing reaches the remote before the kill
            with serve(tmp_path, relay.url, bucket_name, point) as s3d:
                fd = os.open(point / "kept.bin", os.O_WRONLY | os.O_CREAT, 0o644)
                os.write(fd, b"acknowledged by fsync")
                os.fsync(fd)
                s3d.kill()  # SIGKILL with the file still open
            with contextlib.suppress(OSError):
                os.close(fd)
            try:
                os.stat(point)
                stale = False
            except OSError as exc:
                stale = exc.errno == errno.ENOTCONN
            assert stale, "a killed daemon leaves 'Transport endpoint is not connected'"
            relay.hold_writes(False)
            with mount_command(tmp_path, relay.url, bucket_name, point) as again:
                assert mounted(point)
                assert (point / "kept.bin").read_bytes() == b"acknowledged by fsync"
                assert remote_body(remote, bucket_name, "kept.bin") == b"acknowledged by fsync"
                again.send_signal(signal.SIGTERM)
                assert again.wait(60) == 0, again.stderr
    finally:
        unmount(point)


def test_a_second_mount_is_refused_before_any_is_mounted(
    tmp_path: Path, remote_url: str, bucket_name: str
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    base = fuse_settings(remote_url, tmp_path / "data", bucket_name, first)
    mounts = (*base.fuse.mounts, MountSpec(bucket_name, str(second)))
    settings = dataclasses.replace(base, fuse=dataclasses.replace(base.fuse, mounts=mounts))
    try:
        with pytest.raises(OSError, match=r"one FUSE mount \(2 asked"), DaemonThread(settings):
            pass
        assert not mounted(first)
        assert not mounted(second)
    finally:
        unmount(first)
        unmount(second)


def test_a_missing_mount_point_stops_the_start_with_one_line(
    tmp_path: Path, remote_url: str, bucket_name: str
) -> None:
    process = mount_command(tmp_path, remote_url, bucket_name, tmp_path / "absent")
    with pytest.raises(AssertionError):
        process.__enter__()  # the banner never comes: the daemon exited
    process.kill()
    assert process.process.returncode == 1
    assert "not a directory" in process.stderr
    assert "Traceback" not in process.stderr
