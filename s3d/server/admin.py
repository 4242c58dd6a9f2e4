"""The admin endpoint: ``/_s3d/<command>`` on the S3 port (``s3d status`` reads it).

Theory of operation. A request is an admin request when its path starts with ``/_s3d/`` and
its Host does not name a bucket under a base domain. ``_s3d`` is never a bucket name (bucket
names start with a letter or a digit), so no path-style S3 request is taken; under a
virtual-hosted Host the path is a key, and the request goes to the S3 handler as always.

An admin request is authenticated exactly as an S3 request, by the same ``Authenticator``
(SigV4 header or presigned, with the local keys; anonymous only where configured, and then
only GET for ``read``), and only then looked up in the route table, so that an unauthenticated
caller learns nothing of which commands exist. A route is a method, a command (the path under
``/_s3d/``), the action name the access log shows and an async function from the query to a
JSON document. Refusals are ``S3Error``s: the app's middleware renders them as S3 error XML,
stamps the request id and writes the access-log line, for admin requests as for S3 ones.
Admin commands take no body; one sent is not read (the connection is closed after the answer).

The journal's commands (``POST flush``, ``POST journal/retry``, ``POST journal/discard``,
``POST journal/forget-uploads``)
exist in write-back mode only, when the daemon passes its journal as a ``JournalControl``.
In write-through mode their paths answer 404 ``NoSuchAdminCommand`` to any method, saying why.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from s3d.protocol.errors import MethodNotAllowed, S3Error
from s3d.protocol.model import Headers
from s3d.protocol.routing import Query, Target, locate, parse_query
from s3d.protocol.sigv4 import SignedRequest
from s3d.server.admin_query import dead_letter_ids, upload_ids, wait_seconds
from s3d.server.auth import Authenticator
from s3d.server.handler import REQUEST_INFO, request_headers

PREFIX = "/_s3d/"
JSON = "application/json"

StatusProvider = Callable[[], Mapping[str, object]]
AdminAction = Callable[[Query], Awaitable[Mapping[str, object]]]
Report = Callable[[Mapping[str, object]], None]
StreamedAction = Callable[[Query, Report], Awaitable[Mapping[str, object]]]
"""A long command: reports progress documents while it runs, then returns its result."""
ANY_METHOD = "*"
NDJSON = "application/x-ndjson"
PROGRESS_EVERY = 0.5
"""Seconds between two progress lines of a streamed command."""


@dataclass(frozen=True, slots=True)
class AdminRoute:
    """One admin command: ``method /_s3d/<command>`` runs ``run`` with the request's query."""

    method: str
    """The HTTP method, or ``ANY_METHOD`` for a route that answers every method alike."""
    command: str
    """The path under ``/_s3d/``: ``status``, ``journal/retry``."""
    action: str
    """The action the access log shows: ``s3d:GetStatus``."""
    run: AdminAction | None = None
    streamed: StreamedAction | None = None
    """Instead of ``run``: answered as JSON lines, ``{"progress": …}`` while it runs, then
    ``{"result": …}`` or ``{"error": {"code", "message"}}``. A refusal before its first
    progress report is an S3 error response like any other command's."""


class NoSuchAdminCommand(S3Error):
    code = "NoSuchAdminCommand"
    status = 404
    default_message = "s3d has no admin command at this path."


class JournalControl(Protocol):
    """What the admin commands need of the write-back journal (``s3d.journal.service.Journal``)."""

    def flush_now(self) -> None:
        """Run every waiting change now, whatever its backoff."""

    async def wait_idle(self, seconds: float | None) -> bool:
        """Wait until no change waits for upload (dead letters aside); False on timeout."""

    async def retry(self, seqs: list[int] | None) -> int:
        """Dead letters (all, or those with these ids) back into the queue; how many."""

    async def discard(self, seqs: list[int] | None) -> int:
        """Give up dead letters (all, or those with these ids); how many."""

    async def forget_remote_uploads(self, upload_ids: list[str] | None) -> int:
        """Stop aborting remote multipart uploads (all, or these upload ids); how many."""

    def status(self) -> dict[str, object]:
        """The journal's section of the status document."""


_JOURNAL_ACTIONS = {
    "flush": "s3d:FlushJournal",
    "journal/retry": "s3d:RetryDeadLetters",
    "journal/discard": "s3d:DiscardDeadLetters",
    "journal/forget-uploads": "s3d:ForgetRemoteUploads",
}
"""The journal's commands and the actions the access log shows for them."""


def admin_routes(
    *,
    status: StatusProvider,
    journal: JournalControl | None = None,
    sections: Mapping[str, Callable[[], Awaitable[Mapping[str, object]]]] | None = None,
) -> tuple[AdminRoute, ...]:
    """The admin route table. Each command's implementation is passed in by the daemon:
    ``journal`` in write-back mode (None: the journal's commands answer NoSuchAdminCommand);
    ``sections``: more status sections that must be awaited (the catalogue's counts)."""

    async def get_status(query: Query) -> Mapping[str, object]:
        document = dict(status())
        for name, section in (sections or {}).items():
            document[name] = await section()
        return document

    routes = (AdminRoute("GET", "status", "s3d:GetStatus", get_status),)
    if journal is None:
        return routes + tuple(
            AdminRoute(ANY_METHOD, command, action, _write_through(command))
            for command, action in _JOURNAL_ACTIONS.items()
        )
    return routes + journal_routes(journal)


def _write_through(command: str) -> AdminAction:
    async def refuse(query: Query) -> Mapping[str, object]:
        raise NoSuchAdminCommand(
            "s3d runs write-through: there is no journal to flush, retry or discard "
            "(writes reach the remote before they are answered).",
            Command=command,
        )

    return refuse


