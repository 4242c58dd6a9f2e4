"""The DRS catalogue in SQLite (``<data-dir>/catalogue/catalogue.sqlite``, WAL).

Owns four tables. ``objects``: one row per DRS object (id, size, times, name, version, MIME
type, description, aliases). ``checksums``: its ``{type, checksum}`` pairs, keyed by checksum so
that a lookup by checksum is one index probe. ``access``: its ``s3`` access methods, one per
bucket and key the bytes were seen at, with the ETag they had and whether they still hold those
bytes (``available``), indexed by bucket and key. ``moved``: ids that were given to an object
before its SHA-256 was known (a multipart upload, a copy of an unknown source) and the id it
has now; lookups follow them.

Two connections: every write goes through one, one transaction at a time (``_lock``), so that
a long import and the registrations of objects passing through never interleave inside one
transaction; reads use the other and see only committed rows, so a DRS answer never shows an
import that may still be rolled back. synchronous=NORMAL: the catalogue is derived from the
objects themselves; a power cut may forget the last registrations, never corrupt the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite

from s3d.catalogue.index_format import AccessMethod, DrsRecord
from s3d.database import Database

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_time TEXT NOT NULL,
    updated_time TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    mime_type TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    aliases TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checksums (
    checksum TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (checksum, type, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS checksums_by_id ON checksums (id);
CREATE TABLE IF NOT EXISTS access (
    id TEXT NOT NULL,
    access_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    available INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (id, access_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS access_by_key ON access (bucket, key);
CREATE TABLE IF NOT EXISTS moved (
    old_id TEXT PRIMARY KEY,
    id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_UPSERT_OBJECT = """
INSERT INTO objects (id, size, created_time, updated_time, name, version, mime_type,
                     description, aliases)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    size = excluded.size,
    created_time = CASE WHEN objects.created_time = '' OR
        (excluded.created_time != '' AND excluded.created_time < objects.created_time)
        THEN excluded.created_time ELSE objects.created_time END,
    updated_time = max(objects.updated_time, excluded.updated_time),
    name = CASE WHEN excluded.name != '' THEN excluded.name ELSE objects.name END,
    version = CASE WHEN excluded.version != '' THEN excluded.version ELSE objects.version END,
    mime_type = CASE WHEN excluded.mime_type != '' THEN excluded.mime_type
        ELSE objects.mime_type END,
    description = CASE WHEN excluded.description != '' THEN excluded.description
        ELSE objects.description END,
    aliases = CASE WHEN excluded.aliases != '' THEN excluded.aliases ELSE objects.aliases END
"""
_INSERT_CHECKSUM = "INSERT OR IGNORE INTO checksums (checksum, type, id) VALUES (?, ?, ?)"
_UPSERT_ACCESS = """
INSERT INTO access (id, access_id, bucket, key, region, etag, available)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id, access_id) DO UPDATE SET
    bucket = excluded.bucket,
    key = excluded.key,
    region = CASE WHEN excluded.region != '' THEN excluded.region ELSE access.region END,
    etag = CASE WHEN excluded.etag != '' THEN excluded.etag ELSE access.etag END,
    available = {available}
