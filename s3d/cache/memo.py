"""The most recently used index rows, kept in memory so that a hit costs no SQLite round trip.

Owned by ``CacheIndex``, which updates it in every method that changes a row, so it can never
say more than the index does. Bounded (least recently used rows leave first); ``get`` hands out
copies of the block maps, never the memo's own.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from s3d.cache.entry import Entry

CAPACITY = 20_000


class EntryMemo:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._rows: OrderedDict[tuple[str, str], tuple[Entry, dict[int, str]]] = OrderedDict()
        self._keys: dict[str, tuple[str, str]] = {}

    def get(self, bucket: str, key: str) -> tuple[Entry, dict[int, str]] | None:
        row = self._rows.get((bucket, key))
        if row is None:
            return None
        self._rows.move_to_end((bucket, key))
        return row[0], dict(row[1])

    def put(self, entry: Entry, blocks: dict[int, str]) -> None:
        where = (entry.bucket, entry.key)
        old = self._rows.pop(where, None)
        if old is not None:
            self._keys.pop(old[0].id, None)
        self._rows[where] = (entry, dict(blocks))
        self._keys[entry.id] = where
        while len(self._rows) > self._capacity:
            _, (evicted, _blocks) = self._rows.popitem(last=False)
            self._keys.pop(evicted.id, None)

    def update(self, entry_id: str, **changes: object) -> None:
        where = self._keys.get(entry_id)
        if where is not None:
            entry, blocks = self._rows[where]
            self._rows[where] = (dataclasses.replace(entry, **changes), blocks)  # type: ignore[arg-type]

    def block(self, entry_id: str, index: int, crc32c: str | None) -> None:
        """Record a block as complete (with its CRC32C), or forget it (None)."""
        where = self._keys.get(entry_id)
        if where is None:
            return
        blocks = self._rows[where][1]
        if crc32c is None:
            blocks.pop(index, None)
        else:
            blocks[index] = crc32c

    def drop(self, entry_id: str) -> None:
        where = self._keys.pop(entry_id, None)
        if where is not None:
            self._rows.pop(where, None)

    def drop_key(self, bucket: str, key: str) -> None:
        row = self._rows.pop((bucket, key), None)
        if row is not None:
            self._keys.pop(row[0].id, None)
