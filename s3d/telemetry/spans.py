"""The spans the seam hands out: OpenTelemetry's made current for a ``with`` block
(``Active``), and one that is recorded only if something happens beneath it (``Deferred``).

A deferred span is how a read answered from the cache stays one span (the request's): the
gateway's and the cache's spans around it are deferred, and start — with the time their block
began — only when a span opens inside them (a cache fill, a remote call, a journal record) or
an exception leaves them. Tracing every request costs per span recorded (its creation on the
loop, its encoding on the exporter's thread, which shares the interpreter lock), and a hit
has nothing beneath the request worth a span of its own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class SpanRef:
    """A span's identity, kept in memory (on a journal job) to link a later span to it."""

    trace_id: int
    span_id: int
    flags: int


# The span of the request being served (what a journal job links its upload to), and the
# innermost deferred span not yet superseded by a started one (a started span clears it
# for its block: spans opened there are its children).
request_span: ContextVar[SpanRef | None] = ContextVar("s3d_request_span", default=None)
deferred_span: ContextVar[Deferred | None] = ContextVar("s3d_deferred_span", default=None)


class Active:
    """A started span made current for the ``with`` block, ended after it. (A plain class
    rather than the SDK's ``start_as_current_span``: two generator frames less per span.)"""

    __slots__ = ("_deferred", "_hidden", "_request", "_span", "_token")

    def __init__(self, span: otel_trace.Span, server: bool, hidden: frozenset[str]) -> None:
        self._span = span
        self._hidden = hidden
        self._request: Token[SpanRef | None] | None = None
        self._deferred: Token[Deferred | None] | None = None
        self._token: object = None
        if server:
            self._request = request_span.set(ref(span.get_span_context()))

    def __enter__(self) -> otel_trace.Span | Guarded:
        self._token = otel_context.attach(otel_trace.set_span_in_context(self._span))
        if deferred_span.get() is not None:
            self._deferred = deferred_span.set(None)
        return Guarded(self._span, self._hidden) if self._hidden else self._span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        span = self._span
        try:
            if exc is not None:
                mark_failed(span, error_type(exc))
        finally:
            if self._deferred is not None:
                deferred_span.reset(self._deferred)
            if self._request is not None:
                request_span.reset(self._request)
            otel_context.detach(self._token)  # type: ignore[arg-type]
            span.end()


class Deferred:
    """A span started only when needed (``started``): by a span opening inside its block, by
    an exception leaving it, or by ``failed``. Started after its block ended (a background
    task it spawned opening a span), it is ended at once with the time its block ended.
    Attributes set before it starts are kept for it."""

    __slots__ = (
        "_attributes", "_begun", "_ended", "_hidden", "_name",
        "_outer", "_parent", "_span", "_token", "_tracer",
    )  # fmt: skip

    def __init__(
        self,
        tracer: otel_trace.Tracer,
        name: str,
        attributes: dict[str, Value],
        hidden: frozenset[str],
    ) -> None:
        self._tracer, self._name, self._hidden = tracer, name, hidden
        self._attributes = attributes
        self._begun = time.time_ns()
        self._ended: int | None = None
        self._parent = otel_context.get_current()
        self._outer = deferred_span.get()
        self._span: otel_trace.Span | None = None
        self._token: Token[Deferred | None] | None = None

    def __enter__(self) -> Deferred:
        self._token = deferred_span.set(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        try:
            if exc is not None:
                mark_failed(self.started(), error_type(exc))
        finally:
            if self._token is not None:
                deferred_span.reset(self._token)
            self._ended = time.time_ns()
            if self._span is not None:
                self._span.end(self._ended)

    def started(self) -> otel_trace.Span:
        """The span, started now (its enclosing deferred spans first) if it was not yet."""
        if self._span is None:
            parent: Context = self._parent
            if self._outer is not None:
                parent = otel_trace.set_span_in_context(self._outer.started(), parent)
            self._span = self._tracer.start_span(
                self._name, parent, SpanKind.INTERNAL, self._attributes, start_time=self._begun
            )
            if self._ended is not None:
                self._span.end(self._ended)
        return self._span

    def context(self) -> Context:
        """The context a span opened inside this block takes as its parent."""
        return otel_trace.set_span_in_context(self.started())

    def set_attribute(self, key: str, value: Value) -> None:
        if key in self._hidden:
            return
        if self._span is None:
            self._attributes[key] = value
        else:
            self._span.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Value]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def update_name(self, name: str) -> None:
        if self._span is None:
            self._name = name
        else:
            self._span.update_name(name)

    def is_recording(self) -> bool:
        return self._span is None or self._span.is_recording()


class Guarded:
    """OpenTelemetry's span, with the hidden attributes dropped as they are set."""

    __slots__ = ("_hidden", "_span")

    def __init__(self, span: otel_trace.Span, hidden: frozenset[str]) -> None:
        self._span = span
        self._hidden = hidden

    def set_attribute(self, key: str, value: Value) -> None:
        if key not in self._hidden:
            self._span.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Value]) -> None:
        self._span.set_attributes({k: v for k, v in attributes.items() if k not in self._hidden})

    def update_name(self, name: str) -> None:
        self._span.update_name(name)

    def is_recording(self) -> bool:
        return self._span.is_recording()

    def set_status(self, status: Status) -> None:
        self._span.set_status(status)


def mark_failed(span: otel_trace.Span | Guarded, error: str) -> None:
    span.set_attribute("error.type", error)
    span.set_status(Status(StatusCode.ERROR))


def ref(context: SpanContext) -> SpanRef:
    return SpanRef(context.trace_id, context.span_id, int(context.trace_flags))


def link(ref: SpanRef) -> Link:
    return Link(SpanContext(ref.trace_id, ref.span_id, True, TraceFlags(ref.flags)))


def error_type(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else type(exc).__name__
