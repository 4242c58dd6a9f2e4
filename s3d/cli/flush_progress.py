"""How far ``s3d flush`` has got, shown on stderr while it follows the journal.

On a terminal, one line redrawn in place: a bar of the changes done, then changes and bytes
uploaded of those pending. Elsewhere (a log, a pipe), a plain line every ``REPORT_EVERY``
seconds. Counted from the journal's state when the flush began: changes done are those the
journal finished with since (uploaded, dead-lettered or superseded), bytes uploaded how far the
pending bytes fell. Changes written during the flush join the total as they come.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from s3d.cli.status_text import human_bytes

REPORT_EVERY = 5.0
"""Seconds between two progress lines when stderr is not a terminal."""
BAR_WIDTH = 30
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

    def __init__(self, journal: dict[str, Any], stream: TextIO, clock: Callable[[], float]):
        self.start_queue = number(journal, "queue")
        self.start_changes = changes(journal)
        self.bytes_done = 0.0
        self._start_bytes = number(journal, "pending_bytes")
        self._stream = stream
        self._clock = clock
        self._tty = stream.isatty()
        self._last_line = clock()
        self._closed = False
        if self.start_queue:
            self._write(journal)

    def show(self, journal: dict[str, Any]) -> None:
        """Redraw the line (terminal), or write one if ``REPORT_EVERY`` seconds have passed."""
        self.bytes_done = max(self.bytes_done, self._start_bytes - number(journal, "pending_bytes"))
        if self._closed or not self.start_queue:
            return
        if self._tty or self._clock() - self._last_line >= REPORT_EVERY:
            self._write(journal)

    def close(self, journal: dict[str, Any]) -> None:
        """The last state, and the end of the line on a terminal."""
        if self._closed:
            return
        self.show(journal)
        self._closed = True
        if self._tty and self.start_queue:
            self._stream.write("\n")
            self._stream.flush()

    def _write(self, journal: dict[str, Any]) -> None:
        done = max(0.0, changes(journal) - self.start_changes)
        total = max(done + number(journal, "queue"), 1.0)
        sizes = f"{human_bytes(self.bytes_done)}/{human_bytes(self._start_bytes)}"
        if self._tty:
            filled = round(BAR_WIDTH * done / total)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self._stream.write(
                f"\rflushing [{bar}] {done:,.0f}/{total:,.0f} changes  {sizes}\x1b[K"
            )
        else:
            self._stream.write(
                f"flushing: {done:,.0f} of {total:,.0f} changes done, {sizes} uploaded\n"
            )
            self._last_line = self._clock()
        self._stream.flush()
