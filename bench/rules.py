"""The filter-rules benchmark: ``python -m bench.rules [options]``.

Starts its own moto (the remote) and three s3d in write-back in front of it: one without
rules, two with 100 filter rules (50 for the write queue, 50 for the read cache, every one
tested before the last, catch-all one decides) and a Rego policy authorising every request:
one evaluating the policy for every request (``rules.policy_verdicts = 0``), one remembering
its verdicts (the default). Measures, round by round and every row once per round (so load
from elsewhere lands on all alike; the row that goes first changes each round), warm 4 KiB
GETs per second (timed in 8 slices, the rows alternating slice by slice) and the s3d
process's CPU time per GET, then the p50 of single 4 KiB write-back PUTs, then waits until
every upload reached moto (no row's GETs run beside another's uploads); then one decision of
each kind in-process (the 100 rules, the policy), p50 and p99 in microseconds. Prints the
ratios against the targets (rules >= 0.9x the rule-free rate, the median of the rounds'
ratios; a decision < 50 us p99) and writes ``rules-<time>.json`` into ``bench/results/``;
stops every process it started.

Exit status: 0 when the run completed, 1 when the harness failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import clients, uploads
from bench.cpu import cpu_seconds
from bench.dataset import BUCKET, seed
from bench.harness import run_harness, say
from bench.landing import Landings
from bench.machine import describe
from bench.processes import Children
from bench.services import (
    ACCESS_KEY_ID,
    S3D_WANTED,
    S3dSettings,
    s3d_settings,
    start_moto,
    start_s3d,
)
from bench.signing import Presigner
from s3d.rules.decide import RuleSet, load_texts
from s3d.rules.match import Facts
from s3d.rules.policy_input import PolicyInput
from s3d.rules.rego import Policies

ROWS = ("none", "every", "rules")
"""No rules; rules and a policy evaluated for every request; rules and a policy whose
verdicts are remembered."""
SLICES = 8
"""A round's GETs are timed in this many slices, the rows alternating slice by slice."""
LANDING_TIMEOUT = 300.0
"""Seconds a round's write-back uploads may take to reach moto."""
RESULTS = Path(__file__).resolve().parent / "results"
POLICY = f"""package s3d.authz
import rego.v1
default allow := false
allow if {{ input.account == "{ACCESS_KEY_ID}"; not startswith(input.object, "locked/") }}
reads := {{"s3:GetObject", "s3:ListBucket"}}
allow if {{ input.account == "{ACCESS_KEY_ID}"; input.action in reads }}
reason := "not this key" if not allow
"""


def rules_text(bucket: str) -> str:
    """100 rules: 49 per feature that the bench's objects reach but do not match (other
    buckets with predicates, this bucket's other prefixes), then a catch-all."""
    lines = ["[write-queue]"]
    for n in range(49):
        lines.append(f"refuse other-{n}/*[tag:k{n}=v]" if n % 2 else f"- {bucket}/nope-{n}/*")
    lines += ["+ *", "[read-cache]"]
    for n in range(49):
        lines.append(
            f"pin other-{n}/*[hdr:content-type='video/*']" if n % 2 else f"- {bucket}/x{n}*"
        )
    lines.append("+ *")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rules",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--small-count", type=int, default=200, help="objects read (200)")
    add("--gets", type=int, default=4000, help="GETs per timed pass (4000)")
    add("--puts", type=int, default=200, help="PUTs per timed pass, one at a time (200)")
    add("--concurrency", type=int, default=16, help="GETs in flight (16)")
    add("--repeat", type=int, default=5, help="timed rounds (5)")
    add("--decisions", type=int, default=20000, help="in-process decisions timed (20000)")
    add("--out", type=Path, default=RESULTS, help=f"where results go ({RESULTS})")
    add("--work-dir", type=Path, help="where the objects and caches go ($TMPDIR)")
    return parser  # fmt: skip


