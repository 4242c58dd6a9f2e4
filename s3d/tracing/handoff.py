"""Export in a process of its own: the daemon hands its spans over a pipe, a child process
(``s3d.tracing.worker``) encodes them to OTLP and sends them to the collector.

Why: encoding a span to OTLP protobuf costs about twice as much CPU as creating it, and done
on the batch processor's thread it holds Python's interpreter lock, so the event loop waits
behind each batch at its every system call. Here the daemon only flattens each span into a
tuple of plain values and pickles the batch (a few µs a span); encoding, sending and the
exporter's retries run in the child, on another core.

The pipe carries length-prefixed pickles: first a ``Header`` (the plan, the resource, the
instrumentation scope), then one list of flattened spans per batch. Only the daemon writes
to it. A child that is gone (killed, crashed) loses the spans in flight: the exporter logs
it once and drops batches from then on; requests are never affected. Stop closes the pipe:
the child exports what it holds, then exits (waited for up to the export timeout).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from s3d.tracing.choices import TracePlan

log = logging.getLogger("s3d.tracing")
LENGTH = struct.Struct("!I")
STOP_TIMEOUT = 15.0
"""Seconds the child may take to export what it holds at stop (the OTLP timeout is 10)."""

Flat = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Header:
    plan: TracePlan
    resource: dict[str, Any]
    scope: tuple[str, str | None]


def flatten(span: ReadableSpan) -> Flat:
    """The span as plain values (what the OTLP encoder reads of it)."""
    context, parent = span.context, span.parent
    assert context is not None
    return (
        span.name,
        context.trace_id,
        context.span_id,
        int(context.trace_flags),
        None if parent is None else (parent.trace_id, parent.span_id, parent.is_remote),
        span.kind.value,
        span.start_time,
        span.end_time,
        dict(span.attributes or {}),
        tuple(
            (ln.context.trace_id, ln.context.span_id, int(ln.context.trace_flags))
            for ln in span.links
        ),
        span.status.status_code.value,
    )


def rebuild(flat: Flat, resource: Resource, scope: InstrumentationScope) -> ReadableSpan:
    name, trace_id, span_id, flags, parent, kind, start, end, attributes, links, status = flat
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, span_id, False, TraceFlags(flags)),
        parent=None if parent is None else SpanContext(parent[0], parent[1], parent[2]),
        resource=resource,
        attributes=attributes,
        links=[Link(SpanContext(t, s, True, TraceFlags(f))) for t, s, f in links],
        kind=SpanKind(kind),
        status=Status(StatusCode(status)),
        start_time=start,
        end_time=end,
        instrumentation_scope=scope,
    )


def write_message(pipe: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(LENGTH.pack(len(data)) + data)
    pipe.flush()


def read_message(pipe: IO[bytes]) -> object | None:
    """The next message, None at the end of the pipe."""
    head = pipe.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(head)
    message: object = pickle.loads(pipe.read(size))  # only the daemon writes this pipe
    return message


class HandoffExporter(SpanExporter):
    """A ``SpanExporter`` (called on the batch processor's thread) writing to the child."""

    def __init__(self, plan: TracePlan, resource: Resource, scope: tuple[str, str | None]):
        self._child = subprocess.Popen(
            [sys.executable, "-m", "s3d.tracing.worker"],
            stdin=subprocess.PIPE,
            env=os.environ.copy(),
        )
        self._gone = False
        self._send(Header(plan, dict(resource.attributes), scope))

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = self._send([flatten(span) for span in spans])
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def _send(self, message: object) -> bool:
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

    def shutdown(self) -> None:
        """Close the pipe and wait for the child to export what it holds (at most
        ``STOP_TIMEOUT``; then it is killed and its spans are lost)."""
        if self._child.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._child.stdin.close()
        try:
            self._child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("tracing: the export process did not finish in %.0f s", STOP_TIMEOUT)
            self._child.kill()
            self._child.wait()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return not self._gone
