"""Authorisation by Rego policy with a real daemon, moto as the remote and boto3 clients
signing with different local keys: allow and deny per key (403 AccessDenied, the reason in
the log and never in the answer), fail-closed and fail-open, a bad policy refusing the start;
and the shipped policies/ example deciding what its comments say."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.rules.policy_input import PolicyInput, iam_action
from s3d.rules.rego import Policies, PolicyError
from s3d.rules.syntax import RuleError
from s3d.settings import AccessKey, RulesSettings
from tests.rules.daemons import new_bucket
from tests.support import ACCESS_KEY, SECRET_KEY, DaemonThread, client, daemon_settings

TENANTS = Path(__file__).resolve().parents[2] / "policies" / "tenants.rego"
ANALYTICS = AccessKey("ANALYTICSKEY0000001", "analytics-secret")
INGEST = AccessKey("INGESTKEY0000000001", "ingest-secret")


def daemon(remote_url: str, data_dir: Path, policy: Path, failure: str = "closed") -> DaemonThread:
    keys = (AccessKey(ACCESS_KEY, SECRET_KEY), ANALYTICS, INGEST)
    settings = daemon_settings(remote_url, data_dir, access_keys=keys)
    rules = RulesSettings(policy_files=(str(policy),), policy_failure=failure)  # type: ignore[arg-type]
    return DaemonThread(dataclasses.replace(settings, rules=rules))


def code(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except ClientError as exc:
        response = exc.response
    else:
        return "OK"
    if not response["ResponseMetadata"]["RequestId"]:
        raise AssertionError("an error without a request id")
    # S3's own message: the policy's reason is never sent.
    if response["Error"]["Code"] == "AccessDenied" and response["Error"]["Message"] != (
        "Access Denied"
    ):
        raise AssertionError(response["Error"]["Message"])
    return str(response["Error"]["Code"])


def test_each_local_key_gets_what_its_policy_allows(remote_url, remote, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    shared, ingest = "shared", new_bucket(remote, "ingest")
    if "shared" not in [b["Name"] for b in remote.list_buckets()["Buckets"]]:
        remote.create_bucket(Bucket=shared)
    remote.put_object(Bucket=shared, Key="data", Body=b"d")
    caplog.set_level(logging.INFO, logger="s3d.rules")
    with daemon(remote_url, tmp_path / "d", TENANTS) as d:
        admin = client(d.endpoint_url)
        analytics = client(
            d.endpoint_url, key=ANALYTICS.access_key_id, secret=ANALYTICS.secret_access_key
        )
        writer = client(d.endpoint_url, key=INGEST.access_key_id, secret=INGEST.secret_access_key)
        assert code(lambda: analytics.get_object(Bucket=shared, Key="data")) == "OK"
        assert code(lambda: analytics.head_object(Bucket=shared, Key="data")) == "OK"
        assert code(lambda: analytics.put_object(Bucket=shared, Key="x", Body=b"1")) == (
            "AccessDenied"
        )
        assert code(lambda: analytics.get_object(Bucket=ingest, Key="x")) == "AccessDenied"
        assert code(lambda: writer.put_object(Bucket=ingest, Key="x", Body=b"1")) == "OK"
        assert code(lambda: writer.delete_object(Bucket=ingest, Key="x")) == "AccessDenied"
        assert code(lambda: writer.get_object(Bucket=shared, Key="data")) == "AccessDenied"
        assert code(lambda: admin.delete_object(Bucket=ingest, Key="x")) == "OK"
        verdicts = d.daemon.authorisation.status()["verdicts"]  # type: ignore[union-attr]
        assert verdicts["deny"] == 4
        assert verdicts["allow"] >= 4
    assert 'ANALYTICSKEY0000001 may not s3:PutObject in "shared"' in caplog.text
    assert remote.list_objects_v2(Bucket=ingest).get("KeyCount", 0) == 0


FAILING = """\
package s3d.authz
import rego.v1
default allow := true
allow := false if 1 / count(input.s3d.tags) == 0
"""


@pytest.mark.parametrize(("failure", "expected"), [("closed", "AccessDenied"), ("open", "OK")])
def test_a_policy_that_fails_takes_the_configured_answer(
    remote_url, remote, tmp_path, caplog, failure: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    policy = tmp_path / "failing.rego"
    policy.write_text(FAILING)
    b = new_bucket(remote)
    with daemon(remote_url, tmp_path / "d", policy, failure) as d:
        s3 = client(d.endpoint_url)
        # No tags: count is 0, the division fails (regorus: divide by zero).
        assert code(lambda: s3.put_object(Bucket=b, Key="k", Body=b"1")) == expected
        assert code(lambda: s3.put_object(Bucket=b, Key="k", Body=b"1", Tagging="a=1")) == "OK"
        assert d.daemon.authorisation.status()["verdicts"]["error"] == 1  # type: ignore[union-attr]
    assert f"policy {policy} failed, request {'allowed' if expected == 'OK' else 'denied'}" in (
        caplog.text
    )


def test_a_bad_policy_refuses_the_start(remote_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = tmp_path / "bad.rego"
    policy.write_text("package s3d.authz\nallow if {\n  input.a ==\n}\n")
    starting = daemon(remote_url, tmp_path / "d", policy)
    with pytest.raises(Exception, match=r"bad\.rego:4:1: expecting expression"), starting:
        pass


def test_compile_and_evaluation_errors() -> None:
    with pytest.raises(RuleError, match=r"no policy defines package s3d\.authz"):
        Policies([("p.rego", "package other\nallow := true\n")])
    with pytest.raises(PolicyError):
        Policies([("f.rego", FAILING)]).decide({"s3d": {"tags": {}}})


def decide(account: str, api: str, bucket: str, key: str | None = "k", size: int = 0) -> bool:
    headers = (("content-length", str(size)),) if size else ()
    document = PolicyInput(
        account, api, bucket, key, headers, "127.0.0.1", datetime.now(UTC)
    ).document()
    return Policies([(str(TENANTS), TENANTS.read_text())]).decide(document).allow


def test_the_shipped_example_decides_what_its_comments_say() -> None:
    a, i = ANALYTICS.access_key_id, INGEST.access_key_id
    assert decide("SOMEONEELSE", "DeleteBucket", "any", None)
    assert decide(a, "GetObject", "shared")
    assert decide(a, "ListObjectsV2", "shared", None)
    assert decide(a, "ListBuckets", "", None)
    assert not decide(a, "GetObject", "other")
    assert not decide(a, "PutObject", "shared")
    assert decide(i, "PutObject", "ingest-1", size=1024)
    assert decide(i, "CompleteMultipartUpload", "ingest-1")
    assert not decide(i, "PutObject", "ingest-1", size=2 * 1024**3)
    assert not decide(i, "DeleteObject", "ingest-1")
    assert not decide(i, "PutObject", "shared")


def test_the_input_document() -> None:
    headers = (
        ("content-length", "12"),
        ("x-amz-tagging", "a=1&b=2"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=…"),
        ("x-amz-server-side-encryption-customer-key", "c2VjcmV0"),
        ("user-agent", "boto3"),
    )
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    document = PolicyInput("K", "HeadObject", "b", "k", headers, "10.0.0.1", when).document()
    assert document["action"] == "s3:GetObject" == iam_action("HeadObject")
    assert document["conditions"] == {
        "SourceIp": ["10.0.0.1"],
        "UserAgent": ["boto3"],
        "CurrentTime": ["2026-01-02T03:04:05Z"],
        "SecureTransport": ["false"],
    }
    extra = document["s3d"]
    assert extra["size"] == 12  # type: ignore[index]
    assert extra["tags"] == {"a": "1", "b": "2"}  # type: ignore[index]
    assert "authorization" not in extra["headers"]  # type: ignore[index]
    assert "x-amz-server-side-encryption-customer-key" not in extra["headers"]  # type: ignore[index]
