"""When objects reach the remote, and whether the remote holds the bytes sent.

moto (werkzeug) logs one line per request once it has answered it, e.g. ``127.0.0.1 - -
[22/Nov/2026 02:37:13] "PUT /bench/key?x-id=PutObject HTTP/1.1" 200 -``. ``Landings`` reads
the lines moto adds to its log every ``POLL`` seconds and notes, per key, when it first saw a
request storing it (``_stores``) answered 200. (rclone PUTs to a temporary key, then copies it
to its own: the copy is when the key is stored.)
Asking moto instead would load the remote being measured: a listing of 1,000 keys costs it
about 160 ms of CPU. The resolution is ``POLL`` plus the time moto takes to write the line.

``check_stored`` lists the keys under a prefix from moto directly (no relay) and compares each
ETag, which moto computes from the bytes it stored (MD5 for a single PUT), with the bytes sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Self
from urllib.parse import unquote
from xml.etree import ElementTree

import aiohttp

from bench.clients import WrongAnswer

POLL = 0.01
_REQUEST = re.compile(rb'"(PUT|POST) /([^ ?]+)(\?[^ ]*)? HTTP/1\.[01]" (\d{3}) ')
_S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class Landings:
    """Keys → ``time.perf_counter()`` when moto's log showed them stored; follows the log
    from where it ends on entering, until leaving."""

    def __init__(self, moto_log: Path, bucket: str) -> None:
        self._log = moto_log
        self._prefix = f"{bucket}/"
        self._offset = 0
        self._rest = b""
        self.seen: dict[str, float] = {}
        self.refused: list[str] = []
        """Lines of PUTs and POSTs moto answered with an error: a harness or relay fault."""
        self._task: asyncio.Task[None] | None = None
        self._grew = asyncio.Event()

    async def __aenter__(self) -> Self:
        self._offset = self._log.stat().st_size
        self._task = asyncio.create_task(self._follow(), name="bench-landings")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_for(self, keys: Collection[str]) -> float:
        """Wait until every key in ``keys`` was seen stored; the time the last one was.
        Cancellation (a timeout around it) just stops the waiting."""
        while any(key not in self.seen for key in keys):
            self._grew.clear()
            await self._grew.wait()
        return max(self.seen[key] for key in keys)

    def missing(self, keys: Collection[str]) -> int:
        return sum(1 for key in keys if key not in self.seen)

    async def _follow(self) -> None:
        while True:
            self.read()
            await asyncio.sleep(POLL)

    def read(self) -> None:
        """Take in the lines moto added since the last read."""
        with self._log.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        if not data:
            return
        now = time.perf_counter()
        self._offset += len(data)
        *lines, self._rest = (self._rest + data).split(b"\n")
        for line in lines:
            found = _REQUEST.search(line)
            if found is None:
                continue
            method, path, query, status = found.groups()
            if not _stores(method, query or b""):
                continue
            if status != b"200":
                self.refused.append(line.decode(errors="replace"))
                continue
            name = unquote(path.decode())
            if name.startswith(self._prefix):
                self.seen.setdefault(name.removeprefix(self._prefix), now)
                self._grew.set()


def _stores(method: bytes, query: bytes) -> bool:
    """Whether a request stores an object at its key: PutObject or CopyObject (botocore adds
    ``?x-id=``; other clients send no query) or CompleteMultipartUpload. UploadPart, the
    subresources (``?tagging``…) and CreateMultipartUpload (``?uploads``) do not."""
    if method == b"PUT":
        return query in (b"", b"?x-id=PutObject", b"?x-id=CopyObject")
    return b"uploadId=" in query


async def check_stored(
    client: aiohttp.ClientSession, remote: str, bucket: str, prefix: str, sent: Mapping[str, bytes]
) -> None:
    """The remote holds every key of ``sent`` (all under ``prefix``) with its bytes' MD5 as
    ETag. Raises ``WrongAnswer``."""
    stored = await list_etags(client, remote, bucket, prefix)
    for key, body in sent.items():
        etag = stored.get(key)
        expected = f'"{hashlib.md5(body).hexdigest()}"'
        if etag != expected:
            raise WrongAnswer(f"remote {bucket}/{key}: ETag {etag}, expected {expected}")


async def list_etags(
    client: aiohttp.ClientSession, remote: str, bucket: str, prefix: str
) -> dict[str, str]:
    """Key → ETag of every object under ``prefix`` (ListObjectsV2, all pages; moto accepts an
    unsigned listing)."""
    etags: dict[str, str] = {}
    token: str | None = None
    while True:
        params = {"list-type": "2", "prefix": prefix}
        if token:
            params["continuation-token"] = token
        async with client.get(f"{remote}/{bucket}", params=params) as answer:
            body = await answer.read()
            if answer.status != 200:
                raise WrongAnswer(f"listing {bucket}/{prefix}: {answer.status} {body[:300]!r}")
        root = ElementTree.fromstring(body)
        for item in root.iter(f"{_S3}Contents"):
            etags[item.findtext(f"{_S3}Key", "")] = item.findtext(f"{_S3}ETag", "")
        token = root.findtext(f"{_S3}NextContinuationToken")
        if root.findtext(f"{_S3}IsTruncated") != "true" or not token:
            return etags
