"""The read-cache issue's targets, judged on one run, and the checks that say whether the run
measured what it claims (the client's ceiling; warm reads being cache hits).

Every ratio divides two medians measured in the same run on the same machine: the client, s3d,
rclone and moto share its cores, so numbers from different runs are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.results import LargeRow, Run, SmallRow

CLIENT_SHARE = 0.85
"""Below this share of curl's speed against the same server, the client's own cost matters."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    table: str  # "large" or "small"
    numerator: str
    denominator: str
    minimum: float


TARGETS = (
    Target("s3d warm large / moto direct", "large", "s3d-warm", "moto", 5.0),
    Target("s3d warm large / bare FileResponse", "large", "s3d-warm", "file", 0.70),
    Target("s3d warm small / moto direct", "small", "s3d-warm", "moto", 2.0),
    Target("s3d warm large / rclone warm", "large", "s3d-warm", "rclone-warm", 1.0),
    Target("s3d warm small / rclone warm", "small", "s3d-warm", "rclone-warm", 1.0),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    target: Target
    ratio: float | None
    status: str  # "PASS", "FAIL", or "n/a" when a side was skipped

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.target.name,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "minimum": self.target.minimum,
            "status": self.status,
        }


def judge(run: Run) -> list[Verdict]:
    verdicts = []
    for target in TARGETS:
        table: dict[str, LargeRow] | dict[str, SmallRow] = getattr(run, target.table)
        top, bottom = table[target.numerator].spread, table[target.denominator].spread
        if top is None or bottom is None:
            verdicts.append(Verdict(target, None, "n/a"))
            continue
        ratio = top.median / bottom.median
        verdicts.append(Verdict(target, ratio, "PASS" if ratio >= target.minimum else "FAIL"))
    return verdicts


def client_check(run: Run) -> str | None:
    """curl (which times the large GETs) against aiohttp on the same server: how much the
    client's own cost moves the numbers on this machine."""
    curl, ours = run.large["file"].spread, run.large["aiohttp-file"].spread
    if curl is None or ours is None:
        return None
    share = ours.median / curl.median
    verdict = (
        "the client's cost hardly matters here"
        if share >= CLIENT_SHARE
        else "the client's cost per byte matters on this machine (it shares the cores with the "
        "server), so the large-GET numbers are lower bounds for the servers"
    )
    return (
        f"client check: against the bare FileResponse server, curl (the large-GET client) read "
        f"{curl.median:.0f} MiB/s and the aiohttp client {ours.median:.0f} MiB/s "
        f"({share:.0%}): {verdict}"
    )


def client_small_floor(run: Run) -> str | None:
    """The most small GETs per second the client sustained against any server: the client's
    own ceiling is at least that, so lower rates are the servers'."""
    best = max(
        (row for row in run.small.values() if row.spread is not None),
        key=lambda row: row.spread.median if row.spread is not None else 0.0,
        default=None,
    )
    if best is None or best.spread is None:
        return None
    return (
        f"client check (small GETs): the client sustained {best.spread.median:,.0f} GET/s "
        f"against {best.label}, so lower rates are the server's, not the client's"
    )


def out_of_reach(run: Run) -> list[str]:
    """Targets above what the bare file server reaches over the same denominator: out of reach
    for serving files from disk in Python here (moto on loopback serves large objects from
    memory nearly as fast as a file server does)."""
    notes = []
    for target in TARGETS:
        if target.denominator == "file" or target.numerator != "s3d-warm":
            continue
        table: dict[str, LargeRow] | dict[str, SmallRow] = getattr(run, target.table)
        ceiling, bottom = table["file"].spread, table[target.denominator].spread
        if ceiling is None or bottom is None:
            continue
        reachable = ceiling.median / bottom.median
        if reachable < target.minimum:
            notes.append(
                f"{target.name} >= {target.minimum:g}x asks more than the bare FileResponse "
                f"server reaches on this machine ({reachable:.2f}x over the same denominator)"
            )
    return notes


def cache_warnings(run: Run) -> list[str]:
    """Rows whose ``x-s3d-cache`` answers contradict their name (a warm read that missed)."""
    warnings = []
    for table, rows in (("large", run.large), ("small", run.small)):
        for row in rows.values():
            if not row.id.startswith("s3d-") or row.skipped:
                continue
            expected = "hit" if row.id.endswith("-warm") else "miss"
            if not row.cache:
                warnings.append(f"{table} {row.label}: s3d sent no x-s3d-cache header")
            elif set(row.cache) != {expected}:
                answers = ", ".join(f"{k} {v}" for k, v in sorted(row.cache.items()))
                warnings.append(
                    f"WARNING {table} {row.label}: x-s3d-cache answers were {answers}, "
                    f"not all {expected}"
                )
    return warnings
