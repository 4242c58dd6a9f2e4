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
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config

from bench.processes import Children
from bench.services import (
    ACCESS_KEY_ID,
    REMOTE_KEY,
    SECRET_ACCESS_KEY,
    S3dSettings,
    start_moto,
    start_s3d,
)
from bench.sizes import parse_size

PART = 16 * 1024 * 1024
BUCKET = "bench-sync"
PASSPHRASE = "bench passphrase"


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


def _sync(folder: Path, source: Path) -> float:
    began = time.perf_counter()
    os.rename(source, folder / "export.bin")
    while (folder / "export.bin").exists():
        time.sleep(0.02)
    return time.perf_counter() - began


def _direct(remote: Any, path: Path) -> float:
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    began = time.perf_counter()
    remote.upload_file(str(path), BUCKET, "direct/export.bin", Config=config)
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


async def run(size: int, work: Path) -> dict[str, Any]:
    folder = work / "folder"
    folder.mkdir()
    (work / "passphrase").write_text(PASSPHRASE)
    entry = {"directory": str(folder), "bucket": BUCKET, "key": "sync/{path}", "after": "delete"}
    env = {
        "S3D_JOURNAL_MODE": "write-back",
        "S3D_JOURNAL_MULTIPART_THRESHOLD": str(PART),
        "S3D_JOURNAL_PART_SIZE": str(PART),
        "S3D_CACHE_MAX_SIZE": str(8 * size + (1 << 30)),
        "S3D_REMOTE_ACCESS_KEY_ID": REMOTE_KEY,
        "S3D_REMOTE_SECRET_ACCESS_KEY": REMOTE_KEY,
        "S3D_SYNC_FOLDERS": json.dumps([entry]),
        "S3D_SNAPSHOTS_PASSPHRASE_FILE": str(work / "passphrase"),
    }
    async with Children(work) as children:
        moto = await start_moto(children)
        s3d = await start_s3d(children, moto.url, work / "data", S3dSettings(env, ()))
        remote = _client(moto.url, REMOTE_KEY, REMOTE_KEY)
        remote.create_bucket(Bucket=BUCKET)
        source = work / "export.bin"
        await asyncio.to_thread(_random_file, source, size)
        direct = await asyncio.to_thread(_direct, remote, source)
        encrypted = await asyncio.to_thread(_encrypt, source, work)
        synced = await asyncio.to_thread(_sync, folder, source)
        local = _client(s3d.url, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        local.upload_file(str(encrypted), BUCKET, "pg/2026-12-04.sql.gpg")
        s3_url = f"{s3d.url}/{BUCKET}/sync/export.bin"
        latest = f"{s3d.url}/_s3d/snapshots/{BUCKET}/sync/latest"
        gpg_url = f"{s3d.url}/_s3d/snapshots/{BUCKET}/pg/latest"
        reads = {}
        for name, url in (("s3_get", s3_url), ("latest", latest), ("gpg", gpg_url)):
            await asyncio.to_thread(_presigned_or_basic, local, url)  # warms the cache
            reads[name] = min([await asyncio.to_thread(_presigned_or_basic, local, url)
                               for _ in range(3)])  # fmt: skip
    mib = size / (1 << 20)
    return {
        "size_bytes": size,
        "sync_seconds": round(synced, 3),
        "direct_multipart_seconds": round(direct, 3),
        "sync_vs_direct": round(synced / direct, 3),
        "s3_get_mib_s": round(mib / reads["s3_get"], 1),
        "latest_mib_s": round(mib / reads["latest"], 1),
        "latest_vs_s3_get": round(reads["s3_get"] / reads["latest"], 3),
        "gpg_latest_mib_s": round(mib / reads["gpg"], 1),
        "targets": {"sync_vs_direct_at_most": 1.2, "latest_vs_s3_get_at_least": 0.8},
    }


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s3d-bench-sync-") as work:
        print(json.dumps(asyncio.run(run(parse_size(args.size), Path(work))), indent=2))


if __name__ == "__main__":
    main()