async def run_benchmark(args: argparse.Namespace, work: Path) -> dict[str, object]:
    rng = random.Random(1)
    (work / "rules").write_text(rules_text(BUCKET))
    (work / "policy.rego").write_text(POLICY)
    base = s3d_settings({**S3D_WANTED, "journal.mode": "write-back"})
    ruled = {**base.applied, "S3D_RULES_FILES": str(work / "rules"),
             "S3D_RULES_POLICY_FILES": str(work / "policy.rego")}  # fmt: skip
    every = {**ruled, "S3D_RULES_POLICY_VERDICTS": "0"}
    rows: dict[str, dict[str, list[float]]] = {
        r: {"get_per_s": [], "cpu_us_per_get": [], "put_p50_ms": []} for r in ROWS
    }
    async with Children(work) as children, clients.session(args.concurrency) as client:
        moto = await start_moto(children)
        data = await seed(client, moto.url, work / "files", size=1, cold_reads=0,
                          small_count=args.small_count, small_size=4096, rng=rng)  # fmt: skip
        servers = {
            "none": await start_s3d(children, moto.url, work / "s3d-none", base, name="s3d-none"),
            "every": await start_s3d(children, moto.url, work / "s3d-every",
                                     S3dSettings(every, base.missing), name="s3d-every"),
            "rules": await start_s3d(children, moto.url, work / "s3d-rules",
                                     S3dSettings(ruled, base.missing), name="s3d-rules"),
        }  # fmt: skip
        signers = {row: Presigner(s.url) for row, s in servers.items()}
        keys = list(data.small)
        for row in rows:  # warm both caches
            await clients.small_pass(
                client, [(signers[row].get(BUCKET, k), data.small[k]) for k in keys], 16
            )
        body = rng.randbytes(4096)
        async with Landings(work / "moto.log", BUCKET) as landings:
            for round_ in range(args.repeat):
                rng.shuffle(keys)
                order = [keys[n % len(keys)] for n in range(args.gets)]
                turn = ROWS[round_ % 3 :] + ROWS[: round_ % 3]  # no row always goes first
                spent, cpu = dict.fromkeys(ROWS, 0.0), dict.fromkeys(ROWS, 0.0)
                for part in range(SLICES):  # rows alternate slice by slice: load drifts less
                    keys_now = order[part::SLICES]
                    for row in turn:
                        gets = [(signers[row].get(BUCKET, k), data.small[k]) for k in keys_now]
                        before = cpu_seconds(servers[row].pid) or 0.0
                        done = await clients.small_pass(client, gets, args.concurrency)
                        cpu[row] += (cpu_seconds(servers[row].pid) or 0.0) - before
                        assert done.cache.get("hit", 0) == len(keys_now), done.cache
                        spent[row] += done.seconds
                for row in turn:
                    rows[row]["get_per_s"].append(len(order) / spent[row])
                    rows[row]["cpu_us_per_get"].append(cpu[row] / len(order) * 1e6)
                written = []
                for row in turn:
                    names = [f"w/{row}/{round_}/{n}" for n in range(args.puts)]
                    urls = [signers[row].url("PUT", BUCKET, name) for name in names]
                    puts = [await uploads.put(client, url, body) for url in urls]
                    assert all(p.state == "pending" for p in puts), "not written back"
                    rows[row]["put_p50_ms"].append(statistics.median(p.seconds for p in puts) * 1e3)
                    written += names
                # The next GET passes start once every upload landed: none measures another's.
                await asyncio.wait_for(landings.wait_for(written), LANDING_TIMEOUT)
                say(f"round {round_ + 1}/{args.repeat}: " + ", ".join(
                    f"{r} {c['get_per_s'][-1]:.0f} GET/s, PUT p50 {c['put_p50_ms'][-1]:.2f} ms"
                    for r, c in rows.items()))  # fmt: skip
    config = vars(args) | {"out": str(args.out)}
    machine = describe(work, None, None)
    return {"rows": rows, "decisions": decisions(args.decisions), "machine": machine,
            "config": config}  # fmt: skip


