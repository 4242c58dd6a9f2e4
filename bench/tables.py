"""What every benchmark's report shares: tables rendered for a terminal and as Markdown, the
machine line, number cells, and the JSON and Markdown result files."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    text_columns: frozenset[int] = frozenset({0})
    """Columns aligned left; the others hold numbers and align right."""


def num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_text(headline: str, tables: list[Table], notes: list[str]) -> str:
    """The tables in aligned columns, for the terminal."""
    out = [headline, ""]
    for table in tables:
        lines = [table.header, *table.rows]
        widths = [max(len(cells[i]) for cells in lines) for i in range(len(table.header))]
        for cells in lines:
            padded = [
                cell.ljust(width) if i in table.text_columns else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            out.append("  ".join(padded).rstrip())
        out.append("")
    out += [f"note: {note}" for note in notes]
    return "\n".join(out)


def render_markdown(
    headline: str, tables: list[Table], notes: list[str], machine: dict[str, Any], tools: str
) -> str:
    """The tables in Markdown under a ``####`` headline (they go under "### Results" in
    docs/benchmarks.md), then the machine line (``tools``: the versions of the other programs
    the run used, e.g. ", rclone 1.68") and the notes."""
    out = [f"#### {headline}", ""]
    for table in tables:
        out.append("| " + " | ".join(table.header) + " |")
        aligns = ["---" if i in table.text_columns else "--:" for i in range(len(table.header))]
        out.append("|" + "|".join(aligns) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in table.rows]
        out.append("")
    m = machine
    out.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; work directory on "
        f"{m['filesystem']}; {m['kernel']}; load average (1 min) {m['load_average_1m']} at "
        f"start, {m.get('load_average_1m_end', '?')} at end. Python {m['python']}, "
        f"s3d {m['s3d']}, aiohttp {m['aiohttp']}, moto {m['moto']}{tools}."
    )
    out += ["", *(f"- {note}" for note in notes)]
    return "\n".join(out).rstrip() + "\n"


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
