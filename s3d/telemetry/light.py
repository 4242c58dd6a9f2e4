"""The request's span without the SDK's span object: ids, sampling decision, attributes and
times kept in one small object, handed to a ``Recorder`` as a tuple of plain values when it
ends (the daemon's export process encodes it; ``s3d/tracing/handoff.py``).

Why: every request makes this span, and the SDK's span costs about seven times as much to
create and end (a lock, bounded attribute and event containers with per-value checks, a
read-only copy at the end, the processor chain): measured 73-84 µs against 11-12 µs in one
loop on this machine. Spans beneath it (a fill, a remote call) are the SDK's as before: the
context it makes current carries its ids, so they are its children.

The sampler is the provider's, asked as the SDK asks it; an unsampled request records
nothing. Used only when the export process is on (the in-thread exporter takes SDK spans).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from contextvars import Token
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from s3d.telemetry.spans import SpanRef, Value, deferred_span, error_type, request_span

FlatSpan = tuple[Any, ...]
"""(name, trace id, span id, trace flags, trace state header, parent as (trace id, span id,
is remote) or None, kind, start ns, end ns, attributes, links as (trace id, span id, flags),
status code): what the OTLP encoder reads of a span, as plain values."""

_SERVER = SpanKind.SERVER.value
_ERROR = StatusCode.ERROR.value
_UNSET = StatusCode.UNSET.value


class Recorder(Protocol):
    """Where light spans go: the sampler's decision, then the finished span."""

    def sample(
        self, parent: Context | None, trace_id: int, name: str, attributes: Mapping[str, Value]
    ) -> tuple[bool, bool, Any]:
        """(record, sampled, trace state) for a new span."""
        ...

    def submit(self, span: FlatSpan) -> None: ...


class LightServerSpan:
    """A server span: current for the ``with`` block (as a non-recording span carrying its
    ids), submitted to the recorder at the end when sampled."""

    __slots__ = (
        "_attributes", "_begun", "_context", "_current", "_deferred", "_hidden", "_name", "_parent",
        "_recorder", "_recording", "_request", "_status", "_token", "_trace_state",
    )  # fmt: skip

    def __init__(
        self,
        recorder: Recorder,
        name: str,
        attributes: dict[str, Value],
        parent: Context,
        hidden: frozenset[str],
    ) -> None:
        self._begun = time.time_ns()
        self._recorder, self._name, self._attributes = recorder, name, attributes
        self._hidden, self._status = hidden, _UNSET
        remote = otel_trace.get_current_span(parent).get_span_context()
        self._parent = remote if remote.is_valid else None
        trace_id = remote.trace_id if remote.is_valid else random.getrandbits(128)
        record, sampled, self._trace_state = recorder.sample(parent, trace_id, name, attributes)
        self._recording = record
        flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
        self._context = SpanContext(
            trace_id, random.getrandbits(64), False, flags, self._trace_state
        )
        self._current = otel_trace.set_span_in_context(NonRecordingSpan(self._context), parent)

    def __enter__(self) -> LightServerSpan:
        context = self._context
        self._token = otel_context.attach(self._current)
        ref = SpanRef(context.trace_id, context.span_id, int(context.trace_flags))
        self._request: Token[SpanRef | None] = request_span.set(ref)
        self._deferred: Token[Any] = deferred_span.set(None)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        ended = time.time_ns()
        if exc is not None:
            self.fail(error_type(exc))
        deferred_span.reset(self._deferred)
        request_span.reset(self._request)
        otel_context.detach(self._token)
        if self._recording:
            self._recorder.submit(self._flat(ended))

    def _flat(self, ended: int) -> FlatSpan:
        context, parent = self._context, self._parent
        state = self._trace_state.to_header() if self._trace_state else ""
        return (
            self._name, context.trace_id, context.span_id, int(context.trace_flags), state,
            None if parent is None else (parent.trace_id, parent.span_id, parent.is_remote),
            _SERVER, self._begun, ended, self._attributes, (), self._status,
        )  # fmt: skip

    def fail(self, error: str) -> None:
        self.set_attribute("error.type", error)
        self._status = _ERROR

    def set_attribute(self, key: str, value: Value) -> None:
        if key not in self._hidden:
            self._attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, Value]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def update_name(self, name: str) -> None:
        self._name = name

    def is_recording(self) -> bool:
        return self._recording
