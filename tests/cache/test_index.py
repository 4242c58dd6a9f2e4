"""The cache index on a real SQLite file: concurrent writers of one key."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from s3d.cache.entry import Entry
from s3d.cache.index import CacheIndex


def _entry(key: str) -> Entry:
    return Entry(
        id=uuid.uuid4().hex,
        bucket="b",
        key=key,
        etag='"e"',
        size=10,
        last_modified=datetime(2026, 11, 22, tzinfo=UTC),
        headers=(),
        block_size=10,
        validated_at=0.0,
    )


async def test_concurrent_puts_of_one_key_leave_one_entry(tmp_path: Path) -> None:
    # A fill and a journal hand-off of the same key at once: each must replace the other,
    # never both insert (the index has one entry per key).
    async with CacheIndex(tmp_path / "index.sqlite") as index:
        entries = [_entry("k") for _ in range(8)]
        replaced = await asyncio.gather(*(index.put(e, 0.0) for e in entries))
        assert sum(old is None for old in replaced) == 1
        stored = await index.get("b", "k")
        assert stored is not None
        assert stored[0].id in {e.id for e in entries}


async def test_a_key_cached_before_a_restart_is_still_dropped_by_a_write(tmp_path: Path) -> None:
    # The key filter is rebuilt from the rows at open: a key cached by the previous run is
    # not taken for one never cached (its write would leave the old bytes served).
    entry = _entry("k")
    async with CacheIndex(tmp_path / "index.sqlite") as index:
        await index.put(entry, 0.0)
    async with CacheIndex(tmp_path / "index.sqlite") as index:
        assert await index.delete_key("b", "k") == (entry.id, 0)
        assert await index.get("b", "k") is None
        assert await index.delete_key("b", "k") is None


async def test_an_evicted_key_cached_again_is_dropped_again(tmp_path: Path) -> None:
    async with CacheIndex(tmp_path / "index.sqlite") as index:
        first, second = _entry("k"), _entry("k")
        await index.put(first, 0.0)
        assert await index.delete([first.id]) == 1
        await index.put(second, 0.0)
        assert await index.delete_key("b", "k") == (second.id, 0)


async def test_dropping_blocks_is_one_transaction_even_when_its_caller_is_cancelled(
    tmp_path: Path,
) -> None:
    # A read that finds corrupt blocks drops them; cancelled half-way (its client left), its
    # deletes must not be committed by the next writer without the entry's byte count.
    async with CacheIndex(tmp_path / "index.sqlite") as index:
        entry = _entry("k")
        await index.put(entry, 0.0)
        for block in range(3):
            assert await index.add_block(entry.id, block, 10, "crc", 1)
        dropping = asyncio.create_task(index.drop_blocks(entry.id, [0, 1]))
        await asyncio.sleep(0)  # it has sent its first statement
        dropping.cancel()
        assert await index.add_block(entry.id, 3, 10, "crc", 1)  # the next writer commits
        stored = (await index.stored_by_entry())[entry.id]
        async with index.db.execute(
            "SELECT coalesce(sum(length), 0) FROM blocks WHERE entry_id = ?", (entry.id,)
        ) as cursor:
            (held,) = await cursor.fetchone()
        assert stored == held
