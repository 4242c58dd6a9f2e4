"""Shared directory fsyncs (``s3d/durable.py``): concurrent writers share them, and none
returns before an fsync that started after its call has finished.

The real ``fsync_dir`` runs on a real directory; it is wrapped only to record when each
fsync started and ended.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from s3d import durable
from s3d.durable import SharedDirSync


async def test_concurrent_syncs_share_fsyncs_and_each_is_covered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[tuple[float, float]] = []
    real = durable.fsync_dir

    def recorded(path: Path) -> None:
        start = time.monotonic()
        real(path)
        runs.append((start, time.monotonic()))

    monkeypatch.setattr(durable, "fsync_dir", recorded)
    shared = SharedDirSync(tmp_path)
    calls: list[tuple[float, float]] = []

    async def writer(n: int) -> None:
        (tmp_path / f"f{n}").write_bytes(b"x")  # the rename's stand-in: a new entry
        called = time.monotonic()
        await shared.sync()
        calls.append((called, time.monotonic()))

    await asyncio.gather(*(writer(n) for n in range(16)))
    assert len(calls) == 16
    assert 1 <= len(runs) < 16  # shared: fewer fsyncs than writers
    for called, returned in calls:
        assert any(called <= start and end <= returned for start, end in runs)
