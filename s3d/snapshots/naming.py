"""Which object of a snapshot set is which snapshot, and which is the latest (pure).

Theory of operation. A snapshot set is the objects under a bucket and prefix. Each one's time
comes from its key, by a pattern: a regular expression whose named groups ``Y m d`` (and
optionally ``H M S`` and ``tz``) say where the date is, or ``epoch`` (seconds since 1970). The
default finds ISO-8601 dates and times in the usual spellings (``2026-12-04T05:38:25Z``,
``20261204T053825Z``, ``2026-12-04_05-38-25``, ``2026-12-04``). Only a key without a match falls
back on a completion marker's time, then on ``LastModified`` — the time an object was last
written, which moves when backups are copied or re-uploaded (wal-g's LATEST by modification
time served an old backup after a move).

Completion markers (``snapshots.markers``, Hadoop's convention as the sync folders read it):
a marker named like ``*.done`` stands for its sibling (``dump.sql.done`` for ``dump.sql``) and a
``_SUCCESS`` for every object of its directory; the marker's ``LastModified`` — when the
exporter declared the snapshot complete — is then the snapshot's time. Markers are never
snapshots themselves: written last, they would otherwise be the "latest". The variant
(``full``, ``reduced``…) comes from the key by another pattern's ``variant`` group. Newest
first; equal times by key, for a stable order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fnmatch import fnmatchcase
from typing import Literal

from s3d.protocol.model import ObjectEntry
from s3d.settings import ConfigError

ISO_8601 = (
    r"(?P<Y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})"
    r"(?:[T_ .-]?(?P<H>\d{2})[:.-]?(?P<M>\d{2})(?:[:.-]?(?P<S>\d{2}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)

TimeSource = Literal["key", "marker", "last-modified"]


@dataclass(frozen=True, slots=True)
class NamingRules:
    timestamp: re.Pattern[str]
    variant: re.Pattern[str] | None
    markers: tuple[str, ...] = ()
    """Globs of completion markers' file names: one starting with ``*`` stands for the sibling
    named without its suffix (``*.done``), any other for its directory (``_SUCCESS``)."""

    @classmethod
    def compile(cls, timestamp: str, variant: str, markers: tuple[str, ...] = ()) -> NamingRules:
        """Raises ConfigError for a pattern that does not compile or lacks its groups."""
        try:
            stamp = re.compile(timestamp or ISO_8601)
            kind = re.compile(variant) if variant else None
        except re.error as exc:
            raise ConfigError(f"snapshots: a pattern does not compile: {exc}") from None
        if not ({"Y", "m", "d"} <= stamp.groupindex.keys() or "epoch" in stamp.groupindex):
            raise ConfigError("snapshots.timestamp_pattern: needs groups Y, m, d (or epoch)")
        if kind is not None and "variant" not in kind.groupindex:
            raise ConfigError("snapshots.variant_pattern: needs a group named variant")
        return cls(stamp, kind, markers)


@dataclass(frozen=True, slots=True)
class Snapshot:
    key: str
    name: str
    """The key less the set's prefix: how a request names it."""
    time: datetime
    time_source: TimeSource
    size: int
    etag: str
    variant: str | None


def snapshots(entries: Iterable[ObjectEntry], prefix: str, rules: NamingRules) -> list[Snapshot]:
    """The set's snapshots (markers left out), newest first."""
    objects, completed = _markers([e for e in entries if not e.key.endswith("/")], rules)
    found = [_snapshot(entry, prefix, rules, completed) for entry in objects]
    return sorted(found, key=lambda s: (s.time, s.key), reverse=True)


def _markers(
    entries: list[ObjectEntry], rules: NamingRules
) -> tuple[list[ObjectEntry], Callable[[str], datetime | None]]:
    """The entries that are not markers, and the completion time the markers give a key."""
    siblings: dict[str, datetime] = {}
    directories: dict[str, datetime] = {}
    objects = []
    for entry in entries:
        directory, _, name = entry.key.rpartition("/")
        glob = next((g for g in rules.markers if fnmatchcase(name, g)), None)
        if glob is None:
            objects.append(entry)
        elif "*" in glob and glob.startswith("*"):
            siblings[entry.key[: len(entry.key) - len(glob) + 1]] = entry.last_modified
        else:
            directories[directory] = entry.last_modified

    def completed(key: str) -> datetime | None:
        return siblings.get(key) or directories.get(key.rpartition("/")[0])

    return objects, completed


def choose(found: list[Snapshot], name: str, variant: str | None) -> Snapshot | None:
    """``latest`` (of ``variant`` when given), or the snapshot named ``name``."""
    if name == "latest":
        return next((s for s in found if variant is None or s.variant == variant), None)
    return next((s for s in found if s.name == name), None)


def _snapshot(
    entry: ObjectEntry,
    prefix: str,
    rules: NamingRules,
    completed: Callable[[str], datetime | None],
) -> Snapshot:
    name = entry.key[len(prefix) :]
    stamp = key_time(name, rules.timestamp)
    marked = completed(entry.key) if stamp is None else None
    source: TimeSource = "key" if stamp else "marker" if marked else "last-modified"
    found = rules.variant.search(name) if rules.variant is not None else None
    return Snapshot(
        entry.key,
        name,
        stamp or marked or entry.last_modified,
        source,
        entry.size,
        entry.etag,
        found.group("variant") if found else None,
    )


def key_time(name: str, pattern: re.Pattern[str]) -> datetime | None:
    """The time the key's name carries, UTC; None when there is none (or not a real date)."""
    for match in pattern.finditer(name):
        parts = match.groupdict()
        try:
            if parts.get("epoch"):
                return datetime.fromtimestamp(int(parts["epoch"]), UTC)
            y, mo, d, h, mi, s = (int(parts.get(g) or 0) for g in ("Y", "m", "d", "H", "M", "S"))
            return datetime(y, mo, d, h, mi, s, tzinfo=_zone(parts.get("tz"))).astimezone(UTC)
        except (ValueError, OverflowError):
            continue  # digits that are no date (a version number): look further
    return None


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
