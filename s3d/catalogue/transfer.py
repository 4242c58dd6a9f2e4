"""Moving drs.index files between the catalogue and buckets: export, import, bootstrap.

Export streams the catalogue into a staged file (hashed as it is written, gzip when the key
ends in ``.gz``) and PUTs it through the gateway like any client's PUT: in write-back mode it
is acknowledged once durable in the journal and uploaded in the background, as one atomic PUT,
or as a multipart upload above ``journal.multipart_threshold``. Readers of the bucket see the
previous file or the new one, never a part.

Import reads a local file, or fetches ``s3://bucket/key`` into a file of the catalogue's work
directory first (bounded memory, and a file can be checked whole before anything is kept),
then ingests it in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from s3d.catalogue.feed import chunks_of
from s3d.catalogue.service import Catalogue, ImportResult, now_rfc3339, parse_s3_url
from s3d.protocol.model import ByteStream, LocalFile
from s3d.staging import StagedBody, StagingArea

log = logging.getLogger("s3d.catalogue")

Put = Callable[[str, str, StagedBody, str], Awaitable[None]]
"""(bucket, key, body, content type): store the body as the object, through the gateway."""
Fetch = Callable[[str, str], Awaitable[ByteStream | LocalFile | bytes | None]]
"""(bucket, key) -> the object's body. Raises S3Error (NoSuchKey…)."""
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ExportResult:
    target: str
    records: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "records": self.records,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


class Transfers:
    def __init__(
        self,
        catalogue: Catalogue,
        staging: StagingArea,
        work_dir: Path,
        put: Put,
        fetch: Fetch,
        generator: str,
    ) -> None:
        self._catalogue = catalogue
        self._staging = staging
        self._work_dir = work_dir
        self._put = put
        self._fetch = fetch
        self._generator = generator
        self._lock = asyncio.Lock()

    async def export(self, target: str, progress: Progress = lambda n: None) -> ExportResult:
        """Write the catalogue to ``target`` (s3://bucket/key). Raises ValueError for a bad
        URL, S3Error when the PUT is refused."""
        bucket, key = parse_s3_url(target)
        async with self._lock:
            return await self._export(target, bucket, key, progress)

    async def _export(self, target: str, bucket: str, key: str, progress: Progress) -> ExportResult:
        records = 0

        def counted(count: int) -> None:
            nonlocal records
            records = count
            progress(count)

        compress = key.endswith(".gz")
        async with self._staging.writer() as writer:
            chunks = self._catalogue.export_chunks(
                bucket, self._generator, compress=compress, progress=counted
            )
            async for chunk in chunks:
                await writer.write(chunk)
            body = await writer.finish(durable=True)
        content_type = "application/gzip" if compress else "application/x-ndjson"
        await self._put(bucket, key, body, content_type)
        log.info("exported %d DRS records to %s (%d bytes)", records, target, body.size)
        result = ExportResult(target, records, body.size, body.sha256.hex())
        self._catalogue.last_export = {"at": now_rfc3339(), **result.as_dict()}
        return result

    async def import_(self, source: str, progress: Progress = lambda n: None) -> ImportResult:
        """Ingest the drs.index at ``source``: a local path or s3://bucket/key. Raises
        IndexFormatError, OSError for an unreadable file, S3Error for an unreadable object."""
        async with self._lock:
            if not source.startswith("s3://"):
                return await self._catalogue.import_file(Path(source), source, progress)
            bucket, key = parse_s3_url(source)
            path = await self.download(bucket, key)
            try:
                return await self._catalogue.import_file(path, source, progress)
            finally:
                await asyncio.to_thread(path.unlink, missing_ok=True)

    async def download(self, bucket: str, key: str) -> Path:
        """The object, in a new file of the work directory (deleted again on failure)."""
        await asyncio.to_thread(self._work_dir.mkdir, parents=True, exist_ok=True)
        path = self._work_dir / f"incoming-{uuid.uuid4().hex}"
        body = await self._fetch(bucket, key)
        file = await asyncio.to_thread(open, path, "xb")
        try:
            try:
                async with contextlib.aclosing(chunks_of(body)) as chunks:
                    async for chunk in chunks:
                        await asyncio.to_thread(file.write, chunk)
            finally:
                file.close()
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return path
