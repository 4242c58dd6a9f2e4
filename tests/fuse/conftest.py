"""Real FUSE mounts on this machine's /dev/fuse, served by a real daemon in front of moto.

Every mount is unmounted in teardown (``fusermount3 -u -z``), also when the test or the
daemon failed, so that no test leaves a dead mount behind.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from s3d.settings import CacheSettings, FuseSettings, MountSpec, Settings
from tests.support import DaemonThread, client, daemon_settings

pytestmark = pytest.mark.timeout(180)

if not os.path.exists("/dev/fuse") or shutil.which("fusermount3") is None:
    pytest.skip("FUSE tests need /dev/fuse and fusermount3", allow_module_level=True)


def mounted(path: Path) -> bool:
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == str(path) for line in mounts)


def unmount(path: Path) -> None:
    """Unmount whatever is left at ``path``; quiet when nothing is."""
    if mounted(path):
        subprocess.run(["fusermount3", "-u", "-z", str(path)], check=False, capture_output=True)


def fuse_settings(
    remote_url: str,
    data_dir: Path,
    source: str,
    point: Path,
    cache: CacheSettings | None = None,
    **fuse: object,
) -> Settings:
    """Write-back (the journal behind every write), metadata never kept: tests see changes
    at once without waiting for a TTL."""
    base = daemon_settings(remote_url, data_dir, mode="write-back")
    settings = FuseSettings(mounts=(MountSpec(source, str(point)),), metadata_ttl=0.0)
    return dataclasses.replace(
        base, fuse=dataclasses.replace(settings, **fuse), cache=cache or base.cache
    )


@dataclasses.dataclass
class Mounted:
    daemon: DaemonThread
    point: Path
    bucket: str
    s3: Any  # boto3 client to the daemon

    def flush(self) -> None:
        """Upload every pending change now and wait for it."""
        journal = self.daemon.daemon.journal if self.daemon.daemon else None
        assert journal is not None
        journal.flush_now()
        assert self.daemon.call(journal.wait_idle(60))

    def status(self) -> dict[str, Any]:
        assert self.daemon.daemon is not None
        return dict(self.daemon.daemon.mounts[0].status())


@contextmanager
def mount_daemon(settings: Settings) -> Iterator[DaemonThread]:
    point = Path(settings.fuse.mounts[0].mountpoint)
    point.mkdir(parents=True, exist_ok=True)
    try:
        with DaemonThread(settings) as daemon:
            yield daemon
    finally:
        unmount(point)


@pytest.fixture
def bucket_name(remote_url: str) -> str:
    name = f"fuse-{uuid.uuid4().hex[:16]}"
    client(remote_url, key="remote-access-key-id", secret="remote-secret").create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def make_mount(
    remote_url: str, tmp_path: Path, bucket_name: str
) -> Iterator[Callable[..., Mounted]]:
    """Start a daemon with one mount of the test's bucket (``fuse`` settings as keywords)."""
    with ExitStack() as stack:

        def make(
            source: str | None = None,
            remote: str | None = None,
            cache: CacheSettings | None = None,
            **fuse: object,
        ) -> Mounted:
            point = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
            data = tmp_path / f"data-{uuid.uuid4().hex[:6]}"
            settings = fuse_settings(
                remote or remote_url, data, source or bucket_name, point, cache, **fuse
            )
            daemon = stack.enter_context(mount_daemon(settings))
            return Mounted(daemon, point, bucket_name, client(daemon.endpoint_url))

        yield make


@pytest.fixture
def remote(remote_url: str) -> Any:
    """boto3 straight to the remote, to see what reached it."""
    return client(remote_url, key="remote-access-key-id", secret="remote-secret")


@pytest.fixture
def fs(make_mount: Callable[..., Mounted]) -> Mounted:
    return make_mount()
