"""The tracing benchmark: ``make bench-telemetry``, or ``python -m bench.telemetry [options]``.

Starts its own moto (the remote), a local OTLP/HTTP receiver (``bench/otlp_sink.py``) and two
s3d in front of the same moto: one with tracing off, one tracing every request (the
``OTEL_*`` variables: endpoint the receiver, sampler ``always_on``). Measures warm 4 KiB GETs
per second through each, and through the untraced one while ``/_s3d/metrics`` is scraped every
second (skipped, and said so, where that endpoint answers 404); prints the ratios against the
targets (tracing >= 0.8x, metrics >= 0.95x of tracing off); writes ``telemetry-<time>.json``
and ``.md`` into ``bench/results/``; stops every process it started. See docs/benchmarks.md.
``BENCH_OTEL_<NAME>=value`` in the environment gives the traced s3d ``OTEL_<NAME>=value``
(another sampler, batch size…).

Exit status: 0 when the run completed (3 with ``--strict`` when a target failed), 1 when the
harness failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import aiohttp

from bench import clients, telemetry_measure, telemetry_report
from bench.dataset import BUCKET, seed
from bench.harness import run_harness, say
from bench.machine import describe
from bench.otlp_sink import BANNER as SINK_BANNER
from bench.processes import Children, wait_for_line
from bench.services import S3D_WANTED, S3dSettings, s3d_settings, start_moto, start_s3d
from bench.signing import Presigner
from bench.sizes import parse_size, positive, size_text

RESULTS = Path(__file__).resolve().parent / "results"
TRACED = {
    "OTEL_TRACES_SAMPLER": "always_on",
    "OTEL_SERVICE_NAME": "s3d-bench",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.telemetry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--small-size", type=parse_size, default=parse_size("4KiB"), help="object size (4KiB)")
    add("--small-count", type=positive, default=200, help="number of objects (200)")
    add("--gets", type=positive, default=4000, help="GETs per timed pass (4000)")
    add("--concurrency", type=positive, default=16, help="GETs in flight (16)")
    add("--repeat", type=positive, default=5, help="timed rounds (5)")
    add("--scrape-interval", type=float, default=1.0, help="seconds between scrapes (1)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the objects and caches go ($TMPDIR)")
    add("--seed", type=int, default=1, help="seed of the objects' bytes and GET order (1)")
    add("--strict", action="store_true", help="exit 3 when a target fails")
    return parser


async def run_benchmark(args: argparse.Namespace, work: Path) -> telemetry_report.Report:
    settings = s3d_settings(S3D_WANTED)
    rng = random.Random(args.seed)
    machine = describe(work, None, None)
    async with Children(work) as children, clients.session(args.concurrency) as client:
        moto = await start_moto(children)
        say(f"moto at {moto.url}; storing {args.small_count} objects")
        data = await seed(
            client, moto.url, work / "files", size=1, cold_reads=0,
            small_count=args.small_count, small_size=args.small_size, rng=rng,
        )  # fmt: skip
        sink_child = await children.start("otlp-sink", [sys.executable, "-m", "bench.otlp_sink"])
        sink = await wait_for_line(sink_child, SINK_BANNER)
        off = await start_s3d(children, moto.url, work / "s3d-off", settings, name="s3d-off")
        traced_env = {**settings.applied, **TRACED, "OTEL_EXPORTER_OTLP_ENDPOINT": sink}
        traced_env.update(_extra_otel())
        traced = await start_s3d(
            children, moto.url, work / "s3d-traced",
            S3dSettings(traced_env, settings.missing), name="s3d-traced",
        )  # fmt: skip
        say(f"s3d (tracing off) at {off.url}, s3d (traced) at {traced.url}, receiver at {sink}")
        endpoints = {"off": off.url, "traced": traced.url, "metrics": off.url}
        presigners = {url: Presigner(url) for url in set(endpoints.values())}
        urls = {
            row: {key: presigners[url].get(BUCKET, key) for key in data.small}
            for row, url in endpoints.items()
        }
        pids = {"off": off.pid, "traced": traced.pid, "metrics": off.pid}
        pids["receiver"] = sink_child.process.pid
        target = telemetry_measure.Target(urls, endpoints, pids)
        knobs = {
            "concurrency": args.concurrency, "repeat": args.repeat, "gets": args.gets,
            "scrape_interval": args.scrape_interval,
        }  # fmt: skip
        rows, scrapes, cpu = await telemetry_measure.measure(
            client, target, data.small, knobs, rng, say
        )
        spans = await _spans_received(client, sink)
    machine["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    config = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "small_size_text": size_text(args.small_size),
        **{k: v for k, v in vars(args).items() if k in ("small_count", "gets", "repeat")},
        "concurrency": args.concurrency,
        "scrape_interval": args.scrape_interval,
        "traced_environment": {k: v for k, v in traced_env.items() if k.startswith("OTEL_")},
    }
    return telemetry_report.Report(config, machine, rows, scrapes, spans, cpu)


def _extra_otel() -> dict[str, str]:
    """``BENCH_OTEL_X=v`` in our environment: ``OTEL_X=v`` for the traced s3d (to try a
    sampler, a batch size…)."""
    return {
        k.removeprefix("BENCH_"): v for k, v in os.environ.items() if k.startswith("BENCH_OTEL_")
    }


async def _spans_received(client: aiohttp.ClientSession, sink: str) -> int:
    async with client.get(sink + "/count") as response:
        return int(await response.text())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(report: telemetry_report.Report) -> int:
        verdicts = telemetry_report.judge(report)
        print(telemetry_report.text(report, verdicts), flush=True)
        json_path, md_path = telemetry_report.write(report, verdicts, args.out)
        say(f"wrote {json_path} and {md_path}")
        return 3 if args.strict and any(v.status == "FAIL" for v in verdicts) else 0

    return run_harness(
        "s3d-bench-telemetry-", args.work_dir, lambda w: run_benchmark(args, w), finish
    )


if __name__ == "__main__":
    sys.exit(main())
