"""The request benchmark's workloads, each run against every target (the remote direct, s3d
in front of it) round by round, so that a burst of load from elsewhere lands on all alike.

- small PUTs one at a time (latency of each);
- a batch of PUTs at a fixed concurrency (objects per second, and the server's CPU seconds);
- first reads of small objects at a fixed concurrency (latency of each; a new set of keys
  every round, so each read through s3d is a miss);
- warm small reads at a fixed concurrency (requests per second);
- large reads, cold (a new copy every round) and warm (MiB/s, curl when installed).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp

from bench import clients, uploads
from bench.control import S3dAdmin
from bench.results import LargeRow, SmallRow
from bench.signing import Presigner

Say = Callable[[str], None]
BUCKET = "bench"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    pid: int | None
    presigner: Presigner
    journal: bool = False
    """An s3d in write-back: its uploads are drained (untimed) after its PUTs, so that they
    do not run during the next measurements, its own or another target's."""


@dataclass(frozen=True, slots=True)
class Knobs:
    put_samples: int
    put_size: int
    bulk_count: int
    bulk_size: int
    bulk_concurrency: int
    cold_count: int
    cold_concurrency: int
    warm_keys: int
    gets: int
    warm_concurrency: int
    large_size: int
    repeat: int


@dataclass(slots=True)
class Rows:
    """Per target: each workload's row, plus the CPU seconds of each bulk batch."""

    put: dict[str, SmallRow] = field(default_factory=dict)
    bulk: dict[str, SmallRow] = field(default_factory=dict)
    bulk_cpu: dict[str, list[float]] = field(default_factory=dict)
    cold: dict[str, SmallRow] = field(default_factory=dict)
    warm: dict[str, SmallRow] = field(default_factory=dict)
    large_cold: dict[str, LargeRow] = field(default_factory=dict)
    large_warm: dict[str, LargeRow] = field(default_factory=dict)


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU seconds ``pid`` has used so far (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cold_key(round_: int, n: int) -> str:
    return f"cold-{round_}-{n:05d}"


def warm_key(n: int) -> str:
    return f"warm-{n:05d}"


async def _puts(
    client: aiohttp.ClientSession, target: Target, prefix: str, bodies: list[bytes], conc: int
) -> clients.SmallPass:
    urls = [target.presigner.url("PUT", BUCKET, f"{prefix}-{n:05d}") for n in range(len(bodies))]
    requests = list(zip(urls, bodies, strict=True))
    start = time.perf_counter()
    done = await uploads.put_all(client, requests, conc)
    seconds = time.perf_counter() - start
    states = Counter(p.state for p in done if p.state is not None)
    return clients.SmallPass(seconds, tuple(p.seconds for p in done), states)


async def _reads(
    client: aiohttp.ClientSession, target: Target, keys: list[str], small: Mapping[str, bytes],
    conc: int,
) -> clients.SmallPass:  # fmt: skip
    requests = [(target.presigner.get(BUCKET, k), small[k]) for k in keys]
    return await clients.small_pass(client, requests, conc)


async def _large(client: aiohttp.ClientSession, url: str, size: int) -> clients.Read:
    curl = clients.find_curl()
    if curl is not None:
        return await clients.curl_read(curl, url, size)
    return await clients.read_large(client, url, size)


async def measure(
    client: aiohttp.ClientSession,
    targets: list[Target],
    small: Mapping[str, bytes],
    knobs: Knobs,
    rng: random.Random,
    say: Say,
) -> Rows:
    """Every workload, ``repeat`` rounds, every target in each. Raises ``WrongAnswer``."""
    rows = Rows()
    for t in targets:
        rows.put[t.name] = SmallRow(t.name, f"{t.name}: PUT one at a time", "status 200")
        rows.bulk[t.name] = SmallRow(t.name, f"{t.name}: PUT batch", "status 200")
        rows.bulk_cpu[t.name] = []
        rows.cold[t.name] = SmallRow(t.name, f"{t.name}: first GET", "every body compared")
        rows.warm[t.name] = SmallRow(t.name, f"{t.name}: warm GET", "every body compared")
        rows.large_cold[t.name] = LargeRow(t.name, f"{t.name}: cold large", "size")
        rows.large_warm[t.name] = LargeRow(t.name, f"{t.name}: warm large", "size")
    warm = [warm_key(n) for n in range(knobs.warm_keys)]
    for t in targets:  # the warm rows read what a first pass has cached
        await _reads(client, t, warm, small, knobs.warm_concurrency)
        await _large(client, t.presigner.get(BUCKET, "large-0"), knobs.large_size)
        await _large(client, t.presigner.get(BUCKET, "large-0"), knobs.large_size)
    for round_ in range(knobs.repeat):
        # Each round in another order: whatever a target leaves behind (its uploads, its
        # disk writes) weighs on a different next target each time.
        turn = round_ % len(targets)
        for t in targets[turn:] + targets[:turn]:
            await _round(client, t, round_, small, knobs, rng, rows)
        say(f"round {round_ + 1}/{knobs.repeat}: " + _summary(rows, targets))
    return rows


async def _round(
    client: aiohttp.ClientSession, t: Target, round_: int, small: Mapping[str, bytes],
    knobs: Knobs, rng: random.Random, rows: Rows,
) -> None:  # fmt: skip
    bodies = [rng.randbytes(knobs.put_size) for _ in range(knobs.put_samples)]
    done = await _puts(client, t, f"put-{t.name}-{round_}", bodies, 1)
    rows.put[t.name].add(done.rate, done.latencies, done.cache)
    bodies = [rng.randbytes(knobs.bulk_size) for _ in range(knobs.bulk_count)]
    cpu = cpu_seconds(t.pid)
    done = await _puts(client, t, f"bulk-{t.name}-{round_}", bodies, knobs.bulk_concurrency)
    rows.bulk_cpu[t.name].append(cpu_seconds(t.pid) - cpu)
    rows.bulk[t.name].add(done.rate, done.latencies, done.cache)
    if t.journal:
        await S3dAdmin(client, t.url).flush()
    keys = [cold_key(round_, n) for n in range(knobs.cold_count)]
    done = await _reads(client, t, keys, small, knobs.cold_concurrency)
    rows.cold[t.name].add(done.rate, done.latencies, done.cache)
    warm = [warm_key(n % knobs.warm_keys) for n in range(knobs.gets)]
    rng.shuffle(warm)
    done = await _reads(client, t, warm, small, knobs.warm_concurrency)
    rows.warm[t.name].add(done.rate, done.latencies, done.cache)
    read = await _large(client, t.presigner.get(BUCKET, f"large-{round_ + 1}"), knobs.large_size)
    rows.large_cold[t.name].add(read.nbytes, read.seconds, read.cache)
    read = await _large(client, t.presigner.get(BUCKET, "large-0"), knobs.large_size)
    rows.large_warm[t.name].add(read.nbytes, read.seconds, read.cache)


def _summary(rows: Rows, targets: list[Target]) -> str:
    parts = []
    for t in targets:
        put = rows.put[t.name].latency_ms(0.5) or 0.0
        bulk = rows.bulk[t.name].per_s[-1]
        cold = rows.cold[t.name].latency_ms(0.5) or 0.0
        warm = rows.warm[t.name].per_s[-1]
        parts.append(
            f"{t.name} put p50 so far {put:.2f} ms, bulk {bulk:.0f}/s, "
            f"cold p50 so far {cold:.2f} ms, warm {warm:.0f}/s"
        )
    return "; ".join(parts)
