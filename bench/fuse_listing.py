"""Where the time of a large directory listing goes: ``python -m bench.fuse_listing``.

For each remote (moto, and SeaweedFS where ``weed`` is installed: a remote that lists fast),
stores ``--keys`` empty keys under one prefix, then times the same listing (pages of 1,000
keys, delimiter ``/``) four ways: ListObjectsV2 straight at the remote (boto3), through
s3d's S3 API (boto3), ``os.listdir`` through s3d's mount, and that listdir once more. The
differences say what the remote, s3d's gateway and FUSE each cost. Prints a table; stops
every process it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from asyncio import to_thread
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config

from bench import clients
from bench.fuse_measure import Row, list_dir
from bench.harness import run_harness, say
from bench.processes import Children
from bench.seaweed import start_seaweedfs, weed_binary
from bench.services import (
    ACCESS_KEY_ID,
    REMOTE_KEY,
    S3D_WANTED,
    SECRET_ACCESS_KEY,
    Service,
    s3d_settings,
    start_moto,
    start_s3d,
)
from bench.sizes import positive
from bench.tables import Table, num, render_text

BUCKET = "bench-list"
PREFIX = "keys/"


def s3_client(url: str, key: str, secret: str) -> Any:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10})
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=config,
    )


def list_all(client: Any) -> float:
    """Seconds to list every key under ``PREFIX`` in pages of 1,000 (delimiter ``/``)."""
    start, count = time.perf_counter(), 0
    pages = client.get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=BUCKET, Prefix=PREFIX, Delimiter="/"):
        count += len(page.get("Contents", []))
    seconds = time.perf_counter() - start
    return seconds if count else -1.0


async def seed(url: str, keys: int) -> None:
    """An empty bucket with ``keys`` empty keys under ``PREFIX`` (unsigned PUTs: moto and a
    SeaweedFS without identities take them)."""
    async with clients.session(32) as http:
        async with http.put(f"{url}/{BUCKET}") as answer:
            answer.raise_for_status()
        gate = asyncio.Semaphore(32)

        async def put(index: int) -> None:
            async with gate, http.put(f"{url}/{BUCKET}/{PREFIX}k{index:07d}", data=b"") as a:
                a.raise_for_status()

        await asyncio.gather(*(put(i) for i in range(keys)))


async def measure(
    name: str, start: Callable[[Children], Awaitable[Service]], work: Path, keys: int
) -> list[Row]:
    async with Children(work / name) as children:
        (work / name).mkdir(exist_ok=True)
        remote = await start(children)
        begin = time.perf_counter()
        await seed(remote.url, keys)
        say(f"{name}: {keys:,} keys stored in {time.perf_counter() - begin:.0f} s")
        direct = s3_client(remote.url, REMOTE_KEY, REMOTE_KEY)
        rows = [Row(f"{name}: ListObjectsV2 at the remote", await to_thread(list_all, direct), "s")]
        point = work / name / "mnt"
        point.mkdir()
        wanted = {**S3D_WANTED, "fuse.mounts": f"{BUCKET}:{point}", "journal.mode": "write-back"}
        try:
            s3d = await start_s3d(children, remote.url, work / name / "s3d", s3d_settings(wanted))
            through = s3_client(s3d.url, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
            seconds = await to_thread(list_all, through)
            rows.append(Row(f"{name}: ListObjectsV2 through s3d", seconds, "s"))
            for label in ("listdir through the mount", "listdir again"):
                seconds = await to_thread(list_dir, point / PREFIX.rstrip("/"), keys)
                rows.append(Row(f"{name}: {label}", seconds, "s"))
        finally:  # s3d unmounts when stopped; this is for an s3d that died
            unmount = ["fusermount3", "-u", "-z", str(point)]
            await to_thread(subprocess.run, unmount, capture_output=True, check=False)
        for row in rows:
            say(f"{row.name}: {row.value:.1f} s")
        return rows


async def run(args: argparse.Namespace, work: Path) -> list[Row]:
    rows = await measure("moto", start_moto, work, args.keys) if args.remote != "seaweedfs" else []
    weed = weed_binary() if args.remote != "moto" else None
    if weed is None:
        say("no SeaweedFS rows" + (" (weed not found)" if args.remote != "moto" else ""))
        return rows

    async def seaweed(children: Children) -> Service:
        return await start_seaweedfs(children, weed, work / "seaweedfs" / "data")

    return rows + await measure("seaweedfs", seaweed, work, args.keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuse_listing", description=__doc__)
    parser.add_argument("--keys", type=positive, default=100_000, help="keys listed (100000)")
    parser.add_argument("--remote", choices=("moto", "seaweedfs", "both"), default="both")
    parser.add_argument("--work-dir", type=Path, help="where the data and mounts go ($TMPDIR)")
    args = parser.parse_args(argv)

    def finish(rows: list[Row]) -> int:
        table = Table(
            ["measure", "value", "unit"],
            [[r.name, num(r.value, 1), r.unit] for r in rows],
            frozenset({0, 2}),
        )
        load = os.getloadavg()[0]
        print(render_text(f"Listing {args.keys:,} keys (load {load:.1f})", [table], []))
        return 0

    return run_harness("s3d-bench-list-", args.work_dir, lambda w: run(args, w), finish)


if __name__ == "__main__":
    sys.exit(main())
