"""The kernel's caches (page cache, attributes, names) against changes made over S3 on the
same node: with a long metadata TTL, a change through s3d is seen at the next open, never the
bytes or size the kernel kept."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from s3d.settings import CacheSettings
from tests.fuse.conftest import Mounted


@pytest.fixture
def kept(make_mount: Callable[..., Mounted]) -> Mounted:
    """A mount whose names and attributes the kernel (and s3d) keep for a minute."""
    return make_mount(metadata_ttl=60.0)


def test_a_put_over_s3_after_a_read_is_seen_at_the_next_open(kept: Mounted) -> None:
    path = kept.point / "f.txt"
    kept.s3.put_object(Bucket=kept.bucket, Key="f.txt", Body=b"first version\n")
    assert path.read_bytes() == b"first version\n"
    assert path.read_bytes() == b"first version\n"  # a second open keeps the page cache
    kept.s3.put_object(Bucket=kept.bucket, Key="f.txt", Body=b"other version\n")  # same size
    assert path.read_bytes() == b"other version\n"
    kept.s3.put_object(Bucket=kept.bucket, Key="f.txt", Body=b"a longer third version\n")
    assert path.stat().st_size == 23
    assert path.read_bytes() == b"a longer third version\n"


def test_an_open_file_sees_a_put_over_s3_at_its_next_read(kept: Mounted) -> None:
    path = kept.point / "g.bin"
    kept.s3.put_object(Bucket=kept.bucket, Key="g.bin", Body=b"A" * 8192)
    with path.open("rb", buffering=0) as file:
        assert file.read(4096) == b"A" * 4096
        kept.s3.put_object(Bucket=kept.bucket, Key="g.bin", Body=b"B" * 8192)
        file.seek(0)
        deadline = time.monotonic() + 10  # the kernel drops its pages in the background
        while file.read(4096) != b"B" * 4096 and time.monotonic() < deadline:
            file.seek(0)
            time.sleep(0.05)
        file.seek(0)
        assert file.read(4096) == b"B" * 4096


def test_a_delete_over_s3_removes_the_name_at_once(kept: Mounted) -> None:
    path = kept.point / "gone.txt"
    kept.s3.put_object(Bucket=kept.bucket, Key="gone.txt", Body=b"x")
    assert path.read_bytes() == b"x"
    kept.s3.delete_object(Bucket=kept.bucket, Key="gone.txt")
    assert not path.exists()
    kept.s3.put_object(Bucket=kept.bucket, Key="gone.txt", Body=b"back")
    assert path.read_bytes() == b"back"


def test_a_new_object_found_at_the_remote_by_a_read_drops_the_kernel_attributes(
    make_mount: Callable[..., Mounted], remote: Any, bucket_name: str
) -> None:
    """Changed at the remote behind s3d's back: a read through s3d revalidates (freshness 0)
    and finds a new ETag, and the kernel's size (kept for a minute) is dropped."""
    cache = CacheSettings(freshness=0.0, whole_object_max=0, memory_size=0)
    fs = make_mount(cache=cache, metadata_ttl=60.0)
    remote.put_object(Bucket=bucket_name, Key="r.bin", Body=b"A" * 8192)
    path = fs.point / "r.bin"
    assert path.read_bytes() == b"A" * 8192
    remote.put_object(Bucket=bucket_name, Key="r.bin", Body=b"B" * 12288)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # the next read reaches s3d
        assert os.pread(fd, 4096, 0) == b"B" * 4096
    finally:
        os.close(fd)
    deadline = time.monotonic() + 10  # the kernel is told in the background
    while path.stat().st_size != 12288 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size == 12288
    assert path.read_bytes() == b"B" * 12288
    assert fs.status()["kernel_invalidations"] >= 1
