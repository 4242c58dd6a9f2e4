"""The native data path's retry policy: botocore's standard mode, decided without I/O."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3d.remote.retrying import MAX_BACKOFF, RetryPolicy, retryable_answer


def test_transient_and_throttling_answers_are_retried_others_not() -> None:
    assert retryable_answer(503, "SlowDown")
    assert retryable_answer(500, "InternalError")
    assert retryable_answer(400, "RequestTimeout")
    assert retryable_answer(503, "ServiceUnavailable")
    assert not retryable_answer(404, "NoSuchKey")
    assert not retryable_answer(403, "AccessDenied")
    assert not retryable_answer(412, "PreconditionFailed")
    assert not retryable_answer(304, "NotModified")


def test_attempts_and_window_both_bound_retries() -> None:
    policy = RetryPolicy(max_attempts=3, window=20.0)
    assert policy.may_retry(1, started=0.0, now=1.0)
    assert policy.may_retry(2, started=0.0, now=19.9)
    assert not policy.may_retry(3, started=0.0, now=1.0)  # the third attempt was the last
    assert not policy.may_retry(1, started=0.0, now=20.0)  # the window has passed


@given(st.integers(min_value=1, max_value=64), st.floats(min_value=0, max_value=0.999999))
def test_backoff_grows_then_caps(attempt: int, draw: float) -> None:
    delay = RetryPolicy.backoff(attempt, draw)
    assert 0 <= delay <= min(2 ** (attempt - 1), MAX_BACKOFF)
    assert RetryPolicy.backoff(1, 0.5) == 0.5  # the first wait is rand(0, 1), as botocore's
