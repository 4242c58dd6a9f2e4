"""The S3 error hierarchy: one class per S3 error code, carrying its HTTP status.

Every failure a client can see is an ``S3Error``. Errors are raised anywhere below the
HTTP edge and rendered exactly once, by the server adapter, as S3 error XML. Foreign
exceptions (botocore, aiohttp, OS errors) are translated into these at three edges only:
HTTP responses, FUSE errno and remote calls.

``details`` become extra elements of the error document (``<Key>``, ``<BucketName>``,
``<ArgumentName>``…) the way real S3 names what it refused; ``headers`` are extra response
headers (``Retry-After`` on ``SlowDown``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from s3d.protocol.model import Provenance


class S3Error(Exception):
    """Base of every error answered to an S3 client."""

    code: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "We encountered an internal error. Please try again."

    def __init__(
        self,
        message: str | None = None,
        *,
        resource: str | None = None,
        headers: dict[str, str] | None = None,
        **details: str,
    ) -> None:
        self.message = message or self.default_message
        self.resource = resource
        self.headers = dict(headers or {})
        self.details = details
        self.provenance: Provenance | None = None
        """Where the state that decided this answer came from (a 304 from the cache…)."""
        super().__init__(self.message)

    @property
    def error_code(self) -> str:
        return self.code

    @property
    def http_status(self) -> int:
        return self.status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error_code}, {self.http_status}, {self.message!r})"


class RemoteError(S3Error):
    """An error answered by the remote whose code s3d has no class for: passed on as it is."""

    def __init__(self, code: str, status: int, message: str | None = None, **details: str) -> None:
        super().__init__(message or code)
        self.details = details
        self._code = code
        self._status = status

    @property
    def error_code(self) -> str:
        return self._code

    @property
    def http_status(self) -> int:
        return self._status


# Authentication and authorisation.
class AccessDenied(S3Error):
    code = "AccessDenied"
    status = 403
    default_message = "Access Denied"


class InvalidAccessKeyId(S3Error):
    code = "InvalidAccessKeyId"
    status = 403
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(S3Error):
    code = "SignatureDoesNotMatch"
    status = 403
    default_message = (
        "The request signature we calculated does not match the signature you provided. Check "
        "your key and signing method."
    )


class RequestTimeTooSkewed(S3Error):
    code = "RequestTimeTooSkewed"
    status = 403
    default_message = "The difference between the request time and the current time is too large."


class AuthorizationHeaderMalformed(S3Error):
    code = "AuthorizationHeaderMalformed"
    status = 400
    default_message = "The authorization header is malformed."


class AuthorizationQueryParametersError(S3Error):
    code = "AuthorizationQueryParametersError"
    status = 400
    default_message = (
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
    )


class MissingSecurityHeader(S3Error):
    code = "MissingSecurityHeader"
    status = 400
    default_message = "Your request was missing a required header."


# Body integrity.
class XAmzContentSHA256Mismatch(S3Error):
    code = "XAmzContentSHA256Mismatch"
    status = 400
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class BadDigest(S3Error):
    code = "BadDigest"
    status = 400
    default_message = "The Content-MD5 you specified did not match what we received."


class InvalidDigest(S3Error):
    code = "InvalidDigest"
    status = 400
    default_message = "The Content-MD5 you specified is not valid."


class IncompleteBody(S3Error):
    code = "IncompleteBody"
    status = 400
    default_message = (
        "You did not provide the number of bytes specified by the Content-Length HTTP header."
    )


class MissingContentLength(S3Error):
    code = "MissingContentLength"
    status = 411
    default_message = "You must provide the Content-Length HTTP header."


class EntityTooLarge(S3Error):
    code = "EntityTooLarge"
    status = 400
    default_message = "Your proposed upload exceeds the maximum allowed size."


class EntityTooSmall(S3Error):
    code = "EntityTooSmall"
    status = 400
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class MalformedXML(S3Error):
    code = "MalformedXML"
    status = 400
    default_message = (
        "The XML you provided was not well-formed or did not validate against our published schema."
    )


class MaxMessageLengthExceeded(S3Error):
    code = "MaxMessageLengthExceeded"
    status = 400
    default_message = "Your request was too big."


class RequestTimeout(S3Error):
    code = "RequestTimeout"
    status = 400
    default_message = (
        "Your socket connection to the server was not read from or written to within the timeout "
        "period."
    )


class RequestHeaderSectionTooLarge(S3Error):
    """A request line or header longer, or more headers, than the daemon reads."""

    code = "RequestHeaderSectionTooLarge"
    status = 400
    default_message = "Your request header section exceeds the maximum allowed size."


class MalformedTrailerError(S3Error):
    """The checksum trailer x-amz-trailer announced is missing, or another one came."""

    code = "MalformedTrailerError"
    status = 400
    default_message = (
        "The request contained trailing data that was not well-formed or did not conform to "
        "our published schema."
    )


# Names and arguments.
class BadRequest(S3Error):
    """S3's generic 400, used for a few limits (more than 10 tags on an object)."""

    code = "BadRequest"
    status = 400
    default_message = "Bad Request"


class InvalidBucketName(S3Error):
    code = "InvalidBucketName"
    status = 400
    default_message = "The specified bucket is not valid."


class KeyTooLongError(S3Error):
    code = "KeyTooLongError"
    status = 400
    default_message = "Your key is too long"


class InvalidURI(S3Error):
    code = "InvalidURI"
    status = 400
    default_message = "Couldn't parse the specified URI."


