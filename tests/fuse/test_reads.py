"""Reading through a mount: stat, ls, cat, find, du, dd at offsets, Python seeks."""

from __future__ import annotations

import os
import subprocess

from tests.fuse.conftest import Mounted


def test_an_object_put_over_s3_is_a_file_in_the_mount(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="hello.txt", Body=b"hello, world\n")  # type: ignore[attr-defined]
    assert (fs.point / "hello.txt").read_bytes() == b"hello, world\n"
    assert os.stat(fs.point / "hello.txt").st_size == 13
    listing = subprocess.run(["ls", "-la", str(fs.point)], capture_output=True, text=True, check=True)
    assert "hello.txt" in listing.stdout
