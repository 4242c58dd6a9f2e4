"""Per-bucket remote settings (``remote.bucket_settings``): a bucket on another endpoint, a
bucket reached through a role assumed (moto's STS) with the chain's credentials, and the
start-up check covering those buckets. Two real moto servers; a relay records what reaches
the second one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from s3d.daemon.startup import StartupError
from s3d.settings import BucketRemote
from tests.support import CountingRelay, DaemonThread, client, daemon_settings, moto_server

ROLE = "arn:aws:iam::123456789012:role/other-account-reader"


@pytest.fixture(scope="module")
def second_remote() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def relay(second_remote: str) -> Iterator[CountingRelay]:
    with CountingRelay(second_remote) as running:
        yield running


def remote_client(url: str) -> Any:
    return client(url, key="remote-access-key-id", secret="remote-secret")


def with_buckets(settings: Any, *overrides: BucketRemote, **remote: object) -> Any:
    return replace(settings, remote=replace(settings.remote, bucket_settings=overrides, **remote))


def test_a_bucket_on_another_endpoint(
    remote_url: str, relay: CountingRelay, second_remote: str, tmp_path: Path
) -> None:
    here, there = f"here-{uuid.uuid4().hex[:8]}", f"there-{uuid.uuid4().hex[:8]}"
    remote_client(remote_url).create_bucket(Bucket=here)
    remote_client(second_remote).create_bucket(Bucket=there)
    settings = with_buckets(
        daemon_settings(remote_url, tmp_path), BucketRemote(there, endpoint_url=relay.url)
    )
    with DaemonThread(settings) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=here, Key="k", Body=b"on the default remote")
        s3.put_object(Bucket=there, Key="k", Body=b"on the second remote")
        assert s3.get_object(Bucket=there, Key="k")["Body"].read() == b"on the second remote"
    got = remote_client(second_remote).get_object(Bucket=there, Key="k")["Body"].read()
    assert got == b"on the second remote"
    assert remote_client(remote_url).get_object(Bucket=here, Key="k")["Body"].read() == (
        b"on the default remote"
    )
    assert all(path.startswith(f"/{there}") for _, path, _ in relay.headers)


def test_a_bucket_through_an_assumed_role(
    remote_url: str,
    relay: CountingRelay,
    second_remote: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", remote_url)  # moto's STS
    there = f"role-{uuid.uuid4().hex[:8]}"
    remote_client(second_remote).create_bucket(Bucket=there)
    audit = tmp_path / "audit.jsonl"
    override = BucketRemote(there, endpoint_url=relay.url, role_arn=ROLE, external_id="team-42")
    settings = with_buckets(
        daemon_settings(remote_url, tmp_path / "data"), override, credentials_audit_file=audit
    )
    with DaemonThread(settings) as daemon:
        client(daemon.endpoint_url).put_object(Bucket=there, Key="k", Body=b"x")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    [assumed] = [line for line in lines if line["role"] == ROLE]
    assert assumed["bucket"] == there
    assert assumed["source"] == "assume-role"
    assert assumed["expiry"] is not None
    # Requests for that bucket are signed with the role's key, not the configured one.
    [put] = [h for m, p, h in relay.headers if m == "PUT" and p.startswith(f"/{there}/k")]
    key_id = put["authorization"].split("Credential=")[1].split("/")[0]
    assert key_id.endswith(assumed["key_id_suffix"])
    assert key_id != "remote-access-key-id"


def test_the_start_checks_the_buckets_of_bucket_settings(
    remote_url: str, second_remote: str, tmp_path: Path
) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    settings = with_buckets(
        daemon_settings(remote_url, tmp_path), BucketRemote(missing, endpoint_url=second_remote)
    )
    with pytest.raises(StartupError) as caught, DaemonThread(settings):
        pass
    assert f"cannot read bucket {missing!r}" in str(caught.value)
    assert "NoSuchBucket" in str(caught.value)
