"""Every selector example of the design, against objects that match and objects that do not."""

from __future__ import annotations

import pytest

from s3d.rules.match import Facts, compile_selector
from s3d.rules.parse import parse_selector
from s3d.rules.syntax import RuleError


def facts(
    bucket: str = "bucket",
    key: str = "prefix/a.bin",
    tags: dict[str, str] | None = None,
    bucket_tags: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    size: int | None = None,
) -> Facts:
    return Facts(bucket, key, headers or {}, tags or {}, bucket_tags or {}, size)


def matches(selector: str, subject: Facts) -> bool:
    return compile_selector(parse_selector(selector)).test(subject)


# (selector, an object it matches, objects it does not match)
EXAMPLES: list[tuple[str, Facts, list[Facts]]] = [
    (
        "bucket[tag:key]",
        facts(bucket_tags={"key": ""}),
        [facts(), facts(tags={"key": "x"}), facts(bucket="other", bucket_tags={"key": ""})],
    ),
    (
        "bucket[tag:key=value]",
        facts(bucket_tags={"key": "value"}),
        [facts(bucket_tags={"key": "values"}), facts(), facts(tags={"key": "value"})],
    ),
    (
        "bucket[tag:key!=value]",
        facts(bucket_tags={"key": "other"}),
        [facts(bucket_tags={"key": "value"}), facts(bucket="b2", bucket_tags={"key": "x"})],
    ),
    (
        "bucket[tag:key=value][tag:key=value]",
        facts(bucket_tags={"key": "value"}),
        [facts(bucket_tags={"key": "nope"})],
    ),
    (
        "bucket/prefix*",
        facts(key="prefix/deep/a.bin"),
        [facts(key="other/prefix"), facts(bucket="bucket2", key="prefix")],
    ),
    (
        "bucket/prefix*[tag:key]",
        facts(key="prefix1", tags={"key": "v"}),
        [facts(key="prefix1"), facts(key="nope", tags={"key": "v"})],
    ),
    (
        "bucket/prefix*[tag:key=value]",
        facts(tags={"key": "value"}),
        [facts(tags={"key": "valuex"}), facts(bucket_tags={"key": "value"})],
    ),
    (
        "bucket/prefix*[tag:key!=value]",
        facts(tags={"key": "else"}),
        [facts(tags={"key": "value"}), facts(key="x", tags={"key": "else"})],
    ),
    (
        "bucket/prefix*[tag:key1=value][tag:key2=value]",
        facts(tags={"key1": "value", "key2": "value"}),
        [facts(tags={"key1": "value"}), facts(tags={"key2": "value"})],
    ),
    (
        "bucket/prefix*[hdr:content-type=value]",
        facts(headers={"content-type": "value"}),
        [facts(headers={"content-type": "value2"}), facts()],
    ),
    (
        "bucket/prefix*[hdr:content-length<100]",
        facts(headers={"content-length": "99"}),
        [facts(headers={"content-length": "100"}), facts(), facts(headers={"content-length": "x"})],
    ),
    (
        "bucket/prefix*[md:custom-meta-data=value]",
        facts(headers={"x-amz-meta-custom-meta-data": "value"}),
        [facts(headers={"custom-meta-data": "value"}), facts(headers={"x-amz-meta-custom": "v"})],
    ),
    (
        "bucket[tag:key1=val1]/prefix*[tag:key2=val2][hdr:content-type='video/*']",
        facts(
            bucket_tags={"key1": "val1"},
            tags={"key2": "val2"},
            headers={"content-type": "video/mp4"},
        ),
        [
            facts(tags={"key2": "val2"}, headers={"content-type": "video/mp4"}),
            facts(bucket_tags={"key1": "val1"}, headers={"content-type": "video/mp4"}),
            facts(
                bucket_tags={"key1": "val1"},
                tags={"key2": "val2"},
                headers={"content-type": "audio/mp4"},
            ),
        ],
    ),
]


