"""The filter-rules benchmark (``make bench-rules``) in a tiny mode, so that its harness cannot
rot: a subprocess starting its own moto and two s3d. Checks the report's shape and that the
rows really ran (warm hits, written back) — never a timing: a tiny run on a shared machine
means nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_run_reports_every_row(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.rules", "--small-count", "10", "--gets", "100"]
    argv += ["--puts", "10", "--repeat", "1", "--decisions", "200"]
    argv += ["--out", str(out), "--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    [path] = out.glob("rules-*.json")
    result = json.loads(path.read_text())
    assert set(result["rows"]) == {"none", "every", "rules"}
    for row in result["rows"].values():
        assert len(row["get_per_s"]) == 1
        assert row["get_per_s"][0] > 0
        assert row["cpu_us_per_get"][0] >= 0
        assert row["put_p50_ms"][0] > 0
    assert set(result["decisions"]) == {
        "write-queue (50 rules)",
        "read-cache (50 rules, a key seen before)",
        "read-cache (50 rules, a new key each time)",
        "policy evaluated every time (rules.policy_verdicts = 0)",
        "policy, verdict remembered (the default)",
    }
    assert "target GET rate >= 0.9x" in result["report"]
    assert list(work.iterdir()) == []  # objects, caches and logs removed after a clean run
