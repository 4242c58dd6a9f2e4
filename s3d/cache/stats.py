"""Counters of the read cache, as ``s3d status`` shows them.

Owned by the cache service; plain integers updated on the event loop, read by the admin
endpoint. Counts are since the daemon started, except ``entries``, ``bytes`` and
``disk_bytes`` (what is on disk).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class CacheStats:
    enabled: bool = True
    entries: int = 0
    bytes: int = 0
    max_size: int = 0
    disk_bytes: int = 0
    """What the cache takes on disk: data files in whole filesystem blocks, and the index."""
    pinned: int = 0
    hits: int = 0
    misses: int = 0
    revalidated: int = 0
    stale: int = 0
    bypass: int = 0
    evictions: int = 0
    evicted_bytes: int = 0
    remote_fetches: int = 0
    """Remote GETs made to fill the cache (one per miss or per run of missing blocks)."""
    corrupt_dropped: int = 0

    @property
    def hit_ratio(self) -> float:
        """Reads answered from local bytes (hit, revalidated, stale) over all cacheable reads."""
        local = self.hits + self.revalidated + self.stale
        total = local + self.misses
        return local / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        document: dict[str, object] = asdict(self)
        document["hit_ratio"] = round(self.hit_ratio, 4)
        return document
