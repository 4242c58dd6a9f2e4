"""The OpenPGP passphrase read from AWS Secrets Manager at start (``snapshots.
passphrase_secret``), with the remote's credentials: moto's Secrets Manager (the same moto
server as the remote, named by ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` as for any AWS SDK), a real
daemon and real gpg."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from s3d.settings import ConfigError, SnapshotSettings
from tests.snapshots.test_snapshot_api import PASSPHRASE, gpg_encrypt, stream
from tests.support import DaemonThread, daemon_settings


def _vault(remote_url: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "secretsmanager",
        endpoint_url=remote_url,
        region_name="us-east-1",
        aws_access_key_id="remote-access-key-id",
        aws_secret_access_key="remote-secret",
    )


def _settings(remote_url: str, data: Path, secret: str):  # type: ignore[no-untyped-def]
    settings = daemon_settings(remote_url, data, mode="write-back")
    return replace(settings, snapshots=SnapshotSettings(passphrase_secret=secret))


@pytest.mark.parametrize("shape", ["plain", "json"])
def test_a_passphrase_kept_in_secrets_manager_decrypts_snapshots(
    shape: str, remote_url: str, remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", remote_url)
    name = f"backups/gpg-{uuid.uuid4().hex[:8]}"
    held = PASSPHRASE if shape == "plain" else json.dumps({"passphrase": PASSPHRASE})
    _vault(remote_url).create_secret(Name=name, SecretString=held)
    bucket = f"snap-{uuid.uuid4().hex[:12]}"
    remote.create_bucket(Bucket=bucket)
    plain = os.urandom(1 << 20)
    cipher = gpg_encrypt(plain, tmp_path / "g")
    remote.put_object(Bucket=bucket, Key="pg/2026-12-04.sql.gpg", Body=cipher)
    with DaemonThread(_settings(remote_url, tmp_path / "data", name)) as daemon:
        status, body, broken = stream(daemon, f"{bucket}/pg/latest")
    assert (status, broken) == (200, None)
    assert body == plain


@pytest.mark.parametrize(
    ("held", "message"),
    [
        (None, "cannot be read from Secrets Manager: ResourceNotFoundException"),
        ('{"key": "no passphrase here"}', "is a JSON object without a string 'passphrase'"),
    ],
)
def test_a_missing_or_malformed_secret_stops_the_start(
    held: str | None,
    message: str,
    remote_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", remote_url)
    name = f"backups/gpg-{uuid.uuid4().hex[:8]}"
    if held is not None:
        _vault(remote_url).create_secret(Name=name, SecretString=held)
    with (
        pytest.raises(ConfigError) as caught,
        DaemonThread(_settings(remote_url, tmp_path / "data", name)),
    ):
        pass
    assert str(caught.value) == f"snapshots.passphrase_secret: the secret {name} {message}"
    assert "no passphrase here" not in str(caught.value)
