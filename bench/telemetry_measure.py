"""The tracing benchmark's measurements: warm small GETs through s3d with tracing off, with
tracing on (100% sampling, exported to the local receiver), and with tracing off while
``/_s3d/metrics`` is scraped every second — round by round, every row once per round, so
that a burst of load from elsewhere lands on all rows alike.

The metrics row is a hook for the metrics endpoint: when ``GET /_s3d/metrics`` answers 404
(an s3d without it), the row is skipped and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.clients import small_pass
from bench.cpu import children_cpu_seconds, cpu_seconds
from bench.results import SmallRow
from bench.services import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

ROWS = {
    "off": "s3d warm, tracing off",
    "traced": "s3d warm, tracing on (OTLP/HTTP to a local receiver)",
    "metrics": "s3d warm, tracing off, /_s3d/metrics scraped every second",
}
METRICS_PATH = "/_s3d/metrics"
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """Where each row's URLs point: row id → key → presigned URL, and the server of each row."""

    urls: Mapping[str, Mapping[str, str]]
    endpoints: Mapping[str, str]
    pids: Mapping[str, int | None]
    """The server process of each row, and ``receiver``: the OTLP receiver's."""


@dataclass(slots=True)
class Cpu:
    """CPU seconds spent during each row's passes by its s3d, and by the receiver during the
    traced passes; with the GETs they served."""

    seconds: dict[str, float] = field(default_factory=dict)
    gets: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, seconds: float | None, gets: int) -> None:
        if seconds is not None:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.gets[name] = self.gets.get(name, 0) + gets

    def per_get_us(self, name: str) -> float | None:
        gets = self.gets.get(name)
        return self.seconds[name] / gets * 1e6 if gets else None


@dataclass(slots=True)
class Scrapes:
    status: int | None = None
    done: int = 0
    failed: int = 0


def signed_headers(url: str) -> dict[str, str]:
    """SigV4 headers for a GET of ``url`` with the bench's local key (admin paths need one)."""
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "s3", REGION).add_auth(request)
    return dict(request.prepare().headers.items())


async def scrape_once(client: aiohttp.ClientSession, endpoint: str) -> int:
    url = endpoint + METRICS_PATH
    async with client.get(url, headers=signed_headers(url)) as response:
        await response.read()
        return response.status


async def scrape_every(
    client: aiohttp.ClientSession, endpoint: str, interval: float, scrapes: Scrapes
) -> None:
    """Scrape until cancelled, one request every ``interval`` seconds."""
    while True:
        status = await scrape_once(client, endpoint)
        scrapes.done += 1
        scrapes.failed += status != 200
        await asyncio.sleep(interval)


def _cpu_now(target: Target, row: str) -> dict[str, float | None]:
    """CPU seconds so far of the row's s3d and, for the traced row, of s3d's export process
    and of the receiver."""
    now = {row: cpu_seconds(target.pids[row])}
    if row == "traced":
        now["export"] = children_cpu_seconds(target.pids[row])
        now["receiver"] = cpu_seconds(target.pids["receiver"])
    return now


async def measure(
    client: aiohttp.ClientSession,
    target: Target,
    small: Mapping[str, bytes],
    args: Mapping[str, float],
    rng: random.Random,
    say: Say,
) -> tuple[dict[str, SmallRow], Scrapes, Cpu]:
    """Warm every row's cache, then ``repeat`` rounds of one timed pass per row of
    ``gets`` GETs (the keys over and over, shuffled each round) at ``concurrency``; the CPU
    each pass cost its s3d (and the receiver, for the traced pass) measured around it."""
    rows = {row: SmallRow(row, label, "every body compared") for row, label in ROWS.items()}
    cpu = Cpu()
    scrapes = Scrapes(status=await scrape_once(client, target.endpoints["metrics"]))
    if scrapes.status == 404:
        rows["metrics"].skipped = f"GET {METRICS_PATH} answered 404: no metrics endpoint yet"
    elif scrapes.status != 200:
        rows["metrics"].skipped = f"GET {METRICS_PATH} answered {scrapes.status}"
    keys = list(small)
    concurrency = int(args["concurrency"])
    for warm in ("off", "traced"):  # "metrics" reads through the same s3d as "off"
        await small_pass(client, [(target.urls[warm][k], small[k]) for k in keys], concurrency)
    for round_ in range(int(args["repeat"])):
        rng.shuffle(keys)
        order = [keys[n % len(keys)] for n in range(int(args["gets"]))]
        for name, row in rows.items():
            if row.skipped:
                continue
            requests = [(target.urls[name][k], small[k]) for k in order]
            scraper = None
            if name == "metrics":
                endpoint = target.endpoints[name]
                scraper = asyncio.create_task(
                    scrape_every(client, endpoint, args["scrape_interval"], scrapes)
                )
            before = _cpu_now(target, name)
            try:
                done = await small_pass(client, requests, concurrency)
                for watched, end in _cpu_now(target, name).items():
                    start = before.get(watched)
                    spent = None if start is None or end is None else end - start
                    cpu.add(watched, spent, len(requests))
            finally:
                if scraper is not None:
                    scraper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scraper
            row.add(done.rate, done.latencies, done.cache)
            row.verified = True
        line = ", ".join(f"{r.id} {r.per_s[-1]:.0f}" for r in rows.values() if r.per_s)
        say(f"round {round_ + 1}/{int(args['repeat'])}: {line} GET/s")
    return rows, scrapes, cpu
