"""The write-back journal in SQLite (``<data-dir>/journal/journal.sqlite``: WAL, synchronous
FULL), with group commit.

Owns three tables. ``jobs``: one row per acknowledged change not yet applied to the remote, in
acknowledgement order (``seq``), with its kind (put, multipart, delete, tagging), what it needs
(JSON payload: headers, ETag, sizes, file names) and its retry state; a dead-lettered job keeps
its row with ``dead = 1``. ``uploads`` and ``parts``: multipart uploads being assembled locally.
``remote_uploads``: multipart uploads the uploader opened on the remote and has not yet
completed or aborted; one left by a crash is aborted at the next start, so that a killed
daemon does not leave parts the remote keeps (and bills) forever.

Invariant: a change is acknowledged only after the transaction recording it has committed
(fsync'ed, synchronous FULL), and its body files were fsynced before that. Concurrent
acknowledgements share one commit: ``write`` queues its statements, one task runs everything
queued in one transaction and wakes every writer once it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (bucket, key, seq);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS remote_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    created REAL NOT NULL
);
"""

Statement = tuple[str, Sequence[Any]]


@dataclass(frozen=True, slots=True)
class JobRow:
    seq: int
    bucket: str
    key: str
    kind: str
    payload: dict[str, Any]
    size: int
    created: float
    attempts: int
    dead: bool
    error: str | None


class JournalStore:
    """Enter to open (and start the committer), exit to close. Closing while writes wait
    fails them with the error that stopped the committer."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[tuple[list[Statement], asyncio.Future[list[int]]]] = (
            asyncio.Queue()
        )
        self._committer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path, isolation_level=None)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._db.executescript(_SCHEMA)
        self._committer = asyncio.create_task(self._commit_loop(), name="s3d-journal-commit")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the committer (queued writes fail) and close. Idempotent."""
        committer, self._committer = self._committer, None
        if committer is not None:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("the journal is closed"))
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the journal is closed")
        return self._db

    async def write(self, statements: list[Statement]) -> list[int]:
        """Run ``statements`` in a transaction shared with whatever else is queued; return
        each statement's lastrowid once the transaction is durable. Cancelling the wait does
        not cancel the write."""
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        await self._queue.put((statements, future))
        return await asyncio.shield(future)

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._run_batch([statements for statements, _ in batch])
            except Exception as exc:  # every writer of the batch learns why
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), rowids in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(rowids)

    async def _run_batch(self, batch: list[list[Statement]]) -> list[list[int]]:
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        try:
            results = []
            for statements in batch:
                rowids = []
                for sql, params in statements:
                    cursor = await db.execute(sql, params)
                    rowids.append(cursor.lastrowid or 0)
                results.append(rowids)
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return results

    async def jobs(self) -> list[JobRow]:
        """Every job, in acknowledgement order."""
        async with self.db.execute(
            "SELECT seq, bucket, key, kind, payload, size, created, attempts, dead, error"
            " FROM jobs ORDER BY seq"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            JobRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], bool(r[8]), r[9])
            for r in rows
        ]

    async def uploads(self) -> list[tuple[str, str, str, dict[str, Any], float]]:
        async with self.db.execute(
            "SELECT upload_id, bucket, key, payload, created FROM uploads"
        ) as cursor:
            rows = await cursor.fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    async def remote_uploads(self) -> list[tuple[str, str, str]]:
        """(upload id, bucket, key) of each multipart upload opened on the remote."""
        async with self.db.execute(
            "SELECT upload_id, bucket, key FROM remote_uploads ORDER BY created"
        ) as cursor:
            rows = await cursor.fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    async def parts(self) -> list[tuple[str, int, dict[str, Any]]]:
        async with self.db.execute("SELECT upload_id, part_number, payload FROM parts") as c:
            rows = await c.fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]


def insert_job(
    bucket: str, key: str, kind: str, payload: dict[str, Any], size: int, created: float
) -> Statement:
    return (
        "INSERT INTO jobs (bucket, key, kind, payload, size, created) VALUES (?, ?, ?, ?, ?, ?)",
        (bucket, key, kind, json.dumps(payload), size, created),
    )


def delete_jobs(seqs: Sequence[int]) -> list[Statement]:
    return [("DELETE FROM jobs WHERE seq = ?", (seq,)) for seq in seqs]


def update_payload(seq: int, payload: dict[str, Any], size: int) -> Statement:
    return (
        "UPDATE jobs SET payload = ?, size = ? WHERE seq = ?",
        (json.dumps(payload), size, seq),
    )


def mark(seq: int, *, attempts: int, dead: bool, error: str | None) -> Statement:
    return (
        "UPDATE jobs SET attempts = ?, dead = ?, error = ? WHERE seq = ?",
        (attempts, int(dead), error, seq),
    )


def open_remote_upload(upload_id: str, bucket: str, key: str, created: float) -> Statement:
    return (
        "INSERT OR REPLACE INTO remote_uploads (upload_id, bucket, key, created)"
        " VALUES (?, ?, ?, ?)",
        (upload_id, bucket, key, created),
    )


def close_remote_upload(upload_id: str) -> Statement:
    return ("DELETE FROM remote_uploads WHERE upload_id = ?", (upload_id,))
