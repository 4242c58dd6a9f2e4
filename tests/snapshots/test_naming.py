"""Snapshot times and variants from keys (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s3d.protocol.model import ObjectEntry
from s3d.settings import ConfigError, SnapshotSettings
from s3d.snapshots.naming import NamingRules, choose, key_time, snapshots

RULES = NamingRules.compile("", SnapshotSettings().variant_pattern)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app-2026-12-04T05:38:25Z.sql", datetime(2026, 12, 4, 5, 38, 25, tzinfo=UTC)),
        ("app-20261204T053825Z.sql.gpg", datetime(2026, 12, 4, 5, 38, 25, tzinfo=UTC)),
        ("2026-12-04_05-38-25.tar", datetime(2026, 12, 4, 5, 38, 25, tzinfo=UTC)),
        ("2026-12-04T07:38:25+02:00.sql", datetime(2026, 12, 4, 5, 38, 25, tzinfo=UTC)),
        ("v9999-99-99/2026-12-04.sql", datetime(2026, 12, 4, tzinfo=UTC)),
        ("no-date-here.sql", None),
    ],
)
def test_iso_8601_in_keys(name: str, expected: datetime | None) -> None:
    assert key_time(name, RULES.timestamp) == expected


def test_custom_pattern_with_epoch() -> None:
    rules = NamingRules.compile(r"dump-(?P<epoch>\d{10})", "")
    assert key_time("dump-1796362705.sql", rules.timestamp) == datetime.fromtimestamp(
        1796362705, UTC
    )


MARKED = NamingRules.compile("", "", SnapshotSettings().markers)


def test_markers_give_their_time_and_are_never_snapshots() -> None:
    written, done, later = (datetime(2026, 12, d, tzinfo=UTC) for d in (1, 2, 3))
    entries = [
        ObjectEntry("db/weekly.sql", later, '"a"', 10),  # rewritten since it was completed
        ObjectEntry("db/weekly.sql.done", done, '"m"', 0),
        ObjectEntry("db/2026-11-30.sql", later, '"b"', 10),  # a key time wins over markers
        ObjectEntry("db/2026-11-30.sql.done", later, '"m"', 0),
        ObjectEntry("db/export/part-0", later, '"c"', 10),
        ObjectEntry("db/export/_SUCCESS", written, '"m"', 0),
        ObjectEntry("db/loose.sql", written, '"d"', 10),
    ]
    found = snapshots(entries, "db/", MARKED)
    assert [(s.name, s.time_source, s.time) for s in found] == [
        ("weekly.sql", "marker", done),
        ("loose.sql", "last-modified", written),
        ("export/part-0", "marker", written),
        ("2026-11-30.sql", "key", datetime(2026, 11, 30, tzinfo=UTC)),
    ]
    # The markers, written last, are not the latest: without the rule _SUCCESS or a .done
    # would be listed, and the newest of them chosen.
    latest = choose(found, "latest", None)
    assert latest is not None
    assert latest.name == "weekly.sql"


def test_without_markers_configured_every_object_is_a_snapshot() -> None:
    entries = [ObjectEntry("db/x.sql.done", datetime(2026, 1, 1, tzinfo=UTC), '"m"', 0)]
    assert [s.name for s in snapshots(entries, "db/", RULES)] == ["x.sql.done"]


def test_last_modified_only_as_a_last_resort() -> None:
    old, new = datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    entries = [
        ObjectEntry("p/2026-01-02-full.sql", old, '"a"', 1),
        ObjectEntry("p/2026-01-01-reduced.sql", new, '"b"', 1),
        ObjectEntry("p/undated.sql", new, '"c"', 1),
    ]
    found = snapshots(entries, "p/", RULES)
    assert [s.name for s in found] == [
        "undated.sql",
        "2026-01-02-full.sql",
        "2026-01-01-reduced.sql",
    ]
    assert [s.time_source for s in found] == ["last-modified", "key", "key"]
    chosen = choose(found, "latest", "reduced")
    assert chosen is not None
    assert chosen.name == "2026-01-01-reduced.sql"


def test_bad_patterns_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="timestamp_pattern"):
        NamingRules.compile(r"(?P<year>\d{4})", "")
    with pytest.raises(ConfigError, match="variant_pattern"):
        NamingRules.compile("", r"(full|reduced)")
    with pytest.raises(ConfigError, match="does not compile"):
        NamingRules.compile("(", "")


def test_named_sets_parse_and_bad_entries_are_named() -> None:
    from s3d.daemon.snapshots_start import named_sets

    assert named_sets(("db=backups/db/", " raw = archive ")) == {
        "db": ("backups", "db/"),
        "raw": ("archive", ""),
    }
    for bad in ("backups/db/", "=backups", "a/b=backups", "db="):
        with pytest.raises(ConfigError, match="is not NAME=BUCKET"):
            named_sets((bad,))
    with pytest.raises(ConfigError, match="named twice"):
        named_sets(("db=a", "db=b"))
