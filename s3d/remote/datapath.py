"""The data path: GetObject, HeadObject, PutObject and UploadPart without botocore.

A cold read and an upload are one request each, on the path where a request's cost shows;
botocore's per-call machinery (parameter building, its signer, retry bookkeeping, parsing)
was the largest part of a first read's CPU (docs/performance.md). ``DataPath`` builds these
four requests itself and sends them through a ``NativeClient`` per remote endpoint (one for the
remote, one per bucket with a client of its own), with the headers botocore would send: the
client's parameter headers (through the same service model, ``HeaderParams.passed``), the
typed fields (range, version, part number, ``response-*`` overrides), s3d's own body headers
and SSE-C key. Answers become the same ``ObjectResponse`` and ``WriteResult``; errors the same
``S3Error``. A bucket the remote redirects (another region) is left to botocore, which follows
redirects, from then on.

``remote.data_path = "botocore"`` leaves these calls to aiobotocore (``RemoteS3`` then never
builds a ``DataPath``). Open while its ``RemoteS3`` is: ``close`` forgets the clients (their
owner closes them).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchKey, NoSuchUpload, S3Error, ServiceUnavailable
from s3d.protocol.model import ByteStream, ObjectResponse, WriteResult
from s3d.remote.bodies import BodyStream, staged_reader
from s3d.remote.calls import Calls
from s3d.remote.connect import EXPECT_CONTINUE_FROM as EXPECT_FROM
from s3d.remote.endpoint import UNSIGNED_PAYLOAD, Endpoint, read_small, ready
from s3d.remote.multipart import MultipartOperations
from s3d.remote.native import Outgoing, Redirected
from s3d.remote.objects import ObjectOperations, body_headers
from s3d.remote.responses import passed_headers, written_headers
from s3d.remote.validated import ValidatedStream, expected_checksum

if TYPE_CHECKING:
    from s3d.staging import StagedBody

T = TypeVar("T")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class DataPath:
    """The four data-path calls of ``RemoteS3``, with botocore's ``fallback`` for the rest."""

    def __init__(self, call: Calls, objects: ObjectOperations, multipart: MultipartOperations):
        self._call = call
        self._objects, self._multipart = objects, multipart
        self._default: Endpoint | None = None
        self._routes: dict[str, Endpoint] = {}
        self._redirected: set[str] = set()

    def open(self, endpoint: Endpoint) -> None:
        self._default = endpoint

    def route(self, bucket: str, endpoint: Endpoint) -> None:
        """Requests naming ``bucket`` go to ``endpoint``."""
        self._routes[bucket] = endpoint

    def close(self) -> None:
        self._default = None
        self._routes.clear()

    def _endpoint(self, bucket: str) -> Endpoint:
        endpoint = self._routes.get(bucket, self._default)
        if endpoint is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        return endpoint

    async def get_object(self, op: ops.GetObject) -> ObjectResponse:
        """GetObject, or HeadObject when ``op.head``: as ``ObjectOperations.get_object``. The
        body streams as it arrives and holds a connection until closed. Raises NoSuchKey,
        NotModified, PreconditionFailed, InvalidRange…; cancellation abandons the request."""
        operation = "HeadObject" if op.head else "GetObject"
        return await self._either(
            operation, op, lambda: self._get(operation, op), lambda: self._objects.get_object(op)
        )

    async def _get(self, operation: str, op: ops.GetObject) -> ObjectResponse:
        endpoint = self._endpoint(op.bucket)
        query = [(f"response-{name.lower()}", value) for name, value in op.overrides]
        if op.part_number is not None:
            query.append(("partNumber", str(op.part_number)))
        if op.version_id is not None:
            query.append(("versionId", op.version_id))
        own = (("range", str(op.range)),) if op.range is not None else ()
        headers = endpoint.headers(operation, op.headers, own)
        native = endpoint.native
        url = await native.addresses.url(op.bucket, op.key, tuple(sorted(query)))
        method = "HEAD" if op.head else "GET"
        response = await native.request(Outgoing(method, url, headers, EMPTY_SHA256, NoSuchKey))
        answered = passed_headers(response.headers)
        if op.head:
            response.release()
            return ObjectResponse(response.status, answered)
        stream: ByteStream = BodyStream(response.content.read, response.close)
        check = expected_checksum(headers, response.headers) if response.status == 200 else None
        if check is not None:
            stream = ValidatedStream(stream, *check)
        return ObjectResponse(response.status, answered, stream)

    async def put_object(self, op: ops.PutObject, body: StagedBody) -> WriteResult:
        """Upload ``body`` with its verified MD5 and checksums, as
        ``ObjectOperations.put_object``. Raises S3Error; cancellation abandons the upload."""
        return await self._either(
            "PutObject",
            op,
            lambda: self._put("PutObject", op, body, (), NoSuchKey),
            lambda: self._objects.put_object(op, body),
        )

    async def upload_part(self, op: ops.UploadPart, body: StagedBody) -> WriteResult:
        """Upload one part from its staged file, as ``MultipartOperations.upload_part``.
        Raises S3Error (NoSuchUpload…); cancellation abandons the part."""
        query = (("partNumber", str(op.part_number)), ("uploadId", op.upload_id))
        return await self._either(
            "UploadPart",
            op,
            lambda: self._put("UploadPart", op, body, query, NoSuchUpload),
            lambda: self._multipart.upload_part(op, body),
        )

    async def _either(
        self,
        operation: str,
        op: ops.GetObject | ops.PutObject | ops.UploadPart,
        native: Callable[[], Awaitable[T]],
        botocore: Callable[[], Awaitable[T]],
    ) -> T:
        """``native()``, observed as a remote call; ``botocore()`` for a bucket the remote
        redirected, from its first redirect on."""
        if op.bucket not in self._redirected:
            try:
                return await self._call.observed(
                    operation, {"Bucket": op.bucket, "Key": op.key}, native
                )
            except Redirected:
                self._redirected.add(op.bucket)
        return await botocore()

    async def _put(
        self,
        operation: str,
        op: ops.PutObject | ops.UploadPart,
        body: StagedBody,
        query: tuple[tuple[str, str], ...],
        missing: type[S3Error],
    ) -> WriteResult:
        endpoint = self._endpoint(op.bucket)
        headers = endpoint.headers(operation, op.headers, body_headers(body))
        native = endpoint.native
        url = await native.addresses.url(op.bucket, op.key, query)
        if body.size < EXPECT_FROM:
            # One worker-thread hop reads (and, over plain HTTP, hashes) a small body.
            data, digest = await asyncio.to_thread(read_small, body, url.startswith("https:"))
            out = Outgoing("PUT", url, headers, digest, missing, lambda: ready(data))
            response = await native.request(out)
        else:
            async with staged_reader(body, lent=True) as reader:

                async def rewound() -> object:
                    reader.seek(0)
                    return reader

                out = Outgoing("PUT", url, headers, UNSIGNED_PAYLOAD, missing, rewound)
                response = await native.request(out)
        response.release()
        return WriteResult(written_headers(response.headers), response.status)
