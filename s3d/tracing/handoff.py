"""Export in a process of its own: the daemon hands its spans over a pipe, a child process
(``s3d.tracing.worker``) encodes them to OTLP and sends them to the collector. The request
spans come as light spans (``s3d/telemetry/light.py``) queued here; the SDK's spans (fills,
remote calls, uploads) through the batch processor and ``HandoffExporter``.

Why: encoding a span to OTLP protobuf costs about twice as much CPU as creating it, and done
on the batch processor's thread it holds Python's interpreter lock, so the event loop waits
behind each batch at its every system call. Here the daemon only flattens each span into a
tuple of plain values and pickles the batch (a few µs a span); encoding, sending and the
exporter's retries run in the child, on another core.

The pipe carries length-prefixed pickles (``pipe.py``): first a ``Header`` (the plan, the
resource, the instrumentation scope), then one list of flattened spans per batch. A child
that is gone (killed, crashed) loses the spans in flight: that is logged once and batches are
dropped from then on; requests are never affected. Stop closes the pipe: the child exports
what it holds, then exits (waited for up to ``STOP_TIMEOUT``).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.trace import SpanKind

from s3d.telemetry import FlatSpan, Value
from s3d.tracing.choices import TracePlan
from s3d.tracing.pipe import Header, flatten, write_message

log = logging.getLogger("s3d.tracing")
STOP_TIMEOUT = 15.0
"""Seconds the child may take to export what it holds at stop (the OTLP timeout is 10)."""


class Handoff:
    """The export process and the pipe to it; also the light spans' ``Recorder``: they queue
    here (bounded: past ``OTEL_BSP_MAX_QUEUE_SIZE`` they are dropped and counted) and a thread
    of this object sends them in batches, as the batch processor does with SDK spans."""

    def __init__(
        self,
        plan: TracePlan,
        resource: Resource,
        scope: tuple[str, str | None],
        sampler: Sampler,
        env: Mapping[str, str],
    ) -> None:
        self._sampler = sampler
        self._child = subprocess.Popen(
            [sys.executable, "-m", "s3d.tracing.worker"], stdin=subprocess.PIPE, env=dict(env)
        )
        self._lock = threading.Lock()
        self._gone = False
        self._queue: deque[FlatSpan] = deque()
        self._limits = _limits(env)
        self.dropped = 0
        self._wake = threading.Event()
        self._closing = False
        self.send(Header(plan, dict(resource.attributes), scope))
        self._thread = threading.Thread(target=self._run, name="s3d-trace-handoff", daemon=True)
        self._thread.start()

    def sample(
        self, parent: Context | None, trace_id: int, name: str, attributes: Mapping[str, Value]
    ) -> tuple[bool, bool, Any]:
        result = self._sampler.should_sample(parent, trace_id, name, SpanKind.SERVER, attributes)
        decision = result.decision
        sampled = decision is Decision.RECORD_AND_SAMPLE
        return sampled or decision is Decision.RECORD_ONLY, sampled, result.trace_state

    def submit(self, span: FlatSpan) -> None:
        """Queue a finished light span (on the event loop: an append, no I/O)."""
        queue, (_delay, size, batch) = self._queue, self._limits
        if len(queue) >= size:
            self.dropped += 1
            return
        queue.append(span)
        if len(queue) >= batch and not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        delay, _size, batch = self._limits
        while not self._closing:
            self._wake.wait(delay)
            self._wake.clear()
            self._drain(batch)
        self._drain(batch)

    def _drain(self, batch: int) -> None:
        queue = self._queue
        while queue:
            self.send([queue.popleft() for _ in range(min(batch, len(queue)))])

    def send(self, message: object) -> bool:
        """Write ``message`` to the export process (from any thread). False once it is gone."""
        with self._lock:
            if self._gone:
                return False
            stdin = self._child.stdin
            assert stdin is not None
            try:
                write_message(stdin, message)
            except (BrokenPipeError, ValueError):
                self._gone = True
                log.warning(
                    "tracing: the export process ended (status %s); spans are dropped from now on",
                    self._child.poll(),
                )
                return False
            return True

    def close(self) -> None:
        """Send what is queued, close the pipe and wait for the export process to export what
        it holds (at most ``STOP_TIMEOUT``; then it is killed and its spans are lost)."""
        self._closing = True
        self._wake.set()
        self._thread.join(STOP_TIMEOUT)
        if self.dropped:
            log.warning("tracing: %d request spans dropped (queue full)", self.dropped)
        with self._lock:
            self._gone = True
            if self._child.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    self._child.stdin.close()
        try:
            self._child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("tracing: the export process did not finish in %.0f s", STOP_TIMEOUT)
            self._child.kill()
            self._child.wait()


class HandoffExporter(SpanExporter):
    """The batch processor's exporter (called on its thread): SDK spans down the same pipe.
    Its shutdown leaves the pipe open: ``Handoff.close`` ends it, after the last batch."""

    def __init__(self, handoff: Handoff) -> None:
        self._handoff = handoff

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = self._handoff.send([flatten(span) for span in spans])
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _limits(env: Mapping[str, str]) -> tuple[float, int, int]:
    """(schedule delay in seconds, queue size, batch size) as the ``OTEL_BSP_*`` variables
    set them for the batch processor (its defaults otherwise)."""

    def number(name: str, default: int) -> int:
        try:
            return max(1, int(env.get(name, default)))
        except ValueError:
            return default

    return (
        number("OTEL_BSP_SCHEDULE_DELAY", 5000) / 1000,
        number("OTEL_BSP_MAX_QUEUE_SIZE", 2048),
        number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512),
    )
