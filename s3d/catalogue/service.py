"""The DRS catalogue's rules: ids, registration of objects passing through, lookups, and the
drs.index files it is seeded from and exported to.

Ids come from content: ``uuid5(NAMESPACE_DNS, "<project>:<sha256>")`` (git-drs's scheme), so
the same bytes get the same id on every node of a project. An object whose SHA-256 is not known
yet (a completed multipart upload, hashed in the background) is registered at once under a
provisional id made from its ETag and size, and moved to its content id once hashed; the
provisional id keeps resolving (``moved``).

Registrations are applied in order by one task, off the request path: a PUT is acknowledged
without waiting for the catalogue. ``settled`` waits for those queued so far, which is how the
DRS API reads its own node's writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from s3d.catalogue.index_format import (
    DRS_VERSION,
    FORMAT_VERSION,
    ID_SCHEME,
    AccessMethod,
    DrsRecord,
    Header,
    IndexReader,
    IndexWriter,
    drs_id,
    read_index,
)
from s3d.catalogue.store import CatalogueStore, CatalogueTotals
from s3d.protocol.model import bare_etag

log = logging.getLogger("s3d.catalogue")

INDEX_NAMES = ("drs.index", "drs.index.gz")
"""Keys ending in these names are catalogue files, not catalogued objects."""

Job = Callable[[], Awaitable[object]]


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def access_id_for(bucket: str, key: str) -> str:
    """The id of the ``s3`` access method at ``bucket``/``key``: the same on every node, so
    records of one object from several nodes merge."""
    return "s3-" + hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:16]


def provisional_id(project: str, etag: str, size: int) -> str:
    """The id of an object known only by its ETag and size, until its SHA-256 is."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{project}:etag:{etag}:{size}"))


def is_index_key(key: str) -> bool:
    return key.rpartition("/")[2] in INDEX_NAMES


