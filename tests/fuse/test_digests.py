"""The digests of a file being written, kept while it is written in order."""

from __future__ import annotations

import hashlib

from s3d.fuse.digests import RunningDigests


def test_in_order_writes_give_the_digests_of_the_whole() -> None:
    digests = RunningDigests()
    for offset, part in ((0, b"hello "), (6, b"world")):
        digests.wrote(offset, part)
    whole = b"hello world"
    assert digests.of(len(whole)) == (hashlib.md5(whole).digest(), hashlib.sha256(whole).digest())
    assert digests.of(len(whole) + 1) is None  # a size the writes did not reach


def test_a_write_out_of_order_gives_them_up_until_reset() -> None:
    digests = RunningDigests()
    digests.wrote(0, b"abc")
    digests.wrote(1, b"X")  # a seek back
    digests.wrote(3, b"def")
    assert digests.of(6) is None
    digests.reset()
    digests.wrote(0, b"new")
    assert digests.of(3) == (hashlib.md5(b"new").digest(), hashlib.sha256(b"new").digest())


def test_a_gap_gives_them_up() -> None:
    digests = RunningDigests()
    digests.wrote(0, b"abc")
    digests.wrote(10, b"def")
    assert digests.of(13) is None
