"""Metrics read from the services at scrape time: cache, journal, catalogue, credentials.

Nothing here runs on the request path. A scrape first awaits what must be awaited (the
catalogue's counts live in SQLite: ``refresh``, at most every ``CATALOGUE_EVERY`` seconds, as
counting a catalogue of millions of records takes a worker thread a while), then ``collect``
reads the rest, which are plain numbers in memory. A source that is absent (write-through: no
journal; catalogue off) exports nothing rather than zeros that would read as "healthy".
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from s3d.cache.stats import CacheStats

Status = Mapping[str, object]
CATALOGUE_EVERY = 10.0
"""Seconds the catalogue's counts are reused between scrapes."""

# (metric name without _total, help, key of the status document), counters first.
_JOURNAL_COUNTERS = (
    ("s3d_journal_uploads", "Changes uploaded to the remote.", "uploaded"),
    ("s3d_journal_retries", "Uploads that failed and were scheduled again.", "retried"),
    ("s3d_journal_dead_lettered", "Changes moved to the dead letters.", "dead_lettered"),
    ("s3d_journal_superseded", "Pending changes skipped for a newer one.", "superseded"),
    ("s3d_journal_multipart_expired", "Local multipart uploads given up idle.", "uploads_expired"),
    (
        "s3d_journal_multipart_reclaimed",
        "Local multipart uploads given up to free space.",
        "uploads_reclaimed",
    ),
)
_JOURNAL_GAUGES = (
    ("s3d_journal_pending_changes", "Changes waiting for upload (dead letters aside).", "queue"),
    ("s3d_journal_uploading", "Uploads running now.", "uploading"),
    ("s3d_journal_pending_bytes", "Bytes waiting for upload, local multipart parts included.",
     "pending_bytes"),
    ("s3d_journal_oldest_pending_seconds", "Age of the oldest change waiting for upload.",
     "oldest_pending_seconds"),
    ("s3d_journal_dead_letters", "Changes the remote refused for good, kept until retried or "
     "discarded.", "dead_letters"),
    ("s3d_journal_multipart_uploads", "Local multipart uploads in progress.",
     "uploads_in_progress"),
    ("s3d_journal_remote_uploads_to_abort", "Multipart uploads left open on the remote.",
     "remote_uploads_to_abort"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the state comes from; each None when the daemon does not have that part."""

    cache: Callable[[], CacheStats] | None = None
    journal: Callable[[], Status] | None = None
    catalogue: Callable[[], Awaitable[Status]] | None = None
    credentials: Callable[[], Status] | None = None


class StateCollector(Collector):
    """A ``prometheus_client`` collector over ``Sources``."""

    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self._catalogue: Status | None = None
        self._catalogue_read = -math.inf

    async def refresh(self) -> None:
        """Read what must be awaited, before a scrape. Errors come from the catalogue's store."""
        if self._sources.catalogue is None:
            return
        now = time.monotonic()
        if now - self._catalogue_read >= CATALOGUE_EVERY:
            self._catalogue = await self._sources.catalogue()
            self._catalogue_read = now

    def collect(self) -> Iterator[Metric]:
        sources = self._sources
        if sources.cache is not None:
            yield from _cache(sources.cache())
        if sources.journal is not None:
            yield from _journal(sources.journal())
        if self._catalogue is not None:
            yield _gauge("s3d_catalogue_objects", "Objects in the DRS catalogue.",
                         _number(self._catalogue, "objects"))  # fmt: skip
            yield _gauge("s3d_catalogue_bytes", "Bytes of the objects in the DRS catalogue.",
                         _number(self._catalogue, "bytes"))  # fmt: skip
        if sources.credentials is not None:
            yield _gauge(
                "s3d_remote_credentials_expiry_timestamp_seconds",
                "When the remote credentials expire (Unix time); +Inf when they do not.",
                _expiry(sources.credentials()),
            )


def _cache(stats: CacheStats) -> Iterator[Metric]:
    reads = CounterMetricFamily(
        "s3d_cache_reads", "Cacheable reads by how the cache answered them.", labels=("result",)
    )
    for result, count in (
        ("hit", stats.hits),
        ("miss", stats.misses),
        ("revalidated", stats.revalidated),
        ("stale", stats.stale),
        ("bypass", stats.bypass),
    ):
        reads.add_metric((result,), count)
    yield reads
    yield _counter("s3d_cache_evictions", "Cache entries evicted.", stats.evictions)
    yield _counter("s3d_cache_evicted_bytes", "Bytes evicted from the cache.", stats.evicted_bytes)
    yield _counter("s3d_cache_remote_fetches", "Remote GETs made to fill the cache.",
                   stats.remote_fetches)  # fmt: skip
    yield _counter("s3d_cache_corrupt_dropped", "Cache entries dropped as corrupt.",
                   stats.corrupt_dropped)  # fmt: skip
    yield _gauge("s3d_cache_entries", "Objects (or parts of objects) in the cache.", stats.entries)
    yield _gauge("s3d_cache_bytes", "Bytes of object data in the cache.", stats.bytes)
    yield _gauge("s3d_cache_disk_bytes", "Disk the cache takes: data in whole blocks, and index.",
                 stats.disk_bytes)  # fmt: skip
    yield _gauge("s3d_cache_limit_bytes", "The volume cache and pending writes share "
                 "(cache.max_size).", stats.max_size)  # fmt: skip


def _journal(status: Status) -> Iterator[Metric]:
    for name, text, key in _JOURNAL_COUNTERS:
        yield _counter(name, text, _number(status, key))
    for name, text, key in _JOURNAL_GAUGES:
        yield _gauge(name, text, _number(status, key))


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _number(status: Status, key: str) -> float:
    value = status.get(key, 0)
    return float(value) if isinstance(value, int | float) else 0.0


def _expiry(credentials: Status) -> float:
    text = credentials.get("expiry")
    if not isinstance(text, str):
        return math.inf
    return datetime.fromisoformat(text).timestamp()
