"""Rendering a rule and parsing it back gives the same rule (hypothesis over the syntax)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3d.rules.features import VOCABULARIES
from s3d.rules.files import parse_rules
from s3d.rules.globs import Alternatives, Glob, One, Part, Star
from s3d.rules.parse import parse_selector
from s3d.rules.syntax import Action, Predicate, Rule, Selector

# Any character a line may hold: every special one of the language included.
TEXT = st.text(
    st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",))
    | st.sampled_from("*?{},[]'\"\\/#=!<> \t:"),
    max_size=8,
)


def globs(nested: bool = True) -> st.SearchStrategy[Glob]:
    part: st.SearchStrategy[Part] = TEXT | st.just(Star()) | st.just(One())
    if nested:
        options = st.lists(globs(nested=False), min_size=1, max_size=3).map(tuple)
        part = part | options.map(Alternatives)
    return st.lists(part, max_size=5).map(lambda parts: Glob.of(*parts))


NONEMPTY = globs().filter(lambda g: g.parts != ())


@st.composite
def predicates(draw: st.DrawFn, bucket: bool) -> Predicate:
    namespace = "tag" if bucket else draw(st.sampled_from(["tag", "hdr", "md"]))
    name = draw(TEXT.filter(bool))
    if namespace != "tag":
        name = name.lower()
    operator = draw(st.sampled_from([None, "=", "!=", "<", "<=", ">", ">="]))
    value: Glob | int | None = None
    if operator in ("=", "!="):
        value = draw(globs())
    elif operator is not None:
        value = draw(st.integers(min_value=0, max_value=2**63))
    return Predicate(namespace, name, operator, value, draw(st.booleans()))  # type: ignore[arg-type]


@st.composite
def selectors(draw: st.DrawFn) -> Selector:
    bucket = draw(NONEMPTY)
    bucket_predicates = tuple(draw(st.lists(predicates(bucket=True), max_size=2)))
    if draw(st.booleans()):
        return Selector(bucket, bucket_predicates)
    key = draw(NONEMPTY)
    key_predicates = tuple(draw(st.lists(predicates(bucket=False), max_size=3)))
    return Selector(bucket, bucket_predicates, key, key_predicates)


@given(selectors())
def test_a_rendered_selector_parses_back_to_itself(selector: Selector) -> None:
    assert parse_selector(selector.render()) == selector


@given(
    st.sampled_from(sorted(VOCABULARIES)),
    st.data(),
    selectors(),
    st.none() | st.integers(0, 10**6).map(float) | st.floats(0.001, 1e6),
)
def test_a_rendered_rule_parses_back_to_itself(
    feature: str, data: st.DataObject, selector: Selector, freshness: float | None
) -> None:
    vocabulary = VOCABULARIES[feature]  # type: ignore[index]
    word = data.draw(st.sampled_from(sorted(vocabulary.words)))
    action = vocabulary.words[word]
    if word in vocabulary.timed and freshness is not None:
        action = Action(action.verb, freshness)
    rule = Rule(action, selector, word)
    parsed = parse_rules(f"[{feature}]\n{rule.render()}  # why\n")
    assert parsed[feature] == [rule]  # type: ignore[index]
