"""``Health`` on its own, on a real directory: the reasons in order, and the data-directory
check run once for many probes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from s3d.server import health
from s3d.server.health import NOT_WRITABLE, PROBE_FILE, STOPPING, Health


def test_reasons(tmp_path: Path) -> None:
    journal_open = [True]
    state = Health(tmp_path, {"journal closed": lambda: journal_open[0]})

    async def run() -> list[str | None]:
        found = [await state.not_ready()]
        journal_open[0] = False
        found.append(await state.not_ready())
        state.stopping = True
        found.append(await state.not_ready())
        return found

    assert asyncio.run(run()) == [None, "journal closed", STOPPING]
    assert not (tmp_path / PROBE_FILE).exists()  # the check cleans up after itself


def test_many_probes_share_one_write_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A spy around the real check (it still writes to tmp_path): counts how often it runs.
    runs: list[Path] = []
    real = health._try_write

    def counted(data_dir: Path) -> bool:
        runs.append(data_dir)
        return real(data_dir)

    monkeypatch.setattr(health, "_try_write", counted)
    (tmp_path / PROBE_FILE).mkdir()  # the write fails, as on a read-only volume
    state = Health(tmp_path, {})

    async def run() -> list[str | None]:
        return list(await asyncio.gather(*(state.not_ready() for _ in range(20))))

    assert asyncio.run(run()) == [NOT_WRITABLE] * 20
    assert asyncio.run(run()) == [NOT_WRITABLE] * 20  # within WRITABLE_EVERY: remembered
    assert runs == [tmp_path]
