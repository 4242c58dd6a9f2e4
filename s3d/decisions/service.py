"""Steering: the filter rules' one decision per operation, for the gateway (writes) and the
read cache (reads), and the rule set in force.

Owns the current ``RuleSet`` (swapped whole by ``use``: a decision runs against one set from
start to end, so a reload never mixes two) and the decision counters. Tags written through s3d
override the rules (``s3d.upload``, ``s3d.cache``) except that nothing overrides ``refuse``:
a client could set any tag.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from s3d.decisions.authorise import Authorisation
from s3d.decisions.facts import FactFinder
from s3d.journal.service import Journal
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import AccessDenied
from s3d.rules import overrides
from s3d.rules.decide import EMPTY, Decision, RuleSet
from s3d.rules.features import REFUSE, WRITE_THROUGH, Feature
from s3d.rules.match import Facts
from s3d.rules.routing import RULE_NAMES, combine, policy_decision
from s3d.rules.syntax import Action
from s3d.rules.writes import WriteFacts, write_facts
from s3d.staging import StagedBody

log = logging.getLogger("s3d.rules")

Pin = Callable[[str, str, bool], Awaitable[None]]


class Steering:
    def __init__(self, remote: Remote, ttl: float, tag_overrides: bool = False) -> None:
        self.rules: RuleSet = EMPTY
        self.finder = FactFinder(remote, ttl)
        self.tag_overrides = tag_overrides
        self.counts: Counter[tuple[str, str]] = Counter()
        """(feature, verb or "default") → decisions made."""
        self.pin: Pin | None = None
        """Pins or unpins a key in the read cache (set when there is one)."""
        self.authorisation: Authorisation | None = None
        """The policies, whose routing answers are combined with the rules' (routing.py)."""

    def use(self, rules: RuleSet) -> None:
        self.rules = rules

    async def write_through(
        self, op: ops.Operation, body: StagedBody | None, journal: Journal | None
    ) -> bool:
        """Whether the rules send this write to the remote now rather than the journal; the
        key's pending changes are settled first, keeping per-key order. Raises AccessDenied
        when a rule refuses it (the rule is logged, never sent)."""
        found = write_facts(op, body.size if body is not None else None)
        routed = self._routed("write-queue")
        if found is None or not (found.tagged or self.rules.get("write-queue").rules or routed):
            return False
        through = False
        for facts in found.each:
            decision = await self._write_decision(facts, type(op).__name__ if routed else None)
            if decision.action == REFUSE:
                log.info(
                    "write of %s/%s refused by %s", facts.bucket, facts.key, decision.explain()
                )
                raise AccessDenied("A filter rule of this endpoint refuses the write.")
            through |= decision.action == WRITE_THROUGH
        await self._pin_from_tags(found)
        if through and journal is not None:
            await _settle(op, journal, found)
        return through

    async def _write_decision(self, facts: Facts, api: str | None) -> Decision:
        rules = self.rules.get("write-queue")
        if rules.needs(facts.bucket, facts.key) & {"bucket_tags"}:
            bucket_tags = await self.finder.facts(
                facts.bucket, facts.key, frozenset({"bucket_tags"})
            )
            facts = Facts(
                facts.bucket,
                facts.key,
                facts.headers,
                facts.tags,
                bucket_tags.bucket_tags,
                facts.size,
            )
        decision = rules.decide(facts)
        if api is not None:
            decision = combine(decision, await self._policy("write-queue", api, facts))
        decision = overrides.on_write(decision, facts.tags)
        self._count(decision)
        return decision

    async def _pin_from_tags(self, found: WriteFacts) -> None:
        """``s3d.cache=pin`` pins the key; any other value of that tag unpins it (a write
        without the tag leaves the pin as it is: no index write for every tagged PUT)."""
        if self.pin is None or not found.tagged:
            return
        for facts in found.each:
            if overrides.CACHE_TAG in facts.tags:
                await self.pin(facts.bucket, facts.key, overrides.pins(facts.tags))

    async def read(self, op: ops.GetObject) -> Action | None:
        """How the read cache treats this read: None for its configured behaviour. Looks up
        the object's tags, headers or bucket tags only when the candidate rules test them
        (remembered per key); raises nothing."""
        rules = self.rules.get("read-cache")
        routed = self._routed("read-cache")
        if not rules.rules and not self.tag_overrides and not routed:
            return None  # nothing to decide: no lookup, no count
        needs = rules.needs(op.bucket, op.key)
        if self.tag_overrides:
            needs |= {"tags"}
        facts = (
            await self.finder.facts(op.bucket, op.key, needs) if needs else Facts(op.bucket, op.key)
        )
        decision = rules.decide(facts)
        if routed:
            api = "HeadObject" if op.head else "GetObject"
            decision = combine(decision, await self._policy("read-cache", api, facts))
        if self.tag_overrides:
            decision = overrides.on_read(decision, facts.tags)
        self._count(decision)
        return decision.action

    def _routed(self, feature: Feature) -> bool:
        return self.authorisation is not None and self.authorisation.routes(RULE_NAMES[feature])

    async def _policy(self, feature: Feature, api: str, facts: Facts) -> Decision | None:
        assert self.authorisation is not None
        headers = tuple(facts.headers.items())
        routes = await self.authorisation.routing(api, facts.bucket, facts.key, headers)
        policies = self.authorisation.policies
        found = policy_decision(feature, routes, policies.sources if policies else ())
        if isinstance(found, str):
            log.error("%s for %s/%s: the rules decide", found, facts.bucket, facts.key)
            return None
        return found

    def forget(self, bucket: str, key: str) -> None:
        self.finder.forget(bucket, key)

    def _count(self, decision: Decision) -> None:
        self.counts[(decision.feature, decision.verb or "default")] += 1

    def status(self) -> dict[str, object]:
        """What ``s3d status`` shows: the rule files, rules per feature, decisions made."""
        decisions: dict[str, dict[str, int]] = {}
        for (feature, verb), count in sorted(self.counts.items()):
            decisions.setdefault(feature, {})[verb] = count
        return {
            "files": list(self.rules.sources),
            "rules": {f: len(r.rules) for f, r in self.rules.lists.items()},
            "decisions": decisions,
            "lookups": self.finder.lookups,
        }


async def _settle(op: ops.Operation, journal: Journal, found: WriteFacts) -> None:
    for facts in found.each:
        if isinstance(op, ops.PutObject | ops.CopyObject | ops.DeleteObject | ops.DeleteObjects):
            await journal.settle(facts.bucket, facts.key)  # the write replaces what waits
        else:
            await journal.uploaded(facts.bucket, facts.key)
