"""What one run measured: rows of repeated measurements, and their summaries.

A row is one source (moto direct, s3d warm…) in one measurement (large or small GETs). Rows
keep every repeat's value, so the JSON result holds the raw numbers behind each median.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99): a value that was measured."""
    ordered = sorted(values)
    rank = min(max(math.ceil(fraction * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


@dataclass(slots=True)
class LargeRow:
    """GETs of the large object: MiB/s per read."""

    id: str
    label: str
    check: str
    """How the bytes were verified, e.g. "sha256 once, size on every read"."""
    mib_per_s: list[float] = field(default_factory=list)
    verified: bool = False
    skipped: str = ""
    cache: Counter[str] = field(default_factory=Counter)
    """``x-s3d-cache`` answers to the timed reads (s3d rows only): were warm reads hits?"""

    def add(self, nbytes: int, seconds: float, cache: str | None = None) -> None:
        self.mib_per_s.append(nbytes / MiB / seconds)
        if cache is not None:
            self.cache[cache] += 1

    @property
    def spread(self) -> Spread | None:
        return Spread.of(self.mib_per_s) if self.mib_per_s else None


@dataclass(slots=True)
class SmallRow:
    """Passes of small GETs at a fixed concurrency: requests per second per pass, and the
    latency of every request of every pass."""

    id: str
    label: str
    check: str
    per_s: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    verified: bool = False
    skipped: str = ""
    cache: Counter[str] = field(default_factory=Counter)

    def add(self, rate: float, latencies: Sequence[float], cache: Counter[str]) -> None:
        self.per_s.append(rate)
        self.latencies.extend(latencies)
        self.cache.update(cache)

    @property
    def spread(self) -> Spread | None:
        return Spread.of(self.per_s) if self.per_s else None

    def latency_ms(self, fraction: float) -> float | None:
        return percentile(self.latencies, fraction) * 1000 if self.latencies else None


@dataclass(slots=True)
class Run:
    """Everything one run produced, before it is judged against the targets."""

    config: dict[str, object]
    machine: dict[str, object]
    large: dict[str, LargeRow] = field(default_factory=dict)
    small: dict[str, SmallRow] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
