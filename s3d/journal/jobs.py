"""Journal jobs in memory, and the pure rules that order them.

A ``Job`` is one acknowledged change (put, multipart, delete, tagging) waiting to be applied to
the remote. ``Queue`` keeps them per key in acknowledgement order. The rules, all pure:

- per-key order: only the oldest job of a key may run, and never two of one key at once;
- supersession: a newer put, multipart or delete of a key makes its older jobs that are not
  running pointless (skipped, never applied after it); a newer tagging supersedes an older one;
- a job ``held`` while a decision about it is being committed (its supersession, its tags
  rewritten) is not started, and holds its key: deciding and the uploader's pick never race;
- retries: capped exponential backoff with jitter (``backoff``), for failures ``retryable``
  says are passing; anything else dead-letters the job, which then holds its key's later
  jobs back until it is retried or discarded (or superseded).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from s3d.journal.records import REPLACING, Change
from s3d.protocol.errors import S3Error
from s3d.telemetry import SpanRef

_RETRYABLE_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequests",
        "OperationAborted",
    }
)


@dataclass(slots=True)
class Job:
    seq: int
    bucket: str
    key: str
    change: Change
    size: int
    created: float
    attempts: int = 0
    dead: bool = False
    error: str | None = None
    next_attempt: float = 0.0
    running: bool = False
    held: bool = False
    """A decision about this job is being made durable: the uploader must not start it."""
    link: SpanRef | None = None
    """The span of the request that acknowledged the change, for its upload's span to link
    to. In memory only: a job read back after a restart has none."""

    @property
    def kind(self) -> str:
        return self.change.kind

    @property
    def where(self) -> tuple[str, str]:
        return self.bucket, self.key


@dataclass(slots=True)
class Queue:
    """Jobs per key, each list in acknowledgement order."""

    by_key: dict[tuple[str, str], list[Job]] = field(default_factory=dict)

    def add(self, job: Job) -> None:
        self.by_key.setdefault(job.where, []).append(job)

    def remove(self, job: Job) -> None:
        jobs = self.by_key.get(job.where)
        if jobs is not None and job in jobs:
            jobs.remove(job)
            if not jobs:
                del self.by_key[job.where]

    def of(self, bucket: str, key: str) -> list[Job]:
        return self.by_key.get((bucket, key), [])

    def all(self) -> Iterable[Job]:
        for jobs in self.by_key.values():
            yield from jobs

    def newest_state(self, bucket: str, key: str) -> Job | None:
        """The newest put, multipart or delete of the key: what a read must answer."""
        for job in reversed(self.of(bucket, key)):
            if job.kind in REPLACING:
                return job
        return None


def superseded(queued: list[Job], new_kind: str) -> list[Job]:
    """The jobs of one key that a new job of ``new_kind`` makes pointless: every older job
    not running, for a put, multipart or delete; older taggings for a tagging. A held job is
    another decision's: it is left to that one."""
    free = [job for job in queued if not (job.running or job.held)]
    if new_kind in REPLACING:
        return free
    if new_kind == "tagging":
        return [job for job in free if job.kind == "tagging"]
    return []


def runnable(queue: Queue, now: float, slots: int) -> list[Job]:
    """Up to ``slots`` jobs to start now: the oldest job of each key, if no job of that key is
    running, it is not dead-lettered and its backoff has passed; oldest first."""
    if slots <= 0:
        return []
    ready = []
    for jobs in queue.by_key.values():
        head = jobs[0]
        if head.dead or any(job.running or job.held for job in jobs):
            continue
        if head.next_attempt <= now:
            ready.append(head)
    ready.sort(key=lambda job: job.seq)
    return ready[:slots]


YIELD_SHARE = 4
"""While acknowledgements are under way, uploads start only up to this share of
``upload_concurrency`` (at least one): an acknowledgement is what a client waits for, an
upload is latency-tolerant, and both share one event loop."""


def upload_slots(concurrency: int, acknowledging: int) -> int:
    """How many uploads may run now: all of ``concurrency`` when no acknowledgement is under
    way, else a share of it (never none: a steady stream of writes still drains)."""
    return concurrency if acknowledging == 0 else max(1, concurrency // YIELD_SHARE)


def next_wake(queue: Queue, now: float) -> float | None:
    """When the earliest job in backoff becomes runnable; None if none is waiting."""
    waits = [
        jobs[0].next_attempt
        for jobs in queue.by_key.values()
        if not (jobs[0].dead or jobs[0].running or jobs[0].held) and jobs[0].next_attempt > now
    ]
    return min(waits) if waits else None


def retryable(error: BaseException) -> bool:
    """Passing failures (5xx, throttling, timeouts, connections) are retried; the rest
    (AccessDenied, NoSuchBucket, InvalidArgument…) are permanent."""
    if not isinstance(error, S3Error):
        return True
    return (
        error.http_status >= 500
        or error.error_code in _RETRYABLE_CODES
        or (error.http_status in (408, 429))
    )


def backoff(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempts + 1``: exponential, capped, with jitter
    (between half and all of the exponential step, so retries spread but never spin)."""
    step = min(cap, base * 2.0 ** max(0, attempts - 1))
    return float(step * rng.uniform(0.5, 1.0))


def held_back(queue: Queue) -> list[Job]:
    """The jobs waiting behind a dead letter of their key: none can run until it is retried
    or discarded, so a flush that waits for them would wait forever."""
    held = []
    for jobs in queue.by_key.values():
        dead = next((i for i, job in enumerate(jobs) if job.dead), None)
        if dead is not None:
            held += [job for job in jobs[dead + 1 :] if not job.dead]
    return held


def tried(queue: Queue, keys: Iterable[tuple[str, str]]) -> bool:
    """Whether each of ``keys`` has had its oldest job tried since it was released: gone
    (uploaded), dead-lettered, or failed at least once (retrying)."""
    for where in keys:
        jobs = queue.by_key.get(where)
        if jobs and not (jobs[0].dead or (jobs[0].attempts and not jobs[0].running)):
            return False
    return True
