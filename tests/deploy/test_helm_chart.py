"""The Helm chart in deploy/helm/s3d, rendered by Helm's engine with default and non-default
values; every object it renders validated against the Kubernetes schemas (see kube.py)."""

from __future__ import annotations

import re
from typing import Any

import helm_python
import pytest
import yaml

from tests.deploy.kube import (
    CHART,
    HEALTH_LIVE,
    HEALTH_READY,
    container,
    env,
    objects,
    of_kind,
    pod_spec,
    probe_paths,
    render,
    validate,
)

EVERY_SECRET = {
    "localAccessKeys": {"existingSecret": "s3d-local-keys"},
    "remoteCredentials": {"existingSecret": "s3d-remote", "sessionTokenKey": "AWS_SESSION_TOKEN"},
    "metrics": {"bearerToken": {"existingSecret": "s3d-metrics"}},
    "otel": {"enabled": True, "headersSecret": {"name": "otlp-auth"}},
}
# Non-default values for each mode, each rendering a different path through the templates.
MODES: dict[str, dict[str, Any]] = {
    "daemonset": {},
    "daemonset-hostnetwork": {"hostNetwork": True},
    "deployment": {"mode": "deployment", "replicas": 3, "serviceMonitor": {"enabled": True}},
    "sidecar": {"mode": "sidecar", **EVERY_SECRET},
    "fuse": {"fuse": {"enabled": True, "source": "my-bucket/team"}},
    "ephemeral": {"data": {"type": "emptyDir", "emptyDir": {"sizeLimit": "50Gi"}}},
}


def sidecar_pod(values: dict[str, Any]) -> dict[str, Any]:
    """An application Pod built from what the sidecar mode's ConfigMap says to add."""
    (config,) = of_kind(objects(values), "ConfigMap")
    data = config["data"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app"},
        "spec": {
            "serviceAccountName": data["serviceAccountName"],
            "terminationGracePeriodSeconds": int(data["terminationGracePeriodSeconds"]),
            "securityContext": yaml.safe_load(data["podSecurityContext.yaml"]),
            "initContainers": yaml.safe_load(data["initContainers.yaml"]),
            "containers": [{"name": "app", "image": "amazon/aws-cli"}],
            "volumes": yaml.safe_load(data["volumes.yaml"]),
        },
    }


def s3d_pod_spec(values: dict[str, Any]) -> dict[str, Any]:
    """The pod spec s3d runs in, whatever the mode."""
    if values.get("mode") == "sidecar":
        return pod_spec(sidecar_pod(values))
    docs = objects(values)
    (workload,) = [d for d in docs if d["kind"] in ("DaemonSet", "Deployment")]
    return pod_spec(workload)


def test_default_values_render_a_daemonset_that_validates() -> None:
    docs = objects()
    assert sorted(d["kind"] for d in docs) == ["DaemonSet", "Service", "Service", "ServiceAccount"]
    for doc in docs:
        validate(doc)
    spec = pod_spec(of_kind(docs, "DaemonSet")[0])
    assert {"operator": "Exists"} in spec["tolerations"]  # every node, tainted ones too
    assert spec["volumes"][0]["hostPath"]["path"] == "/var/lib/s3d"
    assert container(spec)["ports"][0]["hostPort"] == 9333
    (service,) = [d for d in of_kind(docs, "Service") if d["metadata"]["name"] == "s3d"]
    assert service["spec"]["internalTrafficPolicy"] == "Local"


@pytest.mark.parametrize("case", MODES)
def test_every_object_validates(case: str) -> None:
    values = MODES[case]
    docs = objects(values)
    checked = [d for d in docs if d["kind"] != "ServiceMonitor"]  # a CRD: see its own test
    for doc in checked:
        validate(doc)
    if values.get("mode") == "sidecar":
        validate(sidecar_pod(values))
    assert checked


