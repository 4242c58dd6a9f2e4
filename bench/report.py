"""A judged run written down three ways: a text table for the terminal, a Markdown section for
docs/benchmarks.md, and a JSON document with every raw measurement.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.results import LargeRow, Run, SmallRow
from bench.tables import Table, num, render_markdown, render_text, write_files
from bench.verdicts import Verdict


def _answers(cache: Counter[str]) -> str:
    return ", ".join(f"{value} {count}" for value, count in sorted(cache.items()))


def _large_cells(row: LargeRow) -> list[str]:
    spread = row.spread
    if spread is None:
        return [row.label, "skipped", "", "", row.skipped, ""]
    low, high = num(spread.low), num(spread.high)
    n = str(len(row.mib_per_s))
    return [row.label, num(spread.median), f"{low}-{high}", n, row.check, _answers(row.cache)]


def _small_cells(row: SmallRow) -> list[str]:
    spread = row.spread
    if spread is None:
        return [row.label, "skipped", "", "", "", "", row.skipped, ""]
    p50, p99 = num(row.latency_ms(0.5), 1), num(row.latency_ms(0.99), 1)
    low, high = num(spread.low), num(spread.high)
    n = str(len(row.per_s))
    cells = [row.label, num(spread.median), f"{low}-{high}", p50, p99, n]
    return [*cells, row.check, _answers(row.cache)]


def tables(run: Run, verdicts: list[Verdict]) -> list[Table]:
    """The three tables, in the order they are shown."""
    c = run.config
    large_header = [f"GET of {c['size_text']}", "MiB/s median", "min-max", "n"]
    small_header = [f"GETs of {c['small_size_text']}, {c['concurrency']} in flight"]
    small_header += ["GET/s median", "min-max", "p50 ms", "p99 ms", "n"]
    answers = ["bytes checked", "x-s3d-cache"]
    return [
        Table(
            large_header + answers,
            [_large_cells(row) for row in run.large.values()],
            frozenset({0, 4, 5}),
        ),
        Table(
            small_header + answers,
            [_small_cells(row) for row in run.small.values()],
            frozenset({0, 6, 7}),
        ),
        Table(
            ["target", "ratio", "needed", "result"],
            [
                [
                    v.target.name,
                    "-" if v.ratio is None else f"{v.ratio:.2f}x",
                    f">= {v.target.minimum:g}x",
                    v.status,
                ]
                for v in verdicts
            ],
            frozenset({0, 3}),
        ),
    ]


def text(run: Run, verdicts: list[Verdict]) -> str:
    return render_text(_headline(run), tables(run, verdicts), run.notes)


def markdown(run: Run, verdicts: list[Verdict]) -> str:
    m = run.machine
    tools = f", botocore {m['botocore']}, rclone {m['rclone']}, curl {m['curl']}"
    return render_markdown(_headline(run), tables(run, verdicts), run.notes, m, tools)


def document(run: Run, verdicts: list[Verdict]) -> dict[str, object]:
    """The JSON result: configuration, machine, every raw measurement, and the verdicts."""

    def common(row: LargeRow | SmallRow) -> dict[str, object]:
        spread = row.spread
        return {
            "label": row.label,
            "median": None if spread is None else spread.median,
            "verified": row.verified,
            "check": row.check,
            "x_s3d_cache": dict(row.cache),
            "skipped": row.skipped,
        }

    def small(row: SmallRow) -> dict[str, object]:
        return {
            **common(row),
            "get_per_s": row.per_s,
            "p50_ms": row.latency_ms(0.5),
            "p99_ms": row.latency_ms(0.99),
            "requests": len(row.latencies),
        }

    return {
        "benchmark": "read_cache",
        "config": run.config,
        "machine": run.machine,
        "large": {k: {**common(row), "mib_per_s": row.mib_per_s} for k, row in run.large.items()},
        "small": {key: small(row) for key, row in run.small.items()},
        "targets": [verdict.as_dict() for verdict in verdicts],
        "notes": run.notes,
    }


def write(run: Run, verdicts: list[Verdict], out: Path) -> tuple[Path, Path]:
    """``read_cache-<UTC time>.json`` and ``.md`` in ``out``; their paths."""
    return write_files("read_cache", document(run, verdicts), markdown(run, verdicts), out)


def _headline(run: Run) -> str:
    c = run.config
    return (
        f"Read cache, {c['date']}: {c['size_text']} object, {c['small_count']} objects of "
        f"{c['small_size_text']} at concurrency {c['concurrency']}, repeats: {c['repeat']}; "
        f"large GETs with {c['large_get_client']}"
    )
