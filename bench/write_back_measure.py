"""The write-back benchmark's targets (``Endpoint``), and its PUT latency measurement.

Each target is an ``Endpoint``; write-back ones know how to wait until what they acknowledged
is on the remote (s3d: a flush that answers once its journal is empty; rclone: moto's log).
Measurements go round by round, every target once per round, so that a burst of load from
elsewhere lands on all alike; after a write-back target's turn its uploads are waited for, so
that they do not run during the next target's turn. Every object's bytes are checked on the
remote at the end (``check_stored``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

from bench.clients import WrongAnswer
from bench.control import S3dAdmin
from bench.landing import Landings, check_stored
from bench.signing import Presigner
from bench.uploads import put, put_all
from bench.write_back_results import LatencyRow, Run

BUCKET = "bench"
WARM_UP = 5
"""Untimed PUTs per target first: connections opened, buckets known, listings cached."""
REMOTE_TIMEOUT = 600.0
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    admin: S3dAdmin | None = None
    """s3d's admin endpoint, for write-back s3d: its flush waits for the uploads."""
    write_back: bool = False

    def presign(self, keys: Sequence[str]) -> list[str]:
        presigner = Presigner(self.url)
        return [presigner.url("PUT", BUCKET, key) for key in keys]


@dataclass(slots=True)
class Context:
    client: aiohttp.ClientSession
    remote: str
    """moto itself (no relay), for checking what it stores."""
    landings: Landings
    rng: random.Random
    say: Say

    async def settle(self, endpoint: Endpoint, keys: Sequence[str]) -> float:
        """Wait until ``keys`` PUT through ``endpoint`` are on the remote; when the last got
        there (``time.perf_counter()``)."""
        if endpoint.admin is not None:
            await endpoint.admin.flush()
            return time.perf_counter()
        if endpoint.write_back:
            try:
                async with asyncio.timeout(REMOTE_TIMEOUT):
                    return await self.landings.wait_for(keys)
            except TimeoutError:
                missing = self.landings.missing(keys)
                raise WrongAnswer(
                    f"{endpoint.id}: {missing} of {len(keys)} objects not on the remote "
                    f"after {REMOTE_TIMEOUT:g}s"
                ) from None
        return time.perf_counter()

    def bodies(self, prefix: str, count: int, size: int) -> dict[str, bytes]:
        return {f"{prefix}{n:05d}": self.rng.randbytes(size) for n in range(count)}


LATENCY_LABELS = {
    "direct": "direct to the remote",
    "s3d-write-through": "s3d write-through",
    "s3d-write-back": "s3d write-back",
    "rclone-write-back": "rclone write-back",
}


async def measure_latency(
    ctx: Context,
    endpoints: Sequence[Endpoint],
    *,
    samples: int,
    size: int,
    rounds: int,
    concurrency: int,
    run: Run,
) -> None:
    """Fill ``run.latency``: ``samples`` PUTs of ``size`` per endpoint over ``rounds``."""
    for endpoint in endpoints:
        run.latency[endpoint.id] = LatencyRow(endpoint.id, LATENCY_LABELS[endpoint.id])
        warm = ctx.bodies(f"warm/{endpoint.id}/", WARM_UP, size)
        urls = endpoint.presign(list(warm))
        await put_all(ctx.client, list(zip(urls, warm.values(), strict=True)), 1)
        await ctx.settle(endpoint, list(warm))
    stored: dict[str, dict[str, bytes]] = {endpoint.id: {} for endpoint in endpoints}
    for round_ in range(rounds):
        count = samples // rounds + (1 if round_ < samples % rounds else 0)
        for endpoint in endpoints:
            row = run.latency[endpoint.id]
            sent = ctx.bodies(f"latency/{endpoint.id}/{round_}-", count, size)
            stored[endpoint.id] |= sent
            urls = endpoint.presign(list(sent))
            requests = list(zip(urls, sent.values(), strict=True))
            if concurrency == 1:  # one at a time: no client-side queueing in the numbers
                puts = [await put(ctx.client, url, body) for url, body in requests]
            else:
                puts = await put_all(ctx.client, requests, concurrency)
            row.latencies += [p.seconds for p in puts]
            row.states.update(p.state for p in puts if p.state is not None)
            await ctx.settle(endpoint, list(sent))
        ctx.say(
            f"PUT latency, round {round_ + 1}/{rounds}: "
            + ", ".join(f"{row.id} p50 {row.ms(0.5):.1f} ms" for row in run.latency.values())
        )
    for endpoint in endpoints:
        prefix = f"latency/{endpoint.id}/"
        await check_stored(ctx.client, ctx.remote, BUCKET, prefix, stored[endpoint.id])
        run.latency[endpoint.id].verified = True
