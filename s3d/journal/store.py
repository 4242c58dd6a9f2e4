"""The write-back journal in SQLite (``<data-dir>/journal/journal.sqlite``: WAL, synchronous
FULL), with group commit.

Owns three tables. ``jobs``: one row per acknowledged change not yet applied to the remote, in
acknowledgement order (``seq``), with its kind (put, multipart, delete, tagging), what it needs
(JSON payload: headers, ETag, sizes, file names) and its retry state; a dead-lettered job keeps
its row with ``dead = 1``. ``uploads`` and ``parts``: multipart uploads being assembled locally.
``remote_uploads``: multipart uploads the uploader opened on the remote and has not yet
completed or aborted; one left by a crash is aborted at the next start, so that a killed
daemon does not leave parts the remote keeps (and bills) forever. ``inline_bodies``: the bytes
of small bodies whose journal file is not yet known to be durable (see ``journal/inline.py``):
committed with their job, so one fsync of the WAL makes both durable.

Invariant: a change is acknowledged only after the transaction recording it has committed
(fsync'ed, synchronous FULL), and its body files were fsynced before that. Concurrent
acknowledgements share one commit: ``write`` queues its statements, one task runs everything
queued in one transaction and wakes every writer once it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import aiosqlite

from s3d.database import Database
from s3d.journal import checkpoint
from s3d.journal.jobs import Job
from s3d.journal.records import (
    Change,
    Delete,
    LocalPart,
    LocalUpload,
    Multipart,
    Part,
    Put,
    Tagging,
)

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
CREATE TABLE IF NOT EXISTS inline_bodies (
    name TEXT PRIMARY KEY,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    created REAL NOT NULL
);
"""

Statement = tuple[str, Sequence[Any]]
Files = Sequence[tuple[Path, bytes]]


