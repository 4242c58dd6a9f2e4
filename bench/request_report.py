"""The request benchmark's report: one table, a row per workload, the remote direct and s3d
side by side with s3d's ratio to the direct (the same run), the machine line, the JSON."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.requests_measure import Rows
from bench.results import LargeRow, SmallRow
from bench.sizes import size_text
from bench.tables import Table, num, render_markdown, render_text, write_files

DIRECT, S3D = "direct", "s3d"


@dataclass(frozen=True, slots=True)
class Report:
    config: dict[str, Any]
    machine: dict[str, Any]
    rows: Rows


def _p50(row: SmallRow) -> float | None:
    return row.latency_ms(0.5)


def _rate(row: SmallRow) -> float | None:
    return row.spread.median if row.spread else None


def _mib(row: LargeRow) -> float | None:
    return row.spread.median if row.spread else None


def _line(label: str, values: list[float | None], digits: int, better: str) -> list[str]:
    """The direct's value, then each s3d's value and its ratio to the direct."""
    direct, cells = values[0], [label, num(values[0], digits)]
    for value in values[1:]:
        ratio = "-" if not direct or value is None else f"{value / direct:.2f}x"
        cells += [num(value, digits), ratio]
    return [*cells, better]


def table(report: Report) -> Table:
    r, c = report.rows, report.config
    names = list(r.put)  # the direct first, then each s3d
    cpu = [statistics.median(r.bulk_cpu[n]) if r.bulk_cpu[n] else None for n in names]
    bulk = f"{c['bulk_count']} x {size_text(c['bulk_size'])} PUT, c{c['bulk_concurrency']}"
    cold = f"c{c['cold_concurrency']}"
    warm = f"c{c['warm_concurrency']}, {c['warm_keys']} keys"
    small, large = size_text(c["put_size"]), size_text(c["large_size"])

    def of(rows: dict[str, Any], value: Any) -> list[float | None]:
        return [value(rows[n]) for n in names]

    lines = [
        _line(f"{small} PUT, sequential, p50 ms", of(r.put, _p50), 2, "lower"),
        _line(f"{bulk}, obj/s", of(r.bulk, _rate), 0, "higher"),
        _line("server CPU for that batch, cpu-s", cpu, 2, "lower"),
        _line(f"{small} GET first read, {cold}, p50 ms", of(r.cold, _p50), 2, "lower"),
        _line(f"{small} GET warm, {warm}, req/s", of(r.warm, _rate), 0, "higher"),
        _line(f"{large} GET cold, MiB/s", of(r.large_cold, _mib), 0, "higher"),
        _line(f"{large} GET warm, MiB/s", of(r.large_warm, _mib), 0, "higher"),
    ]
    header = ["workload", "remote direct"]
    for name in names[1:]:
        header += [name, f"{name} / direct"]
    return Table([*header, "better"], lines, frozenset({0, len(header)}))


def notes(report: Report) -> list[str]:
    r = report.rows
    out = [
        f"medians of {report.config['repeat']} rounds (rates) or of every request (p50); "
        "every target measured round by round in the same run, so the ratios are the figure "
        "to compare across runs on a shared machine",
        f"s3d cache answers: first reads {dict(r.cold[S3D].cache)}, "
        f"warm {dict(r.warm[S3D].cache)}, warm large {dict(r.large_warm[S3D].cache)}",
        f"s3d write answers (x-s3d-state): {dict(r.put[S3D].cache)}",
    ]
    return out


def _rows_json(report: Report) -> dict[str, Any]:
    """Every row's raw figures (a Counter given to ``asdict`` would count its items)."""
    out: dict[str, Any] = {"bulk_cpu": report.rows.bulk_cpu}
    for workload, rows in _workloads(report.rows):
        out[workload] = {
            name: {k: dict(v) if k == "cache" else v for k, v in _fields(row).items()}
            for name, row in rows.items()
        }
    return out


def _workloads(rows: Rows) -> list[tuple[str, dict[str, Any]]]:
    names = ("put", "bulk", "cold", "warm", "large_cold", "large_warm")
    return [(name, getattr(rows, name)) for name in names]


def _fields(row: SmallRow | LargeRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__dataclass_fields__}


def _headline(report: Report) -> str:
    m = report.machine
    return f"Request costs, {report.config['date']} (SeaweedFS {m.get('seaweedfs', '?')} as remote)"


def text(report: Report) -> str:
    return render_text(_headline(report), [table(report)], notes(report))


def write(report: Report, out: Path) -> tuple[Path, Path]:
    tools = f", SeaweedFS {report.machine.get('seaweedfs', '?')}, curl {report.machine['curl']}"
    markdown = render_markdown(
        _headline(report), [table(report)], notes(report), report.machine, tools
    )
    document: dict[str, object] = {
        "config": report.config,
        "machine": report.machine,
        "rows": _rows_json(report),
    }
    return write_files("requests", document, markdown, out)
