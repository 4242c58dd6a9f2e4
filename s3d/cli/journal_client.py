"""``s3d flush`` and ``s3d journal retry|discard``: the journal's commands, run against a daemon.

Entry layer, over ``s3d.cli.admin_client`` (same endpoint and signing as ``s3d status``).
``flush`` asks ``POST /_s3d/flush`` without waiting (the daemon uploads every waiting change
now, whatever its backoff), then reads ``GET /_s3d/status`` every ``POLL`` seconds until the
journal's queue holds nothing it can upload (what waits behind a dead letter cannot be, until
it is retried or discarded), showing progress on stderr (``s3d.cli.flush_progress``). Its
outcome: 0 when the queue emptied and no change is dead-lettered; 1 when what remains are dead
letters (they are named, with the changes they hold back), when ``timeout`` passed first (then
the dead letters are named too), or when the daemon cannot be reached (``AdminClientError``,
which the caller reports). A write-through daemon has nothing to flush: 0.
Interrupting ``flush`` stops the following, not the flush: the daemon keeps uploading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlencode

from s3d.cli.admin_client import AdminEndpoint, fetch
from s3d.cli.flush_progress import Progress, changes, number
from s3d.cli.status_text import counted, dead_letter, human_bytes

POLL = 0.5
"""Seconds between two readings of the status while flushing."""
SHOWN_DEAD = 5
"""Dead letters named in the message of a flush the remote refused (then how many more)."""


def flush(
    endpoint: AdminEndpoint,
    timeout: float | None,
    out: TextIO,
    err: TextIO,
    clock: Callable[[], float] = time.monotonic,
    *,
    as_json: bool = False,
) -> int:
    """Flush the daemon's journal and follow it until its queue is empty (see the module
    doc); returns the exit code. ``as_json``: the outcome as one JSON document on ``out``
    (``outcome``: flushed, nothing, dead-letters, timeout or write-through) instead of a
    sentence; messages still go to ``err``. Raises AdminClientError."""
    mode = journal_of(fetch(endpoint, "status")).get("mode")
    if mode != "write-back":
        if as_json:
            out.write(json.dumps({"outcome": "write-through", "mode": mode}) + "\n")
        else:
            out.write(f"s3d runs {mode or 'without a journal'}: nothing to flush\n")
        return 0
    deadline = None if timeout is None else clock() + timeout
    journal = journal_of(fetch(endpoint, "flush", "POST"))
    progress = Progress(journal, err, clock)
    try:
        while flushable(journal) > 0:
            if deadline is not None and clock() >= deadline:
                progress.close(journal)
                refused = refused_message(journal)
                also = "" if refused is None else f"; {refused}"
                err.write(f"s3d: {_pending(journal)} still pending after {timeout:g}s{also}\n")
                if as_json:
                    out.write(_summary("timeout", journal, progress))
                return 1
            time.sleep(POLL if deadline is None else max(0.0, min(POLL, deadline - clock())))
            journal = journal_of(fetch(endpoint, "status"))
            progress.show(journal)
    finally:
        progress.close(journal)
    if not as_json:
        return _outcome(journal, progress, out, err)
    refused = refused_message(journal)
    if refused is not None:
        err.write(f"s3d: {refused}\n")
    done = changes(journal) - progress.start_changes
    outcome = (
        "dead-letters" if refused else "flushed" if done or progress.start_queue else "nothing"
    )
    out.write(_summary(outcome, journal, progress))
    return 1 if refused else 0


def _summary(outcome: str, journal: dict[str, Any], progress: Progress) -> str:
    """``s3d flush --json``: what became of the flush, one JSON document."""
    document = {
        "outcome": outcome,
        "changes": int(changes(journal) - progress.start_changes),
        "bytes": int(progress.bytes_done),
        "pending": int(flushable(journal)),
        "pending_bytes": int(number(journal, "pending_bytes")),
        "dead_letters": int(number(journal, "dead_letters")),
        "held_by_dead_letters": int(number(journal, "held_by_dead_letters")),
        "dead": journal.get("dead") or [],
    }
    return json.dumps(document) + "\n"


def journal_of(document: dict[str, Any]) -> dict[str, Any]:
    """The journal section of a status or flush document ({} when there is none)."""
    journal = document.get("journal")
    return journal if isinstance(journal, dict) else {}


def flushable(journal: dict[str, Any]) -> float:
    """The changes a flush can still upload: those queued, less those held behind a dead
    letter."""
    return number(journal, "queue") - number(journal, "held_by_dead_letters")


def _pending(journal: dict[str, Any]) -> str:
    return (
        f"{counted(flushable(journal), 'change')} ({human_bytes(number(journal, 'pending_bytes'))})"
    )


def _outcome(journal: dict[str, Any], progress: Progress, out: TextIO, err: TextIO) -> int:
    refused = refused_message(journal)
    if refused is not None:
        err.write(f"s3d: {refused}\n")
        return 1
    done = changes(journal) - progress.start_changes
    if progress.start_queue == 0 and done == 0:
        out.write("nothing to flush: no change was pending\n")
    else:
        out.write(f"flushed: {counted(done, 'change')} ({human_bytes(progress.bytes_done)})\n")
    return 0


def refused_message(journal: dict[str, Any]) -> str | None:
    """What the remote refused, naming the first ``SHOWN_DEAD`` dead letters; None if nothing."""
    dead = int(number(journal, "dead_letters"))
    if not dead:
        return None
    listed = [d for d in journal.get("dead") or () if isinstance(d, dict)][:SHOWN_DEAD]
    named = [dead_letter(d) for d in listed]
    if dead > len(listed):
        named.append(f"and {dead - len(listed):,} more")
    held = number(journal, "held_by_dead_letters")
    behind = f"; {counted(held, 'later change')} of their keys wait behind them" if held else ""
    return (
        f"what remains are dead letters: the remote refused {counted(dead, 'change')}: "
        f"{'; '.join(named)}{behind}; see `s3d journal retry|discard`"
    )


_VERBS = {"retry": "retried", "discard": "discarded", "forget-uploads": "forgotten"}


def act_on_dead_letters(
    endpoint: AdminEndpoint, action: str, ids: list[int] | list[str] | None
) -> str:
    """``POST /_s3d/journal/<action>`` (``retry`` or ``discard`` for the dead letters
    ``ids``, ``forget-uploads`` for the remote uploads ``ids``; None: all of them); the line
    that says what happened. Raises AdminClientError."""
    query = "" if ids is None else "?" + urlencode([("id", str(i)) for i in ids])
    document = fetch(endpoint, f"journal/{action}{query}", "POST")
    verb = _VERBS[action]
    done = int(number(document, verb))
    noun = "remote upload" if action == "forget-uploads" else "dead letter"
    line = f"{verb} {counted(done, noun)}"
    if ids is not None and done < len(set(ids)):
        line += f" ({counted(len(set(ids)) - done, 'id')} named no {noun})"
    return line + "\n"
