"""The span of one incoming request (server kind), named and described as the HTTP semantic
conventions ask: ``http.request.method``, ``url.path`` (never the query: presigned URLs carry
their signature there), ``http.response.status_code``, and what s3d understood of it
(``aws.s3.bucket``, ``aws.s3.key``, ``aws.request_id``, the cache's answer); named after the
S3 action.
A ``traceparent`` header from the client makes it a child of the client's span."""

from __future__ import annotations

from contextlib import AbstractContextManager

from aiohttp import web

from s3d.server.handler import RequestInfo
from s3d.telemetry import Span, failed, trace, tracing


def request_span(request: web.Request) -> AbstractContextManager[Span]:
    """The request's span, current while it is served (a shared no-op when tracing is off:
    nothing is read from the request)."""
    if not tracing():
        return trace(request.method)
    # Few attributes: each one costs its share of encoding on every request.
    attributes = {
        "http.request.method": request.method,
        "url.path": request.raw_path.partition("?")[0],
    }
    return trace(request.method, attributes, kind="server", headers=request.headers)


def finish_request_span(span: Span, info: RequestInfo, response: web.StreamResponse | None) -> None:
    """What was learnt while serving: the action, bucket and key, the status."""
    if not span.is_recording():
        return
    status = response.status if response is not None else 499
    if info.action != "-":
        span.update_name(info.action)
    learnt: dict[str, str | int] = {
        "http.response.status_code": status,
        "aws.request_id": info.request_id,
    }
    if info.bucket is not None:
        learnt["aws.s3.bucket"] = info.bucket
    if info.key is not None:
        learnt["aws.s3.key"] = info.key
    cache = response.headers.get("x-s3d-cache") if response is not None else None
    if cache:
        learnt["s3d.cache.result"] = cache
    span.set_attributes(learnt)
    if status >= 500:
        failed(span, str(status))
