"""Which cache entries to drop (pure): least recently used first, from the high watermark down
to the low one, never a pinned entry nor one being read or filled.

The cache loop asks ``needs_eviction`` after it adds bytes, gathers candidates oldest first,
calls ``plan_eviction`` and carries out what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    stored: int
    """Bytes the entry holds on disk."""
    last_access: float
    pinned: bool = False
    busy: bool = False
    """Being read or filled right now."""


@dataclass(frozen=True, slots=True)
class Budget:
    max_size: int
    high_watermark: float
    low_watermark: float
    min_free_space: int = 0

    def needs_eviction(self, used: int, free: int | None) -> bool:
        """Over the high watermark, or short of the free space to keep."""
        if used > self.max_size * self.high_watermark:
            return True
        return free is not None and self.min_free_space > 0 and free < self.min_free_space

    def to_free(self, used: int, free: int | None) -> int:
        """Bytes to drop: down to the low watermark, and enough to restore the free space."""
        by_size = used - int(self.max_size * self.low_watermark)
        by_space = 0
        if free is not None and self.min_free_space > 0:
            slack = int(self.max_size * (self.high_watermark - self.low_watermark))
            by_space = self.min_free_space - free + slack if free < self.min_free_space else 0
        return max(by_size, by_space, 0)


def plan_eviction(candidates: list[Candidate], to_free: int) -> list[Candidate]:
    """The entries to drop, least recently used first, until ``to_free`` bytes are freed
    (or the evictable candidates run out)."""
    chosen: list[Candidate] = []
    freed = 0
    for candidate in sorted(candidates, key=lambda c: c.last_access):
        if freed >= to_free:
            break
        if candidate.pinned or candidate.busy:
            continue
        chosen.append(candidate)
        freed += candidate.stored
    return chosen
