"""Progress of a long command (``s3d flush``, ``s3d drs import|export|ls``) on stderr.

On a terminal, tqdm draws one line redrawn in place: a bar when the total is known, the count,
the rate and the time left. tqdm rather than rich: it does exactly this (rate smoothing, ETA,
terminal width) in one small pure-Python package without dependencies, where rich brings
pygments and markdown-it for tables and colour s3d does not print; the production image stays
small. Elsewhere (a log, a pipe, CI), plain lines, stable and greppable, one every
``REPORT_EVERY`` seconds:

    flushing: 120 of 300 changes done, 1 MiB/3 MiB uploaded, 40 changes/s, 5s left

``close`` shows the final count, so that the last progress line agrees with the summary the
command prints after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm

REPORT_EVERY = 5.0
"""Seconds between two progress lines when the stream is not a terminal."""


class Meter:
    """``done`` of ``total`` (None: not known) ``unit``s, shown on ``stream`` as ``label``
    goes. Off a terminal nothing is written by a command done within ``REPORT_EVERY``
    (unless ``at_once``). ``close`` may be called more than once."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
        *,
        at_once: bool = False,
    ) -> None:
        self._stream, self._label, self._unit, self._clock = stream, label, unit, clock
        self._at_once = at_once
        """Off a terminal, the first line at once rather than after ``REPORT_EVERY``: a
        command that may wait long (flush) says what it waits for; a quick one says
        nothing."""
        self._started = self._last_line = clock()
        self._lines = 0
        self._closed = False
        self._bar: Any = None
        if stream.isatty():
            self._bar = tqdm(
                file=stream, desc=label, unit=f" {unit}s", dynamic_ncols=True, mininterval=0.2
            )

    def update(self, done: float, total: float | None = None, extra: str = "") -> None:
        """Redraw (terminal), or write a line if ``REPORT_EVERY`` seconds have passed (or this
        is the first)."""
        if self._closed:
            return
        if self._bar is not None:
            self._draw(done, total, extra)
        elif (self._at_once and not self._lines) or self._clock() - self._last_line >= REPORT_EVERY:
            self._line(done, total, extra)

    def close(self, done: float, total: float | None = None, extra: str = "") -> None:
        """The final state, whatever the time since the last line (once a line was written
        off a terminal), then the end of the display."""
        if self._closed:
            return
        if self._bar is not None:
            self._draw(done, total, extra)
            self._bar.close()
        elif self._lines:
            self._line(done, total, extra)
        self._closed = True

    def _draw(self, done: float, total: float | None, extra: str) -> None:
        bar = self._bar
        bar.total = None if total is None else int(max(total, done))
        bar.n = int(done)
        bar.set_postfix_str(extra, refresh=False)
        bar.refresh()

    def _line(self, done: float, total: float | None, extra: str) -> None:
        unit = self._unit + ("" if total == 1 or (total is None and done == 1) else "s")
        count = f"{done:,.0f}" if total is None else f"{done:,.0f} of {total:,.0f}"
        text = f"{self._label}: {count} {unit} done{extra and ', ' + extra}"
        elapsed = self._clock() - self._started
        if done > 0 and elapsed > 0:
            rate = done / elapsed
            text += f", {rate:,.1f} {self._unit}s/s"
            if total is not None and total > done:
                text += f", {_duration((total - done) / rate)} left"
        self._stream.write(text + "\n")
        self._stream.flush()
        self._last_line = self._clock()
        self._lines += 1


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
