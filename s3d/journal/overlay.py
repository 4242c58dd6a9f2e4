"""The merged listing's pure core: pending changes laid over remote listing pages.

Theory of operation. A listing shows *entries*: keys, and (with a delimiter) common prefixes
that stand for every key under them. The merged set is the remote's keys plus pending puts
minus pending deletes, rolled up; a page holds the first max-keys entries strictly after its
position. So a position at a common prefix skips all of it (S3 does so for a V1 marker, ceph
s3-tests check it) and so does a position inside one (Ceph RGW and moto do the same).

``PageMerge`` owns one page's merge. Local entries (from pending puts) are known up front;
remote entries arrive a page at a time. It never does I/O: ``next_action`` answers what it
needs next (a remote page after some key, or whether a remote prefix still holds a live key)
until it can answer the page. Invariants: every entry kept sorts after ``_floor`` (the
position, then the last remote entry seen); an entry is taken only when no unseen remote entry
can sort before it.

Order is Python ``str`` order: code point order, which equals the UTF-8 byte order S3 sorts
by (UTF-8 was designed to preserve code point order).
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from s3d.protocol.errors import InternalError, InvalidArgument
from s3d.protocol.model import ObjectEntry, Owner

_TOKEN_TAG = "s3d1."
_BAD_TOKEN = "The continuation token provided is incorrect"
# Sorts after every string that starts with P and has another character: "skip under P".
BEYOND = "\U0010ffff"
_REMOTE_PAGE_LIMIT = 1000  # what S3 answers at most per page


@dataclass(frozen=True, slots=True)
class PendingPut:
    """An acknowledged write not yet on the remote, as a listing shows it."""

    entry: ObjectEntry


@dataclass(frozen=True, slots=True)
class Overlay:
    """The pending changes of one bucket, newest state per key: a key is in at most one."""

    puts: Mapping[str, ObjectEntry]
    deletes: frozenset[str]

    def __post_init__(self) -> None:
        if not self.deletes.isdisjoint(self.puts):
            raise ValueError("a key is both pending put and pending delete")

    @classmethod
    def of(cls, puts: Iterable[PendingPut], deletes: Iterable[str]) -> Overlay:
        return cls({put.entry.key: put.entry for put in puts}, frozenset(deletes))


def encode_token(position: str, *, prefix: bool) -> str:
    """A V2 continuation token: continue after ``position`` (a common prefix: skip under it)."""
    payload = ("p" if prefix else "k") + position
    # surrogatepass: any str a key can be round-trips, even one decoded from bad UTF-8.
    raw = base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass"))
    return _TOKEN_TAG + raw.decode("ascii").rstrip("=")


def decode_token(token: str) -> tuple[str, bool]:
    """``(position, is_prefix)`` of a token from ``encode_token``; anything else (another
    server's token, a tampered one) raises ``InvalidArgument`` as S3 does."""
    if token.startswith(_TOKEN_TAG) and token.isascii():
        body = token[len(_TOKEN_TAG) :]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
            payload = raw.decode("utf-8", "surrogatepass")
        except (binascii.Error, UnicodeDecodeError):
            payload = ""
        kind, position = payload[:1], payload[1:]
        # Canonical form only: one position has exactly one token.
        if kind in ("k", "p") and encode_token(position, prefix=kind == "p") == token:
            return position, kind == "p"
    raise InvalidArgument(_BAD_TOKEN, ArgumentName="continuation-token")


@dataclass(frozen=True, slots=True)
class Listed:
    """One entry of a listing: a key (``entry``) or a common prefix (``entry`` None)."""

    name: str
    entry: ObjectEntry | None = None


@dataclass(frozen=True, slots=True)
class Fetch:
    """Ask the remote for up to ``max_keys`` entries after ``start_after``."""

    start_after: str | None
    max_keys: int


@dataclass(frozen=True, slots=True)
class CheckPrefix:
    """Ask whether the remote still holds a key under ``prefix`` that is not pending-deleted."""

    prefix: str


@dataclass(frozen=True, slots=True)
class Page:
    entries: tuple[Listed, ...]
    is_truncated: bool


def _beyond(name: str, floor: str | None, skip_under: bool) -> bool:
    """Whether ``name`` sorts after ``floor`` (and, for a prefix floor, is not under it)."""
    return floor is None or (name > floor and not (skip_under and name.startswith(floor)))


def _has_under(sorted_keys: Sequence[str], prefix: str) -> bool:
    i = bisect_left(sorted_keys, prefix)
    return i < len(sorted_keys) and sorted_keys[i].startswith(prefix)


class PageMerge:
    """One merged page: pending entries of ``overlay`` and remote pages fed in."""

    def __init__(
        self,
        overlay: Overlay,
        prefix: str,
        delimiter: str | None,
        position: str | None,
        *,
        after_prefix: bool,
        max_keys: int,
    ) -> None:
        """A page of the listing under ``prefix``, strictly after ``position`` (a common
        prefix whose keys are all skipped when ``after_prefix``)."""
        self._prefix, self._delimiter, self._max_keys = prefix, delimiter, max_keys
        self._puts, self._deletes = overlay.puts, overlay.deletes
        self._put_keys = sorted(k for k in overlay.puts if k.startswith(prefix))
        self._deleted_keys = sorted(k for k in overlay.deletes if k.startswith(prefix))
        self._floor = self._start(position, after_prefix)
        local = {}
        for key in self._put_keys:
            name, is_prefix = self.roll_up(key)
            if _beyond(name, *self._floor):
                local[name] = Listed(name, None if is_prefix else overlay.puts[key])
        self._local = deque(sorted(local.values(), key=lambda e: e.name))
        self._remote: deque[Listed] = deque()
        self._remote_done = False
        self._taken: list[Listed] = []
        self._live: dict[str, bool] = {}
        self.owner: Owner | None = None
        """An owner seen on a remote entry (shown for pending puts when owners are asked)."""

    def roll_up(self, key: str) -> tuple[str, bool]:
        """``key``'s entry name and whether it is a common prefix (``key`` under the prefix)."""
        if self._delimiter:
            at = key.find(self._delimiter, len(self._prefix))
            if at >= 0:
                return key[: at + len(self._delimiter)], True
        return key, False

    def _start(self, position: str | None, after_prefix: bool) -> tuple[str | None, bool]:
        """Where the remote listing starts: a position inside (or at) a common prefix skips
        that whole prefix, since every entry under it sorts at or before the position."""
        if position is None or after_prefix or not position.startswith(self._prefix):
            return position, after_prefix
        rolled, is_prefix = self.roll_up(position)
        return (rolled, True) if is_prefix else (position, False)

    def next_action(self) -> Fetch | CheckPrefix | Page:
        """What the merge needs next, or the page once it is decided."""
        if self._max_keys <= 0:
            return Page((), False)  # S3 answers max-keys=0 with IsTruncated false
        # One entry beyond max-keys is looked for: it is what makes the page truncated.
        while len(self._taken) <= self._max_keys:
            if not self._remote and not self._remote_done:
                if len(self._taken) == self._max_keys and self._surely_more():
                    # Truncated, known without asking the remote for one entry more.
                    return Page(tuple(self._taken), True)
                return Fetch(self._remote_start(), self._fetch_size())
            remote = self._remote[0] if self._remote else None
            local = self._local[0] if self._local else None
            if local is not None and (remote is None or local.name <= remote.name):
                self._take(self._local.popleft())
            elif remote is not None:
                if remote.entry is None and self._needs_check(remote.name):
                    if remote.name not in self._live:
                        return CheckPrefix(remote.name)
                    if not self._live[remote.name]:
                        self._remote.popleft()
                        continue
                self._take(self._remote.popleft())
            else:
                break
        return Page(tuple(self._taken[: self._max_keys]), len(self._taken) > self._max_keys)

    def receive_page(
        self, keys: Sequence[ObjectEntry], prefixes: Sequence[str], is_truncated: bool
    ) -> None:
        """A remote page answered to the last ``Fetch``: keys and prefixes each sorted.

        Raises ``InternalError`` when a truncated page gives no position to continue from."""
        page = [Listed(e.key, e) for e in keys] + [Listed(p) for p in prefixes]
        page.sort(key=lambda e: e.name)
        if is_truncated and not (page and _beyond(page[-1].name, *self._floor)):
            raise InternalError("The remote listing did not advance.")
        for item in page:
            if item.entry is not None and item.entry.owner is not None:
                self.owner = item.entry.owner
            # A remote may repeat a prefix the position is inside of; pending keys replace
            # or remove remote ones.
            if not _beyond(item.name, *self._floor):
                continue
            if item.entry is not None and (item.name in self._puts or item.name in self._deletes):
                continue
            self._remote.append(item)
        if page and _beyond(page[-1].name, *self._floor):
            self._floor = (page[-1].name, page[-1].entry is None)
        self._remote_done = not is_truncated

    def receive_verdict(self, prefix: str, live: bool) -> None:
        """The answer to ``CheckPrefix(prefix)``."""
        self._live[prefix] = live

    def _surely_more(self) -> bool:
        """With the page full and the remote's entries so far all merged: whether one more
        entry certainly exists. A pending put still to merge is one (unless it is the common
        prefix just taken); so is the remote's "truncated" when no pending delete beyond what
        it sent can hide its next entry, and that entry cannot repeat the last one taken (a
        common prefix taken from pending puts, past the remote's position, could come back)."""
        last = self._taken[-1].name
        if len(self._local) > 1 or (self._local and self._local[0].name != last):
            return True
        if any(_beyond(key, *self._floor) for key in self._deleted_keys):
            return False
        return not _beyond(last, *self._floor)

    def _remote_start(self) -> str | None:
        floor, is_prefix = self._floor
        return floor + BEYOND if floor is not None and is_prefix else floor

    def _fetch_size(self) -> int:
        # Each pending key can hide at most one remote entry: ask enough to fill the page
        # in one round whenever the remote's own limit allows.
        wanted = self._max_keys + 1 - len(self._taken)
        return min(_REMOTE_PAGE_LIMIT, wanted + len(self._put_keys) + len(self._deleted_keys))

    def _needs_check(self, prefix: str) -> bool:
        """A remote prefix may be empty now only if keys under it were deleted locally and
        none was written locally."""
        return _has_under(self._deleted_keys, prefix) and not _has_under(self._put_keys, prefix)

    def _take(self, item: Listed) -> None:
        # The same common prefix can come from both sides: it is one entry.
        if not self._taken or self._taken[-1].name != item.name:
            self._taken.append(item)
