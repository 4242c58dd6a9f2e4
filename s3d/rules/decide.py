"""Rule lists and the decisions they make: the first rule whose selector matches decides;
when none does, the feature keeps its configured behaviour (``Decision.rule`` is None).

A read does not know an object's tags or headers until it asks the remote: ``needs`` says
which of them the rules that could match a bucket and key test, so that the caller looks up
only those (and nothing for a list that tests names only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from s3d.rules.features import FEATURES, Feature
from s3d.rules.files import parse_rules
from s3d.rules.match import Facts, Matcher, Need, compile_selector
from s3d.rules.syntax import Action, Rule


@dataclass(frozen=True, slots=True)
class Decision:
    feature: Feature
    action: Action | None
    """None: no rule matched; the feature's configured behaviour applies."""
    rule: Rule | None = None
    reason: str = ""
    """What decided when no rule did (a tag override)."""

    @property
    def verb(self) -> str | None:
        return self.action.verb if self.action is not None else None

    def explain(self) -> str:
        if self.rule is None:
            if self.reason:
                return f"{self.feature}: {self.verb} by {self.reason}"
            return f"{self.feature}: default (no rule matched)"
        rule = self.rule
        return f"{self.feature}: {self.verb} by {rule.where} {rule.render()}"


@dataclass(frozen=True, slots=True)
class RuleList:
    feature: Feature
    rules: tuple[Rule, ...] = ()
    _compiled: tuple[Matcher, ...] = field(default=(), compare=False, repr=False)
    _by_bucket: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    """Bucket name → the rules whose bucket pattern it matches: a decision runs only those
    (a bucket's rules are found once, not at every request)."""
    _by_key: dict[tuple[str, str], tuple[frozenset[Need], Decision | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @staticmethod
    def of(feature: Feature, rules: Iterable[Rule]) -> RuleList:
        kept = tuple(rules)
        return RuleList(feature, kept, tuple(compile_selector(r.selector) for r in kept))

    def _candidates(self, bucket: str) -> tuple[int, ...]:
        found = self._by_bucket.get(bucket)
        if found is None:
            if len(self._by_bucket) >= BUCKETS_REMEMBERED:
                self._by_bucket.clear()
            found = tuple(n for n, m in enumerate(self._compiled) if m.bucket(bucket))
            self._by_bucket[bucket] = found
        return found

    def needs(self, bucket: str, key: str) -> frozenset[Need]:
        """What the rules that may match ``bucket``/``key`` test, up to the first one that
        matches on names alone."""
        return self._named(bucket, key)[0]

    def _named(self, bucket: str, key: str) -> tuple[frozenset[Need], Decision | None]:
        """``needs``, and the decision when it is empty (names alone decide): remembered per
        key, as both depend on the bucket and key only."""
        found = self._by_key.get((bucket, key))
        if found is not None:
            return found
        needs: set[Need] = set()
        decided: Decision | None = None
        for n in self._candidates(bucket):
            matcher = self._compiled[n]
            if matcher.key is None or matcher.key(key):
                needs |= matcher.needs
                if not matcher.needs:
                    rule = self.rules[n]
                    decided = Decision(self.feature, rule.action, rule)
                    break
        if len(self._by_key) >= KEYS_REMEMBERED:
            self._by_key.clear()
        found = (frozenset(needs), decided if not needs else None)
        self._by_key[(bucket, key)] = found
        return found

    def decide(self, facts: Facts) -> Decision:
        needs, decided = self._named(facts.bucket, facts.key)
        if not needs:
            return decided or Decision(self.feature, None)
        compiled = self._compiled
        for n in self._candidates(facts.bucket):
            matcher = compiled[n]
            if (matcher.key is None or matcher.key(facts.key)) and matcher.predicates(facts):
                rule = self.rules[n]
                return Decision(self.feature, rule.action, rule)
        return Decision(self.feature, None)


KEYS_REMEMBERED = 65536
"""Keys whose candidate rules' needs (and decision, when names alone decide) a list keeps
(all forgotten at once beyond it)."""
BUCKETS_REMEMBERED = 4096
"""Buckets whose candidate rules a list keeps (all forgotten at once beyond it)."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every feature's rule list, and the files they came from."""

    lists: Mapping[Feature, RuleList] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def get(self, feature: Feature) -> RuleList:
        return self.lists.get(feature) or RuleList(feature)

    def __len__(self) -> int:
        return sum(len(r.rules) for r in self.lists.values())


EMPTY = RuleSet()


def load_texts(texts: Iterable[tuple[str, str]]) -> RuleSet:
    """The rule set of several files, given as (source, text): each feature's rules in file
    order. Raises RuleError for the first bad line."""
    gathered: dict[Feature, list[Rule]] = {f: [] for f in FEATURES}
    sources = []
    for source, text in texts:
        sources.append(source)
        for feature, rules in parse_rules(text, source).items():
            gathered[feature].extend(rules)
    lists = {f: RuleList.of(f, rules) for f, rules in gathered.items() if rules}
    return RuleSet(lists, tuple(sources))
