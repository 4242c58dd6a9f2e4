"""A judged DRS run written down three ways: a text table for the terminal, a Markdown section
for docs/benchmarks.md, and a JSON document with every raw measurement.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.drs_results import DrsRun, Import, Lookups, Verdict
from bench.results import MiB
from bench.tables import Table, num, render_markdown, render_text, write_files

FRACTIONS = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


def _rate(count: int, seconds: float) -> str:
    return num(count / seconds if seconds else None)


def _steps(run: DrsRun, records: int) -> Table:
    rows = [
        [
            "generate the drs.index (this harness)",
            num(run.generate_seconds, 1),
            _rate(records, run.generate_seconds),
            num(run.index_bytes / MiB),
        ]
    ]
    if run.imported is not None:
        imported = run.imported
        rows.append(
            [
                "s3d drs import FILE (command line, until it exits)",
                num(imported.seconds, 1),
                _rate(imported.records, imported.seconds),
                num(imported.disk_after / MiB),
            ]
        )
    return Table([f"{records:,} records", "seconds", "records/s", "MiB on disk"], rows)


def _memory(imported: Import) -> Table:
    high = None if imported.high_water is None else imported.high_water / MiB
    return Table(
        ["s3d daemon", "MiB"],
        [
            ["RSS before the import (VmRSS)", num(imported.rss_before / MiB, 1)],
            ["peak RSS sampled every 100 ms during the import", num(imported.rss_peak / MiB, 1)],
            ["peak RSS over its whole life (VmHWM)", num(high, 1)],
            ["data directory on disk, peak during the import", num(imported.peak_disk / MiB)],
        ],
    )


def _lookup_cells(row: Lookups) -> list[str]:
    cells = [row.label, *(num(row.ms(f), 3) for f in FRACTIONS.values())]
    latencies = row.latencies
    cells.append(num(max(latencies) * 1000 if latencies else None, 3))
    cells.append(num(statistics.fmean(latencies) * 1000 if latencies else None, 3))
    cells += [str(len(latencies)), str(len(latencies) - len(row.failures))]
    return [*cells, num(row.server(0.5), 3), num(row.server(0.99), 3)]


def tables(run: DrsRun, verdicts: list[Verdict]) -> list[Table]:
    records, lookups = int(str(run.config["records"])), int(str(run.config["lookups"]))
    out = [_steps(run, records)]
    if run.imported is not None:
        out.append(_memory(run.imported))
    header = [f"{lookups:,} checksum lookups, sequential", *(f"{n} ms" for n in FRACTIONS)]
    header += ["max ms", "mean ms", "n", "resolved", "in s3d p50", "in s3d p99"]
    out.append(Table(header, [_lookup_cells(run.http), _lookup_cells(run.in_process)]))
    out.append(
        Table(
            ["target", "value", "needed", "result"],
            [[v.target.name, v.shown, v.target.needed, v.status] for v in verdicts],
            frozenset({0, 3}),
        )
    )
    return out


def text(run: DrsRun, verdicts: list[Verdict]) -> str:
    return render_text(_headline(run), tables(run, verdicts), run.notes)


def markdown(run: DrsRun, verdicts: list[Verdict]) -> str:
    return render_markdown(_headline(run), tables(run, verdicts), run.notes, run.machine, "")


def _lookups(row: Lookups) -> dict[str, object]:
    return {
        "label": row.label,
        **{f"{name}_ms": row.ms(fraction) for name, fraction in FRACTIONS.items()},
        "max_ms": max(row.latencies) * 1000 if row.latencies else None,
        "lookups": len(row.latencies),
        "resolved": len(row.latencies) - len(row.failures),
        "failures": row.failures,
        "latencies_ms": [round(s * 1000, 4) for s in row.latencies],
        "s3d_p50_ms": row.server(0.5),
        "s3d_p99_ms": row.server(0.99),
        "s3d_ms": row.server_ms,
    }


def _import(imported: Import | None) -> dict[str, object] | None:
    if imported is None:
        return None
    return {
        "seconds": imported.seconds,
        "records": imported.records,
        "records_per_s": imported.records / imported.seconds,
        "rss_before_bytes": imported.rss_before,
        "rss_peak_sampled_bytes": imported.rss_peak,
        "high_water_bytes": imported.high_water,
        "peak_disk_bytes": imported.peak_disk,
        "disk_after_bytes": imported.disk_after,
        "rss_samples": [[round(t, 2), rss] for t, rss in imported.samples],
    }


def document(run: DrsRun, verdicts: list[Verdict]) -> dict[str, object]:
    """The JSON result: configuration, machine, every raw measurement, and the verdicts."""
    return {
        "benchmark": "drs_import",
        "config": run.config,
        "machine": run.machine,
        "generate": {"seconds": run.generate_seconds, "index_bytes": run.index_bytes},
        "import": _import(run.imported),
        "lookups": {"http": _lookups(run.http), "in_process": _lookups(run.in_process)},
        "targets": [verdict.as_dict() for verdict in verdicts],
        "notes": run.notes,
    }


def write(run: DrsRun, verdicts: list[Verdict], out: Path) -> tuple[Path, Path]:
    """``drs_import-<UTC time>.json`` and ``.md`` in ``out``; their paths."""
    return write_files("drs_import", document(run, verdicts), markdown(run, verdicts), out)


def _headline(run: DrsRun) -> str:
    c = run.config
    return (
        f"DRS catalogue, {c['date']}: a drs.index of {c['records']:,} records imported through "
        f"`s3d drs import`; {c['lookups']:,} lookups by SHA-256"
    )
