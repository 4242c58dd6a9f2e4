"""The FUSE benchmark (``make bench-fuse``) in a tiny mode, so that its harness cannot rot.

It runs as ``make bench-fuse`` does: a subprocess starting its own moto and an s3d with a
mount. The test checks the report's shape and that the mount is gone afterwards, never a
timing: the numbers of a tiny run on a shared machine mean nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.services import rclone_binary

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/fuse") or shutil.which("fusermount3") is None,
    reason="needs /dev/fuse and fusermount3",
)


def test_tiny_run_reports_every_measure(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.fuse", "--size", "4MiB", "--keys", "20"]
    argv += ["--random", "20", "--out", str(out), "--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [json_path] = out.glob("fuse-*.json")
    [md_path] = out.glob("fuse-*.md")
    rows = {row["name"]: row for row in json.loads(json_path.read_text())["rows"]}
    for name in ("s3d: sequential read, cold", "s3d: sequential read, warm"):
        assert rows[name]["value"] > 0
    assert rows["S3 GET through s3d, warm"]["value"] > 0
    assert rows["s3d: listdir of 20 keys"]["unit"] == "s"
    assert "s3d: random 4 KiB reads" in md_path.read_text()
    if rclone_binary() is not None:
        assert rows["rclone: sequential read, warm"]["value"] > 0
    with open("/proc/self/mounts") as mounts:
        assert str(work) not in mounts.read()  # unmounted, whatever happened