def parse_s3_url(text: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key). Raises ValueError saying what is wrong."""
    if not text.startswith("s3://"):
        raise ValueError(f"{text!r} is not an s3://bucket/key URL")
    bucket, _, key = text[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ValueError(f"{text!r} names no key: expected s3://bucket/key")
    return bucket, key


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    records: int
    header: Header | None

    def as_dict(self) -> dict[str, object]:
        header = self.header
        return {
            "source": self.source,
            "records": self.records,
            "format_version": header.format_version if header else None,
            "generator": header.generator if header else None,
            "generated": header.generated if header else None,
            "id_scheme": header.id_scheme if header else None,
        }


@dataclass(frozen=True, slots=True)
class Observed:
    """An object seen passing through, its bytes known by the checksums s3d computed."""

    bucket: str
    key: str
    size: int
    etag: str
    """As the remote holds it, quoted or not."""
    sha256: str
    md5: str = ""
    mime_type: str = ""


class Catalogue:
    """Enter to start the registration task; exit to finish what is queued (briefly) and stop."""

    def __init__(self, store: CatalogueStore, project: str, region: str = "") -> None:
        self.store = store
        self.project = project
        self.region = region
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.counters = {"registered": 0, "provisional": 0, "keys_gone": 0, "failed": 0}
        """Since start: objects registered passing through (provisionally, by ETag only), keys
        whose access methods were made unavailable, registrations that failed."""
        self.last_import: dict[str, object] | None = None
        self.last_export: dict[str, object] | None = None

    async def __aenter__(self) -> Self:
        await self.store.set_meta({"id_scheme": ID_SCHEME, "project": self.project})
        self._worker = asyncio.create_task(self._work(), name="s3d-catalogue")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self, grace: float = 10.0) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except Exception:
                self.counters["failed"] += 1
                log.exception("a catalogue registration failed")
            finally:
                self._queue.task_done()

    def submit(self, job: Job) -> None:
        """Queue ``job`` (a registration); jobs run one at a time, in order."""
        self._queue.put_nowait(job)

    async def settled(self) -> None:
        """Wait until every registration queued so far is written."""
        if self._worker is not None:
            await self._queue.join()

    # Registration.

    def record_of(
        self, seen: Observed, object_id: str, checksums: tuple[tuple[str, str], ...]
    ) -> DrsRecord:
        now = now_rfc3339()
        bare = bare_etag(seen.etag)
        method = AccessMethod(
            access_id_for(seen.bucket, seen.key), seen.bucket, seen.key, self.region, True, bare
        )
        return DrsRecord(
            id=object_id,
            size=seen.size,
            created_time=now,
            updated_time=now,
            checksums=checksums,
            access_methods=(method,),
            name=seen.key.rpartition("/")[2],
            mime_type=seen.mime_type,
        )

    async def register(self, seen: Observed, replaces: tuple[str, ...] = ()) -> str:
        """Record an object whose SHA-256 is known; its id."""
        checksums = [("sha256", seen.sha256.lower())]
        if seen.md5:
            checksums.append(("md5", seen.md5.lower()))
        bare = bare_etag(seen.etag)
        if bare and bare != seen.md5:
            checksums.append(("etag", bare))
        object_id = drs_id(self.project, seen.sha256)
        await self.store.register(
            self.record_of(seen, object_id, tuple(checksums)), replaces=replaces
        )
        self.counters["registered"] += 1
        return object_id

    async def register_provisional(self, seen: Observed) -> str:
        """Record an object known by its ETag only (``seen.sha256`` empty); its provisional id."""
        bare = bare_etag(seen.etag)
        object_id = provisional_id(self.project, bare, seen.size)
        await self.store.register(self.record_of(seen, object_id, (("etag", bare),)))
        self.counters["provisional"] += 1
        return object_id

    def retag(self, bucket: str, key: str, acknowledged: str, remote: str) -> None:
        """An upload got ``remote`` as ETag where ``acknowledged`` was answered (SSE-C,
        SSE-KMS): methods recorded with the one now hold the other."""
        old, new = bare_etag(acknowledged), bare_etag(remote)
        self.submit(lambda: self.store.retag(bucket, key, old, new))

    async def gone(self, bucket: str, key: str) -> None:
        """``bucket``/``key`` was deleted, or holds bytes of unknown content now."""
        if await self.store.unavailable(bucket, key):
            self.counters["keys_gone"] += 1

    # Lookups.

    async def get(self, object_id: str) -> DrsRecord | None:
        await self.settled()
        return await self.store.get(object_id)

    async def page(self, after: str = "", limit: int = 1000) -> list[DrsRecord]:
        """Up to ``limit`` objects with ids after ``after``, in id order."""
        return await self.store.page(after, limit)

    async def unreachable(self, object_id: str, access_id: str) -> None:
        """One object's access method no longer reaches its bytes (someone overwrote them)."""
        await self.store.unavailable_method(object_id, access_id)

    async def by_checksum(self, checksum: str, kind: str | None = None) -> list[DrsRecord]:
        await self.settled()
        return await self.store.by_checksum(checksum.lower(), kind)

    async def totals(self) -> CatalogueTotals:
        return await self.store.totals()

    async def status(self) -> dict[str, object]:
        """The catalogue's section of ``s3d status``."""
        totals = await self.store.totals()
        return {
            "objects": totals.objects,
            "bytes": totals.bytes,
            "access_methods": totals.access_methods,
            "available": totals.available,
            "project": self.project,
            "queued": self._queue.qsize(),
            **self.counters,
            "last_import": self.last_import,
            "last_export": self.last_export,
        }

    async def records(self, page: int = 1000) -> AsyncIterator[list[DrsRecord]]:
        """Every record, in id order, ``page`` at a time."""
        await self.settled()
        after = ""
        while True:
            records = await self.store.page(after, page)
            if not records:
                return
            yield records
            after = records[-1].id

    # drs.index files.

    async def import_file(
        self, path: Path, source: str, progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Check and ingest the drs.index at ``path`` (plain or gzip). Raises IndexFormatError
        (nothing ingested) naming ``source`` and the line, OSError when it cannot be opened.
        ``progress`` gets the records read so far, on the event loop."""
        await self.settled()
        loop = asyncio.get_running_loop()

        def report(count: int) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, count)

        file = await asyncio.to_thread(open, path, "rb")
        try:
            reader = read_index(file, source)
            count = await self.store.ingest(iter(reader), report)
        finally:
            file.close()
        log.info("imported %d DRS records from %s", count, source)
        result = ImportResult(source, count, reader.header)
        self.last_import = {"at": now_rfc3339(), "source": source, "records": count}
        return result

    async def export_chunks(
        self,
        source_bucket: str,
        generator: str,
        *,
        compress: bool = False,
        progress: Callable[[int], None] = lambda count: None,
    ) -> AsyncIterator[bytes]:
        """The catalogue as drs.index bytes, in pieces; ``progress`` gets the records so far."""
        writer = IndexWriter(compress=compress)
        header = Header(
            format_version=f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}",
            drs_version=DRS_VERSION,
            generator=generator,
            generated=now_rfc3339(),
            source_bucket=source_bucket,
            id_scheme=ID_SCHEME,
            project=self.project,
        )
        yield writer.header(header)
        async for records in self.records():
            yield await asyncio.to_thread(writer.records, records)
            progress(writer.count)
        yield writer.trailer()


__all__ = ["Catalogue", "ImportResult", "IndexReader", "Observed"]
