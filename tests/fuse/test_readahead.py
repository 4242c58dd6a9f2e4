"""The readahead window of a reader (no mount: the fetches are recorded)."""

from __future__ import annotations

import asyncio

from s3d.fuse.readahead import MAX_WINDOW, Readahead

KiB = 1024
SIZE = 64 << 20
DATA = bytes(i % 251 for i in range(SIZE))


def recorder() -> tuple[list[tuple[int, int]], Readahead]:
    fetched: list[tuple[int, int]] = []

    async def fetch(first: int, last: int) -> bytes:
        fetched.append((first, last))
        await asyncio.sleep(0)
        return DATA[first : last + 1]

    return fetched, Readahead(fetch, SIZE)


def test_a_sequential_reader_fetches_doubling_windows() -> None:
    fetched, ahead = recorder()

    async def read_all() -> bytes:
        parts = [await ahead.read(offset, 128 * KiB) for offset in range(0, SIZE, 128 * KiB)]
        return b"".join(parts)

    assert asyncio.run(read_all()) == DATA
    assert len(fetched) < 20  # not 512 reads of 128 KiB
    assert max(last - first + 1 for first, last in fetched) == MAX_WINDOW


def test_concurrent_reads_inside_a_fetch_in_flight_share_it() -> None:
    fetched, ahead = recorder()

    async def reads() -> list[bytes]:
        await ahead.read(0, 128 * KiB)
        at = [128 * KiB * i for i in range(1, 3)]
        return await asyncio.gather(*(ahead.read(offset, 128 * KiB) for offset in at))

    parts = asyncio.run(reads())
    assert parts == [DATA[128 * KiB : 256 * KiB], DATA[256 * KiB : 384 * KiB]]
    assert fetched == [(0, 128 * KiB - 1), (128 * KiB, 384 * KiB - 1)]


def test_a_random_reader_fetches_only_what_it_reads() -> None:
    fetched, ahead = recorder()
    offsets = [40 << 20, 3 << 20, 17 << 20, 60 << 20]

    async def reads() -> list[bytes]:
        return [await ahead.read(offset, 4 * KiB) for offset in offsets]

    assert asyncio.run(reads()) == [DATA[o : o + 4 * KiB] for o in offsets]
    assert fetched == [(o, o + 4 * KiB - 1) for o in offsets]


def test_reads_past_the_end_are_short_or_empty() -> None:
    fetched, ahead = recorder()
    assert asyncio.run(ahead.read(SIZE - 10, 4 * KiB)) == DATA[-10:]
    assert asyncio.run(ahead.read(SIZE, 4 * KiB)) == b""
    assert fetched == [(SIZE - 10, SIZE - 1)]


def test_a_dropped_window_is_fetched_again() -> None:
    """The object changed (``Coherence``): bytes kept from before are not answered again."""
    fetched, ahead = recorder()

    async def reads() -> None:
        await ahead.read(0, 128 * KiB)
        await ahead.read(0, 4 * KiB)  # inside the kept fetch: no new fetch
        ahead.drop()
        await ahead.read(0, 4 * KiB)

    asyncio.run(reads())
    assert fetched == [(0, 128 * KiB - 1), (0, 4 * KiB - 1)]
