"""``drs.credentials.json`` beside a drs.index: parsed (and refused when it holds a secret, or
is of a future major version), then used at start for its bucket — a role assumed through
moto's STS, or keys read from moto's Secrets Manager, with the credentials the chain found."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from s3d.daemon.startup import StartupError
from s3d.remote.sidecar import SidecarError, location_next_to, parse
from s3d.settings import DrsSettings
from tests.support import DaemonThread, client, daemon_settings

ROLE = "arn:aws:iam::123456789012:role/drs-bootstrap"
SOURCE = "s3://b/drs.credentials.json"


def sidecar(**body: object) -> bytes:
    return json.dumps({"format": "drs.credentials", "format_version": "1.0", **body}).encode()


def test_parsing_a_role_and_a_secret_ignoring_unknown_fields() -> None:
    role = parse(
        sidecar(
            assume_role={"role_arn": ROLE, "external_id": "x", "duration_seconds": 900},
            comment="added by a newer writer",
        ),
        SOURCE,
    )
    assert (role.role_arn, role.external_id, role.duration_seconds) == (ROLE, "x", 900)
    vault = parse(sidecar(secrets_manager={"secret_id": "team/s3d", "region": "eu-west-1"}), SOURCE)
    assert (vault.secret_id, vault.secret_region) == ("team/s3d", "eu-west-1")
    assert location_next_to("exports/drs.index") == "exports/drs.credentials.json"
    assert location_next_to("drs.index") == "drs.credentials.json"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (sidecar(assume_role={"role_arn": ROLE, "SecretAccessKey": "x"}), "holds a credential"),
        (sidecar(aws_access_key_id="AKIA…", assume_role={"role_arn": ROLE}), "holds a credential"),
        (sidecar(), "exactly one of"),
        (sidecar(assume_role={"role_arn": ROLE}, secrets_manager={"secret_id": "s"}), "exactly"),
        (json.dumps({"format": "drs.credentials", "format_version": "2.0"}).encode(), "2.0"),
        (b"{not json", "not JSON"),
        (sidecar(assume_role={"role_arn": ROLE, "duration_seconds": "1h"}), "duration_seconds"),
    ],
)
def test_bad_sidecars_are_refused_naming_them(document: bytes, message: str) -> None:
    with pytest.raises(SidecarError) as caught:
        parse(document, SOURCE)
    assert str(caught.value).startswith(SOURCE)
    assert message in str(caught.value)


def remote(remote_url: str) -> Any:
    return client(remote_url, key="remote-access-key-id", secret="remote-secret")


def bucket_with_sidecar(remote_url: str, body: bytes) -> str:
    bucket = f"side-{uuid.uuid4().hex[:10]}"
    remote(remote_url).create_bucket(Bucket=bucket)
    remote(remote_url).put_object(Bucket=bucket, Key="drs.credentials.json", Body=body)
    return bucket


def daemon_for(remote_url: str, tmp_path: Path, bucket: str) -> Any:
    settings = daemon_settings(remote_url, tmp_path / "data")
    audit = tmp_path / "audit.jsonl"
    return replace(
        settings,
        remote=replace(settings.remote, credentials_audit_file=audit),
        drs=DrsSettings(buckets=(bucket,)),
    )


def audit_of(tmp_path: Path, source: str) -> dict[str, Any]:
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    [line] = [line for line in lines if line["source"] == source and line["event"] == "resolved"]
    return line


def test_a_role_named_by_the_sidecar_is_assumed_for_its_bucket(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", remote_url)
    body = sidecar(
        assume_role={"role_arn": ROLE, "external_id": "team-42", "duration_seconds": 900}
    )
    bucket = bucket_with_sidecar(remote_url, body)
    with DaemonThread(daemon_for(remote_url, tmp_path, bucket)) as running:
        assert running.daemon is not None
        assert running.daemon.remote is not None
        status = running.daemon.remote.credentials_status()
        client(running.endpoint_url).put_object(Bucket=bucket, Key="k", Body=b"through the role")
    line = audit_of(tmp_path, "drs-credentials-sidecar")
    assert (line["bucket"], line["role"]) == (bucket, ROLE)
    assert line["expiry"] is not None
    assert ROLE in status["buckets"][bucket]  # type: ignore[index]
    assert remote(remote_url).get_object(Bucket=bucket, Key="k")["Body"].read() == (
        b"through the role"
    )


def test_keys_named_by_the_sidecar_are_read_from_secrets_manager(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", remote_url)
    name = f"team/s3d-{uuid.uuid4().hex[:6]}"
    vault = boto3.client(
        "secretsmanager",
        endpoint_url=remote_url,
        region_name="us-east-1",
        aws_access_key_id="remote-access-key-id",
        aws_secret_access_key="remote-secret",
    )
    keys = {"AccessKeyId": "AKIAFROMVAULT0002468", "SecretAccessKey": "vault-secret-value"}
    vault.create_secret(Name=name, SecretString=json.dumps(keys))
    bucket = bucket_with_sidecar(remote_url, sidecar(secrets_manager={"secret_id": name}))
    with DaemonThread(daemon_for(remote_url, tmp_path, bucket)):
        pass
    line = audit_of(tmp_path, "drs-credentials-sidecar")
    assert line["key_id_suffix"] == "2468"
    assert line["bucket"] == bucket
    assert "vault-secret-value" not in (tmp_path / "audit.jsonl").read_text()


def test_a_sidecar_holding_a_secret_stops_the_start(remote_url: str, tmp_path: Path) -> None:
    body = sidecar(assume_role={"role_arn": ROLE}, SecretAccessKey="long-lived-secret")
    bucket = bucket_with_sidecar(remote_url, body)
    with (
        pytest.raises(StartupError) as caught,
        DaemonThread(daemon_for(remote_url, tmp_path, bucket)),
    ):
        pass
    assert f"s3://{bucket}/drs.credentials.json" in str(caught.value)
    assert "holds a credential" in str(caught.value)
    assert "long-lived-secret" not in str(caught.value)