def journal_routes(journal: JournalControl) -> tuple[AdminRoute, ...]:
    """``POST flush[?wait=SECONDS]``: run every waiting change now, then wait up to SECONDS
    for the queue to empty; ``POST journal/retry[?id=1,2]`` and ``POST journal/discard``:
    the dead letters named, or all of them; ``POST journal/forget-uploads[?id=UPLOAD_ID]``:
    stop aborting the remote multipart uploads named (or all)."""

    async def flush(query: Query) -> Mapping[str, object]:
        wait = wait_seconds(query)
        journal.flush_now()
        # No wait: wait_idle(0) answers at once whether anything still waits.
        idle = await journal.wait_idle(wait if wait is not None else 0.0)
        return {"idle": idle, "journal": journal.status()}

    async def retry(query: Query) -> Mapping[str, object]:
        return {"retried": await journal.retry(dead_letter_ids(query))}

    async def discard(query: Query) -> Mapping[str, object]:
        return {"discarded": await journal.discard(dead_letter_ids(query))}

    async def forget(query: Query) -> Mapping[str, object]:
        return {"forgotten": await journal.forget_remote_uploads(upload_ids(query))}

    runs = {
        "flush": flush,
        "journal/retry": retry,
        "journal/discard": discard,
        "journal/forget-uploads": forget,
    }
    return tuple(
        AdminRoute("POST", command, _JOURNAL_ACTIONS[command], run) for command, run in runs.items()
    )


def is_admin_request(raw_path: str, headers: Headers, base_domains: tuple[str, ...]) -> bool:
    """Whether a request is for the admin endpoint rather than for S3 (see the module doc)."""
    return claims_path(PREFIX, raw_path, headers, base_domains)


def claims_path(
    prefix: str, raw_path: str, headers: Headers, base_domains: tuple[str, ...]
) -> bool:
    """Whether a path-style request under ``prefix`` is s3d's own (admin, DRS) rather than
    S3's: only when its Host names no bucket."""
    if not raw_path.startswith(prefix):
        return False
    try:
        # Located as a request for "/", only the Host can name a bucket: virtual-hosted or not,
        # by the S3 handler's own rule.
        return not locate("/", headers, base_domains).virtual_host
    except S3Error:
        return False  # a Host naming an invalid bucket: the S3 handler answers for it


class AdminHandler:
    """Answers admin requests from a table of ``AdminRoute``s."""

    def __init__(
        self,
        routes: Iterable[AdminRoute],
        authenticator: Authenticator,
        base_domains: tuple[str, ...],
    ) -> None:
        self._routes = {(route.method, route.command): route for route in routes}
        self._auth = authenticator
        self._base_domains = base_domains

    def claims(self, request: web.Request) -> bool:
        """Whether ``request`` is an admin request this handler answers."""
        if not request.raw_path.startswith(PREFIX):
            return False  # the S3 requests: without building their headers
        raw_path = request.raw_path.partition("?")[0]
        return is_admin_request(raw_path, request_headers(request), self._base_domains)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        """The command's JSON document. Raises the authentication errors of
        ``Authenticator.authenticate``, ``NoSuchAdminCommand`` and ``MethodNotAllowed``."""
        info = request[REQUEST_INFO]
        raw_path, _, raw_query = request.raw_path.partition("?")
        signed = SignedRequest(request.method, raw_path, raw_query, request_headers(request))
        principal = self._auth.authenticate(signed, Target(None, None))
        info.principal = principal.name
        route = self._route(request.method, raw_path.removeprefix(PREFIX))
        info.action = route.action
        if route.streamed is not None:
            return await _stream(request, route.streamed, parse_query(raw_query))
        assert route.run is not None
        document = await route.run(parse_query(raw_query))
        body = json.dumps(document, indent=2, default=str) + "\n"
        return web.Response(text=body, content_type=JSON, headers={"Cache-Control": "no-store"})

    def _route(self, method: str, command: str) -> AdminRoute:
        route = self._routes.get((method, command)) or self._routes.get((ANY_METHOD, command))
        if route is not None:
            return route
        allowed = sorted(m for m, c in self._routes if c == command)
        if not allowed:
            raise NoSuchAdminCommand(Command=command)
        raise MethodNotAllowed(
            Method=method, ResourceType="ADMIN", headers={"Allow": ", ".join(allowed)}
        )


async def _stream(request: web.Request, action: StreamedAction, query: Query) -> web.StreamResponse:
    """Run ``action``, streaming its progress as JSON lines once it has some to report."""
    lines: asyncio.Queue[Mapping[str, object]] = asyncio.Queue()
    last = 0.0

    def report(progress: Mapping[str, object]) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            lines.put_nowait({"progress": progress})

    task = asyncio.ensure_future(action(query, report))
    response: web.StreamResponse | None = None
    try:
        while True:
            waiter = asyncio.ensure_future(lines.get())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():
                waiter.cancel()
                break
            if response is None:
                response = web.StreamResponse(headers={"Cache-Control": "no-store"})
                response.content_type = NDJSON
                await response.prepare(request)
            await response.write(_line(waiter.result()))
        if response is None:
            document = await task  # its S3Error is the middleware's to answer
            body = json.dumps(document, indent=2, default=str) + "\n"
            return web.Response(text=body, content_type=JSON, headers={"Cache-Control": "no-store"})
        try:
            final: Mapping[str, object] = {"result": await task}
        except S3Error as error:
            final = {"error": {"code": error.code, "message": error.message}}
        await response.write(_line(final))
        await response.write_eof()
        return response
    finally:
        if not task.done():
            task.cancel()


def _line(document: Mapping[str, object]) -> bytes:
    return json.dumps(document, default=str).encode() + b"\n"
