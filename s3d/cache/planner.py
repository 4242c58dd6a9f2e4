"""Which cache entries to drop (pure): least recently used first, from the high watermark down
to the low one, never a pinned entry nor one being read or filled.

The volume under ``cache.max_size`` holds two kinds of bytes: the cache's clean entries, which
may be dropped (the remote has them), and pending writes, which may not (they are nowhere
else). Both count toward the watermarks; only clean entries are ever chosen. When pending bytes
alone pass the low watermark every clean entry that may go goes; a write that would take
pending bytes alone past the size is refused before it is read (``Gateway.admit``).

Bytes are counted as the disk holds them: a file takes whole filesystem blocks (``footprint``).

The cache asks ``needs_eviction`` after it adds bytes and before a write joins the pending
ones, gathers candidates oldest first, calls ``plan_eviction`` and carries out what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

FS_BLOCK = 4096
"""The allocation unit assumed for a data file (ext4, XFS, APFS and NTFS default to 4 KiB)."""


def footprint(length: int) -> int:
    """Bytes the disk gives up for a file of ``length`` bytes: whole filesystem blocks."""
    return -(-length // FS_BLOCK) * FS_BLOCK


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    stored: int
    """Bytes of the entry's recorded blocks."""
    last_access: float
    pinned: bool = False
    busy: bool = False
    """Being read or filled right now."""

    @property
    def on_disk(self) -> int:
        # Blocks are laid out at multiples of the block size: only the last one is partial.
        return footprint(self.stored)


@dataclass(frozen=True, slots=True)
class Usage:
    """What the shared volume holds, as the cache accounts it."""

    cached: int
    """Clean entries' bytes on disk, and the cache index's files."""
    pending: int = 0
    """Writes waiting for upload, and the write being admitted: never evicted."""
    free: int | None = None
    """Free bytes on the volume, when ``min_free_space`` asks to look."""

    @property
    def used(self) -> int:
        return self.cached + self.pending


@dataclass(frozen=True, slots=True)
class Budget:
    max_size: int
    high_watermark: float
    low_watermark: float
    min_free_space: int = 0

    def needs_eviction(self, usage: Usage) -> bool:
        """Over the high watermark, or short of the free space to keep."""
        if usage.used > self.max_size * self.high_watermark:
            return True
        free = usage.free
        return free is not None and self.min_free_space > 0 and free < self.min_free_space

    def to_free(self, usage: Usage) -> int:
        """Bytes of clean entries to drop: down to the low watermark, and enough to restore
        the free space; never more than the clean entries hold."""
        by_size = usage.used - int(self.max_size * self.low_watermark)
        by_space = 0
        free = usage.free
        if free is not None and self.min_free_space > 0 and free < self.min_free_space:
            slack = int(self.max_size * (self.high_watermark - self.low_watermark))
            by_space = self.min_free_space - free + slack
        return min(max(by_size, by_space, 0), usage.cached)


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
        freed += candidate.on_disk
    return chosen