"""
_INGEST_ACCESS = _UPSERT_ACCESS.format(available="min(access.available, excluded.available)")
"""An imported file is a snapshot: it may clear ``available``, never set it again over what
this node saw (an object overwritten here stays unavailable under its old id)."""
_REGISTER_ACCESS = _UPSERT_ACCESS.format(available="excluded.available")
"""An object seen passing through: what the key holds now."""

REBUILD_FROM = 50_000
"""An import bringing at least this many records (and more than the catalogue holds)
rebuilds the secondary indexes rather than updating them row by row."""
_SECONDARY = (
    ("checksums_by_id", "checksums (id)"),
    ("access_by_key", "access (bucket, key)"),
)
_STAGING = (
    (
        "staged_objects",
        "id, size, created_time, updated_time, name, version, mime_type, description, aliases",
    ),
    ("staged_checksums", "checksum, type, id"),
    ("staged_access", "id, access_id, bucket, key, region, etag, available"),
)
# "WHERE true" tells SQLite's parser the ON CONFLICT belongs to the INSERT, not to a join.
_MERGE_OBJECTS = _UPSERT_OBJECT.replace(
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "SELECT * FROM staged_objects WHERE true ORDER BY id"
)
_MERGE_CHECKSUMS = (
    "INSERT OR IGNORE INTO checksums (checksum, type, id) "
    "SELECT checksum, type, id FROM staged_checksums ORDER BY checksum, type, id"
)
_MERGE_ACCESS = _INGEST_ACCESS.replace(
    "VALUES (?, ?, ?, ?, ?, ?, ?)", "SELECT * FROM staged_access WHERE true ORDER BY id, access_id"
)
INGEST_BATCH = 2000
"""Records parsed, then written, at a time while importing."""


@dataclass(frozen=True, slots=True)
class CatalogueTotals:
    objects: int
    bytes: int
    access_methods: int
    available: int


class CatalogueStore:
    """Enter to open, exit to close."""

    def __init__(self, path: Path) -> None:
        self._path = path
        # Every write goes through this connection; the store begins and commits itself.
        self._writer = Database(
            path,
            "catalogue",
            synchronous="NORMAL",
            autocommit=True,
            foreign_keys=False,
            # 32 MiB of page cache: an import's random-id inserts stay mostly in memory.
            pragmas=("busy_timeout=30000", "cache_size=-32768"),
        )
        self._reader: sqlite3.Connection | None = None
        self._reads: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        try:
            await self._writer.open(_SCHEMA)
            self._reads = ThreadPoolExecutor(1, thread_name_prefix="s3d-catalogue-read")
            loop = asyncio.get_running_loop()
            self._reader = await loop.run_in_executor(self._reads, self._open_reader)
        except BaseException:
            await self.aclose()
            raise
        return self

    def _open_reader(self) -> sqlite3.Connection:
        # Used on the reads' one thread only, but created there too: check_same_thread holds.
        db = sqlite3.connect(self._path, isolation_level=None)
        db.execute("PRAGMA query_only=ON")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA cache_size=-32768")
        return db

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        reader, reads, self._reader, self._reads = self._reader, self._reads, None, None
        if reader is not None and reads is not None:
            await asyncio.get_running_loop().run_in_executor(reads, reader.close)
        if reads is not None:
            reads.shutdown(wait=False)
        await self._writer.aclose()

    @property
    def _w(self) -> aiosqlite.Connection:
        return self._writer.db

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._w
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # Writes.

    async def register(self, record: DrsRecord, *, replaces: Sequence[str] = ()) -> None:
        """Record ``record`` as seen passing through: its access methods are what their keys
        hold now, so every other object's method at those keys becomes unavailable. ``replaces``:
        provisional ids of the same object, whose access methods move to ``record.id``."""
        async with self._transaction() as db:
            for old in replaces:
                if old != record.id:
                    await self._move(db, old, record.id)
            await _write_rows(db, rows_of([record]), _REGISTER_ACCESS)
            for method in record.access_methods:
                await db.execute(
                    "UPDATE access SET available = 0 WHERE bucket = ? AND key = ? "
                    "AND available = 1 AND NOT (id = ? AND access_id = ?)",
                    (method.bucket, method.key, record.id, method.access_id),
                )

    async def _move(self, db: aiosqlite.Connection, old: str, new: str) -> None:
        await db.execute(
            "INSERT OR IGNORE INTO access (id, access_id, bucket, key, region, etag, available) "
            "SELECT ?, access_id, bucket, key, region, etag, available FROM access WHERE id = ?",
            (new, old),
        )
        await db.execute(
            "INSERT OR IGNORE INTO checksums (checksum, type, id) "
            "SELECT checksum, type, ? FROM checksums WHERE id = ?",
            (new, old),
        )
        for table in ("access", "checksums", "objects"):
            await db.execute(f"DELETE FROM {table} WHERE id = ?", (old,))
        await db.execute("UPDATE moved SET id = ? WHERE id = ?", (new, old))
        await db.execute("INSERT OR REPLACE INTO moved (old_id, id) VALUES (?, ?)", (old, new))

    async def unavailable(self, bucket: str, key: str) -> int:
        """Mark every access method at ``bucket``/``key`` unavailable (the key was deleted or
        now holds other bytes); how many were."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE access SET available = 0 WHERE bucket = ? AND key = ? AND available = 1",
                (bucket, key),
            )
            return cursor.rowcount

    async def retag(self, bucket: str, key: str, old: str, new: str) -> None:
        """Access methods at ``bucket``/``key`` recorded with ETag ``old`` now carry ``new``
        (the same bytes: the remote's ETag of what s3d acknowledged as ``old``)."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE access SET etag = ? WHERE bucket = ? AND key = ? AND etag = ?",
                (new, bucket, key, old),
            )

    async def unavailable_method(self, object_id: str, access_id: str) -> None:
        """One object's access method no longer reaches its bytes."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE access SET available = 0 WHERE id = ? AND access_id = ?",
                (object_id, access_id),
            )

    async def ingest(
        self, records: Iterator[DrsRecord], progress: Callable[[int], None] | None = None
    ) -> int:
        """Upsert every record of ``records`` in one transaction: if the iterator raises (a bad
        file), nothing it yielded is kept. When the records outnumber those already here, the
        secondary indexes are dropped and rebuilt at the end (one sort instead of a random
        insert per row). Returns the number of records. ``progress`` is called with the count
        so far after each batch, from the worker thread.

        The whole import runs in one worker thread on a connection of its own, parsing and
        writing a batch at a time: bounded memory, and no Python thread contending for the
        GIL with SQLite's bindings (which halved the speed when parsing ran in another)."""
        async with self._lock:
            return await asyncio.to_thread(self._ingest, records, progress)

    def _ingest(self, records: Iterator[DrsRecord], progress: Callable[[int], None] | None) -> int:
        temporary = self._path.parent / "tmp"
        temporary.mkdir(exist_ok=True)
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            # SQLite's temporary files (staging tables, sorts) go to the data directory, not to
            # /var/tmp, whose size has nothing to do with the volume s3d was given. (A setting
            # of the whole process: the catalogue's imports are what make temporary files.)
            quoted = str(temporary).replace("'", "''")
            db.execute(f"PRAGMA temp_store_directory = '{quoted}'")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("BEGIN IMMEDIATE")
            try:
                count = self._ingest_in(db, records, progress)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            # The import went through the WAL: give its space back now rather than at close.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return count
        finally:
            db.close()

    @staticmethod
    def _ingest_in(
        db: sqlite3.Connection,
        records: Iterator[DrsRecord],
        progress: Callable[[int], None] | None,
    ) -> int:
        """Rows land first in temporary tables, in file order (appending is cheap), and are
        then upserted sorted by key: SQLite sorts with its external sorter in bounded memory,
        and the tables' B-trees fill in order instead of at a random page per row, which kept
        a million records from fitting any cache."""
        db.execute("PRAGMA temp_store=FILE")
        for name, columns in _STAGING:
            db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
            db.execute(f"DELETE FROM {name}")
        count = 0
        while batch := list(itertools.islice(records, INGEST_BATCH)):
            rows = rows_of(batch)
            db.executemany("INSERT INTO staged_objects VALUES (?,?,?,?,?,?,?,?,?)", rows.objects)
            db.executemany("INSERT INTO staged_checksums VALUES (?,?,?)", rows.checksums)
            db.executemany("INSERT INTO staged_access VALUES (?,?,?,?,?,?,?)", rows.methods)
            count += len(batch)
            if progress is not None:
                progress(count)
        (existing,) = db.execute("SELECT count(*) FROM objects").fetchone()
        rebuild = count >= REBUILD_FROM and count > existing
        if rebuild:
            for name, _ in _SECONDARY:
                db.execute(f"DROP INDEX IF EXISTS {name}")
        db.execute(_MERGE_OBJECTS)
        db.execute(_MERGE_CHECKSUMS)
        db.execute(_MERGE_ACCESS)
        if rebuild:
            for name, columns in _SECONDARY:
                db.execute(f"CREATE INDEX {name} ON {columns}")
        for name, _ in _STAGING:
            db.execute(f"DELETE FROM {name}")
        return count

    async def set_meta(self, values: dict[str, str]) -> None:
        async with self._transaction() as db:
            await db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(values.items())
            )

    # Reads: each one sync function, run on the reader's own thread (one hop per lookup).

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None or self._reads is None:
            raise RuntimeError("the catalogue is closed")
        reader = self._reader
        return await asyncio.get_running_loop().run_in_executor(self._reads, fn, reader)

    async def meta(self) -> dict[str, str]:
        return await self._read(lambda db: dict(db.execute("SELECT name, value FROM meta")))

    async def get(self, object_id: str) -> DrsRecord | None:
        """The object with this id, or the one a provisional id moved to."""

        def get(db: sqlite3.Connection) -> DrsRecord | None:
            records = _records(db, [object_id])
            if records:
                return records[0]
            row = db.execute("SELECT id FROM moved WHERE old_id = ?", (object_id,)).fetchone()
            records = _records(db, [row[0]]) if row else []
            return records[0] if records else None

        return await self._read(get)

    async def by_checksum(self, checksum: str, kind: str | None = None) -> list[DrsRecord]:
        """Objects having this checksum (of type ``kind``, or of any type), in id order."""
        args: tuple[str, ...]
        if kind is None:
            sql, args = "SELECT DISTINCT id FROM checksums WHERE checksum = ?", (checksum,)
        else:
            sql = "SELECT id FROM checksums WHERE checksum = ? AND type = ?"
            args = (checksum, kind)
        return await self._read(
            lambda db: _records(db, sorted(row[0] for row in db.execute(sql, args)))
        )

    async def at_key(self, bucket: str, key: str) -> list[tuple[str, AccessMethod]]:
        """(object id, access method) of every method recorded at ``bucket``/``key``."""
        return await self._read(
            lambda db: [
                (row[0], _method(row))
                for row in db.execute(
                    "SELECT id, access_id, bucket, key, region, etag, available FROM access "
                    "WHERE bucket = ? AND key = ?",
                    (bucket, key),
                )
            ]
        )

    async def page(self, after: str = "", limit: int = 1000) -> list[DrsRecord]:
        """Up to ``limit`` objects with ids after ``after``, in id order."""
        sql = "SELECT id FROM objects WHERE id > ? ORDER BY id LIMIT ?"
        return await self._read(
            lambda db: _records(db, [row[0] for row in db.execute(sql, (after, limit))])
        )

    async def totals(self) -> CatalogueTotals:
        def totals(db: sqlite3.Connection) -> CatalogueTotals:
            objects, size = db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM objects"
            ).fetchone()
            methods, available = db.execute(
                "SELECT count(*), coalesce(sum(available), 0) FROM access"
            ).fetchone()
            return CatalogueTotals(objects, size, methods, available)

        return await self._read(totals)


