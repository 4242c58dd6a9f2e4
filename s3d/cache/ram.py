"""Small cached objects kept in memory as well, so that a hot small read costs no file work.

Holds the bytes of whole objects up to ``ITEM_MAX`` that were read from disk (and checked)
to answer a hit, least recently used first out, within ``cache.memory_size`` bytes. Keyed by
entry id: a changed object is a new entry with a new id, so stale bytes can never be served;
ids of dropped entries are forgotten at once to free the memory.
"""

from __future__ import annotations

from collections import OrderedDict

ITEM_MAX = 256 * 1024


class RamTier:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, entry_id: str) -> bytes | None:
        data = self._items.get(entry_id)
        if data is not None:
            self._items.move_to_end(entry_id)
        return data

    def keep(self, entry_id: str, data: bytes) -> None:
        if len(data) > min(ITEM_MAX, self._capacity) or entry_id in self._items:
            return
        self._items[entry_id] = data
        self._size += len(data)
        while self._size > self._capacity:
            _, evicted = self._items.popitem(last=False)
            self._size -= len(evicted)

    def forget(self, entry_id: str) -> None:
        data = self._items.pop(entry_id, None)
        if data is not None:
            self._size -= len(data)

    @property
    def size(self) -> int:
        return self._size
