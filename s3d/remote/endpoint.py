"""What the native data path adds to a request: headers by operation, bodies read to send.

``Endpoint`` pairs a ``NativeClient`` with the S3 service model (which of a client's headers
are an operation's parameters, ``HeaderParams.passed``) and s3d's SSE-C key, whose base64
and MD5 are computed once here and go nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from s3d.protocol.errors import InternalError
from s3d.protocol.model import Headers
from s3d.remote.native import NativeClient
from s3d.remote.params import HeaderParams

if TYPE_CHECKING:
    from s3d.staging import StagedBody

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SSE_KEY = "x-amz-server-side-encryption-customer-key"


class Endpoint:
    """A ``NativeClient`` and what its requests add: the service model, the SSE-C key."""

    def __init__(self, native: NativeClient, params: HeaderParams, sse_key: bytes | None) -> None:
        self.native = native
        self.params = params
        self.sse: dict[str, str] = {}
        if sse_key is not None:
            self.sse = {
                "x-amz-server-side-encryption-customer-algorithm": "AES256",
                _SSE_KEY: base64.b64encode(sse_key).decode("ascii"),
                f"{_SSE_KEY}-md5": base64.b64encode(hashlib.md5(sse_key).digest()).decode(),
            }

    def headers(self, operation: str, given: Headers, own: Headers = ()) -> dict[str, str]:
        """The request's headers: the client's parameter headers, then s3d's ``own``, then
        the SSE-C key unless the client gave one. Raises InvalidArgument."""
        headers: dict[str, str] = {}
        for name, value in self.params.passed(operation, given):
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        headers.update(own)
        if self.sse and _SSE_KEY not in headers:
            headers.update(self.sse)
        return headers


def read_small(body: StagedBody, tls: bool) -> tuple[bytes, str]:
    """A small body's bytes and the payload hash to sign (in a worker thread). Raises
    InternalError when its file cannot be read."""
    try:
        data = body.read_bytes()
    except OSError as exc:
        raise InternalError("A staged request body could not be read") from exc
    # Botocore signs the payload over plain HTTP; over TLS, Content-MD5 covers it.
    return data, UNSIGNED_PAYLOAD if tls else hashlib.sha256(data).hexdigest()


async def ready(data: bytes) -> object:
    """``data`` as an attempt's body: the same bytes for every attempt."""
    return data
