"""The progress of long commands (``s3d.cli.progress``): tqdm on a terminal, plain lines with
rate and time left elsewhere, and a last line that agrees with the final count."""

from __future__ import annotations

import io

from s3d.cli.progress import REPORT_EVERY, Meter
from tests.test_flush_progress import Clock, Terminal


def test_elsewhere_plain_lines_with_rate_and_time_left_then_the_final_count() -> None:
    out, clock = io.StringIO(), Clock()
    meter = Meter(out, "importing", "record", clock, at_once=True)
    meter.update(0, 200_000)
    clock.now += 1
    meter.update(20_000, 200_000)  # too soon after the first line
    clock.now += REPORT_EVERY
    meter.update(194_000, 200_000)
    clock.now += 0.5
    meter.close(200_000, 200_000)
    meter.close(1, 1)  # closed: nothing more
    assert out.getvalue().splitlines() == [
        "importing: 0 of 200,000 records done",
        "importing: 194,000 of 200,000 records done, 32,333.3 records/s, 0s left",
        "importing: 200,000 of 200,000 records done, 30,769.2 records/s",
    ]


def test_an_unknown_total_shows_the_count_and_the_rate() -> None:
    out, clock = io.StringIO(), Clock()
    meter = Meter(out, "exporting", "record", clock, at_once=True)
    meter.update(1)
    clock.now += 10
    meter.close(5_000, extra="12 MiB")
    assert out.getvalue().splitlines() == [
        "exporting: 1 record done",  # no time has passed: no rate yet
        "exporting: 5,000 records done, 12 MiB, 500.0 records/s",
    ]


def test_a_quick_command_says_nothing_off_a_terminal_a_slow_one_does() -> None:
    quick, slow, clock = io.StringIO(), io.StringIO(), Clock()
    meter = Meter(quick, "listing", "record", clock)
    meter.update(2, 2)
    meter.close(2, 2)
    meter = Meter(slow, "listing", "record", clock)
    meter.update(1_000, 3_000)
    clock.now += REPORT_EVERY
    meter.update(2_000, 3_000)
    meter.close(3_000, 3_000)
    assert quick.getvalue() == ""
    assert slow.getvalue().splitlines() == [
        "listing: 2,000 of 3,000 records done, 400.0 records/s, 2s left",
        "listing: 3,000 of 3,000 records done, 600.0 records/s",
    ]


def test_nothing_is_written_off_a_terminal_when_no_line_was_due() -> None:
    out = io.StringIO()
    Meter(out, "listing", "record").close(10, 10)
    assert out.getvalue() == ""


def test_on_a_terminal_tqdm_redraws_with_the_rate_and_ends_on_the_final_count() -> None:
    terminal = Terminal()
    meter = Meter(terminal, "flushing", "change")
    meter.update(1, 4, extra="0 B/40 KiB uploaded")
    meter.close(4, 4, extra="40 KiB/40 KiB uploaded")
    frames = terminal.getvalue().split("\r")
    assert frames[-1].endswith("\n")
    last = frames[-1]
    assert last.startswith("flushing: 100%")
    assert "4/4" in last
    assert " changes/s" in last
    assert "40 KiB/40 KiB uploaded" in last
    assert any("1/4" in frame for frame in frames)
