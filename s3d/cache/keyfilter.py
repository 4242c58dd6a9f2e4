"""Which keys may have an entry in the cache index, answered in memory.

Every write through s3d drops the key's cache entry, and most written keys were never cached:
asking SQLite each time cost a thread hop on the acknowledgement's path. A counting filter
(one byte per slot, slots chosen by the key's hash) says "certainly not" for most of them.

Never a false "no": a slot is incremented before the row is inserted and decremented only
after a row of that key is known to be gone; a slot that reached 255 is stuck there (it may
say "maybe" for ever, never "no"). A "maybe" costs the lookup the index did before.
"""

from __future__ import annotations

SLOTS = 1 << 20
"""1 MiB of counters: under 1% false "maybe" up to ~10,000 cached keys, 10% at ~100,000."""
_STUCK = 255


class KeyFilter:
    def __init__(self, slots: int = SLOTS) -> None:
        self._counts = bytearray(slots)
        self._slots = slots

    def _slot(self, bucket: str, key: str) -> int:
        return hash((bucket, key)) % self._slots

    def add(self, bucket: str, key: str) -> None:
        """Call before inserting the key's row."""
        slot = self._slot(bucket, key)
        if self._counts[slot] < _STUCK:
            self._counts[slot] += 1

    def remove(self, bucket: str, key: str) -> None:
        """Call once a row of the key is gone."""
        slot = self._slot(bucket, key)
        if 0 < self._counts[slot] < _STUCK:
            self._counts[slot] -= 1

    def may_hold(self, bucket: str, key: str) -> bool:
        return self._counts[self._slot(bucket, key)] != 0
