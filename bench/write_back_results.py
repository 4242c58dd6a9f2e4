"""What one run of the write-back benchmark measured, before it is judged.

Rows keep every raw value (each PUT's latency, each round's times), so the JSON result holds
the numbers behind each summary. Times are seconds, sizes bytes; the report converts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from bench.memory import Phase
from bench.results import percentile


@dataclass(slots=True)
class LatencyRow:
    """PUTs of small objects through one target, each timed from sending to its answer."""

    id: str
    label: str
    latencies: list[float] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    """``x-s3d-state`` answers (s3d's rows): ``pending`` means acknowledged before upload."""
    server_ms: list[float] = field(default_factory=list)
    """s3d's own time per PUT, from its access log (``duration_ms``): s3d's rows only."""
    verified: bool = False
    skipped: str = ""

    def ms(self, fraction: float) -> float | None:
        return percentile(self.latencies, fraction) * 1000 if self.latencies else None

    def server(self, fraction: float) -> float | None:
        return percentile(self.server_ms, fraction) if self.server_ms else None


@dataclass(slots=True)
class DrainRow:
    """Batches of PUTs through one target, per round: when the last was answered and when
    the last object was stored on the remote, each from the row's own start (its label)."""

    id: str
    label: str
    answered: list[float] = field(default_factory=list)
    on_remote: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    """Requests the remote answered in each round's window (the relay's count)."""
    busy: list[float] = field(default_factory=list)
    """Connection-seconds at the remote in each round's window (the relay's integral)."""
    verified: bool = False
    skipped: str = ""

    @property
    def in_flight(self) -> float | None:
        """Mean requests open at the remote over the windows."""
        return sum(self.busy) / sum(self.on_remote) if self.on_remote else None

    @property
    def request_ms(self) -> float | None:
        """Mean time a request to the remote was open, ms."""
        done = sum(self.requests)
        return sum(self.busy) / done * 1000 if done else None

    @property
    def requests_per_round(self) -> float | None:
        return sum(self.requests) / len(self.requests) if self.requests else None

    @property
    def remote_median(self) -> float | None:
        return statistics.median(self.on_remote) if self.on_remote else None

    @property
    def answered_median(self) -> float | None:
        return statistics.median(self.answered) if self.answered else None


@dataclass(slots=True)
class MemoryRun:
    """One large object PUT through a fresh write-back s3d, read back, and uploaded."""

    size: int
    phases: list[Phase] = field(default_factory=list)
    high_water: int | None = None
    """The kernel's peak RSS of the s3d process over its whole life (VmHWM), bytes."""
    throughput: dict[str, float] = field(default_factory=dict)
    """Phase → MiB/s (the PUT, the read, the upload)."""
    verified: bool = False
    skipped: str = ""

    @property
    def peak_disk(self) -> int:
        return max((phase.peak_disk for phase in self.phases), default=0)


@dataclass(slots=True)
class Run:
    config: dict[str, object]
    machine: dict[str, object]
    latency: dict[str, LatencyRow] = field(default_factory=dict)
    drain: dict[str, DrainRow] = field(default_factory=dict)
    memory: MemoryRun | None = None
    relay: dict[str, object] = field(default_factory=dict)
    """The relay's counters at the end: connections and bytes each way."""
    notes: list[str] = field(default_factory=list)
