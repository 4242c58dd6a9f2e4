"""What goes down the pipe to the export process: length-prefixed pickles, a ``Header``
first, then one list of ``FlatSpan`` per batch (``s3d/telemetry/light.py`` defines the tuple;
``flatten`` makes one of an SDK span, ``rebuild`` the SDK span again in the export process).
Only the daemon writes the pipe."""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from typing import IO, Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from s3d.telemetry import FlatSpan
from s3d.tracing.choices import TracePlan

LENGTH = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class Header:
    plan: TracePlan
    resource: dict[str, Any]
    scope: tuple[str, str | None]


def flatten(span: ReadableSpan) -> FlatSpan:
    """The SDK's span as plain values (``s3d.telemetry.FlatSpan``): what the OTLP encoder
    reads of it."""
    context, parent = span.context, span.parent
    assert context is not None
    return (
        span.name,
        context.trace_id,
        context.span_id,
        int(context.trace_flags),
        context.trace_state.to_header() if context.trace_state else "",
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


def rebuild(flat: FlatSpan, resource: Resource, scope: InstrumentationScope) -> ReadableSpan:
    name, trace_id, span_id, flags, state, parent, kind, start, end, attributes, links, status = (
        flat
    )
    trace_state = TraceState.from_header([state]) if state else None
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, span_id, False, TraceFlags(flags), trace_state),
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
