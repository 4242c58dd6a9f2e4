"""The input document a policy decides on, in MinIO's OPA shape so that policies written for
MinIO read it as they expect (``account``, ``groups``, ``action``, ``bucket``, ``object``,
``conditions``), plus s3d's own fields under ``s3d``:

    {"account": "AKIA…", "groups": [], "action": "s3:GetObject", "bucket": "b",
     "object": "k", "owner": false,
     "conditions": {"SourceIp": ["127.0.0.1"], "UserAgent": ["…"], "CurrentTime": ["…"],
                    "SecureTransport": ["false"]},
     "s3d": {"api": "HeadObject", "key": "AKIA…", "source": "127.0.0.1", "size": 123,
             "tags": {"k": "v"}, "headers": {"content-type": "…"}}}

``action`` is the IAM action the S3 API call needs (HeadObject needs s3:GetObject, a
multipart upload's steps s3:PutObject…); ``s3d.api`` names the call itself. ``size`` is the
request body's declared length (None without one); ``tags`` the ``x-amz-tagging`` header's.
Header values that carry secrets (Authorization, SSE-C keys, security tokens) never enter it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from s3d.protocol.errors import S3Error
from s3d.protocol.model import Headers
from s3d.protocol.tagging import parse_tagging_header

_IAM = {
    "HeadObject": "s3:GetObject",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListBuckets": "s3:ListAllMyBuckets",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListObjectVersions": "s3:ListBucketVersions",
}
_SECRET = ("authorization", "x-amz-security-token", "x-amz-server-side-encryption-customer-key",
           "x-amz-copy-source-server-side-encryption-customer-key")  # fmt: skip


def iam_action(api: str) -> str:
    """The IAM action an S3 API call needs: ``s3:<api>`` unless it is one of the exceptions."""
    return _IAM.get(api, f"s3:{api}")


class PolicyInput:
    """One request's input document, built part by part as it is asked for (``part``): a
    remembered verdict needs only the parts its policy reads, the whole document
    (``document``) is built only for an evaluation. ``now`` is passed in (no clock here). A
    header given twice counts with its first value, as ``header`` reads it."""

    def __init__(
        self,
        account: str,
        api: str,
        bucket: str | None,
        key: str | None,
        headers: Headers,
        source: str | None,
        now: datetime,
        secure: bool = False,
    ) -> None:
        self.account, self.api, self.bucket, self.key = account, api, bucket or "", key or ""
        self.headers, self.source, self.now, self.secure = headers, source or "", now, secure
        self._parts: dict[str, object] = {}
        self._kept: dict[str, str] | None = None

    def part(self, name: str) -> object:
        """The top-level field ``name`` (None for one the document does not have)."""
        found = self._parts.get(name)
        if found is None and name in _PARTS:
            found = self._parts[name] = _PARTS[name](self)
        return found

    def document(self) -> dict[str, object]:
        return {name: self.part(name) for name in _PARTS}

    def kept(self) -> dict[str, str]:
        """The headers a policy may see, built once (one pass over the headers)."""
        if self._kept is None:
            pairs = reversed(self.headers)
            self._kept = {n: v for n, v in pairs if not n.startswith(_SECRET)}
        return self._kept


def _conditions(request: PolicyInput) -> dict[str, list[str]]:
    return {
        "SourceIp": [request.source],
        "UserAgent": [request.kept().get("user-agent", "")],
        "CurrentTime": [_stamp(int(request.now.timestamp()))],
        "SecureTransport": ["true" if request.secure else "false"],
    }


def _own(request: PolicyInput) -> dict[str, object]:
    kept = request.kept()
    length = kept.get("x-amz-decoded-content-length") or kept.get("content-length")
    tagging = kept.get("x-amz-tagging")
    try:
        tags = dict(parse_tagging_header(tagging)) if tagging is not None else {}
    except S3Error:
        tags = {}  # the request is refused for it later, as S3 does
    return {
        "api": request.api,
        "key": request.account,
        "source": request.source,
        "size": int(length) if length is not None and length.isdigit() else None,
        "tags": tags,
        "headers": kept,
    }


_PARTS: dict[str, Callable[[PolicyInput], object]] = {
    "account": lambda r: r.account,
    "groups": lambda r: [],
    "action": lambda r: iam_action(r.api),
    "bucket": lambda r: r.bucket,
    "object": lambda r: r.key,
    "owner": lambda r: False,
    "conditions": _conditions,
    "s3d": _own,
}


@lru_cache(maxsize=4)
def _stamp(second: int) -> str:
    """ISO 8601 UTC to the second; formatted once per second (strftime costs microseconds)."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