def _records(db: sqlite3.Connection, ids: list[str]) -> list[DrsRecord]:
    """The records with these ids (those that exist), in the order given."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {row[0]: row for row in db.execute(f"SELECT * FROM objects WHERE id IN ({marks})", ids)}
    checksums: dict[str, list[tuple[str, str]]] = {}
    for ident, kind, value in db.execute(
        f"SELECT id, type, checksum FROM checksums WHERE id IN ({marks})", ids
    ):
        checksums.setdefault(ident, []).append((kind, value))
    methods: dict[str, list[AccessMethod]] = {}
    for row in db.execute(
        "SELECT id, access_id, bucket, key, region, etag, available FROM access "
        f"WHERE id IN ({marks}) ORDER BY access_id",
        ids,
    ):
        methods.setdefault(row[0], []).append(_method(row))
    return [
        _record(rows[i], _sha256_first(checksums.get(i, [])), methods.get(i, []))
        for i in ids
        if i in rows
    ]


_CHECKSUM_ORDER = {"sha256": 0, "md5": 1, "etag": 2}


def _sha256_first(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda pair: (_CHECKSUM_ORDER.get(pair[0], 9), pair))


def _method(row: Sequence[Any]) -> AccessMethod:
    _, access_id, bucket, key, region, etag, available = row
    return AccessMethod(access_id, bucket, key, region, bool(available), etag)


def _record(
    row: Sequence[Any], checksums: list[tuple[str, str]], methods: list[AccessMethod]
) -> DrsRecord:
    ident, size, created, updated, name, version, mime_type, description, aliases = row
    return DrsRecord(
        id=ident,
        size=size,
        created_time=created,
        updated_time=updated,
        checksums=tuple(checksums),
        access_methods=tuple(methods),
        name=name,
        version=version,
        mime_type=mime_type,
        description=description,
        aliases=tuple(json.loads(aliases)) if aliases else (),
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """Records as the parameters of the catalogue's statements (built off the event loop)."""

    objects: list[tuple[Any, ...]]
    checksums: list[tuple[str, str, str]]
    methods: list[tuple[Any, ...]]


def rows_of(records: Iterable[DrsRecord]) -> Rows:
    objects: list[tuple[Any, ...]] = []
    checksums: list[tuple[str, str, str]] = []
    methods: list[tuple[Any, ...]] = []
    for r in records:
        aliases = json.dumps(list(r.aliases)) if r.aliases else ""
        objects.append(
            (
                r.id,
                r.size,
                r.created_time,
                r.updated_time or r.created_time,
                r.name,
                r.version,
                r.mime_type,
                r.description,
                aliases,
            )
        )
        checksums.extend((value, kind, r.id) for kind, value in r.checksums)
        methods.extend(
            (r.id, m.access_id, m.bucket, m.key, m.region, m.etag, int(m.available))
            for m in r.access_methods
        )
    return Rows(objects, checksums, methods)


async def _write_rows(db: aiosqlite.Connection, rows: Rows, access_sql: str) -> None:
    await db.executemany(_UPSERT_OBJECT, rows.objects)
    await db.executemany(_INSERT_CHECKSUM, rows.checksums)
    await db.executemany(access_sql, rows.methods)
