"""The journal's pure rules: per-key order, supersession, backoff, what is retried."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from s3d.journal.jobs import (
    Job,
    Queue,
    backoff,
    next_wake,
    retryable,
    runnable,
    superseded,
    upload_slots,
)
from s3d.journal.records import Change, Delete, Multipart, Put, Tagging
from s3d.protocol import errors

_CHANGES: dict[str, Change] = {
    "put": Put((), (), '"e"', datetime(2026, 1, 1, tzinfo=UTC)),
    "multipart": Multipart((), (), '"e-1"', datetime(2026, 1, 1, tzinfo=UTC)),
    "delete": Delete(),
    "tagging": Tagging(()),
}


def job(seq: int, key: str = "k", kind: str = "put", **state: object) -> Job:
    made = Job(seq, "b", key, _CHANGES[kind], 0, 0.0)
    for name, value in state.items():
        setattr(made, name, value)
    return made


def queue(*jobs: Job) -> Queue:
    q = Queue()
    for j in jobs:
        q.add(j)
    return q


def test_only_the_oldest_job_of_a_key_runs_and_oldest_keys_first() -> None:
    a1, a2, b1, c1 = job(1, "a"), job(2, "a"), job(3, "b"), job(4, "c")
    assert runnable(queue(a1, a2, b1, c1), now=0.0, slots=8) == [a1, b1, c1]
    assert runnable(queue(a1, a2, b1, c1), now=0.0, slots=2) == [a1, b1]
    assert runnable(queue(a1), now=0.0, slots=0) == []


def test_a_running_dead_or_backing_off_head_holds_its_key() -> None:
    running = queue(job(1, "a", running=True), job(2, "a"))
    assert runnable(running, 0.0, 8) == []
    dead = queue(job(1, "a", dead=True), job(2, "a"))
    assert runnable(dead, 0.0, 8) == []
    waiting = job(1, "a", next_attempt=10.0)
    assert runnable(queue(waiting, job(2, "a")), now=5.0, slots=8) == []
    assert runnable(queue(waiting), now=10.0, slots=8) == [waiting]
    assert next_wake(queue(waiting, job(3, "b", next_attempt=7.0)), now=5.0) == 7.0
    assert next_wake(queue(job(1, "a")), now=5.0) is None


@pytest.mark.parametrize("kind", ["put", "multipart", "delete"])
def test_a_replacing_change_supersedes_everything_not_running(kind: str) -> None:
    running, older, tags = job(1, running=True), job(2), job(3, kind="tagging")
    assert superseded([running, older, tags], kind) == [older, tags]


def test_a_tagging_supersedes_only_older_taggings() -> None:
    put, tags, running_tags = job(1), job(2, kind="tagging"), job(3, kind="tagging", running=True)
    assert superseded([put, tags, running_tags], "tagging") == [tags]
    assert superseded([put, tags], "other") == []


def test_newest_state_skips_taggings() -> None:
    put, tags = job(1), job(2, kind="tagging")
    assert queue(put, tags).newest_state("b", "k") is put
    assert queue(tags).newest_state("b", "k") is None


def test_queue_forgets_a_key_whose_last_job_left() -> None:
    q = queue(job(1, "a"))
    q.remove(q.of("b", "a")[0])
    assert q.by_key == {}
    q.remove(job(9, "zz"))  # absent: nothing happens
    assert list(q.all()) == []


def test_backoff_doubles_is_capped_and_jittered_within_half_to_all() -> None:
    rng = random.Random(7)
    for attempts, step in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 60.0), (40, 60.0)]:
        waits = [backoff(attempts, 1.0, 60.0, rng) for _ in range(200)]
        assert min(waits) >= step / 2
        assert max(waits) <= step
        assert max(waits) - min(waits) > step / 10  # spread, not one value


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (errors.InternalError(), True),
        (errors.ServiceUnavailable(), True),
        (errors.from_code("SlowDown", 503, "slow down"), True),
        (errors.from_code("RequestTimeout", 400, "timeout"), True),
        (errors.from_code("TooManyRequests", 429, "later"), True),
        (errors.AccessDenied(), False),
        (errors.NoSuchBucket(), False),
        (errors.from_code("InvalidArgument", 400, "bad"), False),
        (ConnectionResetError(), True),
    ],
)
def test_what_is_retried(error: BaseException, retried: bool) -> None:
    assert retryable(error) is retried


def test_uploads_yield_to_acknowledgements_but_never_stop() -> None:
    assert upload_slots(8, acknowledging=0) == 8
    assert upload_slots(8, acknowledging=3) == 2
    assert upload_slots(2, acknowledging=1) == 1  # a steady stream of writes still drains
