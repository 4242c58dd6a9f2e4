"""Conditional writes (PutObject, CompleteMultipartUpload) as S3 answers them: If-None-Match
takes only ``*``, If-Match needs the key and a strong match, ``*`` matches any object."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3d.protocol.conditions import NO_CONDITIONS, Conditions
from s3d.protocol.errors import S3Error

ETAG = '"d41d8cd98f00b204e9800998ecf8427e"'
OTHER = '"0cc175b9c0f1b6a831c399e269772661"'
Outcome = tuple[str, int, dict[str, str]] | None


def write_outcome(
    current: str | None, if_match: str | None = None, if_none_match: str | None = None
) -> Outcome:
    conditions = Conditions.from_values(if_match, if_none_match, None, None)
    try:
        conditions.check_write(current, "k")
    except S3Error as error:
        return error.error_code, error.http_status, error.details
    return None


def failed(condition: str) -> Outcome:
    return "PreconditionFailed", 412, {"Condition": condition}


NO_KEY = ("NoSuchKey", 404, {"Key": "k"})
NOT_IMPLEMENTED = ("NotImplemented", 501, {"Header": "If-None-Match"})


def test_unconditional_writes_never_look() -> None:
    assert not NO_CONDITIONS.guards_write
    assert not Conditions.from_values(
        None, None, "Tue, 02 Jan 2024 03:04:05 GMT", None
    ).guards_write
    assert Conditions.from_values("*", None, None, None).guards_write
    assert Conditions.from_values(None, "*", None, None).guards_write
    assert write_outcome(None) is None
    assert write_outcome(ETAG) is None


@pytest.mark.parametrize(
    ("current", "value", "outcome"),
    [
        (None, "*", None),
        (ETAG, "*", failed("If-None-Match")),
        (None, '"*"', None),
        (None, ETAG, NOT_IMPLEMENTED),  # S3 takes only "*" on writes, even when no object
        (ETAG, ETAG, NOT_IMPLEMENTED),
        (ETAG, f"*, {OTHER}", NOT_IMPLEMENTED),
    ],
)
def test_if_none_match(current: str | None, value: str, outcome: Outcome) -> None:
    assert write_outcome(current, if_none_match=value) == outcome


@pytest.mark.parametrize(
    ("current", "value", "outcome"),
    [
        (ETAG, ETAG, None),
        (ETAG, ETAG.strip('"'), None),
        (ETAG, "*", None),
        (ETAG, f"{OTHER}, {ETAG}", None),
        (ETAG, OTHER, failed("If-Match")),
        (ETAG, f"W/{ETAG}", failed("If-Match")),  # weak never matches: strong comparison
        (None, ETAG, NO_KEY),
        (None, "*", NO_KEY),
    ],
)
def test_if_match(current: str | None, value: str, outcome: Outcome) -> None:
    assert write_outcome(current, if_match=value) == outcome


def test_if_none_match_decides_before_if_match() -> None:
    assert write_outcome(ETAG, if_match=ETAG, if_none_match="*") == failed("If-None-Match")
    assert write_outcome(None, if_match=ETAG, if_none_match="*") == NO_KEY


hex_etags = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: f'"{h}"')


@given(hex_etags, hex_etags, st.booleans())
def test_if_match_compares_bare_etags_strongly(current: str, asked: str, quoted: bool) -> None:
    value = asked if quoted else asked.strip('"')
    expected = None if current == asked else failed("If-Match")
    assert write_outcome(current, if_match=value) == expected
    assert write_outcome(current, if_match=f"W/{asked}") == failed("If-Match")


@given(st.one_of(st.none(), hex_etags), st.text(min_size=1).filter(lambda v: v.strip()))
def test_if_none_match_takes_only_a_star(current: str | None, value: str) -> None:
    outcome = write_outcome(current, if_none_match=value)
    if Conditions.from_values(None, value, None, None).if_none_match == ("*",):
        assert outcome == (None if current is None else failed("If-None-Match"))
    else:
        assert outcome == NOT_IMPLEMENTED
