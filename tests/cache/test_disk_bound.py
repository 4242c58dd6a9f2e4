"""Contract 6, bounded disk: cache and journal share ``cache.max_size``. Pending writes growing
evict clean entries, least recently used first; pending writes are never evicted.

A real daemon in write-back, a real moto remote behind a relay that holds uploads (the writes
stay pending while reads still pass), and the bytes really on disk measured with ``os.stat``.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.settings import CacheSettings
from tests.support import CountingRelay, DaemonThread, client, daemon_settings

KiB = 1024
MiB = 1024 * KiB


def writeback_daemon(relay: CountingRelay, data_dir: Path, max_size: int) -> DaemonThread:
    settings = daemon_settings(relay.url, data_dir, mode="write-back")
    cache = CacheSettings(
        max_size=max_size, freshness=300.0, block_size=1 * MiB, whole_object_max=1 * MiB
    )
    return DaemonThread(dataclasses.replace(settings, cache=cache))


def allocated(data_dir: Path) -> dict[str, int]:
    """Bytes allocated on disk (``st_blocks`` * 512: what the volume really gives up, whole
    filesystem blocks) by each file under ``<data-dir>/cache`` and ``<data-dir>/journal``:
    data files, pending bodies and the SQLite files (database, WAL, shared memory)."""
    return {
        str(path.relative_to(data_dir)): path.stat().st_blocks * 512
        for part in ("cache", "journal")
        for path in (data_dir / part).rglob("*")
        if path.is_file()
    }


def state(s3, bucket: str, key: str) -> str:  # type: ignore[no-untyped-def]
    answer = s3.head_object(Bucket=bucket, Key=key)
    return str(answer["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"])


def test_pending_writes_evict_clean_entries_to_stay_under_the_bound(
    relay, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bucket = f"d-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=bucket)
    clean = [f"clean{i}" for i in range(6)]
    for key in clean:
        remote.put_object(Bucket=bucket, Key=key, Body=os.urandom(1 * MiB))
    max_size = 10 * MiB
    with writeback_daemon(relay, tmp_path, max_size) as daemon:
        s3 = client(daemon.endpoint_url)
        for key in clean:  # oldest first: clean0 is the least recently used
            s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert daemon.cache_stats()["bytes"] == 6 * MiB
        assert daemon.cache_stats()["evictions"] == 0
        relay.hold_writes(True)  # uploads wait in the relay: every write below stays pending
        written = {f"pending{i}": os.urandom(1 * MiB) for i in range(6)}
        for key, data in written.items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            # The bound holds once each write is acknowledged, not eventually.
            files = allocated(tmp_path)
            assert sum(files.values()) <= max_size, f"after {key}: {files}"
        journal = daemon.daemon.journal  # type: ignore[union-attr]
        assert journal.pending_bytes == 6 * MiB  # nothing was uploaded meanwhile
        stats = daemon.cache_stats()
        assert stats["evictions"] >= 3
        # Least recently used first: the oldest clean entries went, the newest stayed.
        assert state(s3, bucket, clean[-1]) == "hit"
        assert [state(s3, bucket, key) for key in clean[:3]] == ["miss"] * 3
        # More pending writes, up to 9 MiB: every clean entry makes way, still under the bound.
        for i in range(6, 9):
            written[f"pending{i}"] = os.urandom(1 * MiB)
            s3.put_object(Bucket=bucket, Key=f"pending{i}", Body=written[f"pending{i}"])
            files = allocated(tmp_path)
            assert sum(files.values()) <= max_size, f"after pending{i}: {files}"
        assert daemon.cache_stats()["bytes"] == 0
        # Only a write that would take the pending writes alone past the size is refused.
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="too-much", Body=os.urandom(2 * MiB))
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        # Pending writes are never evicted: each reads back as written.
        for key, data in written.items():
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
        relay.hold_writes(False)
