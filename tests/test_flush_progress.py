"""``s3d flush``'s progress display, fed journal states by hand (tests/test_cli.py runs the
command against a real daemon, where stderr is a pipe)."""

from __future__ import annotations

import io

from s3d.cli.flush_progress import Progress, changes
from s3d.cli.progress import REPORT_EVERY

KiB = 1024


class Terminal(io.StringIO):
    """What ``s3d flush`` writes to when stderr is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(queue: int, pending: int, uploaded: int = 0, dead: int = 0) -> dict[str, object]:
    return {
        "mode": "write-back",
        "queue": queue,
        "pending_bytes": pending,
        "uploaded": uploaded,
        "dead_lettered": dead,
        "superseded": 1,
        "retried": 7,  # retries are not finished changes
    }


def test_changes_counts_what_the_journal_finished_with() -> None:
    assert changes(state(5, 0, uploaded=3, dead=2)) == 6
    assert changes({"uploaded": "x", "superseded": True}) == 0


def test_on_a_terminal_one_line_is_redrawn_in_place() -> None:
    terminal, clock = Terminal(), Clock()
    progress = Progress(state(4, 40 * KiB, uploaded=10), terminal, clock)
    progress.show(state(3, 30 * KiB, uploaded=11))
    progress.show(state(1, 10 * KiB, uploaded=12, dead=1))
    progress.close(state(0, 10 * KiB, uploaded=13, dead=1))
    progress.close(state(0, 0, uploaded=99))  # closed: nothing more
    frames = [f for f in terminal.getvalue().split("\r") if f.strip()]
    assert frames[-1].startswith("flushing: 100%")
    assert "4/4" in frames[-1]
    assert frames[-1].rstrip().endswith("30 KiB/40 KiB uploaded]")
    assert any("1/4" in f and "10 KiB/40 KiB uploaded" in f for f in frames)
    assert progress.bytes_done == 30 * KiB


def test_elsewhere_a_line_every_few_seconds_then_the_last_state() -> None:
    log, clock = io.StringIO(), Clock()
    progress = Progress(state(2, 2 * KiB), log, clock)
    clock.now += REPORT_EVERY - 1
    progress.show(state(1, KiB, uploaded=1))  # too soon for another line
    clock.now += 1
    progress.show(state(1, KiB, uploaded=1))
    progress.close(state(0, 0, uploaded=2))  # the last state, whatever the time
    assert log.getvalue().splitlines() == [
        "flushing: 0 of 2 changes done, 0 B/2 KiB uploaded",
        "flushing: 1 of 2 changes done, 1 KiB/2 KiB uploaded, 0.2 changes/s, 5s left",
        "flushing: 2 of 2 changes done, 2 KiB/2 KiB uploaded, 0.4 changes/s",
    ]
    assert progress.bytes_done == 2 * KiB


def test_changes_written_during_the_flush_join_the_total() -> None:
    terminal = Terminal()
    progress = Progress(state(2, 2 * KiB), terminal, Clock())
    progress.show(state(3, 4 * KiB, uploaded=1))  # one uploaded, two more written
    assert "1/4" in terminal.getvalue().split("\r")[-1]
    assert progress.bytes_done == 0  # pending bytes grew: none counted as uploaded


def test_nothing_pending_shows_nothing() -> None:
    for stream in (Terminal(), io.StringIO()):
        progress = Progress(state(0, 0), stream, Clock())
        progress.show(state(0, 0))
        progress.close(state(0, 0))
        assert stream.getvalue() == ""
