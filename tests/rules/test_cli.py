"""``s3d rules check`` and ``s3d rules explain`` through the real entry point
(``python -m s3d``), and a bad rule file refusing ``s3d serve``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import free_port, write_config


def s3d(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "s3d", *args],
        capture_output=True, text=True, env=full_env, timeout=60, check=False,
    )  # fmt: skip


GOOD = """\
[write-queue]
refuse  b/locked/*
-       b/*[hdr:content-length>=1MiB]
+       *
[read-cache]
pin     b/*[tag:keep]
"""
BAD = """\
[write-queue]
refuse  b/locked/*[tag:x
frobnicate b/*
[read-caches]
+ ignored-under-a-bad-section[
[sync]
+ b/'open
"""


def test_check_reports_every_bad_line_and_exits_2(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.rules", tmp_path / "bad.rules"
    good.write_text(GOOD)
    bad.write_text(BAD)
    result = s3d("rules", "check", str(good), str(bad))
    assert result.returncode == 2
    assert result.stdout == f"{good}: ok (write-queue 3, read-cache 1)\n"
    assert result.stderr.splitlines() == [
        f"{bad}:2:25: expected '=', '!=', '<', '<=', '>', '>=' or ']', found the end of the line",
        f"{bad}:3:1: [write-queue]: expected '+', '-', 'write-back', 'write-through', 'refuse', "
        "found 'frobnicate'",
        f"{bad}:4:1: expected a section [write-queue], [read-cache], [sync], found '[read-caches]'",
        f"{bad}:7:5: this ' is never closed",
    ]
    assert s3d("rules", "check", str(good)).returncode == 0
    missing = s3d("rules", "check", str(tmp_path / "nope.rules"))
    assert missing.returncode == 2
    assert "nope.rules: cannot read" in missing.stderr


def test_explain_prints_each_feature_decision_and_its_rule(tmp_path: Path) -> None:
    rules = tmp_path / "r.rules"
    rules.write_text(GOOD)
    config = write_config(tmp_path / "s3d.toml", {"rules": {"files": [str(rules)]}})

    def explain(*args: str) -> list[str]:
        result = s3d("rules", "explain", *args, "--config", str(config))
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert explain("s3://b/locked/x") == [
        f"write-queue: refuse by {rules}:2 refuse b/locked/*",
        "read-cache: default (no rule matched)",
        "sync: default (no rule matched)",
    ]
    assert explain("s3://b/big", "--size", "2MiB", "--tag", "keep=1")[:2] == [
        f"write-queue: write-through by {rules}:3 - b/*[hdr:content-length>=1048576]",
        f"read-cache: pin by {rules}:6 pin b/*[tag:keep]",
    ]
    assert explain("s3://b/big", "--header", "Content-Length=10")[0] == (
        f"write-queue: write-back by {rules}:4 + *"
    )
    # A tag override says so: no rule made that decision.
    assert explain("s3://b/small", "--tag", "s3d.upload=now")[0] == (
        "write-queue: write-through by tag s3d.upload=now"
    )
    bad = s3d("rules", "explain", "b/k", "--config", str(config))
    assert bad.returncode == 2
    assert "expected s3://BUCKET/KEY" in bad.stderr


def test_a_bad_rule_file_refuses_the_start(tmp_path: Path, remote_url: str) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text(BAD)
    result = s3d(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
        "--remote", remote_url, "--rules-files", str(bad),
    )  # fmt: skip
    assert result.returncode == 2
    assert f"rules: {bad}:2:25: expected '='" in result.stderr
