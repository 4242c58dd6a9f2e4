"""The tracing benchmark's report: the rows, the ratios judged against the targets, printed
for the terminal and written as ``telemetry-<time>.json`` and ``.md``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.results import SmallRow
from bench.tables import Table, num, render_markdown, render_text, write_files
from bench.telemetry_measure import Cpu, Scrapes

TARGETS = (
    ("tracing on vs off", "traced", 0.8),
    ("metrics scraped every second vs off", "metrics", 0.95),
)


@dataclass(frozen=True, slots=True)
class Report:
    config: dict[str, object]
    machine: dict[str, object]
    rows: dict[str, SmallRow]
    scrapes: Scrapes
    spans: int
    """Spans the receiver had when the passes ended (the last batch may still be queued)."""
    cpu: Cpu


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    value: float | None
    needed: float
    status: str  # PASS, FAIL or n/a


def ratio(report: Report, row: str) -> float | None:
    measured, off = report.rows[row].spread, report.rows["off"].spread
    if measured is None or off is None or off.median == 0:
        return None
    return measured.median / off.median


def cpu_ratio(report: Report, row: str) -> float | None:
    measured, off = report.cpu.per_get_us(row), report.cpu.per_get_us("off")
    return None if measured is None or not off else measured / off


def judge(report: Report) -> list[Verdict]:
    verdicts = []
    for name, row, needed in TARGETS:
        value = ratio(report, row)
        status = "n/a" if value is None else "PASS" if value >= needed else "FAIL"
        verdicts.append(Verdict(name, value, needed, status))
    return verdicts


def _tables(report: Report, verdicts: list[Verdict]) -> list[Table]:
    rows = []
    for row in report.rows.values():
        spread, shown = row.spread, ratio(report, row.id)
        cpu, cpu_shown = report.cpu.per_get_us(row.id), cpu_ratio(report, row.id)
        rows.append(
            [
                row.label,
                num(spread.median if spread else None),
                f"{num(spread.low)}-{num(spread.high)}" if spread else row.skipped or "-",
                num(row.latency_ms(0.5), 2),
                num(row.latency_ms(0.99), 2),
                "-" if shown is None else f"{shown:.2f}x",
                num(cpu),
                "-" if cpu_shown is None else f"{cpu_shown:.2f}x",
                ",".join(sorted(row.cache)) or "-",
            ]
        )
    header = ["row", "GET/s (median)", "range", "p50 ms", "p99 ms", "vs off"]
    header += ["s3d CPU µs/GET", "CPU vs off", "x-s3d-cache"]
    targets = [
        [v.name, "-" if v.value is None else f"{v.value:.2f}x", f">= {v.needed}x", v.status]
        for v in verdicts
    ]
    return [
        Table(header, rows, frozenset({0, 2, 8})),
        Table(["target", "measured", "needed", "verdict"], targets, frozenset({0, 2, 3})),
    ]


def _notes(report: Report) -> list[str]:
    traced = report.rows["traced"]
    gets = len(traced.latencies) + int(str(report.config.get("small_count", 0)))
    traced_env = report.config.get("traced_environment", {})
    assert isinstance(traced_env, dict)
    settings = ", ".join(f"{k}={v}" for k, v in sorted(traced_env.items()) if "ENDPOINT" not in k)
    notes = [
        f"the traced s3d: {settings}",
        f"the receiver had {report.spans:,} spans when the passes ended, for {gets:,} traced "
        f"GETs (one span each expected; the last batch may still have been queued)",
    ]
    export = report.cpu.per_get_us("export")
    if export is not None:
        notes.append(
            f"s3d's export process (encoding and sending spans) spent {export:,.0f} µs of CPU "
            "per traced GET, besides the s3d CPU in the table"
        )
    receiver = report.cpu.per_get_us("receiver")
    if receiver is not None:
        notes.append(
            f"the receiver (another process on the same cores) spent {receiver:,.0f} µs of CPU "
            "per traced GET decoding what it was sent"
        )
    notes += [f"{row.label}: skipped: {row.skipped}" for row in report.rows.values() if row.skipped]
    if report.scrapes.done:
        notes.append(
            f"{report.scrapes.done} scrapes of /_s3d/metrics, {report.scrapes.failed} not 200"
        )
    return notes


def headline(report: Report) -> str:
    c = report.config
    return (
        f"Tracing cost: warm {c['small_size_text']} GETs, {c['small_count']} objects, "
        f"{c['gets']} GETs per pass at concurrency {c['concurrency']}, {c['repeat']} rounds "
        f"({c['date']})"
    )


def text(report: Report, verdicts: list[Verdict]) -> str:
    return render_text(headline(report), _tables(report, verdicts), _notes(report))


def write(report: Report, verdicts: list[Verdict], out: Path) -> tuple[Path, Path]:
    document: dict[str, object] = {
        "config": report.config,
        "machine": report.machine,
        "rows": {
            row.id: {
                "label": row.label,
                "get_per_s": row.per_s,
                "p50_ms": row.latency_ms(0.5),
                "p99_ms": row.latency_ms(0.99),
                "verified": row.verified,
                "skipped": row.skipped,
                "x_s3d_cache": dict(row.cache),
            }
            for row in report.rows.values()
        },
        "spans_received": report.spans,
        "cpu_us_per_get": {
            name: report.cpu.per_get_us(name) for name in (*report.rows, "export", "receiver")
        },
        "scrapes": {"done": report.scrapes.done, "not_ok": report.scrapes.failed},
        "targets": [
            {"name": v.name, "value": v.value, "needed": v.needed, "status": v.status}
            for v in verdicts
        ],
    }
    markdown = render_markdown(
        headline(report), _tables(report, verdicts), _notes(report), report.machine, ""
    )
    return write_files("telemetry", document, markdown, out)
