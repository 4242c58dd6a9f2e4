"""The DRS catalogue benchmark: ``make bench-drs``, or ``python -m bench.drs_import``.

Generates a drs.index of ``--records`` records (``bench/drs_dataset.py``), starts its own moto
(the remote) and an ``s3d serve`` in front of it, both as processes of their own on loopback,
so the RSS measured is s3d's alone; imports the file with ``s3d drs import FILE`` run as a
command, sampling the daemon's RSS meanwhile; looks ``--lookups`` random records up by SHA-256
through the DRS API over HTTP, then, with the daemon stopped, in-process on the same SQLite
file. Prints the results with the targets judged (import < 60 s, daemon peak RSS < 300 MiB,
HTTP lookup p99 < 2 ms); writes ``drs_import-<time>.json`` and ``.md`` into
``bench/results/``; stops every process it started, also on failure or Ctrl-C. See
docs/benchmarks.md.

Exit status: 0 when the run completed, whatever the verdicts; 1 when the harness failed (a
server did not start, the import failed) or a lookup did not resolve to exactly the expected
id (the results are written first); 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from bench import access_log, drs_report
from bench.drs_dataset import PROJECT, generate, wanted
from bench.drs_measure import CHECKSUM_PATH, http_lookups, store_lookups, timed_import
from bench.drs_results import DrsRun, judge
from bench.harness import run_harness, say
from bench.machine import describe
from bench.processes import Children
from bench.services import S3D_WANTED, s3d_settings, start_moto, start_s3d
from bench.sizes import positive

RESULTS = Path(__file__).resolve().parent / "results"
CATALOGUE = Path("catalogue") / "catalogue.sqlite"
"""Where s3d keeps its catalogue, under its data directory."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.drs_import",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--records", type=positive, default=1_000_000, help="records of the drs.index (1000000)")
    add("--lookups", type=positive, default=2000, help="checksum lookups, each way (2000)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the temporary data goes ($TMPDIR)")
    add("--seed", type=int, default=1, help="seed of the records and of the lookups (1)")
    return parser


async def run_benchmark(args: argparse.Namespace, work: Path) -> DrsRun:
    """Generate, start the servers in ``work``, import, look up, stop them; the run, not yet
    judged. Raises WrongAnswer when the import fails."""
    settings = s3d_settings({**S3D_WANTED, "drs.enabled": "true", "drs.project": PROJECT})
    machine = describe(work, None, None)
    for unused in ("rclone", "curl", "botocore"):
        machine.pop(unused)
    run = DrsRun(config=_config(args, dict(settings.applied)), machine=machine)
    run.notes += [f"s3d has no setting {key}: left at its default" for key in settings.missing]
    index = work / "drs.index"
    say(f"writing {args.records:,} records to {index}")
    started = time.perf_counter()
    run.index_bytes = await asyncio.to_thread(generate, index, args.seed, args.records)
    run.generate_seconds = time.perf_counter() - started
    looked_up = wanted(args.seed, args.records, args.lookups)
    data_dir = work / "s3d"
    async with Children(work) as children:
        moto = await start_moto(children)
        s3d = await start_s3d(children, moto.url, data_dir, settings, log=access_log.JSON_LOGS)
        say(f"moto at {moto.url}, s3d at {s3d.url}; s3d drs import {index.name}")
        run.imported = await timed_import(children, s3d, data_dir, index, args.records)
        say(f"imported in {run.imported.seconds:.1f} s; {len(looked_up):,} lookups over HTTP")
        await asyncio.to_thread(http_lookups, s3d.url, looked_up, run.http)
    own = access_log.durations(work / "s3d.log", "GET")
    run.http.server_ms = [ms for path, ms in own.items() if path.startswith(CHECKSUM_PATH)]
    say("s3d stopped; the same lookups in-process on its catalogue")
    await store_lookups(data_dir / CATALOGUE, looked_up, run.in_process)
    run.machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    _notes(run, work / "s3d.log")
    return run


def _notes(run: DrsRun, log: Path) -> None:
    found = access_log.errors(log)
    if found:
        shown = "; ".join(sorted(set(found))[:3])
        run.notes.append(f"WARNING s3d logged {len(found)} errors, e.g.: {shown}")
    for row in (run.http, run.in_process):
        run.notes += [f"WRONG ANSWER ({row.label}): {line}" for line in row.failures[:5]]


def _config(args: argparse.Namespace, s3d_env: dict[str, str]) -> dict[str, object]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "records": args.records,
        "lookups": args.lookups,
        "seed": args.seed,
        "project": PROJECT,
        "s3d_environment": s3d_env,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(run: DrsRun) -> int:
        judged = judge(run)
        print(drs_report.text(run, judged), flush=True)
        json_path, md_path = drs_report.write(run, judged, args.out)
        say(f"wrote {json_path} and {md_path}")
        wrong = len(run.http.failures) + len(run.in_process.failures)
        if wrong:
            say(f"{wrong} lookups did not resolve to exactly the expected id: the run failed")
        return 1 if wrong else 0

    return run_harness(
        "s3d-bench-drs-", args.work_dir, lambda work: run_benchmark(args, work), finish
    )


if __name__ == "__main__":
    sys.exit(main())
