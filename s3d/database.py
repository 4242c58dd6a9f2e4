"""The life of one SQLite index file: open it with the pragmas s3d relies on, close it once.

Every index (the cache's, the journal's, the catalogue's) is one SQLite file in WAL mode,
reached through aiosqlite so that no query blocks the event loop. What differs between them is
said when opening: how hard a commit is flushed (``synchronous``: ``FULL`` for the journal,
whose commit is an acknowledgement, ``NORMAL`` for indexes that can be rebuilt or refetched),
whether the driver opens transactions itself (``autocommit`` False, Python's default) or the
store writes ``BEGIN``/``COMMIT`` (True), foreign keys, and any further pragmas.

Owns one connection; invariant: ``db`` is the open connection or raises, and ``aclose`` may be
called any number of times. A store keeps one ``Database`` and delegates to it::

    self._database = Database(path, "journal", synchronous="FULL", autocommit=True)
    await self._database.open(_SCHEMA)      # in __aenter__
    self._database.db                       # the connection, or RuntimeError once closed
    await self._database.aclose()           # in aclose, idempotent
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import aiosqlite

Synchronous = Literal["NORMAL", "FULL"]
T = TypeVar("T")


class Database:
    """One SQLite file behind one aiosqlite connection; ``what`` names it in errors."""

    def __init__(
        self,
        path: Path,
        what: str,
        *,
        synchronous: Synchronous,
        autocommit: bool = False,
        foreign_keys: bool = True,
        pragmas: Sequence[str] = (),
    ) -> None:
        self.path = path
        self._what = what
        self._pragmas = (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            *(("foreign_keys=ON",) if foreign_keys else ()),
            *pragmas,
        )
        self._autocommit = autocommit
        self._db: aiosqlite.Connection | None = None

    async def open(self, schema: str = "") -> aiosqlite.Connection:
        """Create the parent directory, connect, set the pragmas and run ``schema`` (committed).
        Raises OSError or sqlite3.Error; the connection is closed again then. Cancelled, the
        connection is closed too."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._autocommit:
            db = await aiosqlite.connect(self.path, isolation_level=None)
        else:
            db = await aiosqlite.connect(self.path)
        try:
            for pragma in self._pragmas:
                await db.execute(f"PRAGMA {pragma}")
            if schema:
                await db.executescript(schema)
                await db.commit()
        except BaseException:
            await db.close()
            raise
        self._db = db
        return db

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection; RuntimeError before ``open`` and after ``aclose``."""
        if self._db is None:
            raise RuntimeError(f"the {self._what} is closed")
        return self._db

    async def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` on the connection's own thread, after the queries queued
        before it: several statements and their commit for one thread hop (each aiosqlite
        call is a hop, and on a busy event loop every hop waits its turn). ``work`` must
        commit or roll back what it starts. Raises what ``work`` raises; cancelling the wait
        does not stop ``work``."""
        db = self.db
        # aiosqlite's queue of work for its thread (private, stable since 0.17): the same
        # path its own execute() takes, with a function of ours instead of one statement.
        result: T = await db._execute(work, db._conn)  # type: ignore[no-untyped-call]
        return result

    async def aclose(self) -> None:
        """Close the connection (waiting for its thread to finish). Idempotent."""
        db, self._db = self._db, None
        if db is not None:
            await db.close()
