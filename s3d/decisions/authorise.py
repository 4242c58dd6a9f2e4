"""Authorisation by policy: every request of every local key is put to the policies before
s3d acts on it (or reads its body): the Rego policies evaluated in-process, then, when one is
configured, an external OPA server (both must allow).

Owns the compiled policies in force (replaced whole on reload), the external policy's client
and the verdict counters. A denial is ``403 AccessDenied`` with S3's own message; the policy's
``reason`` goes to the log only. A policy that fails to evaluate (or an OPA server that does
not answer in time) takes the configured answer (``rules.policy_failure``: closed denies, open
allows), logged with the policy's files or URL; s3d keeps serving.

An allowed request's verdict stays with the request (``REQUEST_VERDICT``, a context
variable: aiohttp serves each request in its own task), so that the routing it carries
(``write_queue``, ``read_cache``) steers that request without a second evaluation.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Protocol

from s3d.protocol.errors import AccessDenied
from s3d.protocol.model import Headers
from s3d.rules.policy_input import PolicyInput
from s3d.rules.rego import Policies, PolicyError, Verdict

log = logging.getLogger("s3d.rules")

REQUEST_VERDICT: ContextVar[Verdict | None] = ContextVar("s3d_request_verdict", default=None)
"""The policies' verdict on the request being served (None outside one, or when a policy
failed and the request was let through by ``rules.policy_failure = open``)."""

_ALLOW = Verdict(True)


class ExternalPolicy(Protocol):
    name: str

    async def decide(self, document: dict[str, object]) -> Verdict:
        """Raises PolicyError."""

    async def aclose(self) -> None: ...


class Authorisation:
    def __init__(self, fail_open: bool = False, external: ExternalPolicy | None = None) -> None:
        self.policies: Policies | None = None
        self.external = external
        self.fail_open = fail_open
        self.counts: Counter[str] = Counter()
        """"allow", "deny", "error" → requests."""

    def use(self, policies: Policies | None) -> None:
        """Put ``policies`` in force; the ones replaced are closed (call on the thread that
        made them)."""
        old, self.policies = self.policies, policies
        if old is not None and old is not policies:
            old.close()

    async def aclose(self) -> None:
        """Free the policies (on the loop's thread, which made them) and close the external
        policy's client. Idempotent."""
        self.use(None)
        if self.external is not None:
            await self.external.aclose()

    async def check(
        self,
        account: str,
        api: str,
        bucket: str | None,
        key: str | None,
        headers: Headers,
        source: str | None,
    ) -> None:
        """Raise AccessDenied unless the policies allow this request (or there are none).
        Cancellation abandons an external policy's answer."""
        if self.policies is None and self.external is None:
            return
        REQUEST_VERDICT.set(None)
        document = PolicyInput(account, api, bucket, key, headers, source, datetime.now(UTC))
        try:
            verdict = await self._verdict(document)
        except PolicyError as exc:
            self.counts["error"] += 1
            answer = "allowed" if self.fail_open else "denied"
            log.error("policy %s failed, request %s: %s", self._names(), answer, exc)
            if self.fail_open:
                return
            raise AccessDenied() from None
        if verdict.allow:
            self.counts["allow"] += 1
            REQUEST_VERDICT.set(verdict)
            return
        self.counts["deny"] += 1
        log.info(
            "policy denied %s of %s/%s to key %s: %s",
            api, bucket or "", key or "", account, verdict.reason or "(no reason given)",
        )  # fmt: skip
        raise AccessDenied()

    async def _verdict(self, document: PolicyInput) -> Verdict:
        local = self.policies.decide(document) if self.policies is not None else _ALLOW
        if not local.allow or self.external is None:
            return local
        remote = await self.external.decide(document.document())
        answered = {name for name, _ in local.routes}
        routes = local.routes + tuple(r for r in remote.routes if r[0] not in answered)
        return Verdict(remote.allow, remote.reason, routes)

    def _names(self) -> str:
        names = list(self.policies.sources) if self.policies is not None else []
        return ",".join(names + ([self.external.name] if self.external is not None else []))

    def routes(self, rule: str) -> bool:
        """Whether the policies in force may answer the routing rule ``rule``
        (``write_queue``): a local one that defines it, or any external one."""
        local = self.policies is not None and rule in self.policies.routes
        return local or self.external is not None

    async def routing(
        self, api: str, bucket: str, key: str, headers: Headers
    ) -> tuple[tuple[str, object], ...]:
        """The routing answers for an operation: those of the request being served, else
        (an operation from the FUSE mount or a sync folder: no local key, account "") the
        policies' answer for it. A policy that fails gives none (logged)."""
        verdict = REQUEST_VERDICT.get()
        if verdict is not None:
            return verdict.routes
        document = PolicyInput("", api, bucket, key, headers, None, datetime.now(UTC))
        try:
            return (await self._verdict(document)).routes
        except PolicyError as exc:
            log.error("policy %s failed to route %s/%s: %s", self._names(), bucket, key, exc)
            return ()

    def status(self) -> dict[str, object]:
        sources = list(self.policies.sources) if self.policies is not None else []
        evaluated = self.policies.evaluations if self.policies is not None else 0
        external = self.external.name if self.external is not None else None
        return {"files": sources, "external": external, "verdicts": dict(self.counts),
                "evaluated": evaluated}  # fmt: skip
