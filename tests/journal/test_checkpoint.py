"""The journal's WAL is checkpointed by a task of its own, not in the commit that crossed a
threshold (``journal/checkpoint.py``): a real store on disk, its files looked at directly."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from s3d.journal.store import JournalStore, insert_inline


async def test_commits_reach_the_database_file_through_the_background_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    async with JournalStore(path) as store:
        async with store.db.execute("PRAGMA wal_autocheckpoint") as cursor:
            assert (await cursor.fetchone()) == (0,)  # never in the commit
        before = path.stat().st_size
        for n in range(8):  # 1 MiB in the WAL, below SQLite's own threshold (~4 MiB)
            await store.write([insert_inline(f"body-{n}", os.urandom(128 * 1024))])
        for _ in range(200):  # bounded: 10 s
            if path.stat().st_size >= before + 1024 * 1024:
                break
            await asyncio.sleep(0.05)
        assert path.stat().st_size >= before + 1024 * 1024
        assert len(await store.inline_bodies()) == 8
