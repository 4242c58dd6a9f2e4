"""The tracing seam: ``trace(name, attributes)`` opens a span, a no-op unless tracing is on.

Spans open at the edges (incoming request, gateway operation, cache fill and revalidation,
remote call, journal upload, catalogue import or export). Every layer may call this module: it
imports nothing from s3d, and only it (with the set-up in ``s3d/tracing/``) touches
OpenTelemetry. The tracer is installed by ``s3d/tracing/`` when the daemon starts and removed
when it stops; until then ``trace`` hands out one shared null context after a single module
check: no span object is created, not even OpenTelemetry's non-recording one.

Failures inside a span mark it with ``error.type`` (the S3 error code, else the exception's
class) and an error status — never the exception's message or traceback, which may quote a
value that must not leave the process. Attributes the settings hide (object keys) are dropped
here, whoever passes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Literal, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

Value = str | int | float | bool
Attributes = Mapping[str, Value | None]
Kind = Literal["internal", "server", "client"]
_KINDS = {"internal": SpanKind.INTERNAL, "server": SpanKind.SERVER, "client": SpanKind.CLIENT}

KEY_ATTRIBUTES = frozenset({"aws.s3.key", "url.path"})
"""What ``traces.record_keys = false`` leaves out: the key, and the path that names it."""


@dataclass(frozen=True, slots=True)
class SpanRef:
    """A span's identity, kept in memory (on a journal job) to link a later span to it."""

    trace_id: int
    span_id: int
    flags: int


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
_request: ContextVar[SpanRef | None] = ContextVar("s3d_request_span", default=None)


def install(tracer: otel_trace.Tracer, *, record_keys: bool = True) -> None:
    """Turn tracing on for this process (the daemon's tracing set-up does, at start)."""
    global _tracer, _hidden
    _tracer, _hidden = tracer, (frozenset() if record_keys else KEY_ATTRIBUTES)


def uninstall(tracer: otel_trace.Tracer) -> None:
    """Turn tracing off again, if ``tracer`` is still the one installed."""
    global _tracer
    if _tracer is tracer:
        _tracer = None


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
    (background work); ``links``: spans this one follows from. None values are left out."""
    if _tracer is None:
        return _OFF
    parent = propagate.extract(headers) if headers is not None else Context() if root else None
    kept = {k: v for k, v in (attributes or {}).items() if v is not None and k not in _hidden}
    span = _tracer.start_span(
        name, parent, _KINDS[kind], kept, [_link(ref) for ref in links if ref is not None]
    )
    return _Active(span, kind == "server")


class _Active:
    """A started span made current for the ``with`` block, ended after it. (A plain class
    rather than the SDK's ``start_as_current_span``: two generator frames less per span.)"""

    __slots__ = ("_request", "_span", "_token")

    def __init__(self, span: otel_trace.Span, server: bool) -> None:
        self._span = span
        self._request: Token[SpanRef | None] | None = None
        self._token: object = None
        if server:
            self._request = _request.set(_ref(span.get_span_context()))

    def __enter__(self) -> Span:
        self._token = otel_context.attach(otel_trace.set_span_in_context(self._span))
        return _Guarded(self._span) if _hidden else self._span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        span = self._span
        try:
            if exc is not None:
                span.set_attribute("error.type", _error_type(exc))
                span.set_status(Status(StatusCode.ERROR))
        finally:
            if self._request is not None:
                _request.reset(self._request)
            otel_context.detach(self._token)  # type: ignore[arg-type]
            span.end()


class _Guarded:
    """OpenTelemetry's span, with the hidden attributes dropped as they are set."""

    __slots__ = ("_span",)

    def __init__(self, span: otel_trace.Span) -> None:
        self._span = span

    def set_attribute(self, key: str, value: Value) -> None:
        if key not in _hidden:
            self._span.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Value]) -> None:
        self._span.set_attributes({k: v for k, v in attributes.items() if k not in _hidden})

    def update_name(self, name: str) -> None:
        self._span.update_name(name)

    def is_recording(self) -> bool:
        return self._span.is_recording()

    def set_status(self, status: Status) -> None:
        self._span.set_status(status)


def object_attributes(bucket: str | None, key: str | None) -> Attributes:
    """``aws.s3.bucket`` and ``aws.s3.key`` (left out when unknown, or by the settings)."""
    return {"aws.s3.bucket": bucket, "aws.s3.key": key}


def failed(span: Span, error_type: str) -> None:
    """Mark ``span`` failed without an exception passing through it (a 5xx answer)."""
    if span.is_recording() and isinstance(span, _Guarded | otel_trace.Span):
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR))


def acknowledging() -> SpanRef | None:
    """The span of the request being served (else the current span): what a journal job
    records, so that its upload, later, links to the request that acknowledged it."""
    if _tracer is None:
        return None
    found = _request.get()
    if found is not None:
        return found
    context = otel_trace.get_current_span().get_span_context()
    return _ref(context) if context.is_valid else None


def _ref(context: SpanContext) -> SpanRef:
    return SpanRef(context.trace_id, context.span_id, int(context.trace_flags))


def _link(ref: SpanRef) -> Link:
    return Link(SpanContext(ref.trace_id, ref.span_id, True, TraceFlags(ref.flags)))


def _error_type(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else type(exc).__name__
