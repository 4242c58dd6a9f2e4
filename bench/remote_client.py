"""The remote client alone: ``python -m bench.remote_client``.

What one data-path call costs s3d's process, with aiobotocore (``remote.data_path =
"botocore"``) and with the native client, against SeaweedFS on loopback: GETs of a 4 KiB
object (read whole) and PUTs of a 4 KiB staged body, one at a time and at concurrency 8, the
two clients alternated round by round in one process. Reports CPU microseconds per call (this
process's CPU time, which waiting for a core on a shared machine does not inflate) and p50
latency. Stops the SeaweedFS it started. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe
from bench.seaweed_checked import ACCESS_KEY, SECRET_KEY, seaweed_server
from s3d.protocol import operations as ops
from s3d.protocol.model import LocalFile
from s3d.remote.client import RemoteS3
from s3d.settings import RemoteSettings
from s3d.staging import StagedBody, StagingArea

CLIENTS = ("botocore", "native")


def settings(url: str, data_path: str) -> RemoteSettings:
    return RemoteSettings(
        endpoint_url=url, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
        addressing_style="path", data_path=data_path,  # type: ignore[arg-type]
    )  # fmt: skip


async def calls(remote: RemoteS3, what: str, n: int, width: int, body: StagedBody) -> list[float]:
    """``n`` calls, ``width`` at a time; the latency of each."""
    latencies: list[float] = []
    queue = iter(range(n))

    async def one(i: int) -> None:
        started = time.perf_counter()
        if what == "get":
            answer = await remote.get_object(ops.GetObject("bench", f"k{i % 50}"))
            stream = answer.body
            if stream is None or isinstance(stream, bytes | LocalFile):
                raise TypeError("a remote GET answers a stream")
            async for _ in stream:
                pass
            await stream.aclose()
        else:
            await remote.put_object(ops.PutObject("bench", f"p{i % 50}"), body)
        latencies.append(time.perf_counter() - started)

    async def worker() -> None:
        for i in queue:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(width)))
    return latencies


async def measure(url: str, work: Path, rounds: int, n: int) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {c: {} for c in CLIENTS}
    async with StagingArea(work / "staging") as staging:
        writer = staging.writer(())
        await writer.write(os.urandom(4096))
        body = await writer.finish()
        async with RemoteS3(settings(url, "botocore")) as remote:
            await remote.create_bucket(ops.CreateBucket("bench"))
            for i in range(50):
                await remote.put_object(ops.PutObject("bench", f"k{i}"), body)
        for round_ in range(rounds):
            for client in CLIENTS if round_ % 2 == 0 else reversed(CLIENTS):
                async with RemoteS3(settings(url, client)) as remote:
                    await calls(remote, "get", 20, 1, body)  # warm the pool and the tables
                    for what, width in (("get", 1), ("get", 8), ("put", 1), ("put", 8)):
                        cpu = time.process_time()
                        latencies = await calls(remote, what, n, width, body)
                        cpu_us = (time.process_time() - cpu) / n * 1e6
                        key = f"{what} c{width}"
                        results[client].setdefault(key + " cpu", []).append(cpu_us)
                        results[client].setdefault(key + " p50", []).append(
                            statistics.median(latencies) * 1000
                        )
    return results


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("s3d").setLevel(logging.ERROR)  # the credentials-in-settings warning
    parser = argparse.ArgumentParser(prog="python -m bench.remote_client", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--calls", type=int, default=400, help="calls per workload and round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="s3d-bench-remote-") as tmp:
        work = Path(tmp)
        with seaweed_server(work / "seaweed") as url:
            results = asyncio.run(measure(url, work, args.rounds, args.calls))
        machine = describe(work, None, None)
    print("| call | botocore | native | native / botocore |\n|---|--:|--:|--:|")
    for key in results["native"]:
        before = statistics.median(results["botocore"][key])
        after = statistics.median(results["native"][key])
        unit = "CPU µs per call" if key.endswith("cpu") else "p50 ms"
        name = key.rsplit(" ", 1)[0].replace("get", "4 KiB GET").replace("put", "4 KiB PUT")
        digits = ",.0f" if unit.startswith("CPU") else ".2f"
        print(f"| {name}, {unit} | {before:{digits}} | {after:{digits}} | {after / before:.2f}x |")
    described = ", ".join(f"{name} {value}" for name, value in machine.items())
    print(f"\nMachine: {described}; medians of {args.rounds} rounds of {args.calls} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