@pytest.mark.parametrize(("selector", "yes", "nos"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_means_what_it_says(selector: str, yes: Facts, nos: list[Facts]) -> None:
    assert matches(selector, yes)
    for no in nos:
        assert not matches(selector, no), no


def test_bucket_tags_and_object_tags_are_told_apart() -> None:
    both = "b[tag:team=x]/k[tag:team=y]"
    assert matches(both, facts("b", "k", tags={"team": "y"}, bucket_tags={"team": "x"}))
    assert not matches(both, facts("b", "k", tags={"team": "x"}, bucket_tags={"team": "y"}))


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("b/*.gz", ["a.gz", "x/y/z.gz", ".gz"], ["a.gzip", "a.gz/x"]),
        ("b/**/x", ["a/x", "a/b/x"], ["x", "a/y"]),
        ("b/log-?.txt", ["log-1.txt", "log-/.txt"], ["log-12.txt", "log-.txt"]),
        ("b/{raw,cooked}/*", ["raw/a", "cooked/b/c"], ["rawx/a", "other/a"]),
        ("b/{*.jpg,*.png}", ["a.jpg", "b/c.png"], ["a.gif"]),
        ("b/a\\*b", ["a*b"], ["axb"]),
        ("b/'my file'*", ["my file.txt"], ["my_file.txt"]),
        ("b/Data/*", ["Data/x"], ["data/x"]),
        ("b/a#b", ["a#b"], ["a"]),
    ],
)
def test_globs(pattern: str, yes: list[str], no: list[str]) -> None:
    for key in yes:
        assert matches(pattern, facts("b", key)), key
    for key in no:
        assert not matches(pattern, facts("b", key)), key


def test_bucket_patterns_and_a_selector_without_key() -> None:
    assert matches("*", facts("any", "key"))
    assert matches("data-{eu,us}", facts("data-eu", "k"))
    assert not matches("data-{eu,us}", facts("data-asia", "k"))
    assert matches("*/tmp/*", facts("x", "tmp/1"))


@pytest.mark.parametrize(
    ("predicate", "length", "expected"),
    [
        ("<100", 99, True),
        ("<=100", 100, True),
        (">1KiB", 1025, True),
        (">1KiB", 1024, False),
        (">=1KB", 1000, True),
        (">=1.5MiB", 1572864, True),
        (">=1.5MiB", 1572863, False),
        ("<2g", 2 * 1024**3 - 1, True),
    ],
)
def test_numeric_comparisons_with_units(predicate: str, length: int, expected: bool) -> None:
    selector = f"b/*[hdr:content-length{predicate}]"
    assert matches(selector, facts("b", "k", headers={"content-length": str(length)})) is expected
    # A write knows its size: content-length falls back to it.
    assert matches(selector, facts("b", "k", size=length)) is expected


def test_case_rules() -> None:
    # Header and metadata names are case-insensitive; values, tags and keys are not.
    assert matches(
        "b/*[hdr:Content-Type=text/plain]", facts("b", "k", headers={"content-type": "text/plain"})
    )
    assert not matches(
        "b/*[hdr:content-type=Text/Plain]", facts("b", "k", headers={"content-type": "text/plain"})
    )
    assert matches("b/*[md:Owner=ann]", facts("b", "k", headers={"x-amz-meta-owner": "ann"}))
    assert not matches("b/*[tag:Team]", facts("b", "k", tags={"team": ""}))


def test_negation_and_quoting() -> None:
    assert matches("b/*[!tag:keep]", facts("b", "k"))
    assert not matches("b/*[!tag:keep]", facts("b", "k", tags={"keep": "1"}))
    assert matches("b/*[tag:'a b'='x]y']", facts("b", "k", tags={"a b": "x]y"}))
    assert matches('b/*[tag:k="it\'s"]', facts("b", "k", tags={"k": "it's"}))
    assert matches("b/*[tag:k=a\\ b]", facts("b", "k", tags={"k": "a b"}))
    assert matches("b/*[tag:k=v*]", facts("b", "k", tags={"k": "v2"}))
    assert not matches("b/*[tag:k=v\\*]", facts("b", "k", tags={"k": "v2"}))


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("", 1, "expected a bucket pattern"),
        ("/key", 1, "expected a bucket pattern"),
        ("b/", 3, "expected a key pattern"),
        ("b[hdr:x=1]", 2, "a bucket has only tags"),
        ("b/k[foo:x]", 5, "expected 'tag:', 'hdr:' or 'md:'"),
        ("b/k[tag:]", 9, "expected a tag name"),
        ("b/k[tag:x", 10, "expected '=', '!=', '<', '<=', '>', '>=' or ']'"),
        ("b/k[tag:x=1", 12, "expected ']'"),
        ("b/k[hdr:content-length<ten]", 24, "expected a number of bytes"),
        ("b/k[hdr:content-length<1.5]", 24, "expected a number of bytes"),
        ("b/'k", 3, "never closed"),
        ("b/{a,b", 3, "never closed by '}'"),
        ("b/{a,{b}}", 6, "braces do not nest"),
        ("b/k x", 4, "expected '/', '[' or the end"),
        ("b/k\\", 4, "a backslash escapes nothing"),
        ("b/k[tag:a*=1]", 9, "a name is plain text"),
    ],
)
def test_errors_say_where_and_what(text: str, column: int, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_selector(text, "f.rules", 7, 1)
    assert caught.value.column == column, str(caught.value)
    assert caught.value.line == 7
    assert message in caught.value.message
    assert str(caught.value).startswith(f"f.rules:7:{column}: ")
