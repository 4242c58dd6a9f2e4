"""One botocore call, assembled and guarded: the seam between s3d's operations and aiobotocore.

``Calls`` merges three sources of parameters, in rising precedence: the client's headers
(through the service model), headers s3d supplies itself (lengths, digests), and the typed
fields of the operation. It is open only while its ``RemoteS3`` is: a call on a closed one is
``ServiceUnavailable``, never a call on a released client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from botocore import xform_name

from s3d.protocol.errors import NoSuchKey, S3Error, ServiceUnavailable
from s3d.protocol.model import Headers
from s3d.remote.errors import map_errors
from s3d.remote.params import HeaderParams
from s3d.remote.responses import Output
from s3d.telemetry import Attributes, object_attributes, trace, tracing

T = TypeVar("T")

CallObserver = Callable[[str, float, S3Error | None], None]
"""Told of every call: its operation, its seconds (retries included, to the answer's headers)
and its error (None when answered). Metrics use it; it must not raise."""


class Calls:
    """Calls operations on one aiobotocore S3 client."""

    def __init__(self, observe: CallObserver | None = None) -> None:
        self._observe = observe
        self._client: Any = None
        self._params: HeaderParams | None = None
        self._routes: dict[str, Any] = {}
        """Buckets with a client of their own (``remote.bucket_settings``)."""

    def open(self, client: Any) -> None:
        self._client = client
        self._params = HeaderParams(client.meta.service_model)

    def route(self, bucket: str, client: Any) -> None:
        """Calls naming ``bucket`` go to ``client`` (same service model, other endpoint or
        credentials)."""
        self._routes[bucket] = client

    def close(self) -> None:
        self._client = None
        self._routes.clear()

    def _for(self, bucket: object) -> Any:
        if self._client is None:
            return None
        return self._routes.get(bucket, self._client) if isinstance(bucket, str) else self._client

    async def presign_get(self, bucket: str, key: str, expires: int) -> str:
        """A presigned GET URL of the object, signed with the remote credentials (SigV4)."""
        client = self._for(bucket)
        if client is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        url: str = await client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )
        return url

    async def __call__(
        self,
        operation: str,
        headers: Headers = (),
        *,
        missing: type[S3Error] = NoSuchKey,
        supplied: Headers = (),
        overrides: tuple[tuple[str, str], ...] = (),
        deadline: float | None = None,
        **typed: object,
    ) -> Output:
        """Call ``operation`` (its S3 API name). Typed parameters that are None are left out.
        ``deadline``: seconds the whole call (its retries included) may take.

        Raises ``S3Error`` (see ``map_errors``; past the deadline, ServiceUnavailable);
        cancellation abandons the request and its connection."""
        client, params = self._for(typed.get("Bucket")), self._params
        if client is None or params is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        arguments = params.params(operation, headers)
        arguments.update(params.supplied(operation, supplied))
        arguments.update(params.overrides(operation, overrides))
        arguments.update({name: value for name, value in typed.items() if value is not None})
        method = getattr(client, xform_name(operation))
        return await self.observed(
            operation, typed, lambda: _run(method, arguments, missing, deadline)
        )

    async def observed(
        self, operation: str, typed: Mapping[str, object], run: Callable[[], Awaitable[T]]
    ) -> T:
        """``run()``, traced as a remote call of ``operation`` on ``typed``'s Bucket and Key,
        and told to the observer with its time and its S3Error (re-raised)."""
        span_attributes = call_attributes(operation, typed) if tracing() else None
        with trace(f"S3.{operation}", span_attributes, kind="client"):
            if self._observe is None:
                return await run()
            started = time.perf_counter()
            try:
                output = await run()
            except S3Error as error:
                self._observe(operation, time.perf_counter() - started, error)
                raise
            self._observe(operation, time.perf_counter() - started, None)
            return output


async def _run(
    method: Any, arguments: dict[str, Any], missing: type[S3Error], deadline: float | None
) -> Output:
    with map_errors(missing):
        async with asyncio.timeout(deadline):
            output: Output = await method(**arguments)
    return output


def call_attributes(operation: str, typed: Mapping[str, object]) -> Attributes:
    """The remote call's span, as the AWS SDK conventions name it (``rpc.*``); the bucket and
    key, never a parameter that may carry a secret (SSE-C keys, credentials)."""
    bucket, key = typed.get("Bucket"), typed.get("Key")
    return {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "rpc.method": operation,
        **object_attributes(
            bucket if isinstance(bucket, str) else None, key if isinstance(key, str) else None
        ),
    }
