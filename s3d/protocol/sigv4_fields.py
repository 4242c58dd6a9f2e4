"""Fields both forms of SigV4 authentication carry: the credential scope, the request time,
the payload hash. Each form reports a bad field with its own S3 error code and wording, so the
parsers take a ``CredentialErrors`` saying which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from s3d.protocol.errors import (
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    InvalidArgument,
    NotImplemented_,
    S3Error,
)
from s3d.protocol.sigv4_model import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
    Scope,
)

AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
UNSUPPORTED = (
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_DAY = re.compile(r"\d{8}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_PAYLOAD_KEYWORDS = frozenset(
    (UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
)
_ECDSA_PAYLOADS = frozenset(
    (
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    )
)


@dataclass(frozen=True, slots=True)
class CredentialErrors:
    """How one authentication form reports a bad credential."""

    error: type[S3Error]
    prefix: str
    query: bool

    def malformed(self, detail: str) -> S3Error:
        return self.error(self.prefix + detail)

    def date_mismatch(self, credential_date: str, request_date: str) -> S3Error:
        if self.query:
            return self.error(
                f'Invalid credential date "{credential_date}". '
                f'This date is not the same as X-Amz-Date: "{request_date}".'
            )
        return self.malformed("Invalid credential date. Date is not the same as X-Amz-Date.")


HEADER_ERRORS = CredentialErrors(
    AuthorizationHeaderMalformed, "The authorization header is malformed; ", query=False
)
QUERY_ERRORS = CredentialErrors(
    AuthorizationQueryParametersError, "Error parsing the X-Amz-Credential parameter; ", query=True
)


def parse_amz_date(value: str) -> datetime | None:
    """``20130524T000000Z`` as an aware UTC datetime; None if it is not that format."""
    if not _AMZ_DATE.fullmatch(value):
        return None
    try:
        # By hand: strptime costs tens of microseconds, on every signed request.
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def parse_credential(value: str, amz_date: str, errors: CredentialErrors) -> Scope:
    """``AKID/20130524/us-east-1/s3/aws4_request`` as a Scope, checked against the request
    date. The region is not checked: s3d answers for any region a client names."""
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        raise errors.malformed(
            'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/'
            'aws4_request".'
        )
    access_key_id, day, region, service, terminal = parts
    if not _DAY.fullmatch(day):
        raise errors.malformed(
            f'incorrect date format "{day}". This date in the credential must be in the '
            'format "yyyyMMdd".'
        )
    if service != "s3":
        raise errors.malformed(f'incorrect service "{service}". This endpoint belongs to "s3".')
    if terminal != "aws4_request":
        raise errors.malformed(
            f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".'
        )
    if day != amz_date[:8]:
        raise errors.date_mismatch(day, amz_date[:8])
    return Scope(access_key_id, day, region, service)


def check_payload_hash(value: str) -> str:
    """``value`` if S3 accepts it as x-amz-content-sha256 from a SigV4 client.

    Raises InvalidArgument, or NotImplemented for the SigV4a (ECDSA) streaming values.
    """
    if value in _PAYLOAD_KEYWORDS or _HEX64.fullmatch(value):
        return value
    if value in _ECDSA_PAYLOADS:
        raise NotImplemented_(Header="x-amz-content-sha256")
    raise InvalidArgument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        ArgumentName="x-amz-content-sha256",
        ArgumentValue=value,
    )
