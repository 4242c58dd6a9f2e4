"""Sync folders and snapshots against direct S3 (issue 14): ``python -m bench.sync_snapshots``.

Starts moto and one s3d (write-back, one sync folder with ``after = delete``) as processes and
measures, for one file of ``--size`` bytes:

- **sync**: the file renamed into the sync folder until s3d has deleted it (the remote has it,
  as multipart), against boto3's multipart upload of the same file straight to the remote with
  the same part size and concurrency (target: sync at most 1.2x the direct time);
- **latest**: a warm ``GET /_s3d/snapshots/<bucket>/<prefix>/latest`` against a warm S3 GET of
  the same object through s3d (target: at least 0.8x the rate);
- **gpg**: the same download of an OpenPGP-encrypted copy, decrypted in the stream (reported,
  no target: gpg's own rate bounds it).

Prints one JSON document. Timings on a shared machine are indicative: run it where nothing
else runs for numbers to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config

from bench.machine import describe
from bench.processes import Children
from bench.services import (
    ACCESS_KEY_ID,
    REMOTE_KEY,
    SECRET_ACCESS_KEY,
    S3dSettings,
    start_moto,
    start_s3d,
)
from bench.sizes import parse_size, positive

PART = 16 * 1024 * 1024
BUCKET = "bench-sync"
PASSPHRASE = "bench passphrase"
READS = 5
"""Warm reads of each kind, alternated; the best counts (one read lasts a second or two: a
spike of the machine's load would decide a best of fewer)."""


def _client(url: str, key: str, secret: str) -> Any:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    return boto3.client(
        "s3", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1", config=config,
    )  # fmt: skip


def _timed_get(url: str) -> float:
    """Seconds to read ``url`` to its end with Basic auth, bytes checked by count only."""
    auth = base64.b64encode(f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        while response.read(1 << 20):
            pass
    return time.perf_counter() - began


def _sync(folder: Path, source: Path, name: str) -> float:
    """Seconds from the rename into the folder until s3d deleted the file (uploaded)."""
    target = folder / name
    began = time.perf_counter()
    os.rename(source, target)
    while target.exists():
        time.sleep(0.01)
    return time.perf_counter() - began


def _direct(remote: Any, path: Path, key: str) -> float:
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    began = time.perf_counter()
    remote.upload_file(str(path), BUCKET, key, Config=config)
    return time.perf_counter() - began


def _random_file(path: Path, size: int) -> None:
    with open(path, "wb") as file:
        for _ in range(0, size, 1 << 24):
            file.write(os.urandom(min(1 << 24, size - file.tell())))


def _encrypt(path: Path, work: Path) -> Path:
    home = work / "gnupg"
    home.mkdir(mode=0o700)
    target = work / "export.bin.gpg"
    subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
         "--passphrase", PASSPHRASE, "--symmetric", "--compress-algo", "none",
         "--output", str(target), str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return target


@dataclass(frozen=True, slots=True)
class Daemon:
    """One s3d under test: its name in the report, its sync folder, its key prefix."""

    name: str
    folder: Path
    prefix: str
    tree: Path | None


def _settings(work: Path, daemon: Daemon, size: int, rounds: int) -> S3dSettings:
    entry = {
        "directory": str(daemon.folder),
        "bucket": BUCKET,
        "key": f"{daemon.prefix}/{{path}}",
        "after": "delete",
    }
    return S3dSettings(
        {
            "S3D_JOURNAL_MODE": "write-back",
            "S3D_JOURNAL_MULTIPART_THRESHOLD": str(PART),
            "S3D_JOURNAL_PART_SIZE": str(PART),
            "S3D_CACHE_MAX_SIZE": str((rounds + 4) * size + (1 << 30)),
            "S3D_REMOTE_ACCESS_KEY_ID": REMOTE_KEY,
            "S3D_REMOTE_SECRET_ACCESS_KEY": REMOTE_KEY,
            "S3D_SYNC_FOLDERS": json.dumps([entry]),
            "S3D_SNAPSHOTS_PASSPHRASE_FILE": str(work / "passphrase"),
        },
        (),
    )


async def _uploads(
    remote: Any, source: Path, daemons: list[Daemon], rounds: int, profile: Profile | None
) -> dict[str, list[float]]:
    """``rounds`` rounds of the direct upload and each daemon's sync, in an order that
    rotates each round (so that none always runs first on a warm or a cold page cache).
    Each sync drops a hard link of ``source``: the same bytes, no copy to make."""
    times: dict[str, list[float]] = {"direct": [], **{d.name: [] for d in daemons}}
    contenders: list[Daemon | None] = [None, *daemons]
    for number in range(rounds):
        order = contenders[number % len(contenders) :] + contenders[: number % len(contenders)]
        for daemon in order:
            if daemon is None:
                key = f"direct/export-{number}.bin"
                times["direct"].append(await asyncio.to_thread(_direct, remote, source, key))
            else:
                name = f"export-{number}.bin"
                dropped = source.with_name(f"{daemon.name}-{name}")
                os.link(source, dropped)
                with profile.watching(daemon.name, number) if profile else nullcontext():
                    elapsed = await asyncio.to_thread(_sync, daemon.folder, dropped, name)
                times[daemon.name].append(elapsed)
                key = f"{daemon.prefix}/{name}"
            if number < rounds - 1:  # the last round's objects are read below
                remote.delete_object(Bucket=BUCKET, Key=key)
    return times


async def run(
    size: int, work: Path, rounds: int = 1, base: Path | None = None, profile: Path | None = None
) -> dict[str, Any]:
    (work / "passphrase").write_text(PASSPHRASE)
    machine = describe(work, None, None)
    daemons = [Daemon("sync", work / "folder", "sync", None)]
    if base is not None:
        daemons.append(Daemon("base", work / "base-folder", "base", base))
    async with Children(work) as children:
        moto = await start_moto(children)
        pids = {}
        for daemon in daemons:
            daemon.folder.mkdir()
            settings = _settings(work, daemon, size, rounds)
            data = work / f"data-{daemon.name}"
            s3d = await start_s3d(
                children, moto.url, data, settings, name=daemon.name, tree=daemon.tree,
                log=("--log-level", "info"),  # the sync folder's stage times
            )  # fmt: skip
            pids[daemon.name] = s3d.pid or 0
            if daemon.name == "sync":
                url = s3d.url
        remote = _client(moto.url, REMOTE_KEY, REMOTE_KEY)
        remote.create_bucket(Bucket=BUCKET)
        source = work / "export.bin"
        await asyncio.to_thread(_random_file, source, size)
        watcher = Profile(profile, pids) if profile else None
        times = await _uploads(remote, source, daemons, rounds, watcher)
        encrypted = await asyncio.to_thread(_encrypt, source, work)
        reads = await _reads(url, size, encrypted, f"sync/export-{rounds - 1}.bin")
    report = _report(size, times, reads)
    report["stages"] = _stages(work / "sync.log")
    report["machine"] = {**machine, "load_average_1m_end": round(os.getloadavg()[0], 2)}
    return report


def _stages(log: Path) -> list[str]:
    """The sync folder's own account of each file: taken in (hashing), uploaded."""
    lines = log.read_text(errors="replace").splitlines()
    return [line.split("sync folder ", 1)[1] for line in lines if "sync folder " in line]


async def _reads(url: str, size: int, encrypted: Path, key: str) -> dict[str, float]:
    """Best of five warm reads of each kind, alternated, after one warm-up read each."""
    local = _client(url, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    local.upload_file(str(encrypted), BUCKET, "pg/2026-12-04.sql.gpg")
    urls = {
        "s3_get": f"{url}/{BUCKET}/{key}",
        "latest": f"{url}/_s3d/snapshots/{BUCKET}/sync/latest",
        "gpg": f"{url}/_s3d/snapshots/{BUCKET}/pg/latest",
    }
    for target in urls.values():
        await asyncio.to_thread(_presigned_or_basic, local, target)  # warms the cache
    seconds: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(READS):
        for name, target in urls.items():
            seconds[name].append(await asyncio.to_thread(_presigned_or_basic, local, target))
    return {name: min(values) for name, values in seconds.items()}


def _report(size: int, times: dict[str, list[float]], reads: dict[str, float]) -> dict[str, Any]:
    mib = size / (1 << 20)
    direct = statistics.median(times["direct"])
    report: dict[str, Any] = {
        "size_bytes": size,
        "rounds": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "direct_multipart_seconds": round(direct, 3),
    }
    for name in times.keys() - {"direct"}:
        median = statistics.median(times[name])
        report[f"{name}_seconds"] = round(median, 3)
        report[f"{name}_vs_direct"] = round(median / direct, 3)
    report.update(
        s3_get_mib_s=round(mib / reads["s3_get"], 1),
        latest_mib_s=round(mib / reads["latest"], 1),
        latest_vs_s3_get=round(reads["s3_get"] / reads["latest"], 3),
        gpg_latest_mib_s=round(mib / reads["gpg"], 1),
        targets={"sync_vs_direct_at_most": 1.2, "latest_vs_s3_get_at_least": 0.8},
    )
    return report


class Profile:
    """py-spy sampling a daemon during its first sync (``--profile``): collapsed stacks in
    ``<out>-<daemon>.txt``, for flame graphs or ``sort | uniq``."""

    def __init__(self, out: Path, pids: dict[str, int]) -> None:
        self._out, self._pids = out, pids

    @contextmanager
    def watching(self, name: str, number: int) -> Iterator[None]:
        if number:
            yield
            return
        target = self._out.with_name(f"{self._out.name}-{name}.txt")
        argv = ["py-spy", "record", "--pid", str(self._pids[name]), "--format", "raw"]
        argv += ["--rate", "200", "--threads", "--output", str(target)]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)


def _presigned_or_basic(local: Any, url: str) -> float:
    """S3 GETs go presigned (SigV4 in the query), snapshot GETs with Basic."""
    if "/_s3d/" in url:
        return _timed_get(url)
    bucket, _, key = url.split("/", 3)[3].partition("/")
    signed = local.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    began = time.perf_counter()
    with urllib.request.urlopen(signed, timeout=600) as response:
        while response.read(1 << 20):
            pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1GiB", help="bytes of the export (default 1GiB)")
    parser.add_argument("--rounds", type=positive, default=1, help="uploads of each kind")
    parser.add_argument(
        "--base", type=Path, help="another checkout whose s3d syncs too, alternated (base)"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy (on PATH) samples each daemon's first sync here"
    )
    parser.add_argument("--keep", type=Path, help="work here and keep it (logs): a new directory")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3d-bench-sync-")))
        else:
            work = args.keep
            work.mkdir(parents=True)
            stack.callback(_drop_data, work)
        report = run(parse_size(args.size), work, args.rounds, args.base, args.profile)
        print(json.dumps(asyncio.run(report), indent=2))


def _drop_data(work: Path) -> None:
    """A kept directory keeps its logs, not its gigabytes."""
    for path in work.glob("export*"):
        path.unlink()
    for path in work.glob("data-*"):
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
