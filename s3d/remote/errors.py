"""The one edge where botocore and aiohttp failures become ``S3Error``.

``map_errors`` wraps every remote call. An error the remote answered keeps its S3 code and
the extra members of its error document; an answer without a document (HEAD, 304) is named
by its status. A remote that cannot be reached is ``ServiceUnavailable``. Messages never carry
a URL, a credential or a signature: the remote's refusal of s3d's own credentials is answered
as ``AccessDenied`` without the remote's signing details, so a client never mistakes it for a
fault in its own signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import aiohttp
from botocore import exceptions as boto
from defusedxml import ElementTree

from s3d.protocol import errors as s3

# Remote error codes that say s3d's credentials or clock are wrong, not the client's.
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "RequestTimeTooSkewed",
        "AuthorizationHeaderMalformed",
    }
)
# Members of an error document that are not the error's details, or that echo signing input.
_NOT_DETAILS = frozenset(
    {
        "Code",
        "Message",
        "RequestId",
        "HostId",
        "AWSAccessKeyId",
        "StringToSign",
        "StringToSignBytes",
        "CanonicalRequest",
        "CanonicalRequestBytes",
        "SignatureProvided",
    }
)
# Headers of an error answer that a client reads: a 304's validators, a 404's delete marker
# and version, a 405's Allow, a redirect's region, a 503's Retry-After.
_KEPT_HEADERS = frozenset(
    {
        "etag",
        "last-modified",
        "expires",
        "cache-control",
        "x-amz-delete-marker",
        "x-amz-version-id",
        "allow",
        "x-amz-bucket-region",
        "retry-after",
    }
)
_BY_STATUS: dict[int, type[s3.S3Error]] = {
    304: s3.NotModified,
    400: s3.InvalidRequest,
    403: s3.AccessDenied,
    405: s3.MethodNotAllowed,
    412: s3.PreconditionFailed,
    416: s3.InvalidRange,
    500: s3.InternalError,
    501: s3.NotImplemented_,
    503: s3.ServiceUnavailable,
}
_UNREACHABLE = (
    boto.ConnectionError,
    boto.HTTPClientError,
    boto.IncompleteReadError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
)
_NO_CREDENTIALS = (
    boto.NoCredentialsError,
    boto.PartialCredentialsError,
    boto.CredentialRetrievalError,
    boto.NoAuthTokenError,
    boto.TokenRetrievalError,
    boto.MetadataRetrievalError,
)


@contextmanager
def map_errors(missing: type[s3.S3Error] = s3.NoSuchKey) -> Iterator[None]:
    """Translate what escapes the block into ``S3Error``. ``missing`` names a 404 that came
    without an error document (NoSuchKey for object calls, NoSuchBucket for bucket calls)."""
    try:
        yield
    except boto.ClientError as exc:
        raise from_client_error(exc.response, missing) from exc
    except _NO_CREDENTIALS as exc:
        raise s3.ServiceUnavailable(
            "s3d has no usable credentials for the remote S3 endpoint"
        ) from exc
    except boto.FlexibleChecksumError as exc:
        raise s3.InternalError(
            "The data received from the remote S3 endpoint did not match its checksum"
        ) from exc
    except boto.ParamValidationError as exc:
        raise s3.InvalidArgument("A request parameter is not valid for S3") from exc
    except _UNREACHABLE as exc:
        raise unreachable(exc) from exc


def unreachable(exc: BaseException) -> s3.S3Error:
    """ServiceUnavailable for a transport failure, saying which kind without its details."""
    if isinstance(exc, boto.SSLError | aiohttp.ClientSSLError):
        reason = "the TLS handshake failed"
    elif isinstance(exc, boto.ConnectTimeoutError | aiohttp.ConnectionTimeoutError):
        reason = "the connection timed out"
    elif isinstance(exc, boto.ReadTimeoutError | aiohttp.ServerTimeoutError):
        reason = "it stopped answering (read timeout)"
    elif isinstance(exc, asyncio.TimeoutError):
        reason = "it stopped answering (deadline)"  # a caller's own, around a whole call
    elif isinstance(exc, boto.EndpointConnectionError | aiohttp.ClientConnectorError):
        reason = "the connection failed"
    else:
        reason = "the connection was closed"
    return s3.ServiceUnavailable(f"The remote S3 endpoint could not be reached: {reason}")


def from_client_error(response: Mapping[str, Any], missing: type[s3.S3Error]) -> s3.S3Error:
    """The S3Error for botocore's parsed error response, with the answer's headers that
    describe the object (``_KEPT_HEADERS``)."""
    error = _error_of(response, missing)
    received: Mapping[str, str] = response.get("ResponseMetadata", {}).get("HTTPHeaders") or {}
    for name, value in received.items():
        if name.lower() in _KEPT_HEADERS:
            error.headers[name.lower()] = value
    return error


def _error_of(response: Mapping[str, Any], missing: type[s3.S3Error]) -> s3.S3Error:
    error: Mapping[str, Any] = response.get("Error") or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500)
    code = str(error.get("Code") or "")
    message = error.get("Message") or None
    if not code or code.isdigit():
        return by_status(status, missing)
    if code in _CREDENTIAL_CODES:
        return s3.AccessDenied(f"The remote S3 endpoint refused s3d's credentials ({code})")
    details = {
        name: value
        for name, value in error.items()
        if name not in _NOT_DETAILS and isinstance(value, str)
    }
    return s3.from_code(code, status, message, **details)


def from_document(
    status: int,
    document: bytes,
    missing: type[s3.S3Error],
    headers: Mapping[str, str] | None = None,
) -> s3.S3Error:
    """The S3Error for an error answer's raw body (an S3 ``<Error>`` document or nothing)
    and its ``headers``."""
    try:
        root = ElementTree.fromstring(document) if document.strip() else None
    except (ElementTree.ParseError, ValueError):
        root = None
    error = (
        {child.tag: child.text or "" for child in root if len(child) == 0}
        if root is not None and root.tag == "Error"
        else {}
    )
    metadata = {"HTTPStatusCode": status, "HTTPHeaders": dict(headers or {})}
    return from_client_error({"Error": error, "ResponseMetadata": metadata}, missing)


def by_status(status: int, missing: type[s3.S3Error]) -> s3.S3Error:
    """The error for an answer that carried no error document."""
    if status == 404:
        return missing()
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls()
    try:
        code = HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        code = f"Http{status}"
    return s3.RemoteError(code, status)


_MAX_ERROR = 64 * 1024


async def error_answer(response: aiohttp.ClientResponse, missing: type[s3.S3Error]) -> s3.S3Error:
    """The S3Error for an aiohttp error answer, read from its document (its first 64 KiB)
    when it has one; the answer is closed. Cancellation closes it too."""
    document = b""
    try:
        with map_errors():
            while chunk := await response.content.read(_MAX_ERROR - len(document)):
                document += chunk
                if len(document) >= _MAX_ERROR:
                    break
    finally:
        response.close()
    return from_document(response.status, document, missing, dict(response.headers))
