"""Conditional headers: RFC 9110's precedence as S3 applies it, ETag lists and forms, dates
to the second, and the copy-source variant where every failure is 412."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from s3d.protocol.conditions import NO_CONDITIONS, Conditions, parse_http_date
from s3d.protocol.errors import S3Error

ETAG = '"d41d8cd98f00b204e9800998ecf8427e"'
BARE = ETAG.strip('"')
OTHER = '"0cc175b9c0f1b6a831c399e269772661"'
MODIFIED = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
AT = "Tue, 02 Jan 2024 03:04:05 GMT"  # Last-Modified as S3 sends it: to the second
BEFORE = "Tue, 02 Jan 2024 03:04:04 GMT"
AFTER = "Tue, 02 Jan 2024 03:04:06 GMT"


def conditions(
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_unmodified_since: str | None = None,
) -> Conditions:
    return Conditions.from_values(if_match, if_none_match, if_modified_since, if_unmodified_since)


def read_outcome(c: Conditions, etag: str = ETAG) -> tuple[str, int, dict[str, str]] | None:
    try:
        c.check_read(etag, MODIFIED)
    except S3Error as error:
        return error.error_code, error.http_status, error.details
    return None


def copy_outcome(c: Conditions) -> tuple[str, int, dict[str, str]] | None:
    try:
        c.check_copy_source(ETAG, MODIFIED)
    except S3Error as error:
        return error.error_code, error.http_status, error.details
    return None


PASS = None
NOT_MODIFIED = ("NotModified", 304, {})


def failed(condition: str) -> tuple[str, int, dict[str, str]]:
    return "PreconditionFailed", 412, {"Condition": condition}


def test_no_conditions() -> None:
    assert conditions() == NO_CONDITIONS
    assert NO_CONDITIONS.empty
    assert not conditions(if_match="*").empty
    assert read_outcome(NO_CONDITIONS) is PASS


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (ETAG, PASS),
        (BARE, PASS),
        ("*", PASS),
        (f"{OTHER}, {ETAG}", PASS),
        (f"{OTHER},{BARE}", PASS),
        (f' {OTHER} , "x" ', failed("If-Match")),
        (OTHER, failed("If-Match")),
        (f"W/{ETAG}", failed("If-Match")),  # If-Match compares strongly
        ("", failed("If-Match")),
    ],
)
def test_if_match(value: str, outcome: object) -> None:
    assert read_outcome(conditions(if_match=value)) == outcome


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (ETAG, NOT_MODIFIED),
        (BARE, NOT_MODIFIED),
        ("*", NOT_MODIFIED),
        (f"{OTHER}, {ETAG}", NOT_MODIFIED),
        (f"W/{ETAG}", NOT_MODIFIED),  # If-None-Match compares weakly
        (f'W/"x", W/{ETAG}', NOT_MODIFIED),
        (OTHER, PASS),
        (f"W/{OTHER}", PASS),
    ],
)
def test_if_none_match(value: str, outcome: object) -> None:
    assert read_outcome(conditions(if_none_match=value)) == outcome


def test_etag_given_bare_by_the_caller() -> None:
    assert read_outcome(conditions(if_match=ETAG), etag=BARE) is PASS
    assert read_outcome(conditions(if_none_match=BARE), etag=f" {ETAG} ") == NOT_MODIFIED


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (AT, NOT_MODIFIED),  # not modified since the very second it was modified
        (AFTER, NOT_MODIFIED),
        (BEFORE, PASS),
    ],
)
def test_if_modified_since_to_the_second(value: str, outcome: object) -> None:
    assert read_outcome(conditions(if_modified_since=value)) == outcome


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(AT, PASS), (AFTER, PASS), (BEFORE, failed("If-Unmodified-Since"))],
)
def test_if_unmodified_since_to_the_second(value: str, outcome: object) -> None:
    assert read_outcome(conditions(if_unmodified_since=value)) == outcome


@pytest.mark.parametrize(
    ("if_match", "if_unmodified_since", "outcome"),
    [
        # If-Match decides; If-Unmodified-Since is then ignored, even when it would fail.
        (ETAG, BEFORE, PASS),
        (OTHER, AFTER, failed("If-Match")),
        (None, BEFORE, failed("If-Unmodified-Since")),
    ],
)
def test_if_match_beats_if_unmodified_since(
    if_match: str | None, if_unmodified_since: str, outcome: object
) -> None:
    c = conditions(if_match=if_match, if_unmodified_since=if_unmodified_since)
    assert read_outcome(c) == outcome


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "outcome"),
    [
        # If-None-Match decides; If-Modified-Since is then ignored.
        (OTHER, AFTER, PASS),
        (ETAG, BEFORE, NOT_MODIFIED),
        (None, AFTER, NOT_MODIFIED),
    ],
)
def test_if_none_match_beats_if_modified_since(
    if_none_match: str | None, if_modified_since: str, outcome: object
) -> None:
    c = conditions(if_none_match=if_none_match, if_modified_since=if_modified_since)
    assert read_outcome(c) == outcome


def test_a_412_comes_before_a_304() -> None:
    assert read_outcome(conditions(if_match=OTHER, if_none_match=ETAG)) == failed("If-Match")
    c = conditions(if_unmodified_since=BEFORE, if_modified_since=AFTER)
    assert read_outcome(c) == failed("If-Unmodified-Since")


@pytest.mark.parametrize("value", ["yesterday", "", "2024-01-02T03:04:05Z", "Tue, 99 Jan 2024"])
def test_invalid_dates_are_ignored(value: str) -> None:
    c = conditions(if_modified_since=value, if_unmodified_since=value)
    assert c == NO_CONDITIONS
    assert read_outcome(c) is PASS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (AT, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        # RFC 9110's obsolete forms, which a recipient must still accept.
        ("Tuesday, 02-Jan-24 03:04:05 GMT", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("Tue Jan  2 03:04:05 2024", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("Tue, 02 Jan 2024 05:04:05 +0200", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("Tue, 02 Jan 2024 03:04:05 -0000", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("garbage", None),
    ],
)
def test_parse_http_date(value: str | None, expected: datetime | None) -> None:
    assert parse_http_date(value) == expected


def test_offset_dates_compare_as_instants() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert parse_http_date("Tue, 02 Jan 2024 05:04:05 +0200") == datetime(
        2024, 1, 2, 5, 4, 5, tzinfo=plus_two
    )
    c = conditions(if_modified_since="Tue, 02 Jan 2024 05:04:04 +0200")
    assert read_outcome(c) is PASS


# ---------------------------------------------------------------------------------------------
# x-amz-copy-source-if-*: every failure is 412, naming the header that failed.


@pytest.mark.parametrize(
    ("c", "outcome"),
    [
        (conditions(if_match=OTHER), failed("x-amz-copy-source-If-Match")),
        (conditions(if_unmodified_since=BEFORE), failed("x-amz-copy-source-If-Unmodified-Since")),
        (conditions(if_none_match=ETAG), failed("x-amz-copy-source-If-None-Match")),
        (conditions(if_none_match="*"), failed("x-amz-copy-source-If-None-Match")),
        (conditions(if_modified_since=AFTER), failed("x-amz-copy-source-If-Modified-Since")),
        # S3's documented pairs: If-Match true with If-Unmodified-Since false copies;
        # If-None-Match false with If-Modified-Since true fails.
        (conditions(if_match=ETAG, if_unmodified_since=BEFORE), PASS),
        (
            conditions(if_none_match=ETAG, if_modified_since=BEFORE),
            failed("x-amz-copy-source-If-None-Match"),
        ),
        (conditions(if_none_match=OTHER, if_modified_since=BEFORE), PASS),
        (conditions(if_match="*", if_none_match=OTHER), PASS),
        (NO_CONDITIONS, PASS),
    ],
)
def test_copy_source_conditions(c: Conditions, outcome: object) -> None:
    assert copy_outcome(c) == outcome
