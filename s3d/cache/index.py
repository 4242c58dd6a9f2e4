"""The cache index in SQLite (``<data-dir>/cache/index.sqlite``, WAL).

Owns four tables: ``entries`` (one cached version per bucket and key, with its headers and
layout), ``blocks`` (the blocks of an entry that are complete on disk, with their CRC32C),
``pins`` (keys never to evict) and ``entry_tags`` (an entry's tag set, looked up for read
rules: ``tagsets.py``; it goes with its entry). Invariant: a block row exists only for bytes
already fsynced in the entry's data file; ``entries.stored`` is the sum of its blocks'
lengths. Losing the last transactions in a power cut only forgets blocks, which are fetched
again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Self, TypeVar

import aiosqlite

from s3d.cache.entry import Entry, decode_headers, encode_headers
from s3d.cache.keyfilter import KeyFilter
from s3d.cache.memo import EntryMemo
from s3d.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    headers TEXT NOT NULL,
    block_size INTEGER NOT NULL,
    validated_at REAL NOT NULL,
    last_access REAL NOT NULL,
    stored INTEGER NOT NULL DEFAULT 0,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bucket, key)
);
CREATE INDEX IF NOT EXISTS entries_by_access ON entries (last_access);
CREATE TABLE IF NOT EXISTS blocks (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    length INTEGER NOT NULL,
    crc32c TEXT NOT NULL,
    PRIMARY KEY (entry_id, idx)
);
CREATE TABLE IF NOT EXISTS entry_tags (
    entry_id TEXT PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    fetched_at REAL NOT NULL,
    tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pins (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
"""

T = TypeVar("T")

Stored = tuple[Entry, dict[int, str]]
"""An entry and its complete blocks (index -> CRC32C)."""

WAL_KEEP = 1 << 20
"""Bytes of WAL written before a checkpoint, and kept after one."""


