"""list_merged: the remote's listing with pending puts and deletes laid over it, checked
page by page against a reference model (the merged key set, filtered, rolled up, cut).

This is the pure logic only; there is no network here. The remote is an in-memory fake
``fetch`` that answers StartAfter pages as S3 does, with a small page size so one s3d page
takes several remote pages (and, as a variant, as a laxer store that repeats the common
prefix a position is inside of). The real remote is exercised by the lead's integration tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.journal.merged_listing import RemotePage, list_merged
from s3d.journal.overlay import Overlay, encode_token
from s3d.protocol.errors import InvalidArgument
from s3d.protocol.model import ListObjectsResult, ObjectEntry, Owner
from s3d.protocol.operations import ListObjects
from s3d.protocol.xml_render import render_list_objects

WHEN = datetime(2024, 1, 2, tzinfo=UTC)
OWNER = Owner("remote-owner-id", "remote")
Entry = tuple[str, bool]  # (name, is a common prefix)


def remote_entry(key: str) -> ObjectEntry:
    return ObjectEntry(key, WHEN, '"remote"', len(key), owner=OWNER)


def pending_entry(key: str) -> ObjectEntry:
    return ObjectEntry(key, WHEN, '"pending"', 1000 + len(key))


def rolled(key: str, prefix: str, delimiter: str | None) -> Entry:
    rest = key[len(prefix) :]
    if delimiter and delimiter in rest:
        return prefix + rest.split(delimiter)[0] + delimiter, True
    return key, False


def reference(
    keys: Iterable[str], prefix: str, delimiter: str | None, after: str | None
) -> list[Entry]:
    """S3's listing of ``keys``: every entry strictly after ``after``, in order."""
    entries = sorted({rolled(k, prefix, delimiter) for k in keys if k.startswith(prefix)})
    return [e for e in entries if after is None or e[0] > after]


class FakeRemote:
    """The remote bucket for one listing's prefix and delimiter, in memory."""

    def __init__(
        self, keys: set[str], op: ListObjects, overlay: Overlay, page_size: int, lax: bool
    ) -> None:
        self.keys, self.op, self.overlay = keys, op, overlay
        self.page_size, self.lax = page_size, lax
        self.live_checks: list[str] = []

    async def fetch(self, start_after: str | None, max_keys: int) -> RemotePage:
        assert 1 <= max_keys <= 1000
        prefix, delimiter = self.op.prefix, self.op.delimiter
        if self.lax:  # keys after start_after, then rolled up: a prefix may come back
            keys = {k for k in self.keys if start_after is None or k > start_after}
            entries = reference(keys, prefix, delimiter, None)
        else:
            entries = reference(self.keys, prefix, delimiter, start_after)
        page = entries[: min(max_keys, self.page_size)]
        return RemotePage(
            keys=tuple(remote_entry(name) for name, is_prefix in page if not is_prefix),
            common_prefixes=tuple(name for name, is_prefix in page if is_prefix),
            is_truncated=len(entries) > len(page),
        )

    async def has_live_key(self, prefix: str) -> bool:
        # Asked only about a prefix with pending deletes and no pending put under it.
        assert any(k.startswith(prefix) for k in self.overlay.deletes)
        assert not any(k.startswith(prefix) for k in self.overlay.puts)
        self.live_checks.append(prefix)
        return any(k.startswith(prefix) and k not in self.overlay.deletes for k in self.keys)


def entries_of(result: ListObjectsResult) -> list[Entry]:
    keys = [(e.key, False) for e in result.contents]
    return sorted(keys + [(p, True) for p in result.common_prefixes])


async def walk(op: ListObjects, overlay: Overlay, remote: FakeRemote) -> list[ListObjectsResult]:
    """Every page, following NextContinuationToken (V2) or NextMarker / the last key (V1)."""
    pages: list[ListObjectsResult] = []
    while True:
        result = await list_merged(op, overlay, remote.fetch, remote.has_live_key)
        pages.append(result)
        check_page(op, result)
        if not result.is_truncated:
            return pages
        assert len(pages) < 200, "the listing does not end"
        if op.version == 2:
            op = dataclasses.replace(op, continuation_token=result.next_continuation_token)
        else:
            marker = result.next_marker if op.delimiter else result.contents[-1].key
            op = dataclasses.replace(op, marker=marker)