@pytest.mark.parametrize("case", MODES)
def test_probes_ask_the_health_endpoints(case: str) -> None:
    s3d = container(s3d_pod_spec(MODES[case]))
    assert probe_paths(s3d) == {
        "startupProbe": HEALTH_READY,
        "livenessProbe": HEALTH_LIVE,
        "readinessProbe": HEALTH_READY,
    }


def test_a_loopback_s3d_is_probed_where_the_kubelet_reaches_it() -> None:
    # Sidecar: bound to the pod's loopback, which the kubelet (on the node) cannot reach.
    sidecar = container(s3d_pod_spec(MODES["sidecar"]))
    assert env(sidecar)["S3D_SERVER_HOST"] == "127.0.0.1"
    assert sidecar["readinessProbe"]["exec"]["command"][0] == "python"
    # hostNetwork: the pod's loopback is the node's, so the kubelet asks 127.0.0.1 itself.
    node = container(s3d_pod_spec(MODES["daemonset-hostnetwork"]))
    assert env(node)["S3D_SERVER_HOST"] == "127.0.0.1"
    assert node["readinessProbe"]["httpGet"]["host"] == "127.0.0.1"
    assert "hostPort" not in node["ports"][0]


@pytest.mark.parametrize("case", MODES)
def test_prestop_flushes_the_journal(case: str) -> None:
    s3d = container(s3d_pod_spec(MODES[case]))
    command = s3d["lifecycle"]["preStop"]["exec"]["command"]
    assert command == ["s3d", "flush", "--timeout", "60"]


def test_grace_period_covers_the_flush_the_drain_and_the_last_flush() -> None:
    values = {
        "s3d": {"journal": {"flushOnStop": 120}, "server": {"shutdownGrace": 45.5}},
        "preStopFlush": {"timeout": 90},
        "graceMargin": 10,
    }
    spec = s3d_pod_spec(values)
    assert spec["terminationGracePeriodSeconds"] == 90 + 46 + 120 + 10
    assert spec["terminationGracePeriodSeconds"] > 120
    s3d = env(container(spec))
    assert s3d["S3D_JOURNAL_FLUSH_ON_STOP"] == "120"
    assert s3d["S3D_SERVER_SHUTDOWN_GRACE"] == "45.5"
    # Without the preStop flush the grace period still covers the daemon's own stop.
    spec = s3d_pod_spec({**values, "preStopFlush": {"enabled": False}})
    assert spec["terminationGracePeriodSeconds"] == 46 + 120 + 10
    assert "lifecycle" not in container(spec)


@pytest.mark.parametrize("case", MODES)
def test_secrets_are_only_referenced_by_name(case: str) -> None:
    values = {**MODES[case], **EVERY_SECRET}
    docs = objects(values)
    assert of_kind(docs, "Secret") == []
    s3d = env(container(s3d_pod_spec(values)))
    secret_names = {
        "S3D_SERVER_ACCESS_KEYS": "s3d-local-keys",
        "AWS_ACCESS_KEY_ID": "s3d-remote",
        "AWS_SECRET_ACCESS_KEY": "s3d-remote",
        "AWS_SESSION_TOKEN": "s3d-remote",
        "OTEL_EXPORTER_OTLP_HEADERS": "otlp-auth",
    }
    for name, secret in secret_names.items():
        assert list(s3d[name]) == ["secretKeyRef"]
        assert s3d[name]["secretKeyRef"]["name"] == secret
    # The metrics token is read from a file: the Secret mounted as a volume, by name.
    assert s3d["S3D_METRICS_BEARER_TOKEN_FILE"] == "/etc/s3d/metrics/token"
    spec = s3d_pod_spec(values)
    (token,) = [v for v in spec["volumes"] if v["name"] == "metrics-token"]
    assert token["secret"]["secretName"] == "s3d-metrics"
    secret_like = re.compile("SECRET|TOKEN|PASSWORD|ACCESS_KEY|HEADERS")
    plain = {n for n, v in s3d.items() if secret_like.search(n) and not isinstance(v, dict)}
    assert plain == {"S3D_METRICS_BEARER_TOKEN_FILE"}


