"""The remote credentials' expiry as a metric: the time temporary credentials expire, +Inf for
static keys; never a secret or a key id in the scrape."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import pytest

from tests.metrics.scrape import scrape, value
from tests.remote.test_credentials import SECRET, TOKEN, use_credential_process
from tests.support import REMOTE_KEY, DaemonThread, daemon_settings, isolate_aws_env, send

EXPIRY = "s3d_remote_credentials_expiry_timestamp_seconds"


def test_static_keys_never_expire(s3d: DaemonThread) -> None:
    assert value(scrape(s3d.endpoint_url), EXPIRY) == math.inf


def test_temporary_credentials_expiry_is_exported(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    use_credential_process(tmp_path, monkeypatch)
    settings = daemon_settings(remote_url, tmp_path / "data")
    remote = dataclasses.replace(settings.remote, access_key_id=None, secret_access_key=None)
    with DaemonThread(dataclasses.replace(settings, remote=remote)) as daemon:
        expires = value(scrape(daemon.endpoint_url), EXPIRY)
        text = send("GET", f"{daemon.endpoint_url}/_s3d/metrics", {})[2].decode()
    # The Expiration written above, to the second it was rounded to.
    assert time.time() + 55 * 60 < expires < time.time() + 61 * 60
    for secret in (SECRET, TOKEN, "AKIAPROCESS000002222", REMOTE_KEY):
        assert secret not in text
