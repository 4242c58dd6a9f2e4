"""CPU time a process has used (user + system), from ``/proc/<pid>/stat`` (Linux only;
psutil is not a dependency): what a pass cost the server, whatever else shared the cores.
Throughput on a shared 2-core machine moves with the neighbours' load; the CPU a server spent
per request moves far less, so the benchmarks report both."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU seconds of ``pid`` so far (None when unknown or gone)."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds so far of ``pid``'s live child processes together (s3d's export process);
    None when it has none."""
    if pid is None:
        return None
    found: list[float] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text().split()
        except OSError:
            continue
        found += [s for child in children if (s := cpu_seconds(int(child))) is not None]
    return sum(found) if found else None
