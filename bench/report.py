"""A judged run written down three ways: a text table for the terminal, a Markdown section for
docs/benchmarks.md, and a JSON document with every raw measurement.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.results import LargeRow, Run, SmallRow
from bench.verdicts import Verdict


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    text_columns: frozenset[int] = frozenset({0})
    """Columns aligned left; the others hold numbers and align right."""


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _answers(cache: Counter[str]) -> str:
    return ", ".join(f"{value} {count}" for value, count in sorted(cache.items()))


def _large_cells(row: LargeRow) -> list[str]:
    spread = row.spread
    if spread is None:
        return [row.label, "skipped", "", "", row.skipped, ""]
    low, high = _num(spread.low), _num(spread.high)
    n = str(len(row.mib_per_s))
    return [row.label, _num(spread.median), f"{low}-{high}", n, row.check, _answers(row.cache)]


def _small_cells(row: SmallRow) -> list[str]:
    spread = row.spread
    if spread is None:
        return [row.label, "skipped", "", "", "", "", row.skipped, ""]
    p50, p99 = _num(row.latency_ms(0.5), 1), _num(row.latency_ms(0.99), 1)
    low, high = _num(spread.low), _num(spread.high)
    n = str(len(row.per_s))
    cells = [row.label, _num(spread.median), f"{low}-{high}", p50, p99, n]
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
    out = [_headline(run), ""]
    for table in tables(run, verdicts):
        lines = [table.header, *table.rows]
        widths = [max(len(cells[i]) for cells in lines) for i in range(len(table.header))]
        for cells in lines:
            padded = [
                cell.ljust(width) if i in table.text_columns else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            out.append("  ".join(padded).rstrip())
        out.append("")
    out += [f"note: {note}" for note in run.notes]
    return "\n".join(out)


def markdown(run: Run, verdicts: list[Verdict]) -> str:
    out = [f"#### {_headline(run)}", ""]  # under "### Results" in docs/benchmarks.md
    for table in tables(run, verdicts):
        out.append("| " + " | ".join(table.header) + " |")
        aligns = ["---" if i in table.text_columns else "--:" for i in range(len(table.header))]
        out.append("|" + "|".join(aligns) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in table.rows]
        out.append("")
    m = run.machine
    out.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; work directory on "
        f"{m['filesystem']}; {m['kernel']}; load average (1 min) {m['load_average_1m']} at "
        f"start, {m.get('load_average_1m_end', '?')} at end. Python {m['python']}, "
        f"s3d {m['s3d']}, aiohttp {m['aiohttp']}, moto {m['moto']}, botocore {m['botocore']}, "
        f"rclone {m['rclone']}, curl {m['curl']}."
    )
    out += ["", *(f"- {note}" for note in run.notes)]
    return "\n".join(out).rstrip() + "\n"


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


def write_files(
    name: str, document: dict[str, object], markdown_text: str, out: Path
) -> tuple[Path, Path]:
    """``<name>-<UTC time>.json`` and ``.md`` in ``out``, for every benchmark; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown_text)
    return json_path, md_path