def check_page(op: ListObjects, result: ListObjectsResult) -> None:
    assert len(entries_of(result)) <= op.max_keys
    assert (result.prefix, result.delimiter) == (op.prefix, op.delimiter)
    assert (result.max_keys, result.encoding_type) == (op.max_keys, op.encoding_type)
    assert [e.key for e in result.contents] == sorted(e.key for e in result.contents)
    assert list(result.common_prefixes) == sorted(result.common_prefixes)
    if result.is_truncated:
        assert entries_of(result), "a truncated page with nothing on it"
    if op.version == 2:
        assert (result.start_after, result.continuation_token) == (
            op.start_after,
            op.continuation_token,
        )
        assert (result.next_continuation_token is not None) == result.is_truncated
        assert result.marker is None
        assert result.next_marker is None
    else:
        assert result.marker == op.marker
        assert (result.next_marker is not None) == (result.is_truncated and bool(op.delimiter))
        assert result.continuation_token is None
        assert result.next_continuation_token is None


# Few characters, so keys share prefixes; "/" and "a" often, so delimiters roll keys up.
ALPHABET = ["a", "a", "b", "/", "/", "-", "é", "\ue000", "\U0001f600", "\U0010ffff"]
_segments = st.text(alphabet=st.sampled_from(ALPHABET), max_size=2)
# Paths ("a/b/c") so that directories fill and empty, and free text for everything else.
keys_st = st.lists(_segments, min_size=2, max_size=3).map("/".join) | st.text(
    alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=5
)


def some(values: Iterable[str], most: int | None = None) -> st.SearchStrategy[set[str]]:
    """A subset of ``values`` (of at most ``most``)."""
    known = sorted(values)
    return st.sets(st.sampled_from(known), max_size=most) if known else st.just(set())


def heads(keys: Iterable[str]) -> list[str]:
    """Every proper beginning of each key: prefixes and positions that land inside listings."""
    return sorted({k[:n] for k in keys for n in range(len(k))})


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[set[str], Overlay, ListObjects, int, bool]:
    lax = draw(st.booleans())
    # A lax store answers keys after U+10FFFF-padded positions with the prefix again and
    # cannot page past it by StartAfter; real keys hardly hold U+10FFFF, the strict remote does.

    def clean(key: str) -> str:
        return key.replace("\U0010ffff", "z") if lax else key

    remote = {clean(k) for k in draw(st.sets(keys_st, max_size=12))}
    new = {clean(k) for k in draw(st.sets(keys_st, max_size=4))}
    puts = draw(some(remote, 3)) | new
    # Sometimes every remote key under some prefix is deleted: a directory emptied locally.
    swept = draw(st.sampled_from([None, *heads(remote)]))
    emptied = {k for k in remote if swept is not None and k.startswith(swept)}
    deleted = draw(some(remote)) | emptied | {clean(draw(keys_st))}
    deletes = frozenset(deleted - puts)
    overlay = Overlay(puts={k: pending_entry(k) for k in puts}, deletes=deletes)
    everything = remote | puts | deletes
    prefix = draw(st.sampled_from(["", "", "", "b", *heads(everything)]))
    delimiter = draw(st.sampled_from(["/", None, "/", "a/", "/", "é", None, "\U0001f600"]))
    after = draw(st.sampled_from([*[None] * 8, *sorted(everything), *heads(everything)]))
    version = draw(st.sampled_from([1, 2]))
    op = ListObjects(
        bucket="bucket",
        version=version,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=draw(st.sampled_from([1, 2, 1, 3, 2, 4, 5, 1, 7, 20, 1000, 0])),
        encoding_type=draw(st.sampled_from([None, "url"])),
        marker=after if version == 1 else None,
        start_after=after if version == 2 else None,
        fetch_owner=draw(st.booleans()),
    )
    return remote, overlay, op, draw(st.integers(1, 4)), lax


