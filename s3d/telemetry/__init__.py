"""The tracing seam: ``trace(name, attributes)`` opens a span, a no-op unless tracing is on.

Spans open at the edges (incoming request, gateway operation, cache fill and revalidation,
remote call, journal upload, catalogue import or export). Every layer may call this package:
it imports nothing from s3d, and only it (``spans.py`` holds the span classes, with the set-up
in ``s3d/tracing/``) touches OpenTelemetry. The tracer is installed by ``s3d/tracing/`` when
the daemon starts and removed when it stops; until then ``trace`` hands out one shared null
context after a single module check: no span object is created, not even OpenTelemetry's
non-recording one.

Failures inside a span mark it with ``error.type`` (the S3 error code, else the exception's
class) and an error status — never the exception's message or traceback, which may quote a
value that must not leave the process. Attributes the settings hide (object keys) are dropped
here, whoever passes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Literal, Protocol

from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.context import get_current as otel_context_now
from opentelemetry.trace import SpanKind

from s3d.telemetry.light import FlatSpan, LightServerSpan, Recorder
from s3d.telemetry.spans import (
    Active,
    Deferred,
    Guarded,
    SpanRef,
    Value,
    deferred_span,
    link,
    mark_failed,
    ref,
    request_span,
)

__all__ = ["FlatSpan", "Recorder", "SpanRef", "Value"]

Attributes = Mapping[str, Value | None]
Kind = Literal["internal", "server", "client"]
_KINDS = {"internal": SpanKind.INTERNAL, "server": SpanKind.SERVER, "client": SpanKind.CLIENT}

KEY_ATTRIBUTES = frozenset({"aws.s3.key", "url.path"})
"""What ``traces.record_keys = false`` leaves out: the key, and the path that names it."""


class Span(Protocol):
    """What callers may do with the span ``trace`` yields (OpenTelemetry's, or a null one)."""

    def set_attribute(self, key: str, value: Value) -> None: ...
    def set_attributes(self, attributes: Mapping[str, Value]) -> None: ...
    def update_name(self, name: str) -> None: ...
    def is_recording(self) -> bool: ...


class _NullSpan:
    def set_attribute(self, key: str, value: Value) -> None:
        pass

    def set_attributes(self, attributes: Mapping[str, Value]) -> None:
        pass

    def update_name(self, name: str) -> None:
        pass

    def is_recording(self) -> bool:
        return False


NULL_SPAN: Span = _NullSpan()
_OFF: AbstractContextManager[Span] = nullcontext(NULL_SPAN)
_tracer: otel_trace.Tracer | None = None
_hidden: frozenset[str] = frozenset()
_recorder: Recorder | None = None
_fields: frozenset[str] = frozenset()


def install(
    tracer: otel_trace.Tracer, *, record_keys: bool = True, recorder: Recorder | None = None
) -> None:
    """Turn tracing on for this process (the daemon's tracing set-up does, at start).
    ``recorder``: where server spans go as light spans (``light.py``); None: SDK spans."""
    global _tracer, _hidden, _recorder, _fields
    _tracer, _hidden = tracer, (frozenset() if record_keys else KEY_ATTRIBUTES)
    _recorder, _fields = recorder, frozenset(propagate.get_global_textmap().fields)


def uninstall(tracer: otel_trace.Tracer) -> None:
    """Turn tracing off again, if ``tracer`` is still the one installed."""
    global _tracer, _recorder
    if _tracer is tracer:
        _tracer, _recorder = None, None


def tracing() -> bool:
    return _tracer is not None


def trace(
    name: str,
    attributes: Attributes | None = None,
    *,
    kind: Kind = "internal",
    headers: Mapping[str, str] | None = None,
    links: Iterable[SpanRef | None] = (),
    root: bool = False,
) -> AbstractContextManager[Span]:
    """A span named ``name`` around the ``with`` block, current inside it. ``headers``: an
    incoming request's, whose W3C ``traceparent`` (and the other propagators' fields named by
    ``OTEL_PROPAGATORS``) becomes the parent; ``root``: start a new trace whatever is current
    (background work); ``links``: spans this one follows from. None values are left out.
    Opened inside a deferred span's block, it starts that span and becomes its child."""
    if _tracer is None:
        return _OFF
    if _recorder is not None and kind == "server" and not links:
        context = _extract(headers) if headers is not None else otel_context_now()
        return LightServerSpan(_recorder, name, _kept(attributes), context, _hidden)
    parent: Context | None
    if headers is not None:
        parent = _extract(headers)
    elif root:
        parent = Context()
    else:
        pending = deferred_span.get()
        parent = pending.context() if pending is not None else None
    span = _tracer.start_span(
        name, parent, _KINDS[kind], _kept(attributes), [link(r) for r in links if r is not None]
    )
    return Active(span, kind == "server", _hidden)


def _extract(headers: Mapping[str, str]) -> Context:
    """The context the propagators (``OTEL_PROPAGATORS``) read from ``headers``; without any
    of their fields, the current one — as they would return, without asking each of them."""
    if any(field in headers for field in _fields):
        return propagate.extract(headers)
    return otel_context_now()


def deferred(name: str, attributes: Attributes | None = None) -> AbstractContextManager[Span]:
    """An internal span named ``name`` around the ``with`` block, recorded only if a span
    opens inside the block (then it is that span's parent and starts with the block) or an
    exception leaves it. Attributes set on it before then are kept for it."""
    if _tracer is None:
        return _OFF
    return Deferred(_tracer, name, _kept(attributes), _hidden)


def _kept(attributes: Attributes | None) -> dict[str, Value]:
    return {k: v for k, v in (attributes or {}).items() if v is not None and k not in _hidden}


def object_attributes(bucket: str | None, key: str | None) -> Attributes:
    """``aws.s3.bucket`` and ``aws.s3.key`` (left out when unknown, or by the settings)."""
    return {"aws.s3.bucket": bucket, "aws.s3.key": key}


def failed(span: Span, error_type: str) -> None:
    """Mark ``span`` failed without an exception passing through it (a 5xx answer)."""
    if isinstance(span, LightServerSpan):
        span.fail(error_type)
    elif isinstance(span, Deferred):
        mark_failed(span.started(), error_type)
    elif span.is_recording() and isinstance(span, Guarded | otel_trace.Span):
        mark_failed(span, error_type)


def acknowledging() -> SpanRef | None:
    """The span of the request being served (else the current span): what a journal job
    records, so that its upload, later, links to the request that acknowledged it."""
    if _tracer is None:
        return None
    found = request_span.get()
    if found is not None:
        return found
    context = otel_trace.get_current_span().get_span_context()
    return ref(context) if context.is_valid else None
