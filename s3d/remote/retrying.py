"""When the native data path retries a call: botocore's standard mode, as s3d configures it.

A call is retried when its attempt could not reach the remote (connection refused or reset,
connect or read timeout) or was answered with a transient or throttling error (500, 502,
503, 504; ``SlowDown``, ``RequestTimeout``…: the codes botocore's standard mode retries), up
to ``remote.max_attempts`` attempts in all, never once ``remote.retry_window`` seconds have
passed since the call began (``s3d/remote/deadlines.py``). Before attempt ``n + 1`` it waits a
random time in ``[0, min(2 ** (n - 1), 20))`` seconds. An answer's body is never retried: once
it is handed up, a failure mid-body is the reader's.

Not carried over from botocore: its retry quota (a token bucket that stops retrying when
most calls fail), which only matters to clients that would otherwise hammer an outage; s3d's
callers (the journal's backoff, the cache's revalidation deadline) already bound that.
Pure: the clock and the random draw are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BACKOFF = 20.0
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
RETRIED_CODES = frozenset(
    {
        # transient
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        # throttling
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` attempts (the first included) within ``window`` seconds."""

    max_attempts: int
    window: float

    def may_retry(self, attempt: int, started: float, now: float) -> bool:
        """Whether attempt ``attempt`` (1-based), failed, may be followed by another."""
        return attempt < self.max_attempts and now - started < self.window

    @staticmethod
    def backoff(attempt: int, draw: float) -> float:
        """Seconds to wait after failed attempt ``attempt``; ``draw`` uniform in [0, 1)."""
        return draw * min(2.0 ** (attempt - 1), MAX_BACKOFF)


def retryable_answer(status: int, code: str) -> bool:
    """Whether an error answer (its status and its document's ``Code``) is worth retrying."""
    return status in TRANSIENT_STATUSES or code in RETRIED_CODES
