"""The deciders of which local multipart uploads to give up (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from s3d.journal.expiry import expired, idle, last_activity, next_sweep, reclaimable
from s3d.journal.records import LocalPart, LocalUpload

NOW = 1_000_000.0


def upload(name: str, created: float, *parts: tuple[float, int]) -> LocalUpload:
    """An upload created at ``created`` with parts (time received, size)."""
    made = LocalUpload(name, "b", f"k-{name}", (), created)
    for number, (when, size) in enumerate(parts, start=1):
        stamp = datetime.fromtimestamp(when, UTC).replace(microsecond=0)
        made.parts[number] = LocalPart(f"f-{name}-{number}", size, "0" * 32, stamp)
    return made


def test_activity_is_creation_or_the_newest_part() -> None:
    assert last_activity(upload("a", NOW - 50)) == NOW - 50
    # A part's time is kept to the second: it counts as the end of that second.
    assert last_activity(upload("a", NOW - 50, (NOW - 30.5, 1), (NOW - 10, 1))) == NOW - 9
    assert idle(upload("a", NOW - 50, (NOW - 30, 1)), NOW) == 29
    assert idle(upload("a", NOW + 5), NOW) == 0  # a clock stepped back is not negative idle


def test_expired_are_those_idle_for_the_expiry() -> None:
    old = upload("old", NOW - 500)
    revived = upload("revived", NOW - 500, (NOW - 10, 5))
    older = upload("older", NOW - 900, (NOW - 800, 5))
    uploads = [old, revived, older]
    assert expired(uploads, NOW, 300) == ["older", "old"]
    assert expired(uploads, NOW, 600) == ["older"]
    assert expired(uploads, NOW, 0) == []  # 0: never


def test_reclaim_takes_the_oldest_idle_until_enough() -> None:
    a = upload("a", NOW - 900, (NOW - 800, 100))
    b = upload("b", NOW - 700, (NOW - 700, 50), (NOW - 650, 50))
    c = upload("c", NOW - 400, (NOW - 400, 300))
    active = upload("active", NOW - 5000, (NOW - 5, 1000))
    empty = upload("empty", NOW - 5000)
    uploads = [active, c, b, a, empty]
    assert reclaimable(uploads, NOW, 60, 1) == ["a"]
    assert reclaimable(uploads, NOW, 60, 100) == ["a"]
    assert reclaimable(uploads, NOW, 60, 101) == ["a", "b"]
    assert reclaimable(uploads, NOW, 60, 500) == ["a", "b", "c"]
    assert reclaimable(uploads, NOW, 0, 0) == []


def test_reclaim_never_takes_a_recently_active_upload_nor_gives_up_for_nothing() -> None:
    a = upload("a", NOW - 900, (NOW - 800, 100))
    active = upload("active", NOW - 5000, (NOW - 5, 1000))
    # Only "active" would be enough, and it received a part within the minimum idle time: no
    # upload is given up at all, since "a" alone would not make the write fit.
    assert reclaimable([a, active], NOW, 60, 500) == []
    assert reclaimable([a, active], NOW, 4, 500) == ["a", "active"]
    assert reclaimable([a], NOW, 1000, 1) == []


def test_next_sweep_waits_for_the_first_expiry() -> None:
    assert next_sweep([], NOW, 86400) == 60.0
    assert next_sweep([], NOW, 2) == 2  # an upload created now expires in 2 s
    assert next_sweep([upload("a", NOW - 85)], NOW, 100) == 15
    assert next_sweep([upload("a", NOW - 500)], NOW, 100) == 0.1  # overdue, but busy


def test_within_a_second_the_upload_created_first_is_the_older() -> None:
    second = upload("0-second", NOW - 99.5, (NOW - 99, 10))
    first = upload("1-first", NOW - 99.7, (NOW - 99, 10))
    assert expired([second, first], NOW, 10) == ["1-first", "0-second"]
    assert reclaimable([second, first], NOW, 10, 10) == ["1-first"]
