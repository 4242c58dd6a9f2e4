"""The DRS benchmark's measurements: the import, and checksum lookups over HTTP and in-process.

The import is the real command line (``s3d drs import FILE``) in a subprocess, timed from its
start to its exit, so what a user waits for is what is measured (the CLI's own start-up
included). Meanwhile ``bench.memory.Sampler`` reads the daemon's VmRSS every 100 ms; the
kernel's VmHWM, read at the end, is the peak no sampling interval can miss.

Lookups are sequential: one HTTP/1.1 connection kept alive (``http.client``, Basic auth, the
connection opened before the first timed request), each timed from sending the request to the
answer read whole. The same SHA-256s are then looked up in-process through ``CatalogueStore``
on the same SQLite file, with the daemon stopped: the difference is HTTP, aiohttp, the DRS
handler's JSON and authentication, not the catalogue. Each answer must resolve to exactly the
expected id; anything else is kept as a failure line.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bench.clients import WrongAnswer
from bench.drs_dataset import Wanted
from bench.drs_results import Import, Lookups
from bench.memory import KiB, Sampler, disk_bytes, status_kib
from bench.processes import Children
from bench.services import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Service
from s3d.catalogue.store import CatalogueStore

CHECKSUM_PATH = "/ga4gh/drs/v1/objects/checksum/"
SAMPLE_EVERY = 0.1
"""Seconds between two RSS samples of the daemon."""
IDLE = 1.0
"""Seconds sampled before the import: the daemon at rest."""
_IMPORTED = re.compile(r"imported ([\d,]+) DRS records")


def _cli_env() -> dict[str, str]:
    """Our environment without S3D_* settings: the command finds the daemon by its flags."""
    return {name: value for name, value in os.environ.items() if not name.startswith("S3D_")}


async def timed_import(
    children: Children, daemon: Service, data_dir: Path, index: Path, expected: int
) -> Import:
    """Run ``s3d drs import index`` against ``daemon``. Raises WrongAnswer when the command
    fails or reports another number of records than the file has (``expected``)."""
    assert daemon.pid is not None
    argv = [
        *(sys.executable, "-m", "s3d", "drs", "import", str(index)),
        *("--endpoint", daemon.url, "--access-key", f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}"),
    ]
    async with Sampler(daemon.pid, data_dir, interval=SAMPLE_EVERY) as sampler:
        await asyncio.sleep(IDLE)
        before = status_kib(daemon.pid, "VmRSS")
        sampler.phase("import")
        started = time.perf_counter()
        child = await children.start("drs-import", argv, _cli_env())
        code = await child.process.wait()
        seconds = time.perf_counter() - started
        sampler.phase("done")
        high_water = sampler.high_water()
    found = _IMPORTED.search(child.tail())
    if code != 0 or found is None or int(found[1].replace(",", "")) != expected:
        raise WrongAnswer(f"s3d drs import of {expected} records, status {code}:\n{child.tail()}")
    phase = next(phase for phase in sampler.phases if phase.name == "import")
    return Import(
        seconds=seconds,
        records=int(found[1].replace(",", "")),
        rss_before=(before or 0) * KiB,
        rss_peak=phase.peak_rss,
        high_water=high_water,
        peak_disk=phase.peak_disk,
        disk_after=await asyncio.to_thread(disk_bytes, data_dir),
        samples=sampler.samples,
    )


def _problem(status: int, body: bytes, wanted: Wanted) -> str | None:
    """Why an answer is not exactly ``wanted``'s object; None when it is."""
    if status != 200:
        return f"{wanted.sha256}: status {status}: {body[:200]!r}"
    try:
        document = json.loads(body)
        ids = [found["id"] for found in document["resolved_drs_object"]]
    except (ValueError, KeyError, TypeError) as exc:
        return f"{wanted.sha256}: not a DRS answer ({exc!r}): {body[:200]!r}"
    if ids != [wanted.id] or document.get("summary", {}).get("resolved") != 1:
        return f"{wanted.sha256}: resolved {ids}, expected [{wanted.id}]"
    return None


def http_lookups(url: str, wanted: Sequence[Wanted], row: Lookups) -> None:
    """Look up each of ``wanted`` on one kept-alive connection (blocking: run in a thread)."""
    parts = urlsplit(url)
    credentials = base64.b64encode(f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.connect()
        for item in wanted:
            started = time.perf_counter()
            connection.request("GET", CHECKSUM_PATH + item.sha256, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            row.latencies.append(time.perf_counter() - started)
            problem = _problem(answer.status, body, item)
            if problem is not None:
                row.failures.append(problem)
    finally:
        connection.close()


async def store_lookups(path: Path, wanted: Sequence[Wanted], row: Lookups) -> None:
    """Look up each of ``wanted`` through a ``CatalogueStore`` opened on ``path``."""
    async with CatalogueStore(path) as store:
        for item in wanted:
            started = time.perf_counter()
            records = await store.by_checksum(item.sha256)
            row.latencies.append(time.perf_counter() - started)
            ids = [record.id for record in records]
            if ids != [item.id]:
                row.failures.append(f"{item.sha256}: resolved {ids}, expected [{item.id}]")