class CacheIndex:
    def __init__(self, path: Path) -> None:
        # The WAL counts toward the cache's size (SQLite lets it reach 4 MiB, then keeps it):
        # checkpoint at 1 MiB, and give back what a checkpoint emptied.
        self._database = Database(
            path,
            "cache index",
            synchronous="NORMAL",
            pragmas=(f"wal_autocheckpoint={WAL_KEEP // 4096}", f"journal_size_limit={WAL_KEEP}"),
        )
        self._memo = EntryMemo()
        self._keys = KeyFilter()
        """Which keys may have a row: most writes drop a key never cached, with no hop."""
        self._put_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self._database.open(_SCHEMA)
        try:
            rows = await self._database.call(
                lambda conn: conn.execute("SELECT bucket, key FROM entries").fetchall()
            )
        except BaseException:
            await self.aclose()
            raise
        for bucket, key in rows:
            self._keys.add(bucket, key)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection. Idempotent."""
        await self._database.aclose()

    @property
    def files(self) -> list[Path]:
        """The index's files on disk: the database, its WAL and its shared-memory file."""
        path = self._database.path
        return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in one hop (``Database.call``: it commits what it starts)."""
        return await self._database.call(work)

    @property
    def db(self) -> aiosqlite.Connection:
        return self._database.db

    async def get(self, bucket: str, key: str) -> Stored | None:
        remembered = self._memo.get(bucket, key)
        if remembered is not None:
            return remembered
        found = await self._database.call(lambda conn: _read_entry(conn, bucket, key))
        if found is None:
            return None
        entry, blocks = found
        self._memo.put(entry, blocks)
        return entry, dict(blocks)

    async def put(self, entry: Entry, now: float) -> tuple[str, int] | None:
        """Record ``entry`` (no blocks yet), replacing the key's previous entry; returns the
        replaced entry's id and stored bytes, for the caller to delete its data file. One at
        a time: two puts of a key (a fill and a journal hand-off) must not both find no
        previous entry and both insert."""
        async with self._put_lock:
            return await self._put(entry, now)

    async def _put(self, entry: Entry, now: float) -> tuple[str, int] | None:
        # One hop: the previous entry's removal, the insert and the commit.
        self._keys.add(entry.bucket, entry.key)
        old = await self._database.call(lambda conn: _replace_entry(conn, entry, now))
        self._memo.drop_key(entry.bucket, entry.key)
        if old is not None:
            self._keys.remove(entry.bucket, entry.key)
        return old

    async def add_block(
        self, entry_id: str, index: int, length: int, crc32c: str, mtime_ns: int
    ) -> bool:
        """Record a complete block; False when the entry is gone (replaced or dropped)."""
        row = (entry_id, index, length, crc32c, mtime_ns)
        if not await self._database.call(lambda conn: _add_block(conn, *row)):
            return False
        self._memo.block(entry_id, index, crc32c)
        self._memo.update(entry_id, mtime_ns=mtime_ns)
        return True

    async def drop_blocks(self, entry_id: str, indexes: list[int]) -> int:
        """Forget blocks found corrupt; returns the bytes they held. One hop and one
        transaction: awaited statement by statement, another task's commit could land between
        them and commit half of it."""
        freed = await self._database.call(lambda conn: _drop_blocks(conn, entry_id, indexes))
        for index in indexes:
            self._memo.block(entry_id, index, None)
        return freed

    async def set_mtime(self, entry_id: str, mtime_ns: int) -> None:
        await self.db.execute("UPDATE entries SET mtime_ns = ? WHERE id = ?", (mtime_ns, entry_id))
        await self.db.commit()
        self._memo.update(entry_id, mtime_ns=mtime_ns)

    async def validated(self, entry_id: str, when: float) -> None:
        await self.db.execute("UPDATE entries SET validated_at = ? WHERE id = ?", (when, entry_id))
        await self.db.commit()
        self._memo.update(entry_id, validated_at=when)

    async def delete(self, entry_ids: list[str]) -> int:
        """Drop entries; returns how many were still there."""
        for entry_id in entry_ids:
            self._memo.drop(entry_id)
        # One hop: a RETURNING statement spread over two hops would be "in progress" when
        # another task's work commits in between.
        gone = await self._database.call(lambda conn: _delete_entries(conn, entry_ids))
        for bucket, key in gone:  # only once the rows are gone for good
            self._keys.remove(bucket, key)
        return len(gone)

    async def delete_key(self, bucket: str, key: str) -> tuple[str, int] | None:
        """Drop the key's entry; its id and stored bytes, for the caller to delete the data
        file. No hop for a key the filter knows has no row (every write through s3d asks
        this, mostly of keys never cached), one otherwise."""
        self._memo.drop_key(bucket, key)
        if not self._keys.may_hold(bucket, key):
            return None
        old = await self._database.call(lambda conn: _delete_key(conn, bucket, key))
        if old is not None:
            self._memo.drop(old[0])
            self._keys.remove(bucket, key)
        self._memo.drop_key(bucket, key)
        return old

    async def touch(self, accesses: dict[str, float]) -> None:
        """Record last-access times gathered in memory since the last flush."""
        if not accesses:
            return
        await self.db.executemany(
            "UPDATE entries SET last_access = ? WHERE id = ?",
            [(when, entry_id) for entry_id, when in accesses.items()],
        )
        await self.db.commit()

    async def candidates(self, limit: int) -> list[tuple[str, int, float, bool]]:
        """(id, stored, last_access, pinned), least recently used first."""
        async with self.db.execute(
            "SELECT e.id, e.stored, e.last_access, p.key IS NOT NULL FROM entries e"
            " LEFT JOIN pins p ON p.bucket = e.bucket AND p.key = e.key"
            " WHERE e.stored > 0 ORDER BY e.last_access LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(str(r[0]), int(r[1]), float(r[2]), bool(r[3])) for r in rows]

    async def pin(self, bucket: str, key: str, pinned: bool) -> None:
        if pinned:
            await self.db.execute(
                "INSERT OR IGNORE INTO pins (bucket, key) VALUES (?, ?)", (bucket, key)
            )
        else:
            await self.db.execute("DELETE FROM pins WHERE bucket = ? AND key = ?", (bucket, key))
        await self.db.commit()

    async def totals(self) -> tuple[int, int, int]:
        """(entries, bytes stored, pins)."""
        async with self.db.execute("SELECT count(*), coalesce(sum(stored), 0) FROM entries") as c:
            row = await c.fetchone()
        async with self.db.execute("SELECT count(*) FROM pins") as c:
            pins = await c.fetchone()
        assert row is not None
        assert pins is not None
        return int(row[0]), int(row[1]), int(pins[0])

    async def stored_by_entry(self) -> dict[str, int]:
        async with self.db.execute("SELECT id, stored FROM entries") as cursor:
            return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}

    async def listing(
        self, bucket: str, prefix: str, start_after: str | None, limit: int
    ) -> list[tuple[str, str, int, str]]:
        """Cached keys of a bucket in key order: (key, etag, size, last_modified ISO)."""
        async with self.db.execute(
            "SELECT key, etag, size, last_modified FROM entries WHERE bucket = ?"
            " AND key >= ? AND key > ? ORDER BY key LIMIT ?",
            (bucket, prefix, start_after or "", limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            (str(r[0]), str(r[1]), int(r[2]), str(r[3]))
            for r in rows
            if str(r[0]).startswith(prefix)
        ]

    async def layouts(self) -> dict[str, tuple[int, int]]:
        """Every entry's (size, block_size), for reconciling files at start."""
        async with self.db.execute("SELECT id, size, block_size FROM entries") as cursor:
            return {str(r[0]): (int(r[1]), int(r[2])) for r in await cursor.fetchall()}


