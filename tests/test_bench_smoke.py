"""The read-cache benchmark (``make bench``) in a tiny mode, so that its harness cannot rot.

It runs as ``make bench`` runs it: a subprocess that starts its own moto, s3d, rclone and file
server. The test checks the report's shape and that the bytes were verified, never a timing:
the numbers of a 1 MiB run on a shared machine mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.measure import LARGE_ROWS, SMALL_ROWS
from bench.services import rclone_binary
from bench.verdicts import TARGETS

ROOT = Path(__file__).resolve().parent.parent


def test_tiny_run_reports_every_row_verified(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.read_cache", "--size", "1MiB", "--small-count", "10"]
    argv += ["--repeat", "1", "--out", str(out), "--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr

    [json_path] = out.glob("read_cache-*.json")
    [md_path] = out.glob("read_cache-*.md")
    result = json.loads(json_path.read_text())
    has_rclone = rclone_binary() is not None
    assert set(result["large"]) == set(LARGE_ROWS)
    assert set(result["small"]) == set(SMALL_ROWS)
    for table, series in (("large", "mib_per_s"), ("small", "get_per_s")):
        for name, row in result[table].items():
            if row["skipped"]:  # only rclone's rows without rclone, aiohttp's without curl
                assert (name.startswith("rclone-") and not has_rclone) or name == "aiohttp-file"
                continue
            assert row["verified"] is True, (table, name)
            assert len(row[series]) == 1, (table, name)
            assert row[series][0] > 0, (table, name)
    if has_rclone:
        assert not result["large"]["rclone-warm"]["skipped"]

    # The warm rows measured cache hits, the cold ones misses (s3d says so in x-s3d-cache).
    for table in ("large", "small"):
        assert set(result[table]["s3d-warm"]["x_s3d_cache"]) == {"hit"}
        assert set(result[table]["s3d-cold"]["x_s3d_cache"]) == {"miss"}

    verdicts = {target["name"]: target for target in result["targets"]}
    assert list(verdicts) == [target.name for target in TARGETS]
    for target in TARGETS:
        needs_rclone = "rclone" in target.denominator
        expected = {"PASS", "FAIL"} if has_rclone or not needs_rclone else {"n/a"}
        assert verdicts[target.name]["status"] in expected
        assert target.name in done.stdout

    markdown = md_path.read_text()
    for label in (*LARGE_ROWS.values(), *SMALL_ROWS.values()):
        assert label in markdown
    assert "Machine:" in markdown
    assert list(work.iterdir()) == []  # objects, caches and logs removed after a clean run
