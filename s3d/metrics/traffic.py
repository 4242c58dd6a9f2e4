"""Request and remote-call metrics, recorded as they happen (see the package doc).

Owns its counters and histograms, registered in one daemon's registry. The label children
are looked up once per label set and kept: a recording is a dict lookup and a few additions.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from s3d.protocol import errors
from s3d.protocol.errors import S3Error, ServiceUnavailable

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
"""Seconds: warm cached reads answer in well under a millisecond, uploads take seconds."""
UNKNOWN = "unknown"
"""The operation of a request refused before it was named (a bad signature, a bad path)."""
OTHER = "Other"
"""The error code of a remote error s3d has no class for: the remote's text is not a label."""


def status_class(status: int) -> str:
    """``2xx`` … ``5xx``: the status label (499, a client gone, is a ``4xx``)."""
    return f"{status // 100}xx"


def _known_codes() -> frozenset[str]:
    found: set[str] = set()
    pending: list[type[S3Error]] = [errors.S3Error]
    while pending:
        kind = pending.pop()
        found.add(kind.code)
        pending += kind.__subclasses__()
    return frozenset(found)


class RequestMetrics:
    """``s3d_requests_total``, ``s3d_request_duration_seconds``, bytes received and sent."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "s3d_requests",
            "Requests answered, by S3 (or s3d admin) operation and status class.",
            ("operation", "status"),
            registry=registry,
        )
        self._duration = Histogram(
            "s3d_request_duration_seconds",
            "Time from a request's arrival to its answer (streamed bodies: to their end).",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._received = Counter(
            "s3d_received_bytes",
            "Request body bytes received (Content-Length), by operation.",
            ("operation",),
            registry=registry,
        )
        self._sent = Counter(
            "s3d_sent_bytes",
            "Response body bytes sent, by operation.",
            ("operation",),
            registry=registry,
        )
        self._children: dict[str, tuple[Histogram, Counter, Counter]] = {}
        self._counts: dict[tuple[str, int], Counter] = {}

    def observe(self, action: str, status: int, seconds: float, received: int, sent: int) -> None:
        """One answered request (called where the access-log line is written)."""
        operation = action if action != "-" else UNKNOWN
        children = self._children.get(operation)
        if children is None:
            children = (
                self._duration.labels(operation),
                self._received.labels(operation),
                self._sent.labels(operation),
            )
            self._children[operation] = children
        count = self._counts.get((operation, status))
        if count is None:
            count = self._requests.labels(operation, status_class(status))
            self._counts[(operation, status)] = count
        count.inc()
        duration, received_bytes, sent_bytes = children
        duration.observe(seconds)
        if received:
            received_bytes.inc(received)
        if sent:
            sent_bytes.inc(sent)


class RemoteCallMetrics:
    """``s3d_remote_call_duration_seconds``, ``s3d_remote_call_errors_total`` and
    ``s3d_remote_unavailable`` (the remote's state as the last call found it)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._duration = Histogram(
            "s3d_remote_call_duration_seconds",
            "Time of one remote S3 call, retries included, to its answer's headers.",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._errors = Counter(
            "s3d_remote_call_errors",
            "Remote S3 calls that failed, by operation and S3 error code.",
            ("operation", "code"),
            registry=registry,
        )
        self._unavailable = Gauge(
            "s3d_remote_unavailable",
            "1 when the last remote call failed as ServiceUnavailable (not reached, past its "
            "deadline, or the remote said so), 0 when it was answered otherwise.",
            registry=registry,
        )
        self._codes = _known_codes()
        self._durations: dict[str, Histogram] = {}

    def observe(self, operation: str, seconds: float, error: S3Error | None) -> None:
        """One remote call, answered or failed (``error``)."""
        duration = self._durations.get(operation)
        if duration is None:
            duration = self._durations[operation] = self._duration.labels(operation)
        duration.observe(seconds)
        # Any other answer, an error document included, means the remote is there.
        self._unavailable.set(1 if isinstance(error, ServiceUnavailable) else 0)
        if error is not None:
            code = error.error_code if error.error_code in self._codes else OTHER
            self._errors.labels(operation, code).inc()
