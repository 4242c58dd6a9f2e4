"""The FUSE benchmark: ``make bench-fuse``, or ``python -m bench.fuse [options]``.

Starts its own moto (the remote) and an s3d with a FUSE mount of the benchmark bucket
(``S3D_FUSE_MOUNTS``), stores one large object and a directory of small keys at moto, then
measures through the mount: a sequential read of the large object cold (from the remote) and
warm (a second read), random 4 KiB reads (IOPS), ``os.listdir`` of the directory, and a
sequential write with ``fsync`` (into the journal); against the same object read over s3d's S3
GET, and a local ``cat`` of s3d's cached copy (the ceiling). Writes ``fuse-<time>.json`` and
``.md`` into ``bench/results/``; unmounts and stops every process it started. Needs
/dev/fuse. See docs/fuse.md.

Exit status: 0 when the run completed, 1 when the harness failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from asyncio import to_thread
from pathlib import Path

import aiohttp

from bench import clients
from bench.fuse_measure import (
    Row,
    cat,
    drop_pages,
    largest_file,
    list_dir,
    random_file,
    random_reads,
    rate,
    wait_mounted,
    write_file,
)
from bench.harness import run_harness, say
from bench.machine import describe
from bench.processes import Children
from bench.services import (
    RCLONE_FLAGS,
    S3D_WANTED,
    rclone_binary,
    rclone_env,
    s3d_settings,
    start_moto,
    start_s3d,
)
from bench.signing import Presigner
from bench.sizes import parse_size, positive, size_text
from bench.tables import Table, num, render_markdown, render_text, write_files

RESULTS = Path(__file__).resolve().parent / "results"
Machine = dict[str, object]
BUCKET = "bench-fuse"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--size", type=parse_size, default=parse_size("1GiB"), help="large object (1GiB)")
    add("--keys", type=positive, default=10_000, help="keys in the listed directory (10000)")
    add("--random", type=positive, default=2000, help="random 4 KiB reads (2000)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the data and the mount go ($TMPDIR)")
    return parser


async def _seed(
    client: aiohttp.ClientSession, moto: str, work: Path, args: argparse.Namespace
) -> None:
    async with client.put(f"{moto}/{BUCKET}") as answer:
        answer.raise_for_status()
    source = work / "large.bin"
    await asyncio.to_thread(random_file, source, args.size)
    body = await asyncio.to_thread(source.open, "rb")
    try:
        async with client.put(f"{moto}/{BUCKET}/large.bin", data=body) as answer:
            answer.raise_for_status()
    finally:
        body.close()
    source.unlink()
    gate = asyncio.Semaphore(16)

    async def put(index: int) -> None:
        async with gate, client.put(f"{moto}/{BUCKET}/keys/k{index:07d}", data=b"") as answer:
            answer.raise_for_status()

    await asyncio.gather(*(put(i) for i in range(args.keys)))


async def run_benchmark(args: argparse.Namespace, work: Path) -> tuple[list[Row], Machine]:
    point = work / "mnt"
    point.mkdir()
    wanted = {**S3D_WANTED, "fuse.mounts": f"{BUCKET}:{point}", "journal.mode": "write-back"}
    machine = describe(work, None, None)
    try:
        async with Children(work) as children, clients.session(4) as client:
            moto = await start_moto(children)
            say(f"moto at {moto.url}; storing {size_text(args.size)} and {args.keys} keys")
            await _seed(client, moto.url, work, args)
            s3d = await start_s3d(children, moto.url, work / "s3d", s3d_settings(wanted))
            say(f"s3d at {s3d.url}, mounted at {point}")
            rows = await _measure(args, point, work, client, s3d.url)
            rows += await _rclone(children, moto.url, work, args)
    finally:
        # s3d unmounts when stopped; this is for an s3d that was killed.
        unmount = ["fusermount3", "-u", "-z", str(point)]
        await asyncio.to_thread(subprocess.run, unmount, capture_output=True, check=False)
    machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    return rows, machine


async def _measure(
    args: argparse.Namespace, point: Path, work: Path, client: aiohttp.ClientSession, url: str
) -> list[Row]:
    size = args.size
    rows = await mount_rows("s3d", point, args)
    warm = rows[1].value
    start = time.perf_counter()
    read = await clients.read_large(client, Presigner(url).get(BUCKET, "large.bin"), size)
    got = rate(read.nbytes, time.perf_counter() - start)
    rows.append(Row("S3 GET through s3d, warm", got, "MiB/s"))
    ceiling = rate(size, await asyncio.to_thread(cat, largest_file(work / "s3d" / "cache")))
    rows.append(Row("local cat of the cached file", ceiling, "MiB/s", "the ceiling"))
    rows.append(Row("s3d warm read / ceiling", 100 * warm / ceiling, "%", "target >= 50%"))
    for row in rows[-3:]:
        say(f"{row.name}: {row.value:.1f} {row.unit}")
    return rows


async def mount_rows(label: str, point: Path, args: argparse.Namespace) -> list[Row]:
    """What an application sees on the mount at ``point`` (s3d's or rclone's)."""
    large, size = point / "large.bin", args.size
    rows = [
        Row(f"{label}: sequential read, cold", rate(size, await to_thread(cat, large)), "MiB/s")
    ]
    await to_thread(drop_pages, large)
    warm = rate(size, await to_thread(cat, large))
    rows.append(Row(f"{label}: sequential read, warm", warm, "MiB/s", "its cache, through FUSE"))
    paged = rate(size, await to_thread(cat, large))
    rows.append(Row(f"{label}: sequential read, again", paged, "MiB/s", "the kernel's page cache"))
    await to_thread(drop_pages, large)
    seconds = await to_thread(random_reads, large, size, args.random, 4096, 1)
    rows.append(Row(f"{label}: random 4 KiB reads", args.random / seconds, "IOPS", "warm"))
    listed = await to_thread(list_dir, point / "keys", args.keys)
    rows.append(Row(f"{label}: listdir of {args.keys:,} keys", listed, "s"))
    written = await to_thread(write_file, point / "written.bin", size)
    rows.append(Row(f"{label}: sequential write + fsync", rate(size, written), "MiB/s"))
    for row in rows:
        say(f"{row.name}: {row.value:.1f} {row.unit}")
    return rows


async def _rclone(children: Children, moto: str, work: Path, args: argparse.Namespace) -> list[Row]:
    """The same measures through ``rclone mount --vfs-cache-mode full``, where rclone runs."""
    binary = rclone_binary()
    if binary is None:
        say("rclone not found: no rclone rows")
        return []
    point = work / "rclone-mnt"
    point.mkdir()
    argv = [str(binary), "mount", f"moto:{BUCKET}", str(point), *RCLONE_FLAGS]
    argv += ["--cache-dir", str(work / "rclone-cache")]
    await children.start("rclone-mount", argv, rclone_env(moto, work / "rclone-cache"))
    try:
        await to_thread(wait_mounted, point)
        return await mount_rows("rclone", point, args)
    finally:
        unmount = ["fusermount3", "-u", "-z", str(point)]
        await to_thread(subprocess.run, unmount, capture_output=True, check=False)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(result: tuple[list[Row], Machine]) -> int:
        rows, machine = result
        table = Table(
            ["measure", "value", "unit", "note"],
            [[r.name, num(r.value, 1), r.unit, r.note] for r in rows],
            frozenset({0, 2, 3}),
        )
        headline = f"FUSE mount, {size_text(args.size)} object, {args.keys:,} keys"
        print(render_text(headline, [table], []), flush=True)
        document: dict[str, object] = {
            "rows": [vars_of(r) for r in rows],
            "machine": machine,
            "args": _args(args),
        }
        md = render_markdown(headline, [table], [], machine, "")
        json_path, md_path = write_files("fuse", document, md, args.out)
        say(f"wrote {json_path} and {md_path}")
        return 0

    return run_harness("s3d-bench-fuse-", args.work_dir, lambda w: run_benchmark(args, w), finish)


def vars_of(row: Row) -> dict[str, object]:
    return {"name": row.name, "value": row.value, "unit": row.unit, "note": row.note}


def _args(args: argparse.Namespace) -> dict[str, object]:
    return {"size": args.size, "keys": args.keys, "random": args.random}


if __name__ == "__main__":
    sys.exit(main())
