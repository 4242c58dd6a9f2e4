"""Object tag sets kept with their cache entry (the index's ``entry_tags`` table): a read rule
that tests object tags costs one GetObjectTagging per key and freshness, and the answer
survives a restart. A tag set is kept only while its key has an entry, and goes with it
(deleted with the entry: evicted, invalidated by a write through s3d, replaced by a refill).
"""

from __future__ import annotations

import json
import sqlite3

from s3d.cache.index import CacheIndex


class TagSets:
    def __init__(self, index: CacheIndex) -> None:
        self._index = index

    async def get(self, bucket: str, key: str) -> tuple[float, dict[str, str]] | None:
        """(when it was fetched, wall clock; the tags) of the key's entry, or None."""
        row = await self._index.run(lambda conn: _read(conn, bucket, key))
        return (float(row[0]), dict(json.loads(row[1]))) if row is not None else None

    async def keep(self, bucket: str, key: str, tags: dict[str, str], when: float) -> bool:
        """Keep ``tags`` with the key's entry; False when the key has none (not cached yet)."""
        text = json.dumps(tags, sort_keys=True)
        return await self._index.run(lambda conn: _keep(conn, bucket, key, text, when))


def _read(conn: sqlite3.Connection, bucket: str, key: str) -> tuple[float, str] | None:
    found = conn.execute(
        "SELECT t.fetched_at, t.tags FROM entry_tags t JOIN entries e ON e.id = t.entry_id"
        " WHERE e.bucket = ? AND e.key = ?",
        (bucket, key),
    ).fetchall()  # read to the end: an open statement would block another's commit
    return (found[0][0], found[0][1]) if found else None


def _keep(conn: sqlite3.Connection, bucket: str, key: str, tags: str, when: float) -> bool:
    try:
        cursor = conn.execute(
            "INSERT OR REPLACE INTO entry_tags (entry_id, fetched_at, tags)"
            " SELECT id, ?, ? FROM entries WHERE bucket = ? AND key = ?",
            (when, tags, bucket, key),
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return cursor.rowcount > 0
