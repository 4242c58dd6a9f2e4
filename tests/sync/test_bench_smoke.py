"""``python -m bench.sync_snapshots`` in a tiny run, so that its harness cannot rot. It checks
the report's shape, never a timing: a few MiB on a shared machine mean nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_tiny_run_reports_every_number() -> None:
    argv = [sys.executable, "-m", "bench.sync_snapshots", "--size", "20MiB", "--rounds", "2"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["size_bytes"] == 20 * 1024 * 1024
    for name in ("sync_seconds", "direct_multipart_seconds", "latest_mib_s", "gpg_latest_mib_s"):
        assert report[name] > 0
    assert [len(times) for times in report["rounds"].values()] == [2, 2]
    # The folder's own account of each file: taken in, then uploaded.
    assert sum(" taken in " in line for line in report["stages"]) == 2
    assert sum(" uploaded " in line for line in report["stages"]) == 2
    assert report["machine"]["cores"] > 0
