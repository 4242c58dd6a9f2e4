"""The DRS catalogue benchmark (``make bench-drs``) in a tiny mode, so that its harness cannot
rot.

It runs as ``make bench-drs`` runs it: a subprocess that generates a drs.index, starts its own
moto and s3d, imports with the real ``s3d drs import`` and looks records up over HTTP and
in-process. The test checks the report's shape, that the import brought every record and that
every lookup resolved to exactly the expected id, never a timing: the numbers of a run of a
few thousand records on a shared machine mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.drs_results import TARGETS

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 2000
LOOKUPS = 50


def test_tiny_run_imports_every_record_and_resolves_every_lookup(tmp_path: Path) -> None:
    out, work = tmp_path / "results", tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "bench.drs_import"]
    argv += ["--records", str(RECORDS), "--lookups", str(LOOKUPS)]
    argv += ["--out", str(out), "--work-dir", str(work)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr

    [json_path] = out.glob("drs_import-*.json")
    [md_path] = out.glob("drs_import-*.md")
    result = json.loads(json_path.read_text())
    assert result["config"]["records"] == RECORDS
    assert result["generate"]["index_bytes"] > 0

    imported = result["import"]
    assert imported["records"] == RECORDS
    assert 0 < imported["rss_before_bytes"] <= imported["rss_peak_sampled_bytes"]
    assert imported["high_water_bytes"] > 0
    assert imported["rss_samples"]

    for way in ("http", "in_process"):
        lookups = result["lookups"][way]
        assert lookups["lookups"] == LOOKUPS, way
        assert lookups["resolved"] == LOOKUPS, way
        assert lookups["failures"] == [], way
        assert len(lookups["latencies_ms"]) == LOOKUPS, way
    assert len(result["lookups"]["http"]["s3d_ms"]) == LOOKUPS  # s3d's access log

    verdicts = {target["name"]: target for target in result["targets"]}
    assert list(verdicts) == [target.name for target in TARGETS]
    for target in TARGETS:
        assert verdicts[target.name]["status"] in {"PASS", "FAIL"}
        assert target.name in done.stdout

    markdown = md_path.read_text()
    for label in ("s3d drs import FILE", "VmHWM", "CatalogueStore.by_checksum", "Machine:"):
        assert label in markdown
    assert list(work.iterdir()) == []  # the index, the catalogue and the logs removed
