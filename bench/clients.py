"""The benchmark's clients: cheap enough not to be what is measured, strict about the bytes.

Timed large reads use curl into /dev/null, timed by curl itself, when curl is installed: on a
2-core machine the client and the server share the CPU, and in trials curl read the bare file
server faster than aiohttp did and no slower than a bare socket with ``recv_into``. aiohttp
streaming into nothing is the fallback and the second client of the client check. The byte
count of every read is checked; one untimed read per source hashes the body with SHA-256.
Small reads (aiohttp, kept-alive connections) compare every body with the bytes uploaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

READ_SIZE = 1 << 20


class WrongAnswer(RuntimeError):
    """A server answered an error status or bytes other than those stored."""


CACHE_HEADER = "x-s3d-cache"
"""How s3d served a GET: hit, miss, revalidated, stale or bypass (docs/cache.md)."""


@dataclass(frozen=True, slots=True)
class Read:
    nbytes: int
    seconds: float
    sha256: str | None = None
    cache: str | None = None
    """The ``x-s3d-cache`` answer, where the server sent one."""


def session(concurrency: int) -> aiohttp.ClientSession:
    """A client session: up to ``concurrency`` kept-alive connections per server."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=concurrency),
        read_bufsize=READ_SIZE,
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120),
    )


async def read_large(
    client: aiohttp.ClientSession, url: str, size: int, *, digest: bool = False
) -> Read:
    """GET ``url`` to the end; time from sending to the last byte. Raises ``WrongAnswer``."""
    hasher = hashlib.sha256() if digest else None
    nbytes = 0
    start = time.perf_counter()
    async with client.get(url) as response:
        if response.status != 200:
            raise WrongAnswer(f"GET {_path(url)}: {response.status} {await response.text()}")
        async for chunk in response.content.iter_any():
            nbytes += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
    seconds = time.perf_counter() - start
    if nbytes != size:
        raise WrongAnswer(f"GET {_path(url)}: {nbytes} bytes, expected {size}")
    sha256 = hasher.hexdigest() if hasher is not None else None
    return Read(nbytes, seconds, sha256, response.headers.get(CACHE_HEADER))


CURL_OUT = "%{http_code} %{size_download} %{time_total} %header{" + CACHE_HEADER + "}"


def find_curl() -> str | None:
    return shutil.which("curl")


async def curl_read(curl: str, url: str, size: int) -> Read:
    """GET ``url`` with curl into /dev/null; curl's own time from start to the last byte."""
    process = await asyncio.create_subprocess_exec(
        *(curl, "--silent", "--show-error", "--output", os.devnull, "--write-out", CURL_OUT),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise WrongAnswer(f"curl {_path(url)}: {err.decode(errors='replace').strip()}")
    status, nbytes, seconds, cache = [*out.decode().split(" ", 3), ""][:4]
    if status != "200" or int(nbytes) != size:
        raise WrongAnswer(f"curl {_path(url)}: {status}, {nbytes} bytes, expected {size}")
    # curl before 7.84 has no %header{}: it prints the variable as it is.
    cache = cache.strip()
    return Read(size, float(seconds), None, cache if cache and "%" not in cache else None)


@dataclass(frozen=True, slots=True)
class SmallPass:
    seconds: float
    latencies: tuple[float, ...]
    """Seconds per request, from sending it to its last byte."""
    cache: Counter[str]
    """How many answers carried each ``x-s3d-cache`` value."""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


async def small_pass(
    client: aiohttp.ClientSession, requests: Sequence[tuple[str, bytes]], concurrency: int
) -> SmallPass:
    """GET every (url, expected body) with ``concurrency`` requests in flight at all times."""
    pending = iter(requests)
    latencies: list[float] = []
    cache: Counter[str] = Counter()

    async def worker() -> None:
        for url, expected in pending:  # one shared iterator: each request is taken once
            sent = time.perf_counter()
            async with client.get(url) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - sent)
            if CACHE_HEADER in response.headers:
                cache[response.headers[CACHE_HEADER]] += 1
            if response.status != 200 or body != expected:
                raise WrongAnswer(
                    f"GET {_path(url)}: {response.status}, {len(body)} bytes "
                    f"{'differing from' if len(body) == len(expected) else 'instead of'} "
                    f"the {len(expected)} stored"
                )

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return SmallPass(time.perf_counter() - start, tuple(latencies), cache)


def _path(url: str) -> str:
    """The URL without its query (no signatures in messages)."""
    return url.split("?", 1)[0]
