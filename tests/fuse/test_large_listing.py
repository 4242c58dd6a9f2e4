"""A directory of 20,000 keys lists completely through the mount, one page at a time."""

from __future__ import annotations

import os
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from tests.fuse.conftest import Mounted
from tests.support import CountingRelay

COUNT = 20_000
PARTITION = "aws"


@pytest.mark.timeout(600)
def test_a_listing_of_20000_keys(make_mount: Any, bucket_name: str) -> None:
    names = [f"k{i:06d}.dat" for i in range(COUNT)]

    # The keys go straight into the moto server's store (it runs in this process): 20,000
    # PUTs over HTTP would take minutes and exercise nothing of s3d.
    backend = s3_backends[DEFAULT_ACCOUNT_ID][PARTITION]
    for name in names:
        backend.put_object(bucket_name, f"many/{name}", b"")
    fs: Mounted = make_mount()
    listed = os.listdir(fs.point / "many")
    assert len(listed) == COUNT
    assert sorted(listed) == names
    with os.scandir(fs.point / "many") as entries:
        assert sum(1 for entry in entries if entry.is_file()) == COUNT
    assert (fs.point / "many" / names[-1]).stat().st_size == 0


def test_each_page_of_a_listing_is_one_remote_call(
    make_mount: Any, bucket_name: str, remote_url: str
) -> None:
    """The mount asks pages of 999 keys: the merged listing fills one with a single remote
    page of 1,000 (the 1,000th says whether more follow), where a page of 1,000 keys would
    cost a second remote call for one key (moto scans the whole bucket for each)."""
    backend = s3_backends[DEFAULT_ACCOUNT_ID][PARTITION]
    for index in range(2500):
        backend.put_object(bucket_name, f"many/k{index:05d}", b"")
    with CountingRelay(remote_url) as relay:
        fs: Mounted = make_mount(remote=relay.url)
        assert len(os.listdir(fs.point / "many")) == 2500
        calls = [path for _, path, _ in relay.headers if "list-type=2" in path]
        # The lookup of "many" itself (one key asked: max-keys=2) is not the listing's.
        pages = [path for path in calls if "max-keys=2&" not in path]
    assert len(pages) == 3, pages  # 999 + 999 + 502
