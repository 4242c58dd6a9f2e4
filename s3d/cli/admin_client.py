"""``s3d status``: ask a running daemon through its admin endpoint (``/_s3d/…``).

Entry layer. Where the daemon listens and which key to sign with come from the same settings
``s3d serve`` reads (``server.host``/``port``/``tls_cert_file``, the first of
``server.access_keys``, else the pair generated in ``<data_dir>/local-credentials.json``), or
from ``--endpoint``. Requests are signed with s3d's own signer (``s3d.protocol.sigv4_sign``) and
sent with urllib, never through a proxy: the daemon is local. Errors: ``ConfigError`` when the
settings cannot say how to reach the daemon (exit 2), ``AdminClientError`` when it cannot be
reached or refuses (exit 1); neither message holds a secret.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from defusedxml.ElementTree import ParseError, fromstring

from s3d.daemon import local_keys
from s3d.protocol.sigv4 import EMPTY_SHA256
from s3d.protocol.sigv4_sign import sign_headers
from s3d.settings import AccessKey, ConfigError, Settings

TIMEOUT = 10.0
"""Seconds to wait for the daemon to connect and to answer."""
_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class AdminClientError(Exception):
    """The daemon could not be reached, or refused: a one-line message for the user."""


@dataclass(frozen=True, slots=True)
class AdminEndpoint:
    """Where a daemon answers and how to sign for it (``key`` None: unsigned, anonymous)."""

    url: str
    key: AccessKey | None
    region: str
    tls: ssl.SSLContext | None

    def __repr__(self) -> str:
        return f"AdminEndpoint(url={self.url!r}, region={self.region!r})"  # never the secret


def endpoint_for(settings: Settings, override: str | None = None) -> AdminEndpoint:
    """The daemon ``settings`` describe, at ``override`` when given. Raises ConfigError."""
    url = (override or _url(settings)).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--endpoint: expected an http:// or https:// URL, got {url!r}")
    tls = _tls(settings) if parts.scheme == "https" else None
    return AdminEndpoint(url, _key(settings), settings.server.region, tls)


def _url(settings: Settings) -> str:
    server = settings.server
    if server.port == 0:
        raise ConfigError(
            "server.port is 0 (any free port): give the daemon's address with --endpoint URL"
        )
    host = _LOOPBACK.get(server.host, server.host)
    host = f"[{host}]" if ":" in host else host
    scheme = "https" if server.tls_cert_file else "http"
    return f"{scheme}://{host}:{server.port}"


def _key(settings: Settings) -> AccessKey | None:
    if settings.server.access_keys:
        return settings.server.access_keys[0]
    path = settings.data_dir / local_keys.FILE_NAME
    try:
        key = local_keys.load(settings.data_dir)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the generated access key: {exc.strerror}") from None
    except (ValueError, KeyError):
        raise ConfigError(f"{path}: not an s3d access key file") from None
    if key is None and settings.server.anonymous not in ("read", "read-write"):
        raise ConfigError(
            f"no access key: none is configured and {path} does not exist "
            "(give the daemon's --access-key, or its --data-dir)"
        )
    return key


def _tls(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    cert = settings.server.tls_cert_file
    if cert is not None:
        # The daemon's own certificate is trusted too: it is often self-signed.
        try:
            context.load_verify_locations(cert)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"server.tls_cert_file: cannot trust {cert}: {exc}") from None
    return context


def fetch(endpoint: AdminEndpoint, command: str, method: str = "GET") -> dict[str, Any]:
    """The JSON document ``method /_s3d/<command>`` answers. Raises AdminClientError."""
    return _exchange(endpoint, command, method, None)


STREAM_TIMEOUT = 600.0
"""Seconds a streamed command may stay silent (an import's final sort says nothing for a
while) before the client gives up."""


def fetch_streamed(
    endpoint: AdminEndpoint,
    command: str,
    method: str,
    progress: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The result of a streamed command (``AdminRoute.streamed``), calling ``progress`` with
    each progress document on the way. Raises AdminClientError, also for an error reported
    after the answer began."""
    document = _exchange(endpoint, command, method, progress)
    error = document.get("error")
    if isinstance(error, dict):
        raise AdminClientError(
            f"s3d at {endpoint.url} failed: {error.get('code')} ({error.get('message')})"
        )
    return document


def _exchange(
    endpoint: AdminEndpoint,
    command: str,
    method: str,
    progress: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    url = f"{endpoint.url}/_s3d/{command}"
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=endpoint.tls)
    )
    request = urllib.request.Request(url, method=method, headers=_headers(endpoint, method, url))
    timeout = TIMEOUT if progress is None else STREAM_TIMEOUT
    try:
        with opener.open(request, timeout=timeout) as response:
            if progress is not None and response.headers.get_content_type() == NDJSON:
                return _lines(endpoint.url, response, progress)
            body: bytes = response.read()
    except urllib.error.HTTPError as exc:
        raise AdminClientError(_refusal(endpoint.url, exc.code, exc.read())) from None
    except urllib.error.URLError as exc:
        raise AdminClientError(_unreachable(endpoint.url, exc.reason)) from None
    except OSError as exc:  # a timeout or reset while reading the answer
        raise AdminClientError(_unreachable(endpoint.url, exc)) from None
    except http.client.HTTPException:
        raise AdminClientError(f"{endpoint.url} answered, but not in HTTP: is it s3d?") from None
    return _document(endpoint.url, body)


NDJSON = "application/x-ndjson"


def _lines(url: str, response: Any, progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Progress lines until the last one, ``{"result": …}`` or ``{"error": …}``."""
    for line in response:
        document = _document(url, line)
        if "progress" in document:
            progress(document["progress"])
        elif "result" in document:
            result: dict[str, Any] = document["result"]
            return result
        else:
            return document
    raise AdminClientError(f"{url} stopped answering before the command finished")


def _headers(endpoint: AdminEndpoint, method: str, url: str) -> dict[str, str]:
    # Host is sent as signed: the URL's, with an explicit default port kept (urllib keeps it).
    headers = {"Host": urlsplit(url).netloc.rpartition("@")[2]}
    key = endpoint.key
    if key is None:
        return headers
    secret, now = key.secret_access_key, datetime.now(UTC)
    signed = sign_headers(
        method, url, headers, EMPTY_SHA256, key.access_key_id, secret, endpoint.region, now
    )
    return headers | signed


def _document(url: str, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise AdminClientError(f"{url} answered, but not with s3d's JSON: is it s3d?")
    return document


def _refusal(url: str, status: int, body: bytes) -> str:
    try:
        root = fromstring(body)
    except (ParseError, ValueError):
        root = None
    if root is None or root.tag != "Error" or not root.findtext("Code"):
        return f"{url} answered HTTP {status} without an S3 error: is it s3d?"
    message = root.findtext("Message") or ""
    return f"s3d at {url} refused the request: {root.findtext('Code')} ({message})"


def _unreachable(url: str, reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS with {url} failed: {reason.verify_message}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS with {url} failed: {reason.reason or reason}"
    if isinstance(reason, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(reason, TimeoutError):
        text = f"no answer within {TIMEOUT:g}s"
    elif isinstance(reason, socket.gaierror):
        text = f"cannot resolve the host name ({reason.strerror})"
    elif isinstance(reason, OSError) and reason.strerror:
        text = reason.strerror[0].lower() + reason.strerror[1:]
    else:
        text = str(reason)
    return f"no s3d answering at {url}: {text}"
