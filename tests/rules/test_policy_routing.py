"""Routing by policy with a real daemon in write-back, moto as the remote and boto3: a
policy's ``write_queue`` and ``read_cache`` answers route writes and reads, combined with the
filter rules in the documented order (a refusal by either refuses; else the policy; else the
rules; tags override last, never a refusal), per local key."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.rules.decide import Decision
from s3d.rules.features import BYPASS, PIN, REFUSE, WRITE_BACK, WRITE_THROUGH
from s3d.rules.policy_input import PolicyInput
from s3d.rules.rego import Policies
from s3d.rules.routing import combine, policy_decision
from s3d.settings import AccessKey, RulesSettings
from tests.rules.daemons import header, new_bucket
from tests.rules.test_read_cache import cached
from tests.support import ACCESS_KEY, SECRET_KEY, DaemonThread, client, daemon_settings

OTHER = AccessKey("OTHERKEY00000000001", "other-secret")

POLICY = f"""\
package s3d.authz
import rego.v1
default allow := true
write_queue := "refuse" if startswith(input.object, "locked/")
write_queue := "write-through" if {{
    input.account == "{ACCESS_KEY}"
    startswith(input.object, "now/")
}}
write_queue := "write-back" if startswith(input.object, "back/")
read_cache := "bypass" if startswith(input.object, "live/")
read_cache := "pin" if startswith(input.object, "keep/")
"""
RULES = """\
[write-queue]
refuse  {b}/now/blocked*
-       {b}/back/*
+       *
"""


def daemon(remote_url: str, tmp_path: Path, bucket: str) -> DaemonThread:
    (tmp_path / "p.rego").write_text(POLICY)
    (tmp_path / "r.rules").write_text(RULES.format(b=bucket))
    keys = (AccessKey(ACCESS_KEY, SECRET_KEY), OTHER)
    settings = daemon_settings(remote_url, tmp_path / "d", mode="write-back", access_keys=keys)
    rules = RulesSettings(files=(str(tmp_path / "r.rules"),),
                          policy_files=(str(tmp_path / "p.rego"),))  # fmt: skip
    return DaemonThread(dataclasses.replace(settings, rules=rules))


def pending(answer) -> bool:  # type: ignore[no-untyped-def]
    return header(answer, "x-s3d-state") == "pending"


def refused(call) -> bool:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["ResponseMetadata"]["RequestId"]
    return bool(caught.value.response["Error"]["Code"] == "AccessDenied")


def test_a_policy_routes_writes_with_the_rules(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    with daemon(remote_url, tmp_path, b) as d:
        s3 = client(d.endpoint_url)
        other = client(d.endpoint_url, key=OTHER.access_key_id, secret=OTHER.secret_access_key)
        # The policy's write-through, for this key only: on the remote when acknowledged.
        assert not pending(s3.put_object(Bucket=b, Key="now/a", Body=b"a"))
        assert remote.head_object(Bucket=b, Key="now/a")["ContentLength"] == 1
        assert pending(other.put_object(Bucket=b, Key="now/o", Body=b"o"))
        # The policy's write-back over the rules' write-through (-) for back/*.
        assert pending(s3.put_object(Bucket=b, Key="back/a", Body=b"b"))
        # A refusal by either refuses: the policy's, and the rules' over the policy's answer.
        assert refused(lambda: s3.put_object(Bucket=b, Key="locked/a", Body=b"no"))
        assert refused(lambda: s3.put_object(Bucket=b, Key="now/blocked", Body=b"no"))
        for key in ("locked/a", "now/blocked"):
            with pytest.raises(ClientError):
                remote.head_object(Bucket=b, Key=key)
        # Tags override the policy as they override the rules.
        assert pending(s3.put_object(Bucket=b, Key="now/t", Body=b"t", Tagging="s3d.upload=later"))
        decisions = d.daemon.steering.status()["decisions"]["write-queue"]  # type: ignore[union-attr]
        assert decisions["refuse"] == 2


def test_a_policy_routes_reads(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    for key in ("live/a", "keep/a", "plain/a"):
        remote.put_object(Bucket=b, Key=key, Body=b"r")
    with daemon(remote_url, tmp_path, b) as d:
        s3 = client(d.endpoint_url)
        first = {key: cached(s3, b, key) for key in ("live/a", "keep/a", "plain/a")}
        second = {key: cached(s3, b, key) for key in ("live/a", "keep/a", "plain/a")}
        assert first == {"live/a": "bypass", "keep/a": "miss", "plain/a": "miss"}
        assert second == {"live/a": "bypass", "keep/a": "hit", "plain/a": "hit"}
        assert d.cache_stats()["pinned"] == 1
        decisions = d.daemon.steering.status()["decisions"]["read-cache"]  # type: ignore[union-attr]
        assert decisions == {"bypass": 2, "pin": 2, "default": 2}


def decision(action) -> Decision:  # type: ignore[no-untyped-def]
    return Decision("write-queue", action)


def test_the_order_of_rules_and_policy() -> None:
    by_policy = policy_decision("write-queue", [("write_queue", "write-through")], ["p.rego"])
    assert isinstance(by_policy, Decision)
    assert by_policy.action == WRITE_THROUGH
    assert by_policy.explain() == "write-queue: write-through by policy write_queue (p.rego)"
    assert combine(decision(WRITE_BACK), by_policy) is by_policy
    assert combine(decision(REFUSE), by_policy).action == REFUSE
    assert combine(decision(None), None).action is None
    read = policy_decision("read-cache", [("read_cache", "pin=1h")], ["p.rego"])
    assert isinstance(read, Decision)
    assert (read.action.verb, read.action.freshness) == (PIN.verb, 3600)  # type: ignore[union-attr]
    assert policy_decision("read-cache", [("write_queue", "refuse")], []) is None
    bad = policy_decision("read-cache", [("read_cache", "sometimes")], [])
    assert isinstance(bad, str)
    assert "found 'sometimes'" in bad
    assert isinstance(policy_decision("read-cache", [("read_cache", 3)], []), str)
    assert BYPASS.verb == "bypass"


SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "routing.rego"


def routes(account: str, api: str, bucket: str, key: str) -> dict[str, object]:
    policies = Policies([(str(SHIPPED), SHIPPED.read_text())])
    document = PolicyInput(account, api, bucket, key, (), "127.0.0.1", datetime.now(UTC)).document()
    verdict = policies.decide(document)
    assert verdict.allow
    return dict(verdict.routes)


def test_the_shipped_routing_example_decides_what_its_comments_say() -> None:
    ingest = "INGESTKEY0000000001"
    assert routes(ingest, "PutObject", "b", "k") == {"write_queue": "write-through"}
    assert routes(ingest, "PutObject", "b", "frozen/k") == {"write_queue": "refuse"}
    assert routes("OTHER", "PutObject", "b", "frozen/k") == {"write_queue": "refuse"}
    assert routes("OTHER", "PutObject", "b", "k") == {}
    assert routes("OTHER", "GetObject", "models", "m") == {"read_cache": "pin"}
    assert routes("OTHER", "GetObject", "b", "dashboards/d") == {"read_cache": "cache=30s"}
