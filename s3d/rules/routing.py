"""Routing by policy: a policy package may answer ``write_queue`` and ``read_cache`` with the
words of a rule file's sections (``"write-through"``, ``"refuse"``, ``"pin"``,
``"cache=30s"``…), and that answer is combined with the filter rules' decision.

The order (docs/rules.md): a refusal by either the rules or the policy refuses; otherwise
the policy's answer, when it gives one, decides (it sees the local key, the rules do not);
otherwise the first matching rule; then the tags that override decisions (``s3d.upload``,
``s3d.cache``) have their say, as they do over the rules alone, except over a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from s3d.rules.decide import Decision
from s3d.rules.features import REFUSE, VOCABULARIES, Feature

RULE_NAMES: dict[Feature, str] = {"write-queue": "write_queue", "read-cache": "read_cache"}
"""Each feature a policy may route, and the Rego rule that answers for it."""


def policy_decision(
    feature: Feature, routes: Iterable[tuple[str, object]], sources: Iterable[str]
) -> Decision | str | None:
    """The policy's decision for ``feature`` from a verdict's routes; None when the policy
    gives none; a message when its answer is not a word of that feature."""
    name = RULE_NAMES.get(feature)
    for rule, value in routes:
        if rule != name:
            continue
        action = VOCABULARIES[feature].action(value) if isinstance(value, str) else None
        if action is None or isinstance(action, str):
            return f"policy rule {name} answered {value!r}: {action or 'expected a string'}"
        return Decision(feature, action, reason=f"policy {name} ({', '.join(sources)})")
    return None


def combine(rules: Decision, policy: Decision | None) -> Decision:
    """The decision once the filter rules and the policy have both had their say."""
    if policy is None or rules.action == REFUSE:
        return rules
    return policy
