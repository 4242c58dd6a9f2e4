"""The start refuses when a configured bucket cannot be read, saying which bucket, where the
credentials came from, every source tried in order and the S3 error; --allow-offline-start
starts anyway. A real moto that checks credentials (INITIAL_NO_AUTH_ACTION_COUNT=0)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from s3d.daemon.startup import StartupError
from tests.support import DaemonThread, daemon_settings, isolate_aws_env, moto_process

SECRET = "revoked-secret-that-must-not-show"


@pytest.fixture(scope="module")
def locked_remote() -> Iterator[str]:
    with moto_process({"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as url:
        yield url


def settings_for(remote_url: str, data_dir: Path, **remote: object):  # type: ignore[no-untyped-def]
    base = daemon_settings(remote_url, data_dir)
    changes = {"access_key_id": None, "secret_access_key": None, "buckets": ("team-data",)}
    return replace(base, remote=replace(base.remote, **(changes | remote)))


def test_revoked_environment_credentials_stop_the_start(
    locked_remote: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREVOKED000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    with pytest.raises(StartupError) as caught, DaemonThread(settings_for(locked_remote, tmp_path)):
        pass
    message = str(caught.value)
    assert "cannot read bucket 'team-data'" in message
    assert "from environment variables (AWS_ACCESS_KEY_ID)" in message
    assert "InvalidAccessKeyId" in message
    assert "tried, in order: environment variables (AWS_ACCESS_KEY_ID): chosen" in message
    assert SECRET not in message


def test_without_any_credentials_every_source_is_named_in_order(
    locked_remote: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    with pytest.raises(StartupError) as caught, DaemonThread(settings_for(locked_remote, tmp_path)):
        pass
    message = str(caught.value)
    tried = message.partition("tried, in order: ")[2]
    names = [part.rpartition(": ")[0] for part in tried.split("; ")]
    assert names[0] == "environment variables (AWS_ACCESS_KEY_ID)"
    assert names.index("container credentials (AWS_CONTAINER_CREDENTIALS_*_URI)") < names.index(
        "EC2 instance metadata (IMDSv2)"
    )
    assert all(part.endswith("no credentials") for part in tried.split("; "))


def test_allow_offline_start_starts_and_warns(
    locked_remote: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    isolate_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREVOKED000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    caplog.set_level(logging.WARNING, logger="s3d.daemon")
    settings = settings_for(locked_remote, tmp_path, allow_offline_start=True)
    with DaemonThread(settings) as running:
        assert running.endpoint_url
    assert "starting anyway (remote.allow_offline_start)" in caplog.text


def test_status_says_where_the_credentials_came_from_and_never_the_secret(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from s3d.cli.admin_client import endpoint_for, fetch
    from s3d.cli.status_text import render_status

    isolate_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTATUSKEY0006789")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    settings = settings_for(remote_url, tmp_path, buckets=())
    with DaemonThread(settings) as running:
        document = fetch(endpoint_for(settings, running.endpoint_url), "status")
    credentials = document["remote_credentials"]
    assert credentials["source"] == "environment variables (AWS_ACCESS_KEY_ID)"
    assert credentials["key_id_suffix"] == "6789"
    text = json.dumps(document) + render_status(document)
    assert SECRET not in text
    assert "AKIASTATUSKEY0006789" not in text
