"""What one run of the DRS benchmark measured, and the targets it is judged against.

Every raw value is kept (each lookup's latency, the RSS samples of the import), so the JSON
result holds the numbers behind each summary. Times are seconds, sizes bytes; the report
converts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import limits
from bench.limits import Target
from bench.results import MiB, percentile


@dataclass(slots=True)
class Lookups:
    """Sequential checksum lookups, each timed from sending to the whole answer read."""

    label: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """One line per answer that did not resolve to exactly the expected id."""
    server_ms: list[float] = field(default_factory=list)
    """s3d's own time per lookup, from its access log (``duration_ms``): the HTTP row only."""

    def ms(self, fraction: float) -> float | None:
        return percentile(self.latencies, fraction) * 1000 if self.latencies else None

    def server(self, fraction: float) -> float | None:
        return percentile(self.server_ms, fraction) if self.server_ms else None


@dataclass(slots=True)
class Import:
    """``s3d drs import FILE`` as a subprocess, with the daemon's RSS sampled meanwhile."""

    seconds: float
    records: int
    """As the command reported them."""
    rss_before: int
    """The daemon's VmRSS just before the command started."""
    rss_peak: int
    """Highest VmRSS sampled while the command ran."""
    high_water: int | None
    """The kernel's peak RSS of the daemon over its whole life (VmHWM), read at the end."""
    peak_disk: int
    """Most disk the daemon's data directory used while the command ran (sampled)."""
    disk_after: int
    """Disk it used once the command returned: the catalogue, mostly."""
    samples: list[tuple[float, int]] = field(default_factory=list)
    """(seconds since sampling began, VmRSS bytes)."""

    @property
    def peak(self) -> int:
        return max(self.rss_peak, self.high_water or 0)


@dataclass(slots=True)
class DrsRun:
    config: dict[str, object]
    machine: dict[str, object]
    generate_seconds: float = 0.0
    index_bytes: int = 0
    imported: Import | None = None
    http: Lookups = field(
        default_factory=lambda: Lookups("HTTP: GET /ga4gh/drs/v1/objects/checksum/{sha256}")
    )
    in_process: Lookups = field(
        default_factory=lambda: Lookups("in-process: CatalogueStore.by_checksum, s3d stopped")
    )
    notes: list[str] = field(default_factory=list)


def _import_seconds(run: DrsRun) -> float | None:
    return None if run.imported is None else run.imported.seconds


def _peak_mib(run: DrsRun) -> float | None:
    return None if run.imported is None else run.imported.peak / MiB


TARGETS: tuple[Target[DrsRun], ...] = (
    Target("import of the drs.index (s3d drs import FILE)", 60.0, "s", True, _import_seconds, 2),
    Target("daemon peak RSS (start-up and import)", 300.0, "MiB", True, _peak_mib, 2),
    Target("HTTP checksum lookup p99", 2.0, "ms", True, lambda run: run.http.ms(0.99), 2),
)

Verdict = limits.Verdict[DrsRun]


def judge(run: DrsRun) -> list[Verdict]:
    """Each target strictly below its limit passes; one whose value was not measured is n/a."""
    return limits.judge(TARGETS, run)