def decisions(count: int) -> dict[str, dict[str, float]]:
    """p50 and p99 (µs) of one decision of each kind, in this process."""
    rules: RuleSet = load_texts([("bench", rules_text(BUCKET))])
    policies = Policies([("policy.rego", POLICY)])
    unremembered = Policies([("policy.rego", POLICY)], remembered=0)
    facts = Facts(BUCKET, "small-00001", {"content-type": "application/octet-stream"}, size=4096)
    fresh = (Facts(BUCKET, f"new-{n}", size=4096) for n in itertools.count())
    headers = (("host", "127.0.0.1"), ("user-agent", "bench"), ("x-amz-date", "20261204T000000Z"))

    def check(engine: Policies) -> object:
        # What a request costs: its input document built, then the verdict.
        now = datetime.now(UTC)
        return engine.decide(PolicyInput(ACCESS_KEY_ID, "GetObject", BUCKET, facts.key,
                                         headers, "127.0.0.1", now))  # fmt: skip

    def read(known: Facts) -> object:
        listed = rules.get("read-cache")
        return listed.needs(known.bucket, known.key), listed.decide(known)

    timed: dict[str, Callable[[], object]] = {
        "write-queue (50 rules)": lambda: rules.get("write-queue").decide(facts),
        "read-cache (50 rules, a key seen before)": lambda: read(facts),
        "read-cache (50 rules, a new key each time)": lambda: read(next(fresh)),
        "policy evaluated every time (rules.policy_verdicts = 0)": lambda: check(unremembered),
        "policy, verdict remembered (the default)": lambda: check(policies),
    }
    found = {}
    for name, call in timed.items():
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        samples.sort()
        found[name] = {"p50_us": samples[len(samples) // 2] * 1e6,
                       "p99_us": samples[int(len(samples) * 0.99)] * 1e6}  # fmt: skip
    policies.close()
    unremembered.close()
    return found


def report(result: dict[str, object]) -> str:
    rows = result["rows"]
    assert isinstance(rows, dict)
    get = {r: statistics.median(c["get_per_s"]) for r, c in rows.items()}
    put = {r: statistics.median(c["put_p50_ms"]) for r, c in rows.items()}
    # Each round's ratio to the rule-free row of the same round: the load is shared.
    paired = {r: statistics.median(a / b for a, b in zip(c["get_per_s"], rows["none"]["get_per_s"],
                                                         strict=True))
              for r, c in rows.items()}  # fmt: skip
    cpu = {r: statistics.median(c["cpu_us_per_get"]) for r, c in rows.items()}
    lines = [
        "| s3d (write-back) | warm 4 KiB GET/s (median of rounds) | median of rounds' ratios "
        "| s3d CPU per warm GET | write-back PUT p50 |",
        "|---|---|---|---|---|",
        f"| no rules | {get['none']:.0f} | 1 | {cpu['none']:.0f} µs | {put['none']:.2f} ms |",
        *(f"| 100 rules + Rego policy, {label} | {get[r]:.0f} ({get[r] / get['none']:.2f}x) "
          f"| {paired[r]:.2f}x | {cpu[r]:.0f} µs ({cpu[r] / cpu['none']:.2f}x) "
          f"| {put[r]:.2f} ms ({put[r] / put['none']:.2f}x) |"
          for r, label in (("every", "evaluated per request"), ("rules", "verdicts remembered"))),
        "", "| decision, in-process | p50 | p99 |", "|---|---|---|",
    ]  # fmt: skip
    decided = result["decisions"]
    assert isinstance(decided, dict)
    lines += [f"| {n} | {d['p50_us']:.1f} µs | {d['p99_us']:.1f} µs |" for n, d in decided.items()]
    ratio = paired["rules"]
    lines.append(f"\ntarget GET rate >= 0.9x: {'PASS' if ratio >= 0.9 else 'FAIL'} ({ratio:.2f}x)")
    worst = max(d["p99_us"] for n, d in decided.items() if "every time" not in n)
    lines.append(
        f"target decision < 50 µs p99 (as configured by default): "
        f"{'PASS' if worst < 50 else 'FAIL'} ({worst:.1f} µs)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def finish(result: dict[str, object]) -> int:
        text = report(result)
        print(text, flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / time.strftime("rules-%Y%m%d-%H%M%S.json", time.gmtime())
        path.write_text(json.dumps(result | {"report": text}, indent=2, default=str))
        say(f"wrote {path}")
        return 0

    return run_harness("s3d-bench-rules-", args.work_dir, lambda w: run_benchmark(args, w), finish)


if __name__ == "__main__":
    sys.exit(main())