@pytest.mark.parametrize(
    "values",
    [
        {"s3d": {"extraEnv": {"S3D_REMOTE_SECRET_ACCESS_KEY": "inline"}}},
        {"s3d": {"extraEnv": {"AWS_SESSION_TOKEN": "inline"}}},
        {"otel": {"enabled": True, "extraEnv": {"OTEL_EXPORTER_OTLP_HEADERS": "a=b"}}},
    ],
)
def test_a_secret_given_as_a_plain_value_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(helm_python.HelmRenderError, match="through a Secret"):
        render(values)


def test_ephemeral_data_requests_its_storage_and_sizes_the_cache_from_it() -> None:
    values = MODES["ephemeral"]
    spec = s3d_pod_spec(values)
    assert spec["volumes"][0] == {"name": "data", "emptyDir": {"sizeLimit": "50Gi"}}
    s3d = container(spec)
    assert s3d["resources"]["requests"]["ephemeral-storage"] == "50Gi"
    assert env(s3d)["S3D_CACHE_MAX_SIZE"] == str(50 * 2**30 * 80 // 100)
    assert "initContainers" not in spec  # no chown: fsGroup applies to an emptyDir


def test_a_cache_size_is_checked_against_the_ephemeral_volume() -> None:
    data = {"type": "emptyDir", "emptyDir": {"sizeLimit": "20Gi"}}
    fits = s3d_pod_spec({"data": data, "s3d": {"cache": {"maxSize": "15GiB"}}})
    assert env(container(fits))["S3D_CACHE_MAX_SIZE"] == str(15 * 2**30)
    with pytest.raises(helm_python.HelmRenderError, match=r"larger than data\.emptyDir\.sizeLimit"):
        render({"data": data, "s3d": {"cache": {"maxSize": "21Gi"}}})
    # Kubernetes reads G as 10^9, s3d as 2^30: the chart refuses to guess (values.schema.json).
    with pytest.raises(helm_python.HelmValuesError, match="maxSize"):
        render({"data": data, "s3d": {"cache": {"maxSize": "20G"}}})


def test_deployment_mode_serves_the_cluster_without_host_ports() -> None:
    docs = objects(MODES["deployment"])
    (deployment,) = of_kind(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    spec = pod_spec(deployment)
    assert "hostPort" not in container(spec)["ports"][0]
    assert "tolerations" not in spec
    assert "emptyDir" in spec["volumes"][0]
    (service,) = [d for d in of_kind(docs, "Service") if d["metadata"]["name"] == "s3d"]
    assert service["spec"]["internalTrafficPolicy"] == "Cluster"


def test_sidecar_mode_runs_nothing_and_publishes_a_native_sidecar() -> None:
    docs = objects(MODES["sidecar"])
    assert {d["kind"] for d in docs} == {"ConfigMap", "ServiceAccount"}
    (s3d,) = sidecar_pod(MODES["sidecar"])["spec"]["initContainers"]
    assert s3d["restartPolicy"] == "Always"


def test_service_monitor_scrapes_the_metrics_service() -> None:
    # ServiceMonitor is the Prometheus Operator's CRD: no Kubernetes schema holds it, so its
    # structure is checked here (it selects the metrics Service, on a port that Service has).
    values = {"serviceMonitor": {"enabled": True, "interval": "15s"}, **EVERY_SECRET}
    docs = objects(values)
    (monitor,) = of_kind(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    (metrics,) = [d for d in of_kind(docs, "Service") if d["metadata"]["name"] == "s3d-metrics"]
    assert metrics["spec"]["clusterIP"] == "None"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= metrics["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in metrics["spec"]["ports"]}
    assert endpoint["path"] == "/_s3d/metrics"
    assert endpoint["interval"] == "15s"
    assert endpoint["authorization"]["credentials"] == {"name": "s3d-metrics", "key": "token"}
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["storage"]}
    assert of_kind(objects(), "ServiceMonitor") == []


def test_otel_variables_come_from_values() -> None:
    values = {
        "otel": {
            "enabled": True,
            "endpoint": "http://collector.observability:4317",
            "protocol": "grpc",
            "samplerArg": "0.25",
            "resourceAttributes": "deployment.environment=prod",
            "extraEnv": {"OTEL_BSP_MAX_QUEUE_SIZE": 4096},
        }
    }
    s3d = env(container(s3d_pod_spec(values)))
    assert s3d["OTEL_TRACES_EXPORTER"] == "otlp"
    assert s3d["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.observability:4317"
    assert s3d["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert s3d["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    assert s3d["OTEL_BSP_MAX_QUEUE_SIZE"] == "4096"
    attributes = s3d["OTEL_RESOURCE_ATTRIBUTES"].split(",")
    assert "k8s.node.name=$(K8S_NODE_NAME)" in attributes
    assert "deployment.environment=prod" in attributes
    assert s3d["K8S_NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert not any(name.startswith("OTEL_") for name in env(container(s3d_pod_spec({}))))


def test_remote_settings_become_s3d_variables() -> None:
    values = {
        "s3d": {
            "remote": {
                "endpoint": "https://minio.storage:9000",
                "region": "eu-west-1",
                "addressingStyle": "path",
                "buckets": ["raw", "results"],
            }
        },
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}},
    }
    docs = objects(values)
    s3d = env(container(s3d_pod_spec(values)))
    assert s3d["S3D_REMOTE_ENDPOINT_URL"] == "https://minio.storage:9000"
    assert s3d["S3D_REMOTE_REGION"] == "eu-west-1"
    assert s3d["S3D_REMOTE_ADDRESSING_STYLE"] == "path"
    assert s3d["S3D_REMOTE_BUCKETS"] == "raw,results"
    (account,) = of_kind(docs, "ServiceAccount")
    assert account["metadata"]["annotations"] == values["serviceAccount"]["annotations"]


def test_security_context_is_unprivileged_unless_fuse() -> None:
    spec = s3d_pod_spec({})
    assert spec["securityContext"]["runAsNonRoot"] is True
    context = container(spec)["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    fuse = s3d_pod_spec(MODES["fuse"])
    assert container(fuse)["securityContext"]["privileged"] is True
    assert {"name": "fuse-device", "mountPath": "/dev/fuse"} in container(fuse)["volumeMounts"]


def test_fuse_mounts_the_source_under_the_propagated_host_path() -> None:
    spec = s3d_pod_spec(MODES["fuse"])
    env = {e["name"]: e.get("value") for e in container(spec)["env"]}
    assert env["S3D_FUSE_MOUNTS"] == "my-bucket/team:/mnt/s3d/data"
    assert env["S3D_FUSE_ALLOW_OTHER"] == "true"
    mounts = {m["name"]: m for m in container(spec)["volumeMounts"]}
    assert mounts["fuse-mounts"]["mountPropagation"] == "Bidirectional"
    init = {c["name"]: c for c in spec["initContainers"]}
    assert init["fuse-mountpoint"]["command"] == ["mkdir", "-p", "/mnt/s3d/data"]
    with pytest.raises(helm_python.HelmRenderError, match=r"fuse\.source"):
        render({"fuse": {"enabled": True}})


@pytest.mark.parametrize("case", MODES)
def test_notes_render_for_every_mode(case: str) -> None:
    notes = render(MODES[case])["s3d/templates/NOTES.txt"]
    assert f"({MODES[case].get('mode', 'daemonset')} mode)" in notes
    assert "/_s3d/health/ready" in notes


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"mode": "statefulset"}, "/mode"),
        ({"serviceMonitor": {"enable": True}}, "/serviceMonitor"),  # a typo is not ignored
        ({"s3d": {"remote": {"addressingStyle": "host"}}}, "/s3d/remote/addressingStyle"),
        ({"otel": {"protocol": "http"}}, "/otel/protocol"),
    ],
)
def test_values_outside_the_schema_are_refused(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=where):
        render(values)


def test_helm_lint_finds_no_error() -> None:
    report = helm_python.lint(CHART, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