# -- work run on the connection's thread (``Database.call``): one hop each ------------------


def _read_entry(conn: sqlite3.Connection, bucket: str, key: str) -> Stored | None:
    rows = conn.execute(
        "SELECT id, etag, size, last_modified, headers, block_size, validated_at, mtime_ns"
        " FROM entries WHERE bucket = ? AND key = ?",
        (bucket, key),
    ).fetchall()  # to its end: a statement left mid-way would make a later COMMIT fail
    if not rows:
        return None
    row = rows[0]
    entry = Entry(
        id=row[0],
        bucket=bucket,
        key=key,
        etag=row[1],
        size=row[2],
        last_modified=datetime.fromisoformat(row[3]),
        headers=decode_headers(row[4]),
        block_size=row[5],
        validated_at=row[6],
        mtime_ns=int(row[7]),
    )
    blocks = conn.execute("SELECT idx, crc32c FROM blocks WHERE entry_id = ?", (entry.id,))
    return entry, {idx: crc for idx, crc in blocks.fetchall()}


def _replace_entry(conn: sqlite3.Connection, entry: Entry, now: float) -> tuple[str, int] | None:
    try:
        row = conn.execute(
            "DELETE FROM entries WHERE bucket = ? AND key = ? RETURNING id, stored",
            (entry.bucket, entry.key),
        ).fetchall()  # every row read: a RETURNING statement not run to its end blocks COMMIT
        conn.execute(
            "INSERT INTO entries (id, bucket, key, etag, size, last_modified, headers,"
            " block_size, validated_at, last_access) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                entry.bucket,
                entry.key,
                entry.etag,
                entry.size,
                entry.last_modified.isoformat(),
                encode_headers(entry.headers),
                entry.block_size,
                entry.validated_at,
                now,
            ),
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return (str(row[0][0]), int(row[0][1])) if row else None


def _add_block(
    conn: sqlite3.Connection, entry_id: str, index: int, length: int, crc: str, mtime_ns: int
) -> bool:
    try:
        cursor = conn.execute(
            "UPDATE entries SET stored = stored + ?, mtime_ns = ? WHERE id = ?",
            (length, mtime_ns, entry_id),
        )
        if cursor.rowcount == 0:
            conn.rollback()
            return False
        conn.execute(
            "INSERT INTO blocks (entry_id, idx, length, crc32c) VALUES (?, ?, ?, ?)",
            (entry_id, index, length, crc),
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return True


def _drop_blocks(conn: sqlite3.Connection, entry_id: str, indexes: list[int]) -> int:
    freed = 0
    try:
        for index in indexes:
            rows = conn.execute(  # RETURNING rows read to the end before the commit
                "DELETE FROM blocks WHERE entry_id = ? AND idx = ? RETURNING length",
                (entry_id, index),
            ).fetchall()
            freed += sum(int(length) for (length,) in rows)
        conn.execute("UPDATE entries SET stored = stored - ? WHERE id = ?", (freed, entry_id))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return freed


def _delete_key(conn: sqlite3.Connection, bucket: str, key: str) -> tuple[str, int] | None:
    try:
        row = conn.execute(
            "DELETE FROM entries WHERE bucket = ? AND key = ? RETURNING id, stored",
            (bucket, key),
        ).fetchall()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return (str(row[0][0]), int(row[0][1])) if row else None


def _delete_entries(conn: sqlite3.Connection, entry_ids: list[str]) -> list[tuple[str, str]]:
    gone: list[tuple[str, str]] = []
    try:
        for entry_id in entry_ids:
            rows = conn.execute(
                "DELETE FROM entries WHERE id = ? RETURNING bucket, key", (entry_id,)
            ).fetchall()
            gone += [(str(bucket), str(key)) for bucket, key in rows]
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return gone
