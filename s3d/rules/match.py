"""Selectors compiled into predicates over what is known of an object (``Facts``), once at
load; a decision then only runs the compiled functions (mitmproxy's ``flowfilter`` model).

Absent values: ``[tag:k=v]`` and the comparisons are false when the tag or header is absent,
``!=`` is exactly the opposite of ``=`` (so true when absent), a comparison is false when the
value is not a whole number. ``hdr:content-length`` falls back to the size when the object's
headers do not carry it (a write knows its body's size).
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from s3d.rules.globs import Glob
from s3d.rules.syntax import Predicate, Selector

Need = str
"""What a decision may have to look up: "tags", "bucket_tags" or "headers"."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What a decision looks at. Header names are lower case; user metadata is in the
    headers as ``x-amz-meta-<name>``."""

    bucket: str
    key: str
    headers: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    bucket_tags: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None


Test = Callable[[Facts], bool]
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": op.lt,
    "<=": op.le,
    ">": op.gt,
    ">=": op.ge,
}


@dataclass(frozen=True, slots=True)
class Matcher:
    """A compiled selector: its bucket and key patterns, and its predicates all at once."""

    selector: Selector
    bucket: Callable[[str], bool]
    key: Callable[[str], bool] | None
    """None: every key."""
    predicates: Test
    needs: frozenset[Need]

    def where(self, bucket: str, key: str) -> bool:
        """Bucket and key match (predicates aside)."""
        return self.bucket(bucket) and (self.key is None or self.key(key))

    def test(self, facts: Facts) -> bool:
        return self.where(facts.bucket, facts.key) and self.predicates(facts)


def compile_selector(selector: Selector) -> Matcher:
    tests = [_compile(p, bucket_level=True) for p in selector.bucket_predicates]
    tests += [_compile(p, bucket_level=False) for p in selector.key_predicates]

    def predicates(facts: Facts) -> bool:
        return all(t(facts) for t in tests)

    needs = {"bucket_tags" for _ in selector.bucket_predicates}
    for p in selector.key_predicates:
        needs.add("tags" if p.namespace == "tag" else "headers")
    key = _glob(selector.key) if selector.key is not None else None
    return Matcher(selector, _glob(selector.bucket), key, predicates, frozenset(needs))


def _glob(glob: Glob) -> Callable[[str], bool]:
    literal = glob.literal
    if literal is not None:
        return literal.__eq__
    fullmatch = glob.compile().fullmatch
    return lambda text: fullmatch(text) is not None


def _compile(predicate: Predicate, bucket_level: bool) -> Test:
    read = _reader(predicate, bucket_level)
    value = predicate.value
    test: Callable[[str | None], bool]
    if predicate.operator is None:
        test = _present
    elif isinstance(value, Glob):
        matches = _glob(value)
        equal = predicate.operator == "="
        test = lambda found: (found is not None and matches(found)) == equal  # noqa: E731
    else:
        assert isinstance(value, int)
        compare, limit = _COMPARE[predicate.operator], value

        def test(found: str | None) -> bool:
            number = _number(found)
            return number is not None and compare(number, limit)

    if predicate.negated:
        return lambda facts: not test(read(facts))
    return lambda facts: test(read(facts))


def _present(found: str | None) -> bool:
    return found is not None


def _number(found: str | None) -> int | None:
    text = (found or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _reader(predicate: Predicate, bucket_level: bool) -> Callable[[Facts], str | None]:
    name = predicate.name
    if predicate.namespace == "tag":
        if bucket_level:
            return lambda facts: facts.bucket_tags.get(name)
        return lambda facts: facts.tags.get(name)
    if predicate.namespace == "md":
        meta = "x-amz-meta-" + name
        return lambda facts: facts.headers.get(meta)
    if name == "content-length":
        return _content_length
    return lambda facts: facts.headers.get(name)


def _content_length(facts: Facts) -> str | None:
    found = facts.headers.get("content-length")
    if found is None and facts.size is not None:
        return str(facts.size)
    return found
