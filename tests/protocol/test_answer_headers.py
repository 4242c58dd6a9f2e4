"""The headers of a GET/HEAD answer from stored object headers (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3d.protocol.answer_headers import answer_headers, checksums_asked

STORED = (
    ("etag", '"e"'),
    ("content-type", "text/plain"),
    ("x-amz-checksum-crc32", "AAAAAA=="),
    ("x-amz-meta-a", "1"),
)


def test_whole_read_with_checksums_asked() -> None:
    out = answer_headers(STORED, 1000, None, checksums=True)
    assert out == (*STORED, ("accept-ranges", "bytes"), ("content-length", "1000"))


def test_checksums_only_on_whole_reads_that_ask() -> None:
    unasked = dict(answer_headers(STORED, 1000, None, checksums=False))
    ranged = dict(answer_headers(STORED, 1000, (0, 9), checksums=True))
    assert "x-amz-checksum-crc32" not in unasked
    assert "x-amz-checksum-crc32" not in ranged
    assert unasked["x-amz-meta-a"] == ranged["x-amz-meta-a"] == "1"


def test_range_and_overrides() -> None:
    out = answer_headers(
        STORED, 1000, (10, 19), checksums=False, overrides=(("content-type", "a/b"),)
    )
    assert [v for n, v in out if n == "content-type"] == ["a/b"]
    assert dict(out)["content-length"] == "10"
    assert dict(out)["content-range"] == "bytes 10-19/1000"


def test_empty_object() -> None:
    assert dict(answer_headers((), 0, None, checksums=False))["content-length"] == "0"


def test_checksum_mode_header() -> None:
    assert checksums_asked((("x-amz-checksum-mode", "ENABLED"),))
    assert checksums_asked((("x-amz-checksum-mode", "enabled"),))
    assert not checksums_asked((("x-amz-checksum-mode", "DISABLED"),))
    assert not checksums_asked(())


@given(st.integers(1, 10**12), st.data())
def test_length_and_range_agree(size: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size - 1))
    out = dict(answer_headers(STORED, size, (first, last), checksums=True))
    assert int(out["content-length"]) == last - first + 1
    span, _, total = out["content-range"].removeprefix("bytes ").partition("/")
    assert (int(total), span) == (size, f"{first}-{last}")
    assert out["accept-ranges"] == "bytes"
