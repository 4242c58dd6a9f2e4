"""The tracing benchmark (``make bench-telemetry``) in a tiny mode, so that its harness cannot
rot. It runs as ``make`` runs it: a subprocess starting its own moto, OTLP receiver and two s3d.
The test checks the report's shape, that the traced s3d really exported spans and that the
bodies were verified — never a timing: the numbers of a tiny run on a shared machine mean
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.telemetry_measure import ROWS
from bench.telemetry_report import TARGETS

ROOT = Path(__file__).resolve().parent.parent


def test_tiny_run_reports_every_row(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.telemetry", "--small-count", "10", "--gets", "100"]
    argv += ["--repeat", "1", "--out", str(out), "--work-dir", str(work)]
    # Export every 100 ms (not the SDK's 5 s): a tiny run is over before the first batch.
    env = {**os.environ, "BENCH_OTEL_BSP_SCHEDULE_DELAY": "100"}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr

    [json_path] = out.glob("telemetry-*.json")
    [md_path] = out.glob("telemetry-*.md")
    result = json.loads(json_path.read_text())
    assert set(result["rows"]) == set(ROWS)
    for name in ("off", "traced"):
        row = result["rows"][name]
        assert row["verified"] is True, name
        assert len(row["get_per_s"]) == 1, name
        assert row["get_per_s"][0] > 0, name
        assert set(row["x_s3d_cache"]) == {"hit"}, name  # warm: cache hits only
    assert result["spans_received"] > 0  # the traced s3d exported to the receiver
    cpu = result["cpu_us_per_get"]  # read from /proc around each pass (tick resolution)
    assert all(cpu[name] is not None and cpu[name] >= 0 for name in ("off", "traced", "receiver"))
    metrics = result["rows"]["metrics"]
    # The metrics row runs where the endpoint exists, and says why not where it does not.
    assert metrics["verified"] or "/_s3d/metrics" in metrics["skipped"]
    assert [t["name"] for t in result["targets"]] == [name for name, _, _ in TARGETS]
    assert all(t["status"] in ("PASS", "FAIL", "n/a") for t in result["targets"])
    markdown = md_path.read_text()
    assert all(label in markdown for label in ROWS.values())
    assert "Machine:" in markdown
    assert list(work.iterdir()) == []  # objects, caches and logs removed after a clean run
