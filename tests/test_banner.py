"""The first-run banner of ``s3d serve``: the secret on a terminal only, a "Try it" block that
works as printed (region included)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from s3d.daemon.root import banner
from s3d.settings import ServerSettings
from tests.support import DaemonThread, daemon_settings


def test_off_a_terminal_the_banner_points_at_the_secret_and_its_commands_work(
    remote_url: str, tmp_path: Path
) -> None:
    settings = daemon_settings(remote_url, tmp_path / "data")
    server = dataclasses.replace(settings.server, access_keys=())  # a generated key pair
    with DaemonThread(dataclasses.replace(settings, server=server)) as daemon:
        assert daemon.daemon is not None
        key = daemon.daemon.access_key
        assert key is not None
        logged = banner(daemon.daemon, terminal=False)
        shown = banner(daemon.daemon, terminal=True)
    stored = (tmp_path / "data" / "local-credentials.json").absolute()
    assert key.secret_access_key not in logged
    assert f"  secret access key: (in {stored}; shown only on a terminal)" in logged.splitlines()
    exports = [line.strip() for line in logged.splitlines() if line.strip().startswith("export")]
    assert (
        exports[0] == f"export AWS_ACCESS_KEY_ID={key.access_key_id} AWS_DEFAULT_REGION=us-east-1"
    )
    script = "; ".join([*exports, 'echo "$AWS_SECRET_ACCESS_KEY $AWS_DEFAULT_REGION"'])
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout == f"{key.secret_access_key} us-east-1\n"
    assert f"  secret access key: {key.secret_access_key}" in shown.splitlines()
    assert f"  export AWS_SECRET_ACCESS_KEY={key.secret_access_key}" in shown.splitlines()


def test_a_configured_secret_is_never_printed(remote_url: str, tmp_path: Path) -> None:
    settings = daemon_settings(remote_url, tmp_path / "data")
    assert isinstance(settings.server, ServerSettings)
    with DaemonThread(settings) as daemon:
        assert daemon.daemon is not None
        texts = [banner(daemon.daemon, terminal=t) for t in (True, False)]
    for text in texts:
        assert settings.server.access_keys[0].secret_access_key not in text
        assert "  export AWS_SECRET_ACCESS_KEY=<its secret>" in text.splitlines()
