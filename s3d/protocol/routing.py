"""Which S3 operation a request names: addressing (path or virtual-hosted style), then the
method and query selector.

Theory of operation: a request is located first (``locate``: bucket and key from the Host
header and the raw path), then named (``route``: an S3 action name from the method, the level
— service, bucket or object — and the query's selector). Names come from ``s3_api``, the table
taken from S3's service model. A selector S3 defines but not for this method (HEAD included:
no sub-resource has a HEAD form) is ``405 MethodNotAllowed``; two different selectors are
``400 InvalidArgument`` ("Conflicting query string parameters"), as S3 answers; a valueless
query word S3 does not define is refused with ``501 NotImplemented`` naming it, so a
subresource s3d does not know never falls through to a listing or to the object's bytes.
Parameters with a value that S3 does not define are ignored, as S3 ignores them
(cache-busting ``?v=2`` works).
"""

from __future__ import annotations

from dataclasses import dataclass

from s3d.protocol.errors import InvalidArgument, MethodNotAllowed, NotImplemented_
from s3d.protocol.model import Headers, header
from s3d.protocol.names import check_bucket_name, decode_key, decode_path
from s3d.protocol.s3_api import PARAMETERS, SELECTORS

AUTH_PARAMETERS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "X-Amz-Content-Sha256",
        "x-amz-checksum-mode",
        "x-id",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    }
)
"""Query parameters that belong to authentication or to the SDK, never to the operation.
Compare with ``is_auth_parameter``: SigV2 presigned URLs carry the token as
``x-amz-security-token``, in lower case."""

_AUTH_LOWER = frozenset(name.lower() for name in AUTH_PARAMETERS)


def is_auth_parameter(name: str) -> bool:
    """Whether the query parameter ``name`` belongs to authentication (any case)."""
    return name.lower() in _AUTH_LOWER


NOT_SERVED = frozenset({"PostObject", "RenameObject", "CreateSession", "WriteGetObjectResponse"})
"""Operations s3d answers with 501: S3 Express directory-bucket operations, and a POST to a
bucket that is not a form upload (``multipart/form-data``: s3d/server/post_object.py)."""

Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Target:
    """The bucket and key a request addresses; both None for the service itself."""

    bucket: str | None
    key: str | None
    virtual_host: bool = False


def parse_query(raw_query: str) -> Query:
    """Decoded (name, value) pairs in order; a valueless name has the value "".

    ``+`` is a space, as in every S3 client's query encoding. Raises InvalidURI when a name or
    value is not UTF-8 once decoded (rather than guessing, which would change a prefix)."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_query_text(name), _query_text(value)))
    return tuple(pairs)


def _query_text(raw: str) -> str:
    return decode_path(raw.replace("+", " "))


def locate(raw_path: str, headers: Headers, base_domains: tuple[str, ...]) -> Target:
    """The bucket and key from the Host header (virtual-hosted style under a configured base
    domain) or else the first path segment (path style). Raises InvalidBucketName,
    InvalidURI, KeyTooLongError."""
    host = (header(headers, "host") or "").lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    for domain in base_domains:
        if host.endswith("." + domain):
            bucket = host[: -len(domain) - 1]
            check_bucket_name(bucket)
            return Target(bucket, decode_key(path) if path else None, virtual_host=True)
    if not path:
        return Target(None, None)
    bucket_part, slash, key_part = path.partition("/")
    bucket = decode_path(bucket_part)
    check_bucket_name(bucket)
    return Target(bucket, decode_key(key_part) if slash and key_part else None)


def route(method: str, target: Target, query: Query, headers: Headers) -> str:
    """The S3 action a request names, e.g. "PutObject", "GetBucketVersioning".

    Raises MethodNotAllowed, InvalidArgument (two selectors), NotImplemented (an unknown
    valueless word)."""
    names = {name for name, _ in query}
    if target.bucket is None:
        if method in ("GET", "HEAD"):
            return "ListBuckets"
        raise MethodNotAllowed(Method=method, ResourceType="SERVICE")
    level = "bucket" if target.key is None else "object"
    for name, value in query:
        if (
            value == ""
            and (level, name) not in SELECTORS
            and name not in PARAMETERS
            and not is_auth_parameter(name)
        ):
            raise NotImplemented_(
                f"The {name} subresource is not implemented by s3d.", Subresource=name
            )
    selectors = sorted(name for name in names if (level, name) in SELECTORS)
    if len(selectors) > 1:
        # S3 names them sorted, whatever order they came in, and the first as the value.
        raise InvalidArgument(
            "Conflicting query string parameters: " + ", ".join(selectors),
            ArgumentName="ResourceType",
            ArgumentValue=selectors[0],
        )
    if selectors:
        return _selected(SELECTORS[(level, selectors[0])], method, names, level)
    if level == "bucket":
        return _bucket_action(method, query)
    return _object_action(method, names, headers)


def _selected(actions: dict[str, tuple[str, ...]], method: str, names: set[str], level: str) -> str:
    candidates = actions.get(method)
    if not candidates:
        raise MethodNotAllowed(Method=method, ResourceType=level.upper())
    if len(candidates) == 1:
        return candidates[0]
    listing = [c for c in candidates if c.startswith("List")]
    if listing:
        return candidates[0] if names & {"id", "annotationName"} else listing[0]
    # GetBucketLifecycle/GetBucketLifecycleConfiguration and the like: the current API.
    return max(candidates, key=len)


def _bucket_action(method: str, query: Query) -> str:
    if method == "GET":
        # Only list-type=2 (the first one given) selects V2; any other value is V1, as S3 has it.
        list_type = next((value for name, value in query if name == "list-type"), None)
        return "ListObjectsV2" if list_type == "2" else "ListObjects"
    actions = {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}
    if method in actions:
        return actions[method]
    if method == "POST":
        return "PostObject"
    raise MethodNotAllowed(Method=method, ResourceType="BUCKET")


def _object_action(method: str, names: set[str], headers: Headers) -> str:
    copy = header(headers, "x-amz-copy-source") is not None
    multipart = "uploadId" in names
    if method == "GET":
        return "ListParts" if multipart else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "PUT":
        if multipart or "partNumber" in names:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if multipart else "DeleteObject"
    if method == "POST" and multipart:
        return "CompleteMultipartUpload"
    # POST on a key without uploadId is no operation: S3 answers 405 (form uploads go to the
    # bucket).
    raise MethodNotAllowed(Method=method, ResourceType="OBJECT")


def check_served(action: str) -> None:
    if action in NOT_SERVED:
        raise NotImplemented_(f"{action} is not implemented by s3d.", Operation=action)
