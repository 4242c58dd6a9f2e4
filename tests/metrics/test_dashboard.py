"""The Grafana dashboard (deploy/grafana/s3d.json) queries only metrics a real daemon exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.journal.test_writeback import drained, new_bucket, writeback
from tests.metrics.scrape import names, scrape
from tests.support import client

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "s3d.json"
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w$.])([a-zA-Z_:][\w:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords aside)."""
    expr = _GROUPING.sub("", _MATCHERS.sub("", _STRING.sub('""', expr)))
    return {m[1] for m in _NAME.finditer(expr) if not m[2] and m[1].lower() not in KEYWORDS}


def queries(node: object) -> Iterator[str]:
    """Every PromQL expression of the dashboard: panel targets and template variables."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "expr" and isinstance(value, str):
                yield value
            elif name == "query" and isinstance(value, dict) and "query" in value:
                match = re.fullmatch(r"label_values\((.*),\s*\w+\)", value["query"])
                yield match[1] if match else value["query"]
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def test_the_name_extraction_itself() -> None:
    expr = (
        'sum by (le, operation) (rate(a_bucket{job=~"$job", x="y z"}[$__rate_interval]))'
        " / ignoring(code) b_total offset 5m - time() + 0.5"
    )
    assert metric_names(expr) == {"a_bucket", "b_total"}


def test_every_metric_the_dashboard_queries_exists(relay, remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dashboard = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for expr in queries(dashboard):
        found = metric_names(expr)
        assert found, f"no metric in {expr!r}"
        used |= found
    assert len(used) > 30, used
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="remote", Body=b"r")
    # A write-back daemon with the catalogue on, after a workload that touches every family:
    # a write uploaded, a cold and a warm read, a remote call that fails.
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="written", Body=b"w")
        s3.get_object(Bucket=bucket, Key="remote")
        s3.get_object(Bucket=bucket, Key="remote")
        with pytest.raises(ClientError, match="NoSuchKey"):
            s3.get_object(Bucket=bucket, Key="absent")
        drained(daemon)
        exported = names(scrape(daemon.endpoint_url))
    assert used - exported == set(), sorted(exported)
