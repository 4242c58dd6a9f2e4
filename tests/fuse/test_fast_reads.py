"""The fast read path: cached bytes mapped rather than copied, the kernel's readahead raised
so that it asks for large reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3d.fuse.kernel import READ_AHEAD_KIB, device_of
from s3d.fuse.objects import mapped
from s3d.protocol.model import LocalFile
from tests.fuse.conftest import Mounted
from tests.fuse.test_reads import pattern

MOUNTINFO = (
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "36 22 0:40 / /tmp/with\\040space rw,nosuid - fuse.s3d s3d:b rw,user_id=0\n"
    "37 22 0:41 / /tmp/plain rw,nosuid - fuse.s3d s3d:c rw,user_id=0\n"
    "38 22 0:42 / /tmp/plain rw,nosuid - fuse.s3d s3d:d rw,user_id=0\n"
)


def test_the_device_of_a_mount_is_read_from_mountinfo() -> None:
    assert device_of(Path("/tmp/with space"), MOUNTINFO) == "0:40"
    assert device_of(Path("/tmp/plain"), MOUNTINFO) == "0:42"  # the mount on top
    assert device_of(Path("/tmp/none"), MOUNTINFO) is None


def test_a_mapped_range_holds_the_file_bytes_and_releases_the_file(tmp_path: Path) -> None:
    data = pattern(3 << 20)
    path = tmp_path / "data"
    path.write_bytes(data)
    released: list[bool] = []
    for offset, length in [(0, 1), (4095, 70_000), (1 << 20, 2 << 20), (12345, 0)]:
        file = path.open("rb")
        body = LocalFile(file, offset, length, lambda f=file: (f.close(), released.append(True)))
        view = mapped(body)
        assert file.closed
        assert bytes(view) == data[offset : offset + length]
    assert len(released) == 4


@pytest.mark.skipif(os.geteuid() != 0, reason="raising a mount's readahead needs root")
def test_a_mount_asks_the_kernel_for_large_reads(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="big.bin", Body=pattern(16 << 20))
    assert fs.status()["read_ahead_kib"] == READ_AHEAD_KIB
    before = fs.status()["operations"].get("read", 0)
    assert (fs.point / "big.bin").read_bytes() == pattern(16 << 20)
    reads = fs.status()["operations"]["read"] - before
    # 128 KiB requests (the kernel's default) would be 128 of them.
    assert reads <= 32


def test_a_warm_reread_is_answered_by_the_kernel_page_cache(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="again.bin", Body=pattern(4 << 20))
    assert (fs.point / "again.bin").read_bytes() == pattern(4 << 20)
    before = fs.status()["operations"].get("read", 0)
    assert (fs.point / "again.bin").read_bytes() == pattern(4 << 20)
    assert fs.status()["operations"].get("read", 0) == before  # no read reached s3d
    assert fs.status()["kernel_invalidations"] == 0
