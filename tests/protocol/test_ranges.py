"""Range and x-amz-copy-source-range: what is honoured, ignored or refused, and that a resolved
range selects what RFC 9110 says it does (checked against Python slicing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol.errors import S3Error
from s3d.protocol.ranges import ByteRange, parse_copy_source_range, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=5-", ByteRange(5, None)),
        ("bytes=-3", ByteRange(None, 3)),
        ("bytes=-0", ByteRange(None, 0)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes = 1 - 2 ", ByteRange(1, 2)),
        ("Bytes=1-2", ByteRange(1, 2)),  # range units compare without case
        ("bytes=007-0010", ByteRange(7, 10)),
        ("bytes=0-" + "9" * 5000, ByteRange(0, 10**30)),  # past any object: clamped later
    ],
)
def test_parse(header: str, expected: ByteRange) -> None:
    assert parse_range(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=",
        "bytes=-",
        "bytes=5-3",  # last before first: invalid, so ignored
        "bytes=0-1,3-4",  # several ranges: S3 answers the whole object
        "bytes=0-1, 3-4",
        "items=0-1",
        "0-1",
        "bytes=a-b",
        "bytes=1.5-2",
        "bytes=+1-2",
        "bytes=\u0661-\u0662",  # digits, but not ASCII ones
        "bytes=" + "9" * 5000 + "-" + "8" * 5000,
    ],
)
def test_unparseable_ranges_are_ignored(header: str | None) -> None:
    assert parse_range(header) is None


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=0-0", 1, (0, 0)),
        ("bytes=90-200", 100, (90, 99)),  # the end is clamped
        ("bytes=99-", 100, (99, 99)),
        ("bytes=0-", 100, (0, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-1000", 100, (0, 99)),  # a suffix longer than the object is all of it
        ("bytes=-1", 1, (0, 0)),
    ],
)
def test_resolve(header: str, size: int, expected: tuple[int, int]) -> None:
    byte_range = parse_range(header)
    assert byte_range is not None
    assert byte_range.resolve(size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),  # starts at the end
        ("bytes=100-200", 100),
        ("bytes=-0", 100),  # an empty suffix selects nothing
        ("bytes=0-", 0),  # nothing can be selected in an empty object
        ("bytes=0-0", 0),
        ("bytes=-5", 0),
    ],
)
def test_unsatisfiable(header: str, size: int) -> None:
    byte_range = parse_range(header)
    assert byte_range is not None
    with pytest.raises(S3Error) as caught:
        byte_range.resolve(size)
    error = caught.value
    assert (error.error_code, error.http_status) == ("InvalidRange", 416)
    assert error.message == "The requested range is not satisfiable"
    assert error.details == {"ActualObjectSize": str(size), "RangeRequested": header}


def test_str_is_the_header_form() -> None:
    assert [str(r) for r in (ByteRange(1, 2), ByteRange(3, None), ByteRange(None, 4))] == [
        "bytes=1-2",
        "bytes=3-",
        "bytes=-4",
    ]


# ---------------------------------------------------------------------------------------------
# RFC 9110 section 14.1.2, as Python slices: first-last is data[first:last + 1], first- is
# data[first:], -suffix is data[-suffix:]; unsatisfiable when it selects no byte.


@st.composite
def sized_ranges(draw: st.DrawFn) -> tuple[int, str, int | None, int | None]:
    size = draw(st.integers(0, 300))
    bound = st.integers(0, size + 20)
    form = draw(st.sampled_from(["both", "from", "suffix"]))
    if form == "both":
        first = draw(bound)
        last = draw(st.integers(first, first + 40))
        return size, f"bytes={first}-{last}", first, last
    if form == "from":
        first = draw(bound)
        return size, f"bytes={first}-", first, None
    suffix = draw(bound)
    return size, f"bytes=-{suffix}", None, suffix


def rfc_selection(data: bytes, first: int | None, last: int | None) -> bytes:
    if first is None:
        assert last is not None
        return data[-last:] if last else b""
    return data[first:] if last is None else data[first : last + 1]


@settings(max_examples=1000, deadline=None)
@given(case=sized_ranges())
def test_resolve_selects_what_rfc_9110_says(case: tuple[int, str, int | None, int | None]) -> None:
    size, header, first, last = case
    data = bytes(i % 251 for i in range(size))
    expected = rfc_selection(data, first, last)
    byte_range = parse_range(header)
    assert byte_range == ByteRange(first, last)
    if not expected:
        with pytest.raises(S3Error) as caught:
            byte_range.resolve(size)
        assert caught.value.error_code == "InvalidRange"
        return
    start, end = byte_range.resolve(size)
    assert 0 <= start <= end < size
    assert data[start : end + 1] == expected


@settings(max_examples=300, deadline=None)
@given(first=st.integers(0, 10**6), gap=st.integers(1, 10**6))
def test_last_before_first_is_ignored(first: int, gap: int) -> None:
    assert parse_range(f"bytes={first + gap}-{first}") is None


# ---------------------------------------------------------------------------------------------
# x-amz-copy-source-range: strict.


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("bytes=0-0", (0, 0)), ("bytes=0-99", (0, 99)), ("bytes=5-5", (5, 5))],
)
def test_copy_source_range(value: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_copy_source_range(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "bytes=0-",
        "bytes=-5",
        "bytes=5-4",
        "bytes=0-1,2-3",
        "0-1",
        "bytes=a-b",
        "",
        "bytes=invalid-range",
    ],
)
def test_copy_source_range_refusals(value: str) -> None:
    with pytest.raises(S3Error) as caught:
        parse_copy_source_range(value)
    error = caught.value
    assert (error.error_code, error.http_status) == ("InvalidArgument", 400)
    assert error.message == (
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and "
        "last are the zero-based offsets of the first and last bytes to copy"
    )
    assert error.details == {"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": value}
