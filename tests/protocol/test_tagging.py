"""Object tags: the x-amz-tagging header form and S3's limits, with S3's codes and messages."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol.errors import S3Error
from s3d.protocol.tagging import parse_tagging_header, render_tagging_header, validate_tags

HEADER_MESSAGE = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
    "parameters without tag name duplicates."
)


def test_parse_header_in_order_with_both_space_forms() -> None:
    assert parse_tagging_header("b=2&a=x+y&c=x%20y%2B") == (("b", "2"), ("a", "x y"), ("c", "x y+"))


def test_parse_header_unicode_and_empty_values() -> None:
    assert parse_tagging_header("caf%C3%A9=%E6%97%A5&empty=&bare") == (
        ("café", "日"),
        ("empty", ""),
        ("bare", ""),
    )
    assert parse_tagging_header("") == ()


def test_parse_header_as_boto3_users_build_it() -> None:
    # boto3 takes Tagging as a string; the documented way to build it is urlencode.
    header = urlencode({"team": "data & ml", "path": "a/b=c"})
    assert parse_tagging_header(header) == (("team", "data & ml"), ("path", "a/b=c"))


@pytest.mark.parametrize("header", ["=", "=v", "a=1&a=2", "a=&a=", "k=%FF", "%C3=v"])
def test_parse_header_refusals(header: str) -> None:
    with pytest.raises(S3Error) as excinfo:
        parse_tagging_header(header)
    assert excinfo.value.error_code == "InvalidArgument"
    assert excinfo.value.http_status == 400
    assert excinfo.value.message == HEADER_MESSAGE


TAG_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    tags=st.lists(st.tuples(TAG_TEXT.filter(bool), TAG_TEXT), max_size=10, unique_by=lambda t: t[0])
)
def test_header_round_trip(tags: list[tuple[str, str]]) -> None:
    header = render_tagging_header(tags)
    assert header.isascii()
    assert parse_tagging_header(header) == tuple(tags)


def test_render_header_encodes_spaces_as_percent() -> None:
    assert render_tagging_header([("a b", "c+d&e=f/g")]) == "a%20b=c%2Bd%26e%3Df%2Fg"


def test_limits_accept_the_edges() -> None:
    tags = [(f"k{i}", "v") for i in range(9)] + [("é" * 128, "ü" * 256)]
    validate_tags(tags)
    validate_tags([("k", "")])
    validate_tags([])
    validate_tags([("a:aws:", "v"), ("aw", "v")])


@pytest.mark.parametrize(
    ("tags", "code", "message"),
    [
        (
            [(f"k{i}", "v") for i in range(11)],
            "BadRequest",
            "Object tags cannot be greater than 10",
        ),
        ([("", "v")], "InvalidTag", "The TagKey you have provided is invalid"),
        ([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid"),
        ([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is invalid"),
        ([("aws:cost", "v")], "InvalidTag", "Your TagKey cannot be prefixed with aws:"),
        ([("AWS:cost", "v")], "InvalidTag", "Your TagKey cannot be prefixed with aws:"),
        (
            [("k", "1"), ("k", "2")],
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        ),
    ],
)
def test_limits_refusals(tags: list[tuple[str, str]], code: str, message: str) -> None:
    with pytest.raises(S3Error) as excinfo:
        validate_tags(tags)
    assert excinfo.value.error_code == code
    assert excinfo.value.http_status == 400
    assert excinfo.value.message == message
