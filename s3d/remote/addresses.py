"""Where a bucket's objects are on the remote, as the aiobotocore client addresses them.

Botocore's endpoint rules decide path or virtual-hosted style, the regional AWS host, and
when a bucket name forces path style (dots under TLS). Rather than restate them, the native
data path asks the client once per bucket for a presigned URL of a probe key (no I/O) and
keeps what comes before the key: an object's URL is that prefix and its key, percent-encoded
as botocore encodes it (everything but unreserved characters, ``/`` and ``~``).

Owns a bounded map of bucket to prefix; entries never change for a client's life.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from s3d.remote.errors import map_errors

_PROBE = "s3d-probe"
_MAX_BUCKETS = 1024
_QUERY_SAFE = "-_.~"


class Addresses:
    """Object URLs of one aiobotocore client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._prefixes: dict[str, str] = {}

    async def url(self, bucket: str, key: str, query: tuple[tuple[str, str], ...] = ()) -> str:
        """The URL of ``key`` in ``bucket`` with ``query`` (name, value) pairs, encoded as
        it will be sent and signed. Raises InvalidArgument for a bucket name botocore
        refuses; no I/O (the first call for a bucket runs botocore's endpoint rules)."""
        prefix = self._prefixes.get(bucket)
        if prefix is None:
            prefix = await self._prefix(bucket)
        url = prefix + quote(key, safe="/~")
        if not query:
            return url
        return url + "?" + "&".join(f"{_quoted(n)}={_quoted(v)}" for n, v in query)

    async def _prefix(self, bucket: str) -> str:
        with map_errors():
            presigned: str = await self._client.generate_presigned_url(
                "head_object", Params={"Bucket": bucket, "Key": _PROBE}
            )
        scheme, netloc, path, _, _ = urlsplit(presigned)
        if not path.endswith("/" + _PROBE):
            raise ValueError(f"unexpected object URL shape from botocore: {scheme}://{netloc}")
        prefix = urlunsplit((scheme, netloc, path[: -len(_PROBE)], "", ""))
        if len(self._prefixes) >= _MAX_BUCKETS:
            self._prefixes.clear()  # bucket names a client made up must not grow it forever
        self._prefixes[bucket] = prefix
        return prefix


def _quoted(value: str) -> str:
    return quote(value, safe=_QUERY_SAFE)
