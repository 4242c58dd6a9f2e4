"""Remembered policy verdicts: which input fields a policy reads (from its syntax tree), one
evaluation per distinct value of those fields, never for a policy that reads the clock, and a
reload that changes verdicts at once; a denial remembered is still a denial, with a real
daemon, moto as the remote and boto3 as the client."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
import regorus

from s3d.rules.policy_input import PolicyInput
from s3d.rules.rego import Policies, PolicyError
from s3d.rules.rego_ast import input_paths
from s3d.settings import RulesSettings
from tests.rules.daemons import new_bucket
from tests.rules.test_policies import code
from tests.support import ACCESS_KEY, DaemonThread, client, daemon_settings

HEAD = "package s3d.authz\nimport rego.v1\n"


def paths(body: str) -> object:
    engine = regorus.Engine()
    engine.add_policy("p.rego", HEAD + body)
    return input_paths(engine.get_ast_as_json())


def test_the_fields_a_policy_reads() -> None:
    assert paths('allow if input.account == "a"') == (("account",),)
    assert paths('allow if input.s3d.headers["content-type"] == "x"') == (
        ("s3d", "headers", "content-type"),
    )
    # A computed index reads the whole value it indexes, and what the index reads.
    assert set(paths('allow if input.s3d.tags[input.object] == "x"')) == {  # type: ignore[arg-type]
        ("object",),
        ("s3d", "tags"),
    }
    assert paths('allow if object.get(input.s3d, "size", 0) < 3') == (("s3d", "size"),)
    assert paths("import input.s3d as s\nallow if s.size < 3") == (("s3d",),)
    # A path under one already read adds nothing; a bare input reads everything.
    assert paths('allow if { input.s3d.api == "x"; input.s3d.key == "y"; input.s3d }') == (
        ("s3d",),
    )
    assert paths("allow if { x := input; x.account }") == ((),)
    assert paths("allow if time.now_ns() > 0") is None


def document(account: str = "K", key: str = "k", agent: str = "a") -> dict[str, object]:
    headers = (("user-agent", agent),)
    return PolicyInput(
        account, "GetObject", "b", key, headers, "127.0.0.1", datetime.now(UTC)
    ).document()


ONLY_K = HEAD + 'default allow := false\nallow if input.account == "K"\nreason := "no"\n'


def test_a_verdict_is_remembered_for_the_fields_the_policy_reads() -> None:
    policies = Policies([("p.rego", ONLY_K)])
    assert policies.decide(document(agent="one")).allow
    assert policies.decide(document(key="other", agent="two")).allow
    assert policies.evaluations == 1  # neither the key nor the agent is read
    denied = policies.decide(document(account="X"))
    assert (denied.allow, denied.reason) == (False, "no")
    assert policies.decide(document(account="X", key="z")) == denied  # remembered: still denied
    assert policies.evaluations == 2


def test_what_is_evaluated_every_time() -> None:
    clock = Policies([("p.rego", HEAD + "allow if time.now_ns() > 0\n")])
    unremembered = Policies([("p.rego", ONLY_K)], remembered=0)
    for _ in range(3):
        assert clock.decide(document()).allow
        assert unremembered.decide(document()).allow
    assert clock.evaluations == unremembered.evaluations == 3
    failing = Policies([("f.rego", HEAD + "allow if 1 / count(input.s3d.tags) == 0\n")])
    for _ in range(2):
        with pytest.raises(PolicyError):
            failing.decide(document())
    assert failing.evaluations == 2  # a failure is never remembered


def test_remembered_verdicts_are_bounded() -> None:
    policies = Policies([("p.rego", ONLY_K)], remembered=2)
    for account in ("K", "A", "B", "K"):
        policies.decide(document(account=account))
    assert policies.evaluations == 4  # the third verdict forgot the first two


def test_a_reload_changes_remembered_verdicts_at_once(remote_url, remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    remote.put_object(Bucket=b, Key="open/a", Body=b"a")
    remote.put_object(Bucket=b, Key="shut/a", Body=b"s")
    policy = tmp_path / "p.rego"
    policy.write_text(HEAD + 'allow if not startswith(input.object, "shut/")\n')
    settings = daemon_settings(remote_url, tmp_path / "d")
    rules = RulesSettings(policy_files=(str(policy),))
    with DaemonThread(dataclasses.replace(settings, rules=rules)) as d:
        s3 = client(d.endpoint_url)
        for _ in range(3):
            assert code(lambda: s3.get_object(Bucket=b, Key="open/a")) == "OK"
            assert code(lambda: s3.get_object(Bucket=b, Key="shut/a")) == "AccessDenied"
        policies = d.daemon.authorisation.policies  # type: ignore[union-attr]
        assert policies is not None
        assert policies.evaluations == 2  # one per object
        policy.write_text(HEAD + f'allow if input.account != "{ACCESS_KEY}"\n')
        assert d.call(d.daemon.reload_rules()) is None  # type: ignore[union-attr]
        assert code(lambda: s3.get_object(Bucket=b, Key="open/a")) == "AccessDenied"
        assert code(lambda: s3.get_object(Bucket=b, Key="shut/a")) == "AccessDenied"
