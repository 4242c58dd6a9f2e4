"""The write-back benchmark (``make bench-writeback``) in a tiny mode, so that its harness
cannot rot.

It runs as ``make bench-writeback`` runs it: a subprocess that starts its own moto, relay, two
s3d and rclone. The test checks the report's shape, that every row's bytes were verified on the
remote and that s3d's write-back PUTs were acknowledged as pending, never a timing: the numbers
of a run of a few small objects on a shared machine mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.services import rclone_binary
from bench.write_back_drain import DRAIN_LABELS
from bench.write_back_measure import LATENCY_LABELS
from bench.write_back_memory import PHASES
from bench.write_back_verdicts import TARGETS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 6
DRAIN = 12


def test_tiny_run_reports_every_row_verified(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.write_back", "--delay", "5", "--rounds", "2"]
    argv += ["--samples", str(SAMPLES), "--drain-count", str(DRAIN), "--drain-size", "4KiB"]
    argv += ["--large-size", "6MiB", "--out", str(out), "--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr

    [json_path] = out.glob("write_back-*.json")
    [md_path] = out.glob("write_back-*.md")
    result = json.loads(json_path.read_text())
    has_rclone = rclone_binary() is not None

    assert set(result["latency"]) == set(LATENCY_LABELS)
    for name, row in result["latency"].items():
        if row["skipped"]:  # only rclone's rows, and only without rclone
            assert not has_rclone, name
            assert name.startswith("rclone"), name
            continue
        assert row["verified"] is True, name
        assert len(row["latencies_ms"]) == SAMPLES, name
    # Write-back s3d acknowledged every PUT before upload; write-through none.
    assert result["latency"]["s3d-write-back"]["x_s3d_state"] == {"pending": SAMPLES}
    assert result["latency"]["s3d-write-through"]["x_s3d_state"] == {}
    assert len(result["latency"]["s3d-write-back"]["s3d_ms"]) == SAMPLES  # its access log

    assert set(result["drain"]) == set(DRAIN_LABELS)
    for name, row in result["drain"].items():
        if row["skipped"]:  # only rclone's rows, and only without rclone
            assert not has_rclone, name
            assert name.startswith("rclone"), name
            continue
        assert row["verified"] is True, name
        assert len(row["on_remote_s"]) == 2, name
    assert not any("pending in s3d's journal" in note for note in result["notes"])

    memory = result["memory"]
    assert memory["verified"] is True
    assert [phase["name"] for phase in memory["phases"]] == list(PHASES)
    assert memory["high_water_bytes"] > 0

    verdicts = {target["name"]: target for target in result["targets"]}
    assert list(verdicts) == [target.name for target in TARGETS]
    for target in TARGETS:
        expected = {"PASS", "FAIL"} if has_rclone or "rclone" not in target.name else {"n/a"}
        assert verdicts[target.name]["status"] in expected
        assert target.name in done.stdout

    markdown = md_path.read_text()
    for label in (*LATENCY_LABELS.values(), *DRAIN_LABELS.values(), *PHASES.values()):
        assert label in markdown
    assert "Machine:" in markdown
    assert list(work.iterdir()) == []  # objects, caches and logs removed after a clean run
