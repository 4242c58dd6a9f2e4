"""Rule files: sections, actions, comments, first match wins, errors with file:line:col."""

from __future__ import annotations

import pytest

from s3d.rules.decide import RuleList, load_texts
from s3d.rules.features import BYPASS, CACHE, PIN, REFUSE, WRITE_BACK, WRITE_THROUGH
from s3d.rules.files import parse_rules
from s3d.rules.match import Facts
from s3d.rules.syntax import Action, RuleError

TEXT = """\
# what the write queue does with each object
[write-queue]
refuse        scratch/**                    # never written from here
-             */logs/*[hdr:content-length>=1GiB]
write-through media/*[tag:s3d.upload=now]
+             *

[read-cache]
pin=1h        models/*
cache=30s     */live/*
-             *[tag:private]
"""


def test_first_match_wins_per_feature() -> None:
    rules = load_texts([("f.rules", TEXT)])
    queue = rules.get("write-queue")
    assert queue.decide(Facts("scratch", "a")).action == REFUSE
    big = {"content-length": str(2**30)}
    assert queue.decide(Facts("b", "logs/a", big)).action == WRITE_THROUGH
    assert queue.decide(Facts("b", "logs/a", {"content-length": "5"})).action == WRITE_BACK
    assert queue.decide(Facts("media", "v", tags={"s3d.upload": "now"})).action == WRITE_THROUGH
    decision = queue.decide(Facts("media", "v"))
    assert decision.action == WRITE_BACK
    assert decision.rule is not None
    assert decision.rule.where.line == 6
    assert decision.explain() == "write-queue: write-back by f.rules:6 + *"
    cache = rules.get("read-cache")
    assert cache.decide(Facts("models", "m1")).action == Action("pin", 3600.0)
    assert cache.decide(Facts("x", "live/1")).action == Action("cache", 30.0)
    assert cache.decide(Facts("x", "k", bucket_tags={"private": ""})).action == BYPASS
    assert cache.decide(Facts("x", "k")).action is None
    assert rules.get("sync").decide(Facts("x", "k")).rule is None
    assert len(rules) == 7


def test_words_and_signs() -> None:
    sections = parse_rules("[read-cache]\n+ a\n- b\ncache c\nbypass d\npin e\n")
    assert [r.action for r in sections["read-cache"]] == [CACHE, BYPASS, CACHE, BYPASS, PIN]


def test_needs_only_what_the_candidate_rules_test() -> None:
    rules = RuleList.of(
        "read-cache",
        parse_rules("[read-cache]\n- a/*[tag:x]\n- *[tag:y]/*\npin b/*\n+ */*[hdr:a=b]\n")[
            "read-cache"
        ],
    )
    assert rules.needs("a", "k") == {"tags", "bucket_tags", "headers"}
    assert rules.needs("b", "k") == {"bucket_tags"}  # pin b/* decides on the name alone
    assert rules.needs("c", "k") == {"bucket_tags", "headers"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("+ *", "f:1:1", "a rule before any section"),
        ("[write]\n", "f:1:1", "expected a section"),
        ("[sync]\n\n  pin *", "f:3:3", "[sync]: expected '+', '-', 'include', 'exclude'"),
        ("[read-cache]\ncache=soon *", "f:2:1", "expected a duration after 'cache='"),
        ("[read-cache]\nbypass=1s *", "f:2:1", "found 'bypass=1s'"),
        ("[sync]\n+", "f:2:2", "expected a selector"),
        ("[sync]\n+   # nothing", "f:2:5", "expected a selector"),
        ("[sync]\n+ b/k[tag:x=1 y]", "f:2:14", "expected ']'"),
        ("[sync]\n+ b/k trailing", "f:2:6", "expected '/', '[' or the end"),
    ],
)
def test_errors_name_file_line_and_column(text: str, where: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(text, "f")
    assert str(caught.value).startswith(where + ": "), str(caught.value)
    assert message in caught.value.message


def test_a_comment_follows_a_blank_and_quotes_keep_blanks() -> None:
    sections = parse_rules("[sync]\n+ b/'a #b'  # comment\n+ b/c#d\n")
    rules = RuleList.of("sync", sections["sync"])
    assert rules.decide(Facts("b", "a #b")).rule is not None
    assert rules.decide(Facts("b", "c#d")).rule is not None
