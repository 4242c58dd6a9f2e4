"""SSE-C with s3d's own key: ``remote.sse_customer_key_file``.

With a key configured, every upload to and read from the remote carries SSE-C parameters:
PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, GetObject, HeadObject,
and CopyObject/UploadPartCopy for both the new object and the copy source (every object s3d
writes is under the same key). A client's own SSE-C headers on a request win: they pass
through as before. Added before botocore builds the request, so botocore computes the key's
MD5 and base64 as for any SSE-C call (its ``sse_md5`` handler), and the key never leaves
this module as anything but those parameters.

Not covered: operations s3d forwards as raw requests (``s3d/remote/forward.py``: object
ACLs, retention, attributes…), which keep whatever SSE-C headers the client sent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3d.settings import ConfigError

KEY_BYTES = 32
ALGORITHM = "AES256"
_FOR_OBJECT = frozenset(
    {
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "GetObject",
        "HeadObject",
        "CopyObject",
        "UploadPartCopy",
    }
)
_FOR_SOURCE = frozenset({"CopyObject", "UploadPartCopy"})
OPERATIONS = _FOR_OBJECT


def load_key(path: Path) -> bytes:
    """The 32-byte key in ``path``: raw bytes, or their base64 (``openssl rand -base64 32``).
    Raises ConfigError naming the file and what is wrong, never the key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = f"remote.sse_customer_key_file: cannot read {path}: {exc.strerror}"
        raise ConfigError(message) from None
    if len(data) == KEY_BYTES:
        return data
    try:
        decoded = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == KEY_BYTES:
        return decoded
    raise ConfigError(
        f"remote.sse_customer_key_file: {path} holds {len(data)} bytes; an SSE-C key is "
        f"{KEY_BYTES} bytes, raw or base64-encoded"
    )


def parameters_hook(key: bytes) -> Callable[..., None]:
    """A botocore ``before-parameter-build.s3.<operation>`` handler adding the key to the
    calls above (``OPERATIONS``)."""

    def add(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        members = model.input_shape.members if model.input_shape is not None else {}
        wanted = model.name in _FOR_OBJECT and "SSECustomerKey" in members
        if wanted and "SSECustomerKey" not in params:
            params["SSECustomerAlgorithm"] = ALGORITHM
            params["SSECustomerKey"] = key
        if model.name in _FOR_SOURCE and "CopySourceSSECustomerKey" not in params:
            params["CopySourceSSECustomerAlgorithm"] = ALGORITHM
            params["CopySourceSSECustomerKey"] = key

    return add
