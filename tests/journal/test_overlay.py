"""The merged listing's pure core: continuation tokens, the overlay's invariant, key order,
and the decisions ``PageMerge`` takes before any remote answer (where the remote listing
starts, how much it asks, when it refuses a remote page)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3d.journal.overlay import (
    BEYOND,
    Fetch,
    Overlay,
    Page,
    PageMerge,
    PendingPut,
    decode_token,
    encode_token,
)
from s3d.protocol.errors import InternalError, InvalidArgument
from s3d.protocol.model import ObjectEntry

WHEN = datetime(2024, 1, 2, tzinfo=UTC)
NO_CHANGES = Overlay(puts={}, deletes=frozenset())


def entry(key: str) -> ObjectEntry:
    return ObjectEntry(key, WHEN, '"e"', 1)


@given(st.text(), st.booleans())
def test_token_round_trip(position: str, prefix: bool) -> None:
    # st.text() includes lone surrogates: keys decoded from bad UTF-8 round-trip too.
    token = encode_token(position, prefix=prefix)
    assert decode_token(token) == (position, prefix)
    assert token.isascii()
    # URL-safe: nothing a query string would need to escape.
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def test_tokens_of_key_and_prefix_differ() -> None:
    assert encode_token("a/", prefix=True) != encode_token("a/", prefix=False)
    assert decode_token(encode_token("", prefix=False)) == ("", False)


def _tagged(payload: bytes) -> str:
    return "s3d1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        # A real S3 token (the AWS documentation's example): opaque, not ours.
        "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
        "s3d1.",
        "s3d1.!!!!",
        "s3d1.a2F",  # decodes to "ka", but "ka" is "a2E": one position, one token
        encode_token("key", prefix=False) + "=",
        encode_token("key", prefix=False) + " ",
        "s3d2." + encode_token("key", prefix=False)[5:],
        _tagged(b"xkey"),  # unknown kind
        _tagged(b"k\xff\xfe"),  # not UTF-8
        "s3d1.a2V5é",
    ],
)
def test_foreign_or_broken_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_token(token)
    assert raised.value.message == "The continuation token provided is incorrect"
    assert raised.value.details == {"ArgumentName": "continuation-token"}
    assert raised.value.http_status == 400


def test_a_key_cannot_be_both_put_and_deleted() -> None:
    with pytest.raises(ValueError, match="both"):
        Overlay(puts={"a": entry("a")}, deletes=frozenset({"a"}))
    overlay = Overlay.of([PendingPut(entry("a"))], ["b"])
    assert overlay == Overlay(puts={"a": entry("a")}, deletes=frozenset({"b"}))


@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"]))))
def test_str_order_is_utf8_byte_order(keys: list[str]) -> None:
    # S3 sorts by UTF-8 bytes; the merge compares str. They agree (UTF-16 order would not).
    assert sorted(keys) == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_utf8_order_puts_astral_characters_last() -> None:
    assert sorted(["\U0001f600", "\ue000"]) == ["\ue000", "\U0001f600"]


def test_max_keys_zero_decides_without_the_remote() -> None:
    merge = PageMerge(NO_CHANGES, "", "/", None, after_prefix=False, max_keys=0)
    assert merge.next_action() == Page((), False)


@pytest.mark.parametrize(
    ("position", "after_prefix", "start"),
    [
        (None, False, None),
        ("asdf", False, "asdf"),
        ("boo/", False, "boo/" + BEYOND),  # a V1 marker equal to a common prefix skips it
        ("boo/bar", False, "boo/" + BEYOND),  # inside a prefix: the prefix is behind us
        ("boo/", True, "boo/" + BEYOND),  # a token after a common prefix
        ("a", True, "a" + BEYOND),
    ],
)
def test_where_the_remote_listing_starts(
    position: str | None, after_prefix: bool, start: str | None
) -> None:
    merge = PageMerge(NO_CHANGES, "", "/", position, after_prefix=after_prefix, max_keys=2)
    assert merge.next_action() == Fetch(start, 3)


def test_without_delimiter_a_position_is_a_key() -> None:
    merge = PageMerge(NO_CHANGES, "", None, "boo/bar", after_prefix=False, max_keys=2)
    assert merge.next_action() == Fetch("boo/bar", 3)


def test_fetch_asks_enough_for_every_pending_key_to_hide_one() -> None:
    overlay = Overlay(
        puts={"p/a": entry("p/a"), "q": entry("q")}, deletes=frozenset({"p/b", "p/c"})
    )
    merge = PageMerge(overlay, "p/", None, None, after_prefix=False, max_keys=5)
    # 5 + 1 to see truncation, + 3 pending keys under the prefix ("q" is outside it).
    assert merge.next_action() == Fetch(None, 9)
    big = PageMerge(overlay, "", None, None, after_prefix=False, max_keys=1000)
    assert big.next_action() == Fetch(None, 1000)


def test_a_truncated_page_that_does_not_advance_is_refused() -> None:
    merge = PageMerge(NO_CHANGES, "", None, "m", after_prefix=False, max_keys=2)
    assert isinstance(merge.next_action(), Fetch)
    with pytest.raises(InternalError):
        merge.receive_page((), (), True)
    with pytest.raises(InternalError):
        merge.receive_page((entry("a"),), (), True)


def _full_remote_page(merge: PageMerge, keys: list[str]) -> Fetch | object:
    merge.receive_page(tuple(entry(k) for k in keys), (), True)
    return merge.next_action()


def test_a_full_truncated_remote_page_decides_without_a_second_call() -> None:
    # S3 answers at most 1,000 keys: a page of 1,000 must not cost a second call for the
    # one entry that tells it is truncated, when the remote said so and nothing can hide it.
    merge = PageMerge(NO_CHANGES, "", None, None, after_prefix=False, max_keys=3)
    assert isinstance(merge.next_action(), Fetch)
    page = _full_remote_page(merge, ["a", "b", "c"])  # the remote's "more" is enough
    assert isinstance(page, Page)
    assert page.is_truncated
    assert [e.name for e in page.entries] == ["a", "b", "c"]


def test_a_pending_delete_beyond_the_page_still_asks_the_remote() -> None:
    overlay = Overlay(puts={}, deletes=frozenset({"d"}))
    merge = PageMerge(overlay, "", None, None, after_prefix=False, max_keys=3)
    merge.next_action()
    # "d" may be the remote's only other key, and it is deleted: only the remote can tell.
    assert isinstance(_full_remote_page(merge, ["a", "b", "c"]), Fetch)


def test_a_pending_put_beyond_the_page_makes_it_truncated() -> None:
    overlay = Overlay(puts={"z": entry("z")}, deletes=frozenset())
    merge = PageMerge(overlay, "", None, None, after_prefix=False, max_keys=3)
    merge.next_action()
    merge.receive_page((entry("a"), entry("b"), entry("c")), (), False)
    page = merge.next_action()
    assert isinstance(page, Page)
    assert page.is_truncated
    assert [e.name for e in page.entries] == ["a", "b", "c"]