@settings(max_examples=600, deadline=None)
@given(scenarios())
def test_pages_concatenate_to_the_merged_listing(
    scenario: tuple[set[str], Overlay, ListObjects, int, bool],
) -> None:
    remote_keys, overlay, op, page_size, lax = scenario
    remote = FakeRemote(remote_keys, op, overlay, page_size, lax)
    pages = asyncio.run(walk(op, overlay, remote))

    merged = (remote_keys | set(overlay.puts)) - overlay.deletes
    expected = reference(merged, op.prefix, op.delimiter, op.marker or op.start_after)
    if op.max_keys == 0:
        assert len(pages) == 1
        assert not pages[0].is_truncated
        assert not entries_of(pages[0])
        return
    assert [e for page in pages for e in entries_of(page)] == expected
    assert not pages[-1].is_truncated
    for page in pages:
        for entry in page.contents:
            shown = overlay.puts.get(entry.key) or remote_entry(entry.key)
            assert (entry.etag, entry.size) == (shown.etag, shown.size)
            owners = {OWNER} if entry.key not in overlay.puts else {OWNER, None}
            assert entry.owner in (owners if op.version == 1 or op.fetch_owner else {None})


def v1(**fields: object) -> ListObjects:
    return dataclasses.replace(ListObjects(bucket="bucket", version=1), **fields)  # type: ignore[arg-type]


def v2(**fields: object) -> ListObjects:
    return dataclasses.replace(ListObjects(bucket="bucket", version=2), **fields)  # type: ignore[arg-type]


def overlay_of(puts: Iterable[str] = (), deletes: Iterable[str] = ()) -> Overlay:
    return Overlay(puts={k: pending_entry(k) for k in puts}, deletes=frozenset(deletes))


async def listed(
    op: ListObjects, remote_keys: set[str], overlay: Overlay, page_size: int = 2
) -> tuple[ListObjectsResult, FakeRemote]:
    remote = FakeRemote(remote_keys, op, overlay, page_size, lax=False)
    return await list_merged(op, overlay, remote.fetch, remote.has_live_key), remote


async def test_a_prefix_emptied_by_deletes_disappears() -> None:
    overlay = overlay_of(deletes=["a/1", "a/2"])
    result, remote = await listed(v2(delimiter="/"), {"a/1", "a/2", "b", "c/1"}, overlay)
    assert entries_of(result) == [("b", False), ("c/", True)]
    assert remote.live_checks == ["a/"]  # "c/" has no pending delete: never asked


async def test_a_prefix_with_a_surviving_key_stays() -> None:
    overlay = overlay_of(deletes=["a/1"])
    result, remote = await listed(v2(delimiter="/"), {"a/1", "a/2"}, overlay)
    assert result.common_prefixes == ("a/",)
    assert remote.live_checks == ["a/"]


async def test_a_prefix_only_created_by_a_pending_put_appears() -> None:
    overlay = overlay_of(puts=["c/x"], deletes=["c/y"])
    result, remote = await listed(v2(delimiter="/"), {"b", "c/y"}, overlay)
    assert entries_of(result) == [("b", False), ("c/", True)]
    assert remote.live_checks == []  # a pending put under "c/" proves it live


async def test_an_overwrite_is_one_entry_with_the_pending_etag_and_size() -> None:
    result, _ = await listed(v1(), {"a", "b", "c"}, overlay_of(puts=["b"]))
    assert [e.key for e in result.contents] == ["a", "b", "c"]
    b = result.contents[1]
    assert (b.etag, b.size) == ('"pending"', 1001)
    assert b.owner == OWNER  # V1 shows owners: the remote's stands in for a pending put


async def test_owner_only_with_fetch_owner_in_v2() -> None:
    without, _ = await listed(v2(), {"a"}, overlay_of(puts=["b"]))
    assert [e.owner for e in without.contents] == [None, None]
    with_owner, _ = await listed(v2(fetch_owner=True), {"a"}, overlay_of(puts=["b"]))
    assert [e.owner for e in with_owner.contents] == [OWNER, OWNER]
    alone, _ = await listed(v2(fetch_owner=True), set(), overlay_of(puts=["b"]))
    assert alone.contents[0].owner is None  # no remote entry seen: no owner to show