class JournalStore:
    """Enter to open (and start the committer), exit to close. Closing while writes wait
    fails them with the error that stopped the committer."""

    def __init__(self, path: Path) -> None:
        self._database = Database(
            path, "journal", synchronous="FULL", autocommit=True, pragmas=checkpoint.PRAGMAS
        )
        self._checkpointer = checkpoint.Checkpointer(path)
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._committer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self._database.open(_SCHEMA)
        self._committer = asyncio.create_task(self._commit_loop(), name="s3d-journal-commit")
        self._checkpointer.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the committer (queued writes fail) and close. Idempotent."""
        await self._checkpointer.aclose()
        committer, self._committer = self._committer, None
        if committer is not None:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
        while not self._queue.empty():
            future = self._queue.get_nowait().future
            if not future.done():
                future.set_exception(RuntimeError("the journal is closed"))
        await self._database.aclose()

    @property
    def db(self) -> aiosqlite.Connection:
        return self._database.db

    async def write(self, statements: list[Statement], files: Files = ()) -> list[int]:
        """Run ``statements`` in a transaction shared with whatever else is queued; return
        each statement's lastrowid once the transaction is durable. ``files``: (path, bytes)
        written first, in the same worker-thread hop, not fsynced (small bodies whose bytes
        ``statements`` commit: ``journal/inline.py``); when one cannot be written, this
        write's statements are not run and its OSError is raised (the others commit).
        Cancelling the wait does not cancel the write."""
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Write(statements, tuple(files), future))
        return await asyncio.shield(future)

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._run_batch(batch)
            except Exception as exc:  # every writer of the batch learns why
                for write in batch:
                    if not write.future.done():
                        write.future.set_exception(exc)
                continue
            self._checkpointer.committed()
            for write, rowids in zip(batch, results, strict=True):
                if write.future.done():
                    continue
                if isinstance(rowids, OSError):
                    write.future.set_exception(rowids)
                else:
                    write.future.set_result(rowids)

    async def _run_batch(self, batch: list[_Write]) -> list[list[int] | OSError]:
        # The whole transaction is one hop to the connection's thread (not one per statement),
        # the files of small bodies written in it too.
        return await self._database.call(lambda conn: _run_batch(conn, batch))

    async def inline_bodies(self) -> list[tuple[str, bytes]]:
        """(file name, bytes) of every small body kept in the journal itself."""
        async with self.db.execute("SELECT name, body FROM inline_bodies") as cursor:
            return [(str(r[0]), bytes(r[1])) for r in await cursor.fetchall()]

    async def jobs(self) -> list[Job]:
        """Every job, in acknowledgement order."""
        async with self.db.execute(
            "SELECT seq, bucket, key, kind, payload, size, created, attempts, dead, error"
            " FROM jobs ORDER BY seq"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            Job(r[0], r[1], r[2], decode_change(r[3], r[4]), r[5], r[6], r[7], bool(r[8]), r[9])
            for r in rows
        ]

    async def uploads(self) -> list[LocalUpload]:
        """The local multipart uploads, with their parts."""
        async with self.db.execute(
            "SELECT upload_id, bucket, key, payload, created FROM uploads"
        ) as cursor:
            uploads = {
                r[0]: LocalUpload(r[0], r[1], r[2], _headers(json.loads(r[3])["headers"]), r[4])
                for r in await cursor.fetchall()
            }
        async with self.db.execute("SELECT upload_id, part_number, payload FROM parts") as c:
            for upload_id, number, text in await c.fetchall():
                uploads[upload_id].parts[number] = _local_part(json.loads(text))
        return list(uploads.values())

    async def remote_uploads(self) -> list[tuple[str, str, str]]:
        """(upload id, bucket, key) of each multipart upload opened on the remote."""
        async with self.db.execute(
            "SELECT upload_id, bucket, key FROM remote_uploads ORDER BY created"
        ) as cursor:
            rows = await cursor.fetchall()
        return [(r[0], r[1], r[2]) for r in rows]


@dataclass(frozen=True, slots=True)
class _Write:
    statements: list[Statement]
    files: Files
    future: asyncio.Future[list[int]]


def _run_batch(conn: sqlite3.Connection, batch: list[_Write]) -> list[list[int] | OSError]:
    written = [_write_files(write.files) for write in batch]
    conn.execute("BEGIN IMMEDIATE")
    try:
        results: list[list[int] | OSError] = []
        for write, error in zip(batch, written, strict=True):
            if error is not None:
                results.append(error)
                continue
            results.append([conn.execute(sql, p).lastrowid or 0 for sql, p in write.statements])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        for write in batch:
            _remove_files(write.files)  # no job names them: never acknowledged
        raise
    return results


def _write_files(files: Files) -> OSError | None:
    """Write ``files`` (page cache only; the transaction makes their bytes durable)."""
    try:
        for path, data in files:
            with open(path, "wb") as file:
                file.write(data)
    except OSError as exc:
        _remove_files(files)
        return exc
    return None


def _remove_files(files: Files) -> None:
    for path, _ in files:
        with contextlib.suppress(OSError):
            path.unlink()


# -- statements: the one place records become rows -------------------------------------------


def insert_inline(name: str, body: bytes) -> Statement:
    return ("INSERT INTO inline_bodies (name, body) VALUES (?, ?)", (name, body))


def delete_inline(names: Sequence[str]) -> list[Statement]:
    return [("DELETE FROM inline_bodies WHERE name = ?", (name,)) for name in names]


def insert_job(bucket: str, key: str, change: Change, size: int, created: float) -> Statement:
    return (
        "INSERT INTO jobs (bucket, key, kind, payload, size, created) VALUES (?, ?, ?, ?, ?, ?)",
        (bucket, key, change.kind, encode_change(change), size, created),
    )


def delete_jobs(seqs: Sequence[int]) -> list[Statement]:
    return [("DELETE FROM jobs WHERE seq = ?", (seq,)) for seq in seqs]


def update_change(seq: int, change: Change, size: int) -> Statement:
    return (
        "UPDATE jobs SET payload = ?, size = ? WHERE seq = ?",
        (encode_change(change), size, seq),
    )


def mark(seq: int, *, attempts: int, dead: bool, error: str | None) -> Statement:
    return (
        "UPDATE jobs SET attempts = ?, dead = ?, error = ? WHERE seq = ?",
        (attempts, int(dead), error, seq),
    )


def insert_upload(upload: LocalUpload) -> Statement:
    return (
        "INSERT INTO uploads (upload_id, bucket, key, payload, created) VALUES (?, ?, ?, ?, ?)",
        (
            upload.upload_id,
            upload.bucket,
            upload.key,
            json.dumps({"headers": [list(pair) for pair in upload.headers]}),
            upload.created,
        ),
    )


def delete_upload(upload_id: str) -> Statement:
    return ("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))


def insert_part(upload_id: str, number: int, part: LocalPart) -> Statement:
    payload = {
        "file": part.file, "size": part.size, "md5": part.md5,
        "last_modified": part.uploaded.isoformat(),
        "checksums": [list(pair) for pair in part.checksums],
    }  # fmt: skip
    return (
        "INSERT OR REPLACE INTO parts (upload_id, part_number, payload) VALUES (?, ?, ?)",
        (upload_id, number, json.dumps(payload)),
    )


def open_remote_upload(upload_id: str, bucket: str, key: str, created: float) -> Statement:
    return (
        "INSERT OR REPLACE INTO remote_uploads (upload_id, bucket, key, created)"
        " VALUES (?, ?, ?, ?)",
        (upload_id, bucket, key, created),
    )


def close_remote_upload(upload_id: str) -> Statement:
    return ("DELETE FROM remote_uploads WHERE upload_id = ?", (upload_id,))


# -- payloads: JSON in the row, the format of every journal written so far --------------------


def encode_change(change: Change) -> str:
    match change:
        case Delete():
            return "{}"
        case Tagging(tags=tags):
            return json.dumps({"tags": None if tags is None else [list(t) for t in tags]})
    payload: dict[str, Any] = {
        "files": list(change.files),
        "headers": [list(pair) for pair in change.headers],
        "md5": change.md5,
        "sha256": change.sha256,
        "checksums": [list(pair) for pair in change.checksums],
        "last_modified": change.acknowledged.isoformat(),
        "etag": change.etag,
    }
    if change.parts:
        payload["parts"] = [
            {"offset": p.offset, "size": p.size, "md5": p.md5} for p in change.parts
        ]
    return json.dumps(payload)


def decode_change(kind: str, text: str) -> Change:
    """The change a row holds. Raises ValueError for a kind this version does not know."""
    payload = json.loads(text)
    if kind == "delete":
        return Delete()
    if kind == "tagging":
        tags = payload.get("tags")
        return Tagging(None if tags is None else tuple((str(k), str(v)) for k, v in tags))
    if kind not in ("put", "multipart"):
        raise ValueError(f"a journal job of unknown kind {kind!r}")
    made = Put if kind == "put" else Multipart
    return made(
        files=tuple(str(name) for name in payload["files"]),
        headers=_headers(payload["headers"]),
        etag=str(payload["etag"]),
        acknowledged=datetime.fromisoformat(payload["last_modified"]),
        md5=str(payload.get("md5", "")),
        sha256=str(payload.get("sha256", "")),
        checksums=_headers(payload.get("checksums", [])),
        parts=tuple(
            Part(int(p["size"]), str(p["md5"]), int(p.get("offset", 0)))
            for p in payload.get("parts") or []
        ),
    )


def _headers(pairs: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in pairs)


def _local_part(payload: dict[str, Any]) -> LocalPart:
    return LocalPart(
        file=str(payload["file"]),
        size=int(payload["size"]),
        md5=str(payload["md5"]),
        uploaded=datetime.fromisoformat(payload["last_modified"]),
        checksums=_headers(payload.get("checksums", [])),
    )
