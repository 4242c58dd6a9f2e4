"""Block arithmetic and the headers of answers from a cache entry."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from s3d.cache.entry import HANDED_OVER, Entry, layout, provenance, response_headers
from s3d.protocol.model import Provenance

MiB = 1024 * 1024


def entry(size: int, block_size: int, headers: tuple[tuple[str, str], ...] = ()) -> Entry:
    return Entry(
        "id", "b", "k", '"e"', size, datetime(2026, 1, 1, tzinfo=UTC), headers, block_size, 0.0
    )


def test_layout_whole_or_blocks() -> None:
    assert layout(0, 8 * MiB, 8 * MiB) == 1
    assert layout(100, 8 * MiB, 8 * MiB) == 100
    assert layout(8 * MiB, 8 * MiB, 8 * MiB) == 8 * MiB
    assert layout(8 * MiB + 1, 8 * MiB, 8 * MiB) == 8 * MiB
    assert layout(20 * MiB, 4 * MiB, 16 * MiB) == 4 * MiB


@given(st.integers(1, 10**9), st.data())
def test_blocks_cover_ranges_exactly(size: int, data: st.DataObject) -> None:
    block_size = data.draw(st.integers(max(1, size // 2000), max(1, size // 2000) + 10**7))
    e = entry(size, block_size)
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size - 1))
    blocks = e.blocks_for(first, last)
    assert e.span(blocks.start)[0] <= first < e.span(blocks.start)[1]
    assert e.span(blocks.stop - 1)[0] <= last < e.span(blocks.stop - 1)[1]
    assert e.span(e.blocks - 1)[1] == size
    assert sum(e.span(i)[1] - e.span(i)[0] for i in range(e.blocks)) == size


def test_response_headers() -> None:
    stored = (
        ("etag", '"e"'),
        ("content-type", "text/plain"),
        ("x-amz-checksum-crc32", "AAAAAA=="),
        ("x-amz-meta-a", "1"),
    )
    e = entry(1000, 1000, stored)
    whole = dict(response_headers(e, None, checksums=True))
    assert whole["content-length"] == "1000"
    assert whole["x-amz-checksum-crc32"] == "AAAAAA=="
    assert "content-range" not in whole
    part = dict(response_headers(e, (10, 19), checksums=True, overrides=(("content-type", "a/b"),)))
    assert part["content-range"] == "bytes 10-19/1000"
    assert part["content-length"] == "10"
    assert part["content-type"] == "a/b"
    assert "x-amz-checksum-crc32" not in part
    assert part["x-amz-meta-a"] == "1"
    unasked = dict(response_headers(e, None, checksums=False))
    assert "x-amz-checksum-crc32" not in unasked


def test_provenance_of_an_entry_and_the_handed_over_mark() -> None:
    plain = entry(10, 10, (("etag", '"e"'),))
    assert provenance(plain, "hit") == Provenance(cache="hit")
    handed = entry(10, 10, (("etag", '"e"'), HANDED_OVER))
    assert provenance(handed, "revalidated") == Provenance("revalidated", "uploaded")
    # The mark is the index's, never a header of the object.
    assert HANDED_OVER not in response_headers(handed, None, checksums=False)
