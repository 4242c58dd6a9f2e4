"""cap_page: V1 listing pages cut to max-keys as S3 cuts them, keys and common prefixes
counted together in key order; V2 pages passed on as the remote made them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol.listing import cap_page
from s3d.protocol.model import ListObjectsResult, ObjectEntry

WHEN = datetime(2024, 1, 2, tzinfo=UTC)


def entry(key: str) -> ObjectEntry:
    return ObjectEntry(key, WHEN, '"e"', 1)


def page(
    keys: list[str],
    prefixes: list[str],
    max_keys: int,
    delimiter: str | None = "/",
    version: int = 1,
    truncated: bool = False,
) -> ListObjectsResult:
    return ListObjectsResult(
        version=version,
        bucket="bucket",
        prefix="",
        delimiter=delimiter,
        max_keys=max_keys,
        encoding_type=None,
        is_truncated=truncated,
        contents=tuple(entry(k) for k in keys),
        common_prefixes=tuple(prefixes),
    )


def keys_of(result: ListObjectsResult) -> list[str]:
    return [e.key for e in result.contents]


def test_page_within_max_keys_is_unchanged() -> None:
    result = page(["a", "c"], ["b/"], 3)
    assert cap_page(result) is result
    truncated = page(["a"], [], 1, truncated=True)
    assert cap_page(truncated) is truncated


def test_keys_and_prefixes_interleave_in_key_order() -> None:
    # A remote that ignored max-keys with a delimiter (moto) answers everything.
    result = cap_page(page(["a", "c", "e", "g"], ["b/", "d/", "f/"], 4))
    assert keys_of(result) == ["a", "c"]
    assert result.common_prefixes == ("b/", "d/")
    assert result.is_truncated
    assert result.next_marker == "d/"  # the last entry by key, here a prefix


def test_next_marker_is_the_last_key_when_a_key_ends_the_page() -> None:
    result = cap_page(page(["a", "c", "e"], ["b/", "d/"], 3))
    assert (keys_of(result), result.common_prefixes, result.next_marker) == (
        ["a", "c"],
        ("b/",),
        "c",
    )


def test_measured_s3_example() -> None:
    # Four keys and one prefix at max-keys=5 over six entries: S3 names the last by key.
    keys = ["100%.csv", "a b.txt", "a+b.txt", "zz.txt", "zzz.txt"]
    result = cap_page(page(keys, ["run books/"], 5))
    assert keys_of(result) == ["100%.csv", "a b.txt", "a+b.txt", "zz.txt"]
    assert result.common_prefixes == ("run books/",)
    assert result.next_marker == "zz.txt"


def test_no_next_marker_without_a_delimiter() -> None:
    result = cap_page(page(["a", "b", "c"], [], 2, delimiter=None))
    assert (keys_of(result), result.is_truncated, result.next_marker) == (["a", "b"], True, None)


def test_order_is_by_code_point_which_is_utf8_byte_order() -> None:
    keys = ["é", "z", "日", "😀", "A"]
    assert sorted(keys) == sorted(keys, key=str.encode)
    result = cap_page(page(keys, [], 3, delimiter=None))
    # The three smallest are kept, in the order the remote gave them.
    assert keys_of(result) == ["é", "z", "A"]


def test_max_keys_zero_is_an_empty_page_not_truncated() -> None:
    result = cap_page(page(["a", "b"], ["c/"], 0, truncated=True))
    assert (keys_of(result), result.common_prefixes, result.is_truncated) == ([], (), False)
    assert result.next_marker is None


@pytest.mark.parametrize("max_keys", [0, 1, 2])
def test_v2_pages_are_untouched(max_keys: int) -> None:
    result = page(["a", "b", "c"], ["d/"], max_keys, version=2)
    result = dataclasses.replace(result, next_continuation_token="opaque")
    assert cap_page(result) is result


_KEY = st.text(alphabet="ab/é", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(_KEY, unique=True, max_size=12),
    prefixes=st.lists(_KEY.map(lambda k: k + "/"), unique=True, max_size=6),
    max_keys=st.integers(1, 20),
    delimiter=st.sampled_from(["/", None]),
)
def test_cap_page_is_the_first_max_keys_entries_in_key_order(
    keys: list[str], prefixes: list[str], max_keys: int, delimiter: str | None
) -> None:
    prefixes = [p for p in prefixes if p not in keys]
    keys, prefixes = sorted(keys), sorted(prefixes)
    result = cap_page(page(keys, prefixes, max_keys, delimiter))
    everything = sorted(keys + prefixes)
    kept = sorted(keys_of(result) + list(result.common_prefixes))
    assert kept == everything[:max_keys]
    assert keys_of(result) == sorted(keys_of(result))
    truncated = len(everything) > max_keys
    assert result.is_truncated == truncated
    if truncated and delimiter:
        assert result.next_marker == kept[-1]
    else:
        assert result.next_marker is None
