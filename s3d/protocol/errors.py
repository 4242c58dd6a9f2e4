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

from typing import ClassVar


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


def _error(name: str, code: str, status: int, message: str) -> type[S3Error]:
    cls = type(name, (S3Error,), {"code": code, "status": status, "default_message": message})
    return cls


# Authentication and authorisation.
AccessDenied = _error("AccessDenied", "AccessDenied", 403, "Access Denied")
InvalidAccessKeyId = _error(
    "InvalidAccessKeyId",
    "InvalidAccessKeyId",
    403,
    "The AWS Access Key Id you provided does not exist in our records.",
)
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch",
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
)
RequestTimeTooSkewed = _error(
    "RequestTimeTooSkewed",
    "RequestTimeTooSkewed",
    403,
    "The difference between the request time and the current time is too large.",
)
AuthorizationHeaderMalformed = _error(
    "AuthorizationHeaderMalformed",
    "AuthorizationHeaderMalformed",
    400,
    "The authorization header is malformed.",
)
AuthorizationQueryParametersError = _error(
    "AuthorizationQueryParametersError",
    "AuthorizationQueryParametersError",
    400,
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
)
MissingSecurityHeader = _error(
    "MissingSecurityHeader",
    "MissingSecurityHeader",
    400,
    "Your request was missing a required header.",
)

# Body integrity.
XAmzContentSHA256Mismatch = _error(
    "XAmzContentSHA256Mismatch",
    "XAmzContentSHA256Mismatch",
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
)
BadDigest = _error(
    "BadDigest",
    "BadDigest",
    400,
    "The Content-MD5 you specified did not match what we received.",
)
InvalidDigest = _error(
    "InvalidDigest", "InvalidDigest", 400, "The Content-MD5 you specified is not valid."
)
IncompleteBody = _error(
    "IncompleteBody",
    "IncompleteBody",
    400,
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
)
MissingContentLength = _error(
    "MissingContentLength",
    "MissingContentLength",
    411,
    "You must provide the Content-Length HTTP header.",
)
EntityTooLarge = _error(
    "EntityTooLarge",
    "EntityTooLarge",
    400,
    "Your proposed upload exceeds the maximum allowed size.",
)
EntityTooSmall = _error(
    "EntityTooSmall",
    "EntityTooSmall",
    400,
    "Your proposed upload is smaller than the minimum allowed object size.",
)
MalformedXML = _error(
    "MalformedXML",
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema.",
)
MaxMessageLengthExceeded = _error(
    "MaxMessageLengthExceeded",
    "MaxMessageLengthExceeded",
    400,
    "Your request was too big.",
)
RequestTimeout = _error(
    "RequestTimeout",
    "RequestTimeout",
    400,
    "Your socket connection to the server was not read from or written to within the "
    "timeout period.",
)

# Names and arguments.
InvalidBucketName = _error(
    "InvalidBucketName", "InvalidBucketName", 400, "The specified bucket is not valid."
)
KeyTooLongError = _error("KeyTooLongError", "KeyTooLongError", 400, "Your key is too long")
InvalidURI = _error("InvalidURI", "InvalidURI", 400, "Couldn't parse the specified URI.")
InvalidArgument = _error("InvalidArgument", "InvalidArgument", 400, "Invalid Argument")
InvalidRequest = _error("InvalidRequest", "InvalidRequest", 400, "Invalid Request")
InvalidRange = _error(
    "InvalidRange", "InvalidRange", 416, "The requested range is not satisfiable"
)
InvalidTag = _error("InvalidTag", "InvalidTag", 400, "The tag provided was not a valid tag.")
InvalidPart = _error(
    "InvalidPart",
    "InvalidPart",
    400,
    "One or more of the specified parts could not be found. The part may not have been "
    "uploaded, or the specified entity tag may not match the part's entity tag.",
)
InvalidPartOrder = _error(
    "InvalidPartOrder",
    "InvalidPartOrder",
    400,
    "The list of parts was not in ascending order. Parts must be ordered by part number.",
)
InvalidStorageClass = _error(
    "InvalidStorageClass",
    "InvalidStorageClass",
    400,
    "The storage class you specified is not valid",
)
MetadataTooLarge = _error(
    "MetadataTooLarge",
    "MetadataTooLarge",
    400,
    "Your metadata headers exceed the maximum allowed metadata size.",
)
UnexpectedContent = _error(
    "UnexpectedContent", "UnexpectedContent", 400, "This request does not support content."
)
IllegalLocationConstraintException = _error(
    "IllegalLocationConstraintException",
    "IllegalLocationConstraintException",
    400,
    "The specified location-constraint is not valid.",
)

# State of buckets, objects and uploads.
NoSuchBucket = _error("NoSuchBucket", "NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchKey = _error("NoSuchKey", "NoSuchKey", 404, "The specified key does not exist.")
NoSuchUpload = _error(
    "NoSuchUpload",
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may "
    "have been aborted or completed.",
)
NoSuchVersion = _error(
    "NoSuchVersion",
    "NoSuchVersion",
    404,
    "The specified version does not exist.",
)
BucketAlreadyExists = _error(
    "BucketAlreadyExists",
    "BucketAlreadyExists",
    409,
    "The requested bucket name is not available.",
)
BucketAlreadyOwnedByYou = _error(
    "BucketAlreadyOwnedByYou",
    "BucketAlreadyOwnedByYou",
    409,
    "Your previous request to create the named bucket succeeded and you already own it.",
)
BucketNotEmpty = _error(
    "BucketNotEmpty", "BucketNotEmpty", 409, "The bucket you tried to delete is not empty"
)
PreconditionFailed = _error(
    "PreconditionFailed",
    "PreconditionFailed",
    412,
    "At least one of the pre-conditions you specified did not hold",
)
ConditionalRequestConflict = _error(
    "ConditionalRequestConflict",
    "ConditionalRequestConflict",
    409,
    "A conflicting operation occurred.",
)
NotModified = _error("NotModified", "NotModified", 304, "Not Modified")
InvalidObjectState = _error(
    "InvalidObjectState",
    "InvalidObjectState",
    403,
    "The operation is not valid for the object's storage class",
)

# The server itself.
MethodNotAllowed = _error(
    "MethodNotAllowed",
    "MethodNotAllowed",
    405,
    "The specified method is not allowed against this resource.",
)
NotImplemented_ = _error(
    "NotImplemented",
    "NotImplemented",
    501,
    "A header you provided implies functionality that is not implemented.",
)
ServiceUnavailable = _error(
    "ServiceUnavailable", "ServiceUnavailable", 503, "Service is unable to handle request."
)
SlowDown = _error("SlowDown", "SlowDown", 503, "Please reduce your request rate.")
InternalError = _error(
    "InternalError",
    "InternalError",
    500,
    "We encountered an internal error. Please try again.",
)

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
        MaxMessageLengthExceeded,
        RequestTimeout,
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
