"""The objects the benchmark reads, stored in moto and, byte for byte, under the file server's
root (``<root>/<bucket>/<key>``).

One large object of random bytes (``large-0``), server-side copies of it for the cold reads
(``large-1``…, one per repeat: each is read once through each cache, so each such read is a
first read), and many small objects of distinct random bytes (``small-00000``…). moto accepts
unsigned requests for writing, so seeding needs no signatures.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

import aiohttp

BUCKET = "bench"
WRITE_CHUNK = 8 << 20
SEED_CONCURRENCY = 16
BINARY = {"Content-Type": "application/octet-stream"}  # moto would parse a form body


class SeedError(RuntimeError):
    """moto refused to store an object."""


@dataclass(frozen=True, slots=True)
class Dataset:
    large_key: str
    large_size: int
    large_sha256: str
    cold_keys: tuple[str, ...]
    small: dict[str, bytes]


async def seed(
    client: aiohttp.ClientSession,
    moto_url: str,
    root: Path,
    *,
    size: int,
    cold_reads: int,
    small_count: int,
    small_size: int,
    rng: random.Random,
) -> Dataset:
    """Create the bucket and every object in moto, and the same files under ``root``."""
    folder = root / BUCKET
    folder.mkdir(parents=True, exist_ok=True)
    await _put(client, f"{moto_url}/{BUCKET}", b"")
    large = folder / "large-0"
    digest = await asyncio.to_thread(_write_random, large, size)
    with large.open("rb") as body:  # aiohttp reads it off the event loop
        await _put(client, f"{moto_url}/{BUCKET}/large-0", body)
    cold_keys = tuple(f"large-{n}" for n in range(1, cold_reads + 1))
    for key in cold_keys:
        await _put(
            client, f"{moto_url}/{BUCKET}/{key}", b"", {"x-amz-copy-source": f"/{BUCKET}/large-0"}
        )
    small = {f"small-{n:05d}": rng.randbytes(small_size) for n in range(small_count)}
    await asyncio.to_thread(_write_files, folder, small)
    queue = iter(small.items())

    async def uploader() -> None:
        for key, body in queue:
            await _put(client, f"{moto_url}/{BUCKET}/{key}", body)

    async with asyncio.TaskGroup() as group:
        for _ in range(SEED_CONCURRENCY):
            group.create_task(uploader())
    return Dataset("large-0", size, digest, cold_keys, small)


async def _put(
    client: aiohttp.ClientSession, url: str, body: object, headers: dict[str, str] | None = None
) -> None:
    async with client.put(url, data=body, headers={**BINARY, **(headers or {})}) as response:
        if response.status != 200:
            raise SeedError(f"PUT {url}: {response.status} {await response.text()}")


def _write_random(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; their SHA-256."""
    hasher = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, WRITE_CHUNK))
            hasher.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return hasher.hexdigest()


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        (folder / name).write_bytes(body)
