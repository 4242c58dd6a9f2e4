"""Two s3d checkouts' mounts side by side: ``python -m bench.fuse_compare BASE [NEW]``.

One moto holds one large object; an s3d from each checkout (BASE, then NEW, by default this
one) mounts the bucket and reads the object once cold. Then, round after round, each mount in
turn: a warm sequential read (the kernel told to drop the file's pages first, so every byte
comes through FUSE from s3d's cache), the daemon's CPU seconds per GiB during it, the same
read again (the kernel's page cache), random 4 KiB reads; and a local ``cat`` of the cached
file, the ceiling, once per round. On a machine shared with other work only ratios inside a
round mean much. Prints one line per measure; stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from asyncio import to_thread
from pathlib import Path

from bench import clients
from bench.fuse import BUCKET, _seed
from bench.fuse_measure import cat, drop_pages, largest_file, random_reads, rate
from bench.harness import run_harness, say
from bench.processes import Children
from bench.services import S3D_WANTED, Service, s3d_settings, start_moto, start_s3d
from bench.sizes import parse_size, positive

HERE = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(label: str, point: Path, s3d: Service, size: int, count: int, seed: int) -> None:
    large = point / "large.bin"
    drop_pages(large)
    assert s3d.pid is not None
    before = cpu_seconds(s3d.pid)
    warm = rate(size, cat(large))
    per_gib = (cpu_seconds(s3d.pid) - before) / (size / (1 << 30))
    again = rate(size, cat(large))
    drop_pages(large)
    iops = count / random_reads(large, size, count, 4096, seed)
    say(
        f"{label}: warm {warm:.0f} MiB/s (daemon {per_gib:.2f} CPU s/GiB), "
        f"again {again:.0f} MiB/s, random 4 KiB {iops:.0f} IOPS"
    )


async def run(args: argparse.Namespace, work: Path) -> None:
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    try:
        async with Children(work) as children, clients.session(4) as client:
            moto = await start_moto(children)
            await _seed(client, moto.url, work, args)
            mounts: dict[str, tuple[Path, Service]] = {}
            for label, tree in trees.items():
                point = work / f"mnt-{label}"
                point.mkdir()
                wanted = {**S3D_WANTED, "fuse.mounts": f"{BUCKET}:{point}"}
                data, settings = work / f"s3d-{label}", s3d_settings(wanted)
                s3d = await start_s3d(children, moto.url, data, settings, name=label, tree=tree)
                mounts[label] = (point, s3d)
                cold = rate(args.size, await to_thread(cat, point / "large.bin"))
                say(f"{label} ({tree}): cold {cold:.0f} MiB/s")
            ceiling_file = largest_file(work / "s3d-base" / "cache")
            for number in range(args.rounds):
                for label, (point, s3d) in mounts.items():
                    await to_thread(one_round, label, point, s3d, args.size, args.random, number)
                ceiling = rate(args.size, await to_thread(cat, ceiling_file))
                say(f"local cat: {ceiling:.0f} MiB/s; load {os.getloadavg()[0]:.1f}")
    finally:
        for label in trees:
            unmount = ["fusermount3", "-u", "-z", str(work / f"mnt-{label}")]
            await to_thread(subprocess.run, unmount, capture_output=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuse_compare", description=__doc__)
    parser.add_argument("base", type=Path, help="the checkout measured first")
    parser.add_argument("new", type=Path, nargs="?", default=HERE, help=f"the other ({HERE})")
    parser.add_argument("--size", type=parse_size, default=parse_size("512MiB"))
    parser.add_argument("--rounds", type=positive, default=3)
    parser.add_argument("--random", type=positive, default=2000)
    parser.add_argument("--work-dir", type=Path)
    parser.set_defaults(keys=1)  # the seeding of bench.fuse also stores keys to list
    args = parser.parse_args(argv)
    return run_harness("s3d-bench-fuse-compare-", args.work_dir, lambda w: run(args, w), _done)


def _done(_: None) -> int:
    return 0


if __name__ == "__main__":
    sys.exit(main())
