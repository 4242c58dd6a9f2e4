"""The write-back issue's targets, judged on one run.

Three are absolute (a latency, a memory peak) or a ratio to the direct baseline of the same
run; two compare s3d with rclone's write-back in the same run. A target whose row was skipped
(rclone not available, the memory phase left out) is ``n/a``.
"""

from __future__ import annotations

from bench import limits
from bench.limits import Target
from bench.results import MiB
from bench.write_back_results import Run


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or bottom is None or bottom == 0 else top / bottom


def _p50(run: Run, row: str) -> float | None:
    found = run.latency.get(row)
    return None if found is None or found.skipped else found.ms(0.5)


def _remote(run: Run, row: str) -> float | None:
    found = run.drain.get(row)
    return None if found is None or found.skipped else found.remote_median


def _peak(run: Run) -> float | None:
    memory = run.memory
    if memory is None or memory.skipped or memory.high_water is None:
        return None
    return memory.high_water / MiB


TARGETS: tuple[Target[Run], ...] = (
    Target("s3d write-back PUT p50", 10.0, "ms", True, lambda r: _p50(r, "s3d-write-back")),
    Target(
        "s3d drain of the pending objects / direct upload",
        1.2,
        "x",
        False,
        lambda r: _ratio(_remote(r, "s3d-held"), _remote(r, "direct")),
    ),
    Target("s3d peak RSS, large object PUT, read back, uploaded", 200.0, "MiB", True, _peak),
    Target(
        "s3d write-back PUT p50 / rclone write-back PUT p50",
        1.0,
        "x",
        False,
        lambda r: _ratio(_p50(r, "s3d-write-back"), _p50(r, "rclone-write-back")),
    ),
    Target(
        "s3d / rclone: first PUT to all on the remote",
        1.0,
        "x",
        True,
        lambda r: _ratio(_remote(r, "s3d"), _remote(r, "rclone")),
    ),
)


Verdict = limits.Verdict[Run]


def judge(run: Run) -> list[Verdict]:
    return limits.judge(TARGETS, run)
