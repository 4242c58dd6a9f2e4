"""How far ``s3d flush`` has got, shown on stderr while it follows the journal
(``s3d.cli.progress``: a tqdm bar with rate and time left on a terminal, a plain line every few
seconds elsewhere).

Counted from the journal's state when the flush began: changes done are those the journal
finished with since (uploaded, dead-lettered or superseded), bytes uploaded how far the pending
bytes fell. Changes written during the flush join the total as they come.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from s3d.cli.progress import Meter
from s3d.cli.status_text import human_bytes

_FINISHED = ("uploaded", "dead_lettered", "superseded")


def number(document: dict[str, Any], name: str) -> float:
    """``document[name]`` when it is a number, else 0 (a daemon older or newer than this)."""
    value = document.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def changes(journal: dict[str, Any]) -> float:
    """The changes the journal has finished with since the daemon started."""
    return sum(number(journal, name) for name in _FINISHED)


class Progress:
    """Shows a flush's progress on ``stream``. ``close`` ends the display; it may be called
    more than once."""

    def __init__(
        self,
        journal: dict[str, Any],
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.start_queue = number(journal, "queue")
        self.start_changes = changes(journal)
        self.bytes_done = 0.0
        self._start_bytes = number(journal, "pending_bytes")
        self._meter = (
            Meter(stream, "flushing", "change", clock, at_once=True) if self.start_queue else None
        )
        self._closed = False
        if self._meter is not None:
            self._meter.update(*self._state(journal))

    def show(self, journal: dict[str, Any]) -> None:
        """Redraw the line (terminal), or write one when its time has come."""
        self.bytes_done = max(self.bytes_done, self._start_bytes - number(journal, "pending_bytes"))
        if self._meter is not None:
            self._meter.update(*self._state(journal))

    def close(self, journal: dict[str, Any]) -> None:
        """The last state, and the end of the display."""
        if self._closed:
            return
        self._closed = True
        self.bytes_done = max(self.bytes_done, self._start_bytes - number(journal, "pending_bytes"))
        if self._meter is not None:
            self._meter.close(*self._state(journal))

    def _state(self, journal: dict[str, Any]) -> tuple[float, float, str]:
        done = max(0.0, changes(journal) - self.start_changes)
        total = max(done + number(journal, "queue") - number(journal, "held_by_dead_letters"), 1)
        sizes = f"{human_bytes(self.bytes_done)}/{human_bytes(self._start_bytes)} uploaded"
        return done, total, sizes
