"""The write-back benchmark's memory measurement: a large object through a fresh s3d.

A write-back s3d started for this alone (so the kernel's peak RSS of its process, ``VmHWM``,
covers start-up and this measurement and nothing else) takes a PUT of ``size`` bytes streamed
from a generator, then a GET of it, streamed and hashed, while s3d uploads it in the
background; then the harness waits for the upload to finish. ``bench.memory.Sampler`` samples
the RSS every 20 ms and the data directory's disk use every 250 ms, per phase. Last, the object
is read from the remote directly and its SHA-256 compared.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bench.clients import WrongAnswer
from bench.control import S3dAdmin
from bench.memory import Sampler
from bench.results import MiB
from bench.signing import Presigner
from bench.uploads import get_stream, put_stream
from bench.write_back_measure import BUCKET, Context
from bench.write_back_results import MemoryRun

KEY = "large/object"
IDLE = 1.0
"""Seconds sampled before the PUT: the fresh process at rest."""
DISK_NEEDED = 4
"""Free space wanted, in object sizes: s3d's copy, and moto's parts and its completed object."""
PHASES = {
    "idle": "idle, before the PUT",
    "PUT": "PUT, streamed",
    "GET": "GET back, streamed (upload running)",
    "upload": "rest of the upload to the remote",
}


async def measure_memory(
    ctx: Context, s3d_url: str, pid: int, data_dir: Path, size: int, moto_url: str
) -> MemoryRun:
    memory = MemoryRun(size)
    free = shutil.disk_usage(data_dir.parent).free
    if free < DISK_NEEDED * size:
        memory.skipped = f"{free / MiB:,.0f} MiB free, {DISK_NEEDED * size / MiB:,.0f} wanted"
        return memory
    admin = S3dAdmin(ctx.client, s3d_url)
    through = Presigner(s3d_url)
    async with Sampler(pid, data_dir) as sampler:
        await asyncio.sleep(IDLE)
        sampler.phase("PUT")
        sent = await put_stream(ctx.client, through.url("PUT", BUCKET, KEY), size)
        sampler.phase("GET")
        got = await get_stream(ctx.client, through.url("GET", BUCKET, KEY))
        sampler.phase("upload")
        await admin.flush()
        sampler.phase("done")
        memory.high_water = sampler.high_water()
    memory.phases = [phase for phase in sampler.phases if phase.name != "done"]
    if (got.nbytes, got.sha256) != (size, sent.sha256):
        raise WrongAnswer(f"GET {KEY} through s3d: {got.nbytes} bytes, not those PUT")
    ctx.say(f"{size / MiB:,.0f} MiB PUT and read back; checking the remote's copy")
    stored = await get_stream(ctx.client, Presigner(moto_url).url("GET", BUCKET, KEY))
    if (stored.nbytes, stored.sha256) != (size, sent.sha256):
        raise WrongAnswer(f"the remote's {KEY}: {stored.nbytes} bytes, not those PUT")
    memory.verified = True
    seconds = {phase.name: phase.seconds for phase in memory.phases}
    memory.throughput = {
        "PUT": size / MiB / seconds["PUT"],
        "GET": size / MiB / seconds["GET"],
        # The upload starts once the PUT is acknowledged: it runs through the GET too.
        "upload": size / MiB / (seconds["GET"] + seconds["upload"]),
    }
    return memory
