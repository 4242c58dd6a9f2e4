"""Rendering the chart and validating Kubernetes objects, offline.

The chart is rendered by Helm's own Go engine (Helm v4's SDK, through helm-python-sdk's
libhelm_c: the wheel ships the library, no helm binary or cluster needed), so what is checked
here is what `helm template` / `helm install` would produce. Objects are validated with
kubernetes-validate, which carries the Kubernetes OpenAPI schemas of each release.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "s3d"
# The oldest release the chart supports (native sidecars need 1.29) and the newest the schemas
# know: a field removed or added between them would show.
KUBE_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
HEALTH_LIVE = "/_s3d/health/live"
HEALTH_READY = "/_s3d/health/ready"


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Every template's output, by path (NOTES.txt included). Raises HelmRenderError."""
    with helm_python.Chart.load(CHART) as chart:
        return chart.render(values, name="s3d", namespace="storage")


def objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The Kubernetes objects the chart renders with ``values``."""
    return [
        doc
        for path, text in sorted(render(values).items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def validate(doc: dict[str, Any]) -> None:
    """Raises kubernetes_validate.ValidationError unless ``doc`` is a valid object (strict:
    unknown fields are errors too) in every release of KUBE_VERSIONS."""
    for version in KUBE_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload (DaemonSet, Deployment…) or of a Pod."""
    spec: dict[str, Any] = doc["spec"]
    return spec["template"]["spec"] if "template" in spec else spec


def container(spec: dict[str, Any], name: str = "s3d") -> dict[str, Any]:
    """The container called ``name`` among a pod spec's containers and init containers."""
    found = [
        c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name
    ]
    assert len(found) == 1, f"expected one container {name!r}, got {len(found)}"
    return found[0]


def env(c: dict[str, Any]) -> dict[str, Any]:
    """A container's environment: name -> value, or the valueFrom mapping."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def probe_paths(c: dict[str, Any]) -> dict[str, str]:
    """Which URL path each of a container's probes asks, whether by httpGet or from inside the
    container (exec, when s3d binds the pod's loopback)."""
    paths = {}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = c.get(kind)
        if probe is None:
            continue
        if "httpGet" in probe:
            paths[kind] = probe["httpGet"]["path"]
        else:
            url = probe["exec"]["command"][-1]
            paths[kind] = "/" + url.split("/", 3)[3]
    return paths
