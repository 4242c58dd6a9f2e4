"""A judged write-back run written down three ways: a text table for the terminal, a Markdown
section for docs/benchmarks.md, and a JSON document with every raw measurement.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from bench.results import MiB
from bench.sizes import size_text
from bench.tables import Table, num, render_markdown, render_text, write_files
from bench.write_back_memory import PHASES
from bench.write_back_results import DrainRow, LatencyRow, Run
from bench.write_back_verdicts import Verdict


def _answers(states: Counter[str]) -> str:
    return ", ".join(f"{value} {count}" for value, count in sorted(states.items()))


def _check(verified: bool) -> str:
    return "ETag (MD5) on the remote" if verified else "not checked"


def _latency_cells(row: LatencyRow) -> list[str]:
    if row.skipped or not row.latencies:
        return [row.label, "skipped", "", "", "", "", "", "", row.skipped, ""]
    mean = statistics.fmean(row.latencies) * 1000
    return [
        row.label,
        num(row.ms(0.5), 1),
        num(row.ms(0.99), 1),
        num(mean, 1),
        num(max(row.latencies) * 1000, 1),
        str(len(row.latencies)),
        num(row.server(0.5), 1),
        num(row.server(0.99), 1),
        _check(row.verified),
        _answers(row.states),
    ]


def _drain_cells(row: DrainRow, direct: float | None, count: int) -> list[str]:
    remote = row.remote_median
    if row.skipped or remote is None:
        return [row.label, "skipped", "", "", "", "", "", "", "", row.skipped]
    ratio = None if direct is None else remote / direct
    spread = f"{min(row.on_remote):.2f}-{max(row.on_remote):.2f}"
    cells = [row.label, num(row.answered_median, 2), num(remote, 2), spread]
    cells += ["-" if ratio is None else f"{ratio:.2f}x", str(len(row.on_remote))]
    per_object = row.requests_per_round
    cells += [num(None if per_object is None else per_object / count, 1)]
    cells += [num(row.request_ms, 1), num(row.in_flight, 1)]
    return [*cells, _check(row.verified)]


def tables(run: Run, verdicts: list[Verdict]) -> list[Table]:
    c = run.config
    latency = Table(
        [
            f"PUT of {c['put_size_text']}, {c['put_concurrency']} at a time",
            *("p50 ms", "p99 ms", "mean ms", "max ms", "n", "in s3d p50", "in s3d p99"),
            *("bytes checked", "x-s3d-state"),
        ],
        [_latency_cells(row) for row in run.latency.values()],
        frozenset({0, 8, 9}),
    )
    direct = run.drain["direct"].remote_median if "direct" in run.drain else None
    count = int(str(c["drain_count"]))
    drain = Table(
        [
            f"{count:,} PUTs of {c['drain_size_text']}, {c['concurrency']} in flight",
            *("answered s", "on the remote s", "min-max", "/ direct", "n"),
            *("remote requests per object", "ms each", "open at once"),
            "bytes checked",
        ],
        [_drain_cells(row, direct, count) for row in run.drain.values()],
        frozenset({0, 9}),
    )
    out = [latency, drain]
    if run.memory is not None:
        out.append(_memory_table(run))
    out.append(
        Table(
            ["target", "value", "needed", "result"],
            [[v.target.name, v.shown, v.target.needed, v.status] for v in verdicts],
            frozenset({0, 3}),
        )
    )
    return out


def _memory_table(run: Run) -> Table:
    memory = run.memory
    assert memory is not None
    header = [f"{size_text(memory.size)} object, write-back s3d", "seconds", "MiB/s"]
    header += ["peak RSS MiB", "peak disk MiB", "disk at end MiB"]
    if memory.skipped:
        return Table(header, [["skipped", "", "", "", "", memory.skipped]])
    rows = [
        [
            PHASES.get(phase.name, phase.name),
            num(phase.seconds, 1),
            num(memory.throughput.get(phase.name)),
            num(phase.peak_rss / MiB),
            num(phase.peak_disk / MiB),
            num(phase.disk_at_end / MiB),
        ]
        for phase in memory.phases
    ]
    high = None if memory.high_water is None else memory.high_water / MiB
    rows.append(["whole run (kernel's VmHWM)", "", "", num(high), num(memory.peak_disk / MiB), ""])
    return Table(header, rows)


def text(run: Run, verdicts: list[Verdict]) -> str:
    return render_text(_headline(run), tables(run, verdicts), run.notes)


def markdown(run: Run, verdicts: list[Verdict]) -> str:
    m = run.machine
    tools = f", botocore {m['botocore']}, rclone {m['rclone']}"
    return render_markdown(_headline(run), tables(run, verdicts), run.notes, m, tools)


def document(run: Run, verdicts: list[Verdict]) -> dict[str, object]:
    """The JSON result: configuration, machine, every raw measurement, and the verdicts."""
    latency = {
        key: {
            "label": row.label,
            "latencies_ms": [round(s * 1000, 3) for s in row.latencies],
            "p50_ms": row.ms(0.5),
            "p99_ms": row.ms(0.99),
            "s3d_p50_ms": row.server(0.5),
            "s3d_p99_ms": row.server(0.99),
            "s3d_ms": row.server_ms,
            "x_s3d_state": dict(row.states),
            "verified": row.verified,
            "skipped": row.skipped,
        }
        for key, row in run.latency.items()
    }
    drain = {
        key: {
            "label": row.label,
            "answered_s": row.answered,
            "on_remote_s": row.on_remote,
            "on_remote_median_s": row.remote_median,
            "remote_requests": row.requests,
            "remote_busy_s": row.busy,
            "remote_request_ms": row.request_ms,
            "remote_in_flight": row.in_flight,
            "verified": row.verified,
            "skipped": row.skipped,
        }
        for key, row in run.drain.items()
    }
    memory = run.memory
    return {
        "benchmark": "write_back",
        "config": run.config,
        "machine": run.machine,
        "latency": latency,
        "drain": drain,
        "memory": None
        if memory is None
        else {
            "size": memory.size,
            "high_water_bytes": memory.high_water,
            "peak_disk_bytes": memory.peak_disk,
            "phases": [
                {
                    "name": p.name,
                    "seconds": p.seconds,
                    "peak_rss_bytes": p.peak_rss,
                    "peak_disk_bytes": p.peak_disk,
                    "disk_at_end_bytes": p.disk_at_end,
                }
                for p in memory.phases
            ],
            "mib_per_s": memory.throughput,
            "verified": memory.verified,
            "skipped": memory.skipped,
        },
        "relay": run.relay,
        "targets": [verdict.as_dict() for verdict in verdicts],
        "notes": run.notes,
    }


def write(run: Run, verdicts: list[Verdict], out: Path) -> tuple[Path, Path]:
    """``write_back-<UTC time>.json`` and ``.md`` in ``out``; their paths."""
    return write_files("write_back", document(run, verdicts), markdown(run, verdicts), out)


def _headline(run: Run) -> str:
    c = run.config
    return (
        f"Write-back, {c['date']}: remote behind a relay adding {c['delay_ms']:g} ms per round "
        f"trip; {c['samples']} PUTs of {c['put_size_text']} per target; "
        f"{c['drain_count']:,} PUTs of {c['drain_size_text']} at concurrency "
        f"{c['concurrency']}; a {c['large_size_text']} object; rounds: {c['rounds']}"
    )
