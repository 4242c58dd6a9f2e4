"""The SQLite life cycle shared by the indexes (real SQLite files in tmp_path)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from s3d.database import Database
from s3d.durable import fsync_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id));
"""


async def pragma(db: Database, name: str) -> object:
    async with db.db.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def test_opens_in_wal_with_the_asked_durability_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "index.sqlite"
    db = Database(path, "test index", synchronous="FULL", pragmas=("busy_timeout=1234",))
    await db.open(SCHEMA)
    try:
        assert await pragma(db, "journal_mode") == "wal"
        assert await pragma(db, "synchronous") == 2  # FULL
        assert await pragma(db, "foreign_keys") == 1
        assert await pragma(db, "busy_timeout") == 1234
        with pytest.raises(sqlite3.IntegrityError):
            await db.db.execute("INSERT INTO child VALUES (1, 99)")
    finally:
        await db.aclose()
    # The schema was committed: another connection sees it.
    with sqlite3.connect(path) as other:
        names = {row[0] for row in other.execute("SELECT name FROM sqlite_master")}
    assert {"parent", "child"} <= names


async def test_autocommit_normal_without_foreign_keys(tmp_path: Path) -> None:
    db = Database(
        tmp_path / "i.sqlite", "x", synchronous="NORMAL", autocommit=True, foreign_keys=False
    )
    connection = await db.open(SCHEMA)
    try:
        assert connection.isolation_level is None
        assert await pragma(db, "synchronous") == 1  # NORMAL
        assert await pragma(db, "foreign_keys") == 0
        await db.db.execute("INSERT INTO child VALUES (1, 99)")  # no constraint enforced
    finally:
        await db.aclose()


async def test_closed_says_what_and_closing_twice_is_safe(tmp_path: Path) -> None:
    db = Database(tmp_path / "i.sqlite", "cache index", synchronous="NORMAL")
    with pytest.raises(RuntimeError, match="the cache index is closed"):
        _ = db.db
    await db.open()
    await db.aclose()
    await db.aclose()
    with pytest.raises(RuntimeError, match="the cache index is closed"):
        _ = db.db


async def test_a_bad_schema_leaves_nothing_open(tmp_path: Path) -> None:
    db = Database(tmp_path / "i.sqlite", "x", synchronous="NORMAL")
    with pytest.raises(sqlite3.OperationalError):
        await db.open("CREATE TABLE broken (")
    with pytest.raises(RuntimeError):
        _ = db.db


def test_fsync_dir(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    fsync_dir(tmp_path)  # a directory of files: flushed without error
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "gone")