async def test_unicode_order_and_keys_ending_with_the_delimiter() -> None:
    remote_keys = {"dir/", "dir/x", "\U0001f600", "é/"}
    overlay = overlay_of(puts=["\ue000", "z/"])
    result, _ = await listed(v2(delimiter="/"), remote_keys, overlay)
    # UTF-8 order: "z" before "é", and astral characters after U+E000 (not so in UTF-16).
    assert result.common_prefixes == ("dir/", "z/", "é/")
    assert [e.key for e in result.contents] == ["\ue000", "\U0001f600"]
    inside, _ = await listed(v2(delimiter="/", prefix="dir/"), remote_keys, overlay)
    assert [e.key for e in inside.contents] == ["dir/", "dir/x"]


S3_TESTS_KEYS = {"asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"}


async def test_max_keys_one_steps_across_prefixes_v1() -> None:
    # ceph s3-tests' test_bucket_list_delimiter_prefix, as S3 answers it.
    markers, pages, marker = [], [], None
    for _ in range(3):
        op = v1(delimiter="/", max_keys=1, marker=marker)
        result, _ = await listed(op, S3_TESTS_KEYS, overlay_of())
        pages.append((entries_of(result), result.is_truncated))
        marker = result.next_marker
        markers.append(marker)
    assert pages == [
        ([("asdf", False)], True),
        ([("boo/", True)], True),
        ([("cquux/", True)], False),
    ]
    assert markers == ["asdf", "boo/", None]


async def test_max_keys_one_steps_across_a_merged_prefix_v2() -> None:
    overlay = overlay_of(puts=["boo/new", "bz"], deletes=["cquux/thud", "cquux/bla"])
    op = v2(delimiter="/", max_keys=1)
    remote = FakeRemote(S3_TESTS_KEYS, op, overlay, page_size=1, lax=False)
    pages = await walk(op, overlay, remote)
    assert [entries_of(p) for p in pages] == [[("asdf", False)], [("boo/", True)], [("bz", False)]]
    assert pages[1].next_continuation_token == encode_token("boo/", prefix=True)
    assert not pages[-1].is_truncated


async def test_the_token_wins_over_start_after() -> None:
    op = v2(start_after="a", continuation_token=encode_token("c", prefix=False))
    result, _ = await listed(op, {"a", "b", "c", "d"}, overlay_of())
    assert [e.key for e in result.contents] == ["d"]
    assert (result.start_after, result.continuation_token) == ("a", op.continuation_token)


async def test_max_keys_zero_is_an_empty_page_not_truncated() -> None:
    result, _ = await listed(v2(max_keys=0), {"a"}, overlay_of(puts=["b"]))
    assert (entries_of(result), result.is_truncated, result.next_continuation_token) == (
        [],
        False,
        None,
    )


async def test_a_foreign_token_is_refused_before_the_remote_is_asked() -> None:
    async def fetch(start_after: str | None, max_keys: int) -> RemotePage:
        raise AssertionError("the remote was asked")

    async def has_live_key(prefix: str) -> bool:
        raise AssertionError("the remote was asked")

    op = v2(continuation_token="1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    with pytest.raises(InvalidArgument):
        await list_merged(op, overlay_of(), fetch, has_live_key)


async def test_a_prefix_repeated_by_a_lax_remote_is_dropped() -> None:
    # Asked to start after "a/" + U+10FFFF, a store that rolls up the keys after the position
    # answers "a/" again for "a/\U0010ffffz"; the previous page already showed it.
    op = v2(delimiter="/", max_keys=1)
    remote = FakeRemote({"a/1", "a/\U0010ffffz", "b"}, op, overlay_of(), page_size=10, lax=True)
    pages = await walk(op, overlay_of(), remote)
    assert [entries_of(p) for p in pages] == [[("a/", True)], [("b", False)]]


async def test_the_merged_page_renders_as_s3_writes_it() -> None:
    op = v2(delimiter="/", max_keys=2, encoding_type="url", start_after="a b")
    result, _ = await listed(op, {"a b", "c d/1", "e"}, overlay_of(puts=["c+"]))
    document = render_list_objects(result).decode()
    token = encode_token("c+", prefix=False)  # "c d/" < "c+" < "e": the page ends at "c+"
    assert "<Key>c%2B</Key>" in document
    assert "<CommonPrefixes><Prefix>c+d/</Prefix></CommonPrefixes>" in document
    assert f"<NextContinuationToken>{token}</NextContinuationToken>" in document
    assert "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>" in document
    assert "<StartAfter>a+b</StartAfter>" in document
