"""An external Open Policy Agent server (``rules.policy_url``) with a real daemon, moto as the
remote and boto3 as the client. No OPA binary installs here, so the server is a stand-in: a
real aiohttp server on a free port answering OPA's data API (``POST /v1/data/<path>`` with
``{"input": …}``, answering ``{"result": …}``) from a few lines of Python standing for a
policy. It checks the input document s3d sends, allow and deny, routing answers, and a server
that is slow or broken taking the configured fail-closed or fail-open answer."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from s3d.rules.opa import verdict_of
from s3d.rules.rego import PolicyError, Verdict
from s3d.settings import RulesSettings
from tests.rules.daemons import header, new_bucket
from tests.rules.test_policies import code
from tests.support import ACCESS_KEY, DaemonThread, client, daemon_settings

PATH = "/v1/data/s3d/authz"


class StandInOpa:
    """OPA's data API on its own thread and loop: denies objects under secret/, routes writes
    under now/ through; ``mode`` "slow" answers after 5 s, "broken" with HTTP 500."""

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []
        self.mode = "normal"
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> StandInOpa:
        self._thread.start()
        assert self._ready.wait(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    async def _answer(self, request: web.Request) -> web.Response:
        document = (await request.json())["input"]
        self.inputs.append(document)
        if self.mode == "slow":
            await asyncio.sleep(5)
        if self.mode == "broken":
            return web.Response(status=500, text="{}")
        key = document["object"]
        result: dict[str, object] = {"allow": not key.startswith("secret/"), "reason": "secret"}
        if key.startswith("now/"):
            result["write_queue"] = "write-through"
        return web.json_response({"result": result})

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_post(PATH, self._answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{PATH}"
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()


def daemon(remote_url: str, data_dir: Path, url: str, failure: str = "closed") -> DaemonThread:
    settings = daemon_settings(remote_url, data_dir, mode="write-back")
    rules = RulesSettings(policy_url=url, policy_timeout=0.5, policy_failure=failure)  # type: ignore[arg-type]
    return DaemonThread(dataclasses.replace(settings, rules=rules))


def test_opa_allows_denies_and_routes(remote_url, remote, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    caplog.set_level(logging.INFO, logger="s3d.rules")
    with StandInOpa() as opa, daemon(remote_url, tmp_path / "d", opa.url) as d:
        s3 = client(d.endpoint_url)
        answer = s3.put_object(Bucket=b, Key="later/a", Body=b"a", Tagging="t=1")
        assert header(answer, "x-s3d-state") == "pending"
        assert code(lambda: s3.put_object(Bucket=b, Key="secret/a", Body=b"s")) == "AccessDenied"
        assert code(lambda: s3.get_object(Bucket=b, Key="secret/a")) == "AccessDenied"
        # OPA's routing: written through, on the remote when acknowledged.
        assert header(s3.put_object(Bucket=b, Key="now/a", Body=b"n"), "x-s3d-state") == ""
        assert remote.head_object(Bucket=b, Key="now/a")["ContentLength"] == 1
        assert d.daemon.authorisation.status()["verdicts"] == {"allow": 2, "deny": 2}  # type: ignore[union-attr]
    first = opa.inputs[0]
    assert (first["account"], first["action"], first["bucket"]) == (ACCESS_KEY, "s3:PutObject", b)
    assert (first["object"], first["s3d"]["api"], first["s3d"]["size"]) == (
        "later/a",
        "PutObject",
        1,
    )
    assert first["s3d"]["tags"] == {"t": "1"}
    assert "authorization" not in json.dumps(first).lower()
    assert "policy denied PutObject" in caplog.text
    assert "secret" in caplog.text  # OPA's reason, in the log and never in the answer


@pytest.mark.parametrize(
    ("mode", "failure", "expected"),
    [
        ("slow", "closed", "AccessDenied"),
        ("slow", "open", "OK"),
        ("broken", "closed", "AccessDenied"),
    ],
)
def test_opa_failing_takes_the_configured_answer(  # type: ignore[no-untyped-def]
    remote_url, remote, tmp_path, caplog, mode: str, failure: str, expected: str
) -> None:
    b = new_bucket(remote)
    with StandInOpa() as opa, daemon(remote_url, tmp_path / "d", opa.url, failure) as d:
        opa.mode = mode
        s3 = client(d.endpoint_url)
        assert code(lambda: s3.put_object(Bucket=b, Key="k", Body=b"1")) == expected
        assert d.daemon.authorisation.status()["verdicts"] == {"error": 1}  # type: ignore[union-attr]
        opa.mode = "normal"
        assert code(lambda: s3.put_object(Bucket=b, Key="k", Body=b"1")) == "OK"
    reason = "no answer within 0.5 s" if mode == "slow" else "HTTP 500"
    assert f"policy {opa.url} failed, request" in caplog.text
    assert reason in caplog.text


def test_the_shapes_of_opas_answer() -> None:
    assert verdict_of({"result": True}) == Verdict(True)
    assert verdict_of({"result": False}) == Verdict(False)
    assert verdict_of({}) == Verdict(False)  # undefined: a denial
    assert verdict_of({"result": {"allow": False, "reason": "r"}}) == Verdict(False, "r")
    assert verdict_of({"result": {"allow": True, "read_cache": "pin", "x": 1}}) == Verdict(
        True, routes=(("read_cache", "pin"),)
    )
    for bad in ([], {"result": 3}):
        with pytest.raises(PolicyError):
            verdict_of(bad)
