"""The staging area (``s3d/staging.py``) on a real directory: a small body stays in memory, a
large one gets the MD5s of its upload parts as it is written, and both hash as a file would."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from s3d.staging import MEMORY_MAX, StagedBody, StagingArea


async def _stage(area: StagingArea, data: bytes, length: int | None, piece: int) -> StagedBody:
    async with area.writer((), length) as writer:
        for start in range(0, len(data), piece):
            await writer.write(data[start : start + piece])
        return await writer.finish()


async def test_a_small_body_stays_in_memory_until_asked_for_on_disk(tmp_path: Path) -> None:
    async with StagingArea(tmp_path / "staging") as area:
        data = os.urandom(MEMORY_MAX)
        body = await _stage(area, data, len(data), 1000)
        assert body.data == data
        assert not body.path.exists()
        assert body.md5 == hashlib.md5(data).digest()
        assert body.sha256 == hashlib.sha256(data).digest()
        written = await area.on_disk(body)
        assert written.data is None
        assert written.path.read_bytes() == data
        await area.discard(body)  # the same file: gone
        assert not body.path.exists()


async def test_a_body_of_unknown_or_larger_length_is_a_file(tmp_path: Path) -> None:
    async with StagingArea(tmp_path / "staging") as area:
        data = os.urandom(MEMORY_MAX + 1)
        for length in (None, len(data)):
            body = await _stage(area, data, length, 4096)
            assert body.data is None
            assert body.path.read_bytes() == data


async def test_a_large_body_gets_its_part_md5s_as_it_is_written(tmp_path: Path) -> None:
    async with StagingArea(tmp_path / "staging") as area:
        part = 256 * 1024
        area.hash_parts(above=3 * part, part_size=part)
        data = os.urandom(3 * part + 12345)
        body = await _stage(area, data, len(data), 100_000)  # pieces across part boundaries
        expected = tuple(
            hashlib.md5(data[start : start + part]).digest() for start in range(0, len(data), part)
        )
        assert body.part_size == part
        assert body.part_md5s == expected
        small = await _stage(area, data[: 3 * part], 3 * part, 100_000)  # not above: no parts
        assert small.part_md5s == ()