class InvalidArgument(S3Error):
    code = "InvalidArgument"
    status = 400
    default_message = "Invalid Argument"


class InvalidRequest(S3Error):
    code = "InvalidRequest"
    status = 400
    default_message = "Invalid Request"


class InvalidRange(S3Error):
    code = "InvalidRange"
    status = 416
    default_message = "The requested range is not satisfiable"


class InvalidTag(S3Error):
    code = "InvalidTag"
    status = 400
    default_message = "The tag provided was not a valid tag."


class InvalidPart(S3Error):
    code = "InvalidPart"
    status = 400
    default_message = (
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag."
    )


class InvalidPartOrder(S3Error):
    code = "InvalidPartOrder"
    status = 400
    default_message = (
        "The list of parts was not in ascending order. Parts must be ordered by part number."
    )


class InvalidStorageClass(S3Error):
    code = "InvalidStorageClass"
    status = 400
    default_message = "The storage class you specified is not valid"


class MetadataTooLarge(S3Error):
    code = "MetadataTooLarge"
    status = 400
    default_message = "Your metadata headers exceed the maximum allowed metadata size."


class UnexpectedContent(S3Error):
    code = "UnexpectedContent"
    status = 400
    default_message = "This request does not support content."


class IllegalLocationConstraintException(S3Error):
    code = "IllegalLocationConstraintException"
    status = 400
    default_message = "The specified location-constraint is not valid."


# State of buckets, objects and uploads.
class NoSuchBucket(S3Error):
    code = "NoSuchBucket"
    status = 404
    default_message = "The specified bucket does not exist"


class NoSuchKey(S3Error):
    code = "NoSuchKey"
    status = 404
    default_message = "The specified key does not exist."


class NoSuchUpload(S3Error):
    code = "NoSuchUpload"
    status = 404
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed."
    )


class NoSuchVersion(S3Error):
    code = "NoSuchVersion"
    status = 404
    default_message = "The specified version does not exist."


class BucketAlreadyExists(S3Error):
    code = "BucketAlreadyExists"
    status = 409
    default_message = "The requested bucket name is not available."


class BucketAlreadyOwnedByYou(S3Error):
    code = "BucketAlreadyOwnedByYou"
    status = 409
    default_message = (
        "Your previous request to create the named bucket succeeded and you already own it."
    )


class BucketNotEmpty(S3Error):
    code = "BucketNotEmpty"
    status = 409
    default_message = "The bucket you tried to delete is not empty"


class PreconditionFailed(S3Error):
    code = "PreconditionFailed"
    status = 412
    default_message = "At least one of the pre-conditions you specified did not hold"


class ConditionalRequestConflict(S3Error):
    code = "ConditionalRequestConflict"
    status = 409
    default_message = "A conflicting operation occurred."


class NotModified(S3Error):
    code = "NotModified"
    status = 304
    default_message = "Not Modified"


class InvalidObjectState(S3Error):
    code = "InvalidObjectState"
    status = 403
    default_message = "The operation is not valid for the object's storage class"


# The server itself.
class MethodNotAllowed(S3Error):
    code = "MethodNotAllowed"
    status = 405
    default_message = "The specified method is not allowed against this resource."


class NotImplemented_(S3Error):
    code = "NotImplemented"
    status = 501
    default_message = "A header you provided implies functionality that is not implemented."


class ServiceUnavailable(S3Error):
    code = "ServiceUnavailable"
    status = 503
    default_message = "Service is unable to handle request."


class SlowDown(S3Error):
    code = "SlowDown"
    status = 503
    default_message = "Please reduce your request rate."


class InternalError(S3Error):
    code = "InternalError"
    status = 500
    default_message = "We encountered an internal error. Please try again."


BY_CODE: dict[str, type[S3Error]] = {
    cls.code: cls
    for cls in (
        AccessDenied,
        InvalidAccessKeyId,
        SignatureDoesNotMatch,
        RequestTimeTooSkewed,
        AuthorizationHeaderMalformed,
        AuthorizationQueryParametersError,
        MissingSecurityHeader,
        XAmzContentSHA256Mismatch,
        BadDigest,
        InvalidDigest,
        IncompleteBody,
        MissingContentLength,
        EntityTooLarge,
        EntityTooSmall,
        MalformedXML,
        MalformedTrailerError,
        BadRequest,
        MaxMessageLengthExceeded,
        RequestTimeout,
        RequestHeaderSectionTooLarge,
        InvalidBucketName,
        KeyTooLongError,
        InvalidURI,
        InvalidArgument,
        InvalidRequest,
        InvalidRange,
        InvalidTag,
        InvalidPart,
        InvalidPartOrder,
        InvalidStorageClass,
        MetadataTooLarge,
        UnexpectedContent,
        IllegalLocationConstraintException,
        NoSuchBucket,
        NoSuchKey,
        NoSuchUpload,
        NoSuchVersion,
        BucketAlreadyExists,
        BucketAlreadyOwnedByYou,
        BucketNotEmpty,
        PreconditionFailed,
        ConditionalRequestConflict,
        NotModified,
        InvalidObjectState,
        MethodNotAllowed,
        NotImplemented_,
        ServiceUnavailable,
        SlowDown,
        InternalError,
    )
}


def from_code(code: str, status: int, message: str | None = None, **details: str) -> S3Error:
    """The error for a code answered elsewhere (the remote): our class if we know the code."""
    cls = BY_CODE.get(code)
    if cls is not None and cls.status == status:
        error = cls(message)
        error.details = details
        return error
    return RemoteError(code, status, message, **details)
