"""The measurements, in the order that keeps them comparable.

Every URL is presigned before timing starts. A verification pass reads the large object once
per source with SHA-256 (through each cache twice: the first read is cold, the second warm), so
each row's bytes are checked once; the timed reads then only count bytes. Timed reads go round
by round, every source once per round, so that a burst of load from elsewhere on the machine
lands on all sources alike rather than on one. Cold reads use a fresh copy of the object each
round (``large-1``…): each is the first read of that key through that cache.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import aiohttp

from bench.clients import WrongAnswer, curl_read, find_curl, read_large, small_pass
from bench.dataset import Dataset
from bench.results import LargeRow, Run, SmallRow

Urls = Mapping[str, Mapping[str, str]]
"""Server ("file", "moto", "s3d", "rclone") → key → URL, presigned where the server checks
signatures; a server that is not running (rclone, when unavailable) is absent."""
Say = Callable[[str], None]

LARGE_ROWS = {
    "file": "bare FileResponse (Python ceiling)",
    "moto": "moto direct",
    "s3d-cold": "s3d cold (first read)",
    "s3d-warm": "s3d warm",
    "rclone-cold": "rclone cold (first read)",
    "rclone-warm": "rclone warm",
    "aiohttp-file": "aiohttp client, bare FileResponse (client check)",
}
SMALL_ROWS = {
    "file": "bare FileResponse (Python ceiling)",
    "moto": "moto direct",
    "s3d-cold": "s3d first pass (cold)",
    "s3d-warm": "s3d warm",
    "rclone-cold": "rclone first pass (cold)",
    "rclone-warm": "rclone warm",
}


def server_of(source: str) -> str:
    """The server a row reads from: "s3d-warm" → "s3d", "aiohttp-file" → "file"."""
    return "file" if source == "aiohttp-file" else source.split("-")[0]


async def measure_large(
    client: aiohttp.ClientSession, urls: Urls, data: Dataset, repeat: int, run: Run, say: Say
) -> None:
    """Fill ``run.large``: the verification pass, then ``repeat`` rounds of timed reads, with
    curl where it is installed (the aiohttp client's row is then the client check)."""
    curl = find_curl()
    rows = run.large
    for source, label in LARGE_ROWS.items():
        check = "size every read" if source == "aiohttp-file" else "sha256 once, size every read"
        rows[source] = LargeRow(source, label, check)
    if curl is None:
        rows["aiohttp-file"].skipped = "curl not found: aiohttp timed every row"
    say(f"verifying the {data.large_size >> 20} MiB object from every source")
    for source in ("file", "moto", "s3d-cold", "s3d-warm", "rclone-cold", "rclone-warm"):
        server = urls.get(server_of(source))
        if server is None:
            continue
        read = await read_large(client, server[data.large_key], data.large_size, digest=True)
        if read.sha256 != data.large_sha256:
            raise WrongAnswer(
                f"{LARGE_ROWS[source]}: SHA-256 {read.sha256}, stored {data.large_sha256}"
            )
        rows[source].verified = True
    for round_ in range(repeat):
        for source, row in rows.items():
            server = urls.get(server_of(source))
            if server is None:
                row.skipped = f"{server_of(source)} not available"
            if server is None or row.skipped:
                continue
            url = server[data.cold_keys[round_] if source.endswith("-cold") else data.large_key]
            if curl is not None and source != "aiohttp-file":
                read = await curl_read(curl, url, data.large_size)
            else:
                read = await read_large(client, url, data.large_size)
            row.add(read.nbytes, read.seconds, read.cache)
            row.verified |= source == "aiohttp-file"  # the others by their verification read
        say(f"large GETs, round {round_ + 1}/{repeat}: " + _large_line(rows))


async def measure_small(
    client: aiohttp.ClientSession,
    urls: Urls,
    data: Dataset,
    repeat: int,
    concurrency: int,
    run: Run,
    rng: random.Random,
    say: Say,
) -> None:
    """Fill ``run.small``: one first pass per source (timed for the caches: their cold rows),
    then ``repeat`` rounds of passes over every key in a shuffled order."""
    rows = run.small
    check = "every body compared"
    for source, label in SMALL_ROWS.items():
        rows[source] = SmallRow(source, label, check)
    keys = list(data.small)
    for source in ("file", "moto", "s3d-cold", "rclone-cold"):  # warms connections and caches
        server = urls.get(server_of(source))
        if server is None:
            rows[source].skipped = f"{server_of(source)} not available"
            continue
        first = await small_pass(client, [(server[k], data.small[k]) for k in keys], concurrency)
        if source.endswith("-cold"):
            rows[source].add(first.rate, first.latencies, first.cache)
            rows[source].verified = True  # small_pass compares every body it gets
    for round_ in range(repeat):
        rng.shuffle(keys)
        for source, row in rows.items():
            if source.endswith("-cold"):
                continue
            server = urls.get(server_of(source))
            if server is None:
                row.skipped = f"{server_of(source)} not available"
                continue
            done = await small_pass(client, [(server[k], data.small[k]) for k in keys], concurrency)
            row.add(done.rate, done.latencies, done.cache)
            row.verified = True
        say(f"small GETs, round {round_ + 1}/{repeat}: " + _small_line(rows))


def _large_line(rows: dict[str, LargeRow]) -> str:
    return (
        ", ".join(f"{row.id} {row.mib_per_s[-1]:.0f}" for row in rows.values() if row.mib_per_s)
        + " MiB/s"
    )


def _small_line(rows: dict[str, SmallRow]) -> str:
    return (
        ", ".join(
            f"{row.id} {row.per_s[-1]:.0f}"
            for row in rows.values()
            if row.per_s and "cold" not in row.id
        )
        + " GET/s"
    )
