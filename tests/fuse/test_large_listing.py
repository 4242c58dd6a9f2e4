"""A directory of 20,000 keys lists completely through the mount, one page at a time."""

from __future__ import annotations

import os
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from tests.fuse.conftest import Mounted

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
