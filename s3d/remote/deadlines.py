"""How long one remote call may last, retries included.

Every attempt is bounded by ``remote.connect_timeout`` (opening the connection) and
``remote.read_timeout`` (no byte for that long: before the first byte of the answer, once the
request is sent, or between reads of its body). Botocore's standard retry mode then retries a
call that timed out or could not connect, up to ``remote.max_attempts`` attempts with
exponential backoff of up to 20 s between them: against a remote that accepts connections and
never answers, five attempts of a 60 s read timeout would hold a call for over five minutes.

``RetryWindow`` vetoes any retry once ``remote.retry_window`` seconds have passed since the
call began, so a call lasts at most about ``retry_window`` + one backoff (20 s at most) +
``connect_timeout`` + ``read_timeout``, however many attempts are allowed. Callers that must
answer sooner (a listing, a cache revalidation) set their own deadline around the call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

_STARTED = "s3d_call_started"
"""Key of the call's start time in botocore's request context (shared by its attempts)."""


class RetryWindow:
    """Botocore event handlers bounding the time in which a call may be retried."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock

    def register(self, events: Any) -> None:
        """Install on a client's event system (``client.meta.events``)."""
        events.register_first("before-call.s3", self.started)
        # First, so that its False is the answer botocore takes: it uses the first handler
        # response that is not None, and False means "do not retry".
        events.register_first("needs-retry.s3", self.needs_retry)

    def started(self, context: dict[str, Any], **_: Any) -> None:
        """``before-call``: note when the call began (once, before its first attempt)."""
        context.setdefault(_STARTED, self._clock())

    def needs_retry(self, request_dict: dict[str, Any], **_: Any) -> bool | None:
        """``needs-retry``: False once the window has passed, else no say (None)."""
        started = request_dict.get("context", {}).get(_STARTED)
        if started is not None and self._clock() - started >= self.seconds:
            return False
        return None
