"""How `s3d drs import|export` shows its progress: in place on a terminal, a line now and then
elsewhere."""

from __future__ import annotations

import io

from s3d.cli.drs_client import REPORT_EVERY, Shown


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_line_is_redrawn_and_ended() -> None:
    out = Terminal()
    shown = Shown(out, clock=lambda: 0.0)
    shown.records(2000)
    shown.records(4000)
    shown.close()
    assert out.getvalue() == "\r2,000 records\r4,000 records\n"


def test_elsewhere_a_line_every_few_seconds() -> None:
    out = io.StringIO()
    now = [0.0]
    shown = Shown(out, clock=lambda: now[0])
    shown.records(2000)  # too soon after the start
    now[0] = REPORT_EVERY
    shown.records(4000)
    now[0] = REPORT_EVERY + 1
    shown.records(6000)  # too soon after the last line
    shown.close()
    assert out.getvalue() == "4,000 records\n"
