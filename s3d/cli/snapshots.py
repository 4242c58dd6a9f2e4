"""``s3d snapshots ls|get``: a running daemon's snapshot sets (docs/snapshots.md).

``ls s3://BUCKET/PREFIX/`` prints the set newest first (time, variant, size, name); ``get
s3://BUCKET/PREFIX/ latest|NAME [--variant V] [-o FILE]`` streams the snapshot (decrypted by
the daemon when it is OpenPGP) to FILE or stdout, with a progress line on stderr when that is
a terminal. A download is written to ``FILE.part`` and renamed only once complete: a transfer
the daemon aborted (a failed integrity check) leaves no FILE and exits 1. Requests are signed
with the configured local key, as the other commands' are.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO
from urllib.parse import quote, urlencode, urlsplit

from s3d.cli.admin_client import AdminClientError, AdminEndpoint
from s3d.cli.status_text import human_bytes
from s3d.protocol.sigv4 import EMPTY_SHA256
from s3d.protocol.sigv4_sign import sign_headers

Factory = Callable[[Any, str, str], argparse.ArgumentParser]
_CHUNK = 1 << 20


def snapshot_parsers(
    commands: Any, command: Factory, daemon_options: Callable[[argparse.ArgumentParser], None]
) -> list[argparse.ArgumentParser]:
    """The ``snapshots ls`` and ``snapshots get`` parsers (``command`` and ``daemon_options``
    are the command line's own helpers)."""
    snapshots = command(commands, "snapshots", "list and download snapshots of a snapshot set")
    actions = snapshots.add_subparsers(dest="snapshots_command", required=True, metavar="ACTION")
    ls = command(actions, "ls", "list a snapshot set, newest first")
    ls.add_argument("set", metavar="s3://BUCKET/PREFIX/", help="the snapshot set")
    ls.add_argument("--json", action="store_true", help="print the daemon's JSON document")
    get = command(actions, "get", "download a snapshot (decrypted when it is OpenPGP)")
    get.add_argument("set", metavar="s3://BUCKET/PREFIX/", help="the snapshot set")
    get.add_argument("name", nargs="?", default="latest", help="latest (default) or a name")
    get.add_argument("--variant", help="with latest: the newest of this variant")
    get.add_argument("-o", "--output", type=Path, help="write to FILE (default: stdout)")
    for parser in (ls, get):
        daemon_options(parser)
    return [ls, get]


def run(endpoint: AdminEndpoint, args: argparse.Namespace) -> int:
    """``s3d snapshots …``; the exit code. Raises AdminClientError."""
    base = _set_path(args.set)
    if args.snapshots_command == "ls":
        document = _json(endpoint, base)
        sys.stdout.write(json.dumps(document, indent=2) + "\n" if args.json else _table(document))
        return 0
    query = f"?{urlencode({'variant': args.variant})}" if args.variant else ""
    path = base + quote(args.name, safe="") + query
    if args.output is None:
        return _download(endpoint, path, sys.stdout.buffer, sys.stderr)
    partial = args.output.with_name(args.output.name + ".part")
    with open(partial, "wb") as file:
        code = _download(endpoint, path, file, sys.stderr)
    if code == 0:
        os.replace(partial, args.output)
    else:
        partial.unlink(missing_ok=True)
    return code


def _set_path(location: str) -> str:
    parts = urlsplit(location)
    if parts.scheme != "s3" or not parts.netloc:
        raise AdminClientError(f"expected s3://BUCKET/PREFIX/, got {location!r}")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"snapshots/{quote(parts.netloc, safe='')}/{quote(prefix)}"


def _open(endpoint: AdminEndpoint, path: str) -> Any:
    url = f"{endpoint.url}/_s3d/{path}"
    headers = {"Host": urlsplit(url).netloc}
    if endpoint.key is not None:
        key = endpoint.key
        headers |= sign_headers(
            "GET", url, headers, EMPTY_SHA256, key.access_key_id,
            key.secret_access_key, endpoint.region, datetime.now(UTC),
        )  # fmt: skip
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=endpoint.tls)
    )
    try:
        return opener.open(urllib.request.Request(url, headers=headers), timeout=600)
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("msg", "")
        except ValueError:
            message = ""
        raise AdminClientError(f"{url}: HTTP {exc.code} {message}".rstrip()) from None
    except (urllib.error.URLError, OSError) as exc:
        raise AdminClientError(f"no s3d answering at {endpoint.url}: {exc}") from None


def _json(endpoint: AdminEndpoint, path: str) -> dict[str, Any]:
    with _open(endpoint, path) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


def _table(document: dict[str, Any]) -> str:
    rows = [
        f"{s['time']}  {(s.get('variant') or '-'):<8}  {human_bytes(s['size']):>10}  {s['name']}"
        + {"key": "", "marker": "  (time: its marker)"}.get(
            str(s.get("time_source")), "  (time: LastModified)"
        )
        for s in document.get("snapshots", [])
    ]
    return "".join(row + "\n" for row in rows) + f"{len(rows)} snapshots\n"


def _download(endpoint: AdminEndpoint, path: str, out: IO[bytes], err: TextIO) -> int:
    show = err.isatty()
    with _open(endpoint, path) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        try:
            while data := response.read1(_CHUNK):
                out.write(data)
                done += len(data)
                if show:
                    of = f" of {human_bytes(total)}" if total else ""
                    err.write(f"\r{human_bytes(done)}{of}   ")
        except (http.client.IncompleteRead, ConnectionError) as exc:
            err.write(f"\ns3d: the download was cut short ({type(exc).__name__}): incomplete\n")
            return 1
    out.flush()
    if show:
        err.write("\n")
    return 0
