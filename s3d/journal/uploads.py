"""Multipart uploads assembled locally in write-back mode.

An upload created through s3d gets an id of s3d's own (``s3d-…``); its parts are staged,
verified and kept in the journal's files as they arrive (``parts`` rows, a re-sent part number
replacing the earlier one). CompleteMultipartUpload validates as S3 does — part order, each
ETag, EntityTooSmall below 5 MiB except for the last part — and turns the upload into one
journal job that keeps the client's part boundaries, so the remote computes the same
MD5-of-MD5s-N ETag that is answered now.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from s3d.journal.acks import PENDING, Acknowledgements
from s3d.journal.objects import multipart_etag, now_iso, stored_request_headers
from s3d.protocol import operations as ops
from s3d.protocol.errors import EntityTooSmall, InvalidPart, NoSuchUpload
from s3d.protocol.model import (
    CompleteMultipartResult,
    CreateMultipartResult,
    ListPartsResult,
    PartEntry,
    WriteResult,
)
from s3d.staging import StagedBody

LOCAL_PREFIX = "s3d-"
MIN_PART = 5 * 1024 * 1024


def is_local(upload_id: str) -> bool:
    return upload_id.startswith(LOCAL_PREFIX)


class LocalMultipart(Acknowledgements):
    def _upload(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        upload = self.uploads.get(upload_id)
        if upload is None or (upload["bucket"], upload["key"]) != (bucket, key):
            raise NoSuchUpload(UploadId=upload_id)
        return upload

    async def create_upload(self, op: ops.CreateMultipartUpload) -> CreateMultipartResult:
        await self.check_bucket(op.bucket)
        upload_id = LOCAL_PREFIX + uuid.uuid4().hex
        payload = {"headers": stored_request_headers(op.headers)}
        created = time.time()
        await self.store.write(
            [
                (
                    "INSERT INTO uploads (upload_id, bucket, key, payload, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (upload_id, op.bucket, op.key, json.dumps(payload), created),
                )
            ]
        )
        self.uploads[upload_id] = {
            "bucket": op.bucket, "key": op.key, "payload": payload, "created": created,
            "parts": {},
        }  # fmt: skip
        return CreateMultipartResult(op.bucket, op.key, upload_id, (PENDING,))

    async def upload_part(self, op: ops.UploadPart, body: StagedBody) -> WriteResult:
        """Keep a verified part. Raises NoSuchUpload."""
        upload = self._upload(op.bucket, op.key, op.upload_id)
        name = await self.files.adopt(body)
        part = {
            "file": name, "size": body.size, "md5": body.md5.hex(), "last_modified": now_iso(),
            "checksums": [list(pair) for pair in body.checksums],
        }  # fmt: skip
        await self.store.write(
            [
                (
                    "INSERT OR REPLACE INTO parts (upload_id, part_number, payload)"
                    " VALUES (?, ?, ?)",
                    (op.upload_id, op.part_number, json.dumps(part)),
                )
            ]
        )
        old = upload["parts"].get(op.part_number)
        upload["parts"][op.part_number] = part
        if old is not None:
            await self.files.remove([old["file"]])
        return WriteResult((("etag", body.etag), PENDING))

    async def complete(self, op: ops.CompleteMultipartUpload) -> CompleteMultipartResult:
        """Raises NoSuchUpload, InvalidPart, EntityTooSmall."""
        upload = self._upload(op.bucket, op.key, op.upload_id)
        chosen = _validated(upload["parts"], op.parts)
        etag = multipart_etag([bytes.fromhex(part["md5"]) for part in chosen])
        payload = {
            "files": [part["file"] for part in chosen],
            "parts": [{"size": part["size"], "md5": part["md5"]} for part in chosen],
            "headers": upload["payload"]["headers"],
            "etag": etag, "md5": "", "sha256": "", "checksums": [],
            "last_modified": now_iso(),
        }  # fmt: skip
        size = sum(int(part["size"]) for part in chosen)
        unused = [p["file"] for p in upload["parts"].values() if p not in chosen]
        async with self.locked([(op.bucket, op.key)]):
            await self.record(
                [(op.bucket, op.key, "multipart", payload, size)],
                [("DELETE FROM uploads WHERE upload_id = ?", (op.upload_id,))],
            )
        del self.uploads[op.upload_id]
        await self.files.remove(unused)
        location = f"/{op.bucket}/{op.key}"
        return CompleteMultipartResult(location, op.bucket, op.key, etag, (PENDING,))

    async def abort(self, op: ops.AbortMultipartUpload) -> WriteResult:
        upload = self._upload(op.bucket, op.key, op.upload_id)
        await self.store.write([("DELETE FROM uploads WHERE upload_id = ?", (op.upload_id,))])
        del self.uploads[op.upload_id]
        await self.files.remove(part["file"] for part in upload["parts"].values())
        return WriteResult(status=204)

    def list_parts(self, op: ops.ListParts) -> ListPartsResult:
        upload = self._upload(op.bucket, op.key, op.upload_id)
        numbers = sorted(n for n in upload["parts"] if n > op.part_number_marker)
        shown = numbers[: op.max_parts]
        truncated = len(numbers) > len(shown)
        parts = tuple(
            PartEntry(
                n,
                datetime.fromisoformat(upload["parts"][n]["last_modified"]),
                f'"{upload["parts"][n]["md5"]}"',
                int(upload["parts"][n]["size"]),
            )
            for n in shown
        )
        return ListPartsResult(
            bucket=op.bucket,
            key=op.key,
            upload_id=op.upload_id,
            part_number_marker=op.part_number_marker,
            next_part_number_marker=shown[-1] if truncated and shown else None,
            max_parts=op.max_parts,
            is_truncated=truncated,
            parts=parts,
        )


def _validated(
    uploaded: dict[int, dict[str, Any]], asked: tuple[ops.CompletedPart, ...]
) -> list[dict[str, Any]]:
    chosen = []
    for part in asked:
        have = uploaded.get(part.part_number)
        if have is None or part.etag.strip().strip('"') != have["md5"]:
            raise InvalidPart(PartNumber=str(part.part_number), ETag=part.etag)
        chosen.append(have)
    for part, have in zip(asked[:-1], chosen[:-1], strict=True):
        if int(have["size"]) < MIN_PART:
            raise EntityTooSmall(
                ProposedSize=str(have["size"]),
                MinSizeAllowed=str(MIN_PART),
                PartNumber=str(part.part_number),
                ETag=part.etag,
            )
    return chosen
