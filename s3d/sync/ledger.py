"""What the sync folders know the remote has: ``<data-dir>/sync/ledger.sqlite``.

A row (folder, path, inode, size, mtime) is written, durably, once the journal has reported a
file's put uploaded, and before anything is done to the local file. It is what lets a restart
tell "uploaded, the deletion or move did not happen yet" (do it now, upload nothing) and,
for folders that keep their files, "uploaded already" (skip) from "new" — a file whose
inode, size and mtime are not the row's is new. Rows of deleted or moved files are removed
once that is done; rows of kept files that are gone are pruned at each rescan.
"""

from __future__ import annotations

from typing import Self

from s3d.database import Database
from s3d.sync.ingest import Identity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploaded (
    folder TEXT NOT NULL,
    path TEXT NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (folder, path)
);
"""


class Ledger:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def __aenter__(self) -> Self:
        await self._database.open(_SCHEMA)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._database.aclose()

    async def rows(self, folder: str) -> dict[str, Identity]:
        """The files of ``folder`` known uploaded, by relative path."""
        cursor = await self._database.db.execute(
            "SELECT path, ino, size, mtime_ns FROM uploaded WHERE folder = ?", (folder,)
        )
        return {row[0]: Identity(row[1], row[2], row[3]) for row in await cursor.fetchall()}

    async def add(self, folder: str, path: str, identity: Identity) -> None:
        db = self._database.db
        await db.execute(
            "INSERT OR REPLACE INTO uploaded VALUES (?, ?, ?, ?, ?)",
            (folder, path, identity.ino, identity.size, identity.mtime_ns),
        )
        await db.commit()

    async def remove(self, folder: str, paths: list[str]) -> None:
        if not paths:
            return
        db = self._database.db
        await db.executemany(
            "DELETE FROM uploaded WHERE folder = ? AND path = ?", [(folder, p) for p in paths]
        )
        await db.commit()
