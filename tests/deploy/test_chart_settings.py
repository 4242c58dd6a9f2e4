"""What the chart gives s3d is what s3d understands: every S3D_* variable it renders names a
setting and parses as one, and the preStop command is a valid `s3d flush` command line."""

from __future__ import annotations

from typing import Any

import pytest

from s3d.cli.commands import build_parser
from s3d.config import load_settings, options
from tests.deploy.kube import container, env
from tests.deploy.test_helm_chart import MODES, s3d_pod_spec

# Without the metrics token: its file (metrics.bearer_token_file) must exist where s3d loads
# its settings, which is only in the pod.
CASES: dict[str, dict[str, Any]] = {
    **{name: {k: v for k, v in values.items() if k != "metrics"} for name, values in MODES.items()},
    "everything-set": {
        "data": {"type": "emptyDir", "emptyDir": {"sizeLimit": "8Gi"}},
        "s3d": {
            "remote": {
                "endpoint": "https://minio.storage:9000",
                "addressingStyle": "virtual",
                "buckets": ["raw", "results"],
                "allowOfflineStart": True,
            },
            "journal": {"mode": "write-through", "flushOnStop": 12.5},
            "server": {"shutdownGrace": 5},
            "cache": {"maxSize": "4GiB"},
            "log": {"format": "text", "level": "debug"},
            "extraEnv": {"S3D_CACHE_FRESHNESS": 120, "S3D_DRS_ENABLED": False},
        },
    },
}


@pytest.mark.parametrize("case", CASES)
def test_every_s3d_variable_is_a_setting_s3d_accepts(case: str) -> None:
    rendered = env(container(s3d_pod_spec(CASES[case])))
    plain = {n: v for n, v in rendered.items() if n.startswith("S3D_") and isinstance(v, str)}
    # s3d ignores S3D_* names it does not know (Kubernetes adds S3D_PORT…): a misspelt
    # variable would be silently dropped, so each must be a setting's.
    known = {option.env for option in options()}
    assert set(plain) - known == set()
    settings = load_settings(None, plain, {})  # raises ConfigError on a value s3d refuses
    assert str(settings.data_dir) == "/var/lib/s3d"
    assert settings.server.port == 9333


def test_rendered_values_reach_the_settings() -> None:
    rendered = env(container(s3d_pod_spec(CASES["everything-set"])))
    plain = {n: v for n, v in rendered.items() if isinstance(v, str)}
    settings = load_settings(None, plain, {})
    assert settings.cache.max_size == 4 * 2**30
    assert settings.journal.flush_on_stop == 12.5
    assert settings.journal.mode == "write-through"
    assert list(settings.remote.buckets) == ["raw", "results"]
    assert settings.remote.allow_offline_start is True
    assert settings.drs.enabled is False


@pytest.mark.parametrize("case", MODES)
def test_prestop_is_an_s3d_flush_command_line(case: str) -> None:
    command = container(s3d_pod_spec(MODES[case]))["lifecycle"]["preStop"]["exec"]["command"]
    args = build_parser().parse_args(command[1:])
    assert args.command == "flush"
    assert args.timeout == 60
