"""The plain manifests in deploy/: every object validates against the Kubernetes schemas, and
the workloads probe s3d's health endpoints and flush before they stop."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.kube import (
    DEPLOY,
    HEALTH_LIVE,
    HEALTH_READY,
    container,
    objects,
    pod_spec,
    probe_paths,
    validate,
)
from tests.deploy.test_helm_chart import MODES, s3d_pod_spec

# The chart's files are templates and values, not manifests: test_helm_chart renders them.
MANIFESTS = sorted(p for p in DEPLOY.rglob("*.y*ml") if (DEPLOY / "helm") not in p.parents)
WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet", "Pod")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def s3d_workloads() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{doc['metadata']['name']}", doc)
        for path in MANIFESTS
        for doc in documents(path)
        if doc["kind"] in WORKLOADS
    ]


def test_the_manifests_are_found() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in MANIFESTS}
    assert {"kubernetes/daemonset.yaml", "kubernetes/sidecar.yaml"} <= names


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_every_object_validates(path: Path) -> None:
    docs = documents(path)
    assert docs
    for doc in docs:
        validate(doc)


@pytest.mark.parametrize(("name", "workload"), s3d_workloads(), ids=lambda v: str(v)[:40])
def test_workloads_probe_health_and_flush_before_stopping(
    name: str, workload: dict[str, Any]
) -> None:
    spec = pod_spec(workload)
    s3d = container(spec)
    assert probe_paths(s3d) == {
        "startupProbe": HEALTH_READY,
        "livenessProbe": HEALTH_LIVE,
        "readinessProbe": HEALTH_READY,
    }, name
    command = s3d["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["s3d", "flush"]
    flush_timeout = int(command[command.index("--timeout") + 1])
    # The preStop flush, then s3d's drain and last flush (30 s each in these manifests).
    assert spec["terminationGracePeriodSeconds"] > flush_timeout + 30 + 30


class Health(http.server.BaseHTTPRequestHandler):
    """Answers the health paths as a live but not ready s3d would (stand-in for the daemon:
    what is under test is the probe command, not the endpoints)."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == HEALTH_LIVE else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def exec_probes() -> list[tuple[str, list[str]]]:
    """Every exec probe of an s3d container: the manifests' and the chart's sidecar snippet."""
    containers = [(n, container(pod_spec(w))) for n, w in s3d_workloads()]
    containers.append(("chart-sidecar", container(s3d_pod_spec(MODES["sidecar"]))))
    return [
        (f"{name}:{kind}", c[kind]["exec"]["command"])
        for name, c in containers
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        if "exec" in c.get(kind, {})
    ]


@pytest.mark.parametrize(("name", "command"), exec_probes(), ids=lambda v: str(v)[:50])
def test_exec_probes_pass_and_fail_with_the_endpoint(
    name: str, command: list[str], health_port: int
) -> None:
    assert command[0] == "python"
    url = command[-1].replace(":9333/", f":{health_port}/")
    done = subprocess.run([sys.executable, *command[1:-1], url], capture_output=True, timeout=60)
    assert done.returncode == (0 if url.endswith(HEALTH_LIVE) else 1), name
    # Nothing listening: the probe fails rather than hanging or passing.
    gone = command[-1].replace(":9333/", ":1/")
    done = subprocess.run([sys.executable, *command[1:-1], gone], capture_output=True, timeout=60)
    assert done.returncode != 0


def test_chart_and_manifests_agree_on_the_probe_command() -> None:
    # One probe command for the loopback-bound sidecar, wherever it is written.
    commands = {tuple(c[:-1]) for _, c in exec_probes()}
    assert len(commands) == 1
    assert objects()  # the chart renders (its own tests check the rest)
