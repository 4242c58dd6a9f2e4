"""Reading a request's SigV4 authentication: the Authorization header or a presigned query.

Errors carry the codes and messages real S3 answers for the same mistakes:
AuthorizationHeaderMalformed for a bad header, AuthorizationQueryParametersError for a bad
presigned query, InvalidRequest for another scheme (SigV2, SigV4a), InvalidArgument for a bad
x-amz-content-sha256 or for two mechanisms at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from s3d.protocol.errors import AccessDenied, InvalidArgument, InvalidRequest, S3Error
from s3d.protocol.model import header
from s3d.protocol.sigv4_fields import (
    AMZ_DATE_FORMAT,
    HEADER_ERRORS,
    UNSUPPORTED,
    check_payload_hash,
    parse_amz_date,
    parse_credential,
)
from s3d.protocol.sigv4_model import ALGORITHM, Authorization, SignedRequest
from s3d.protocol.sigv4_presigned import parse_presigned, presigned_params

ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)
_COMPONENTS = ("Credential", "SignedHeaders", "Signature")


def parse_authorization(req: SignedRequest) -> Authorization | None:
    """What ``req``'s authentication claims, or None if it carries none (anonymous).

    Only the form is checked here; ``verify`` checks the signature, ``check_time`` the clock.
    Raises AuthorizationHeaderMalformed, AuthorizationQueryParametersError, InvalidRequest
    (another scheme, no x-amz-content-sha256), InvalidArgument (bad x-amz-content-sha256, two
    mechanisms), NotImplemented (SigV4a payloads), AccessDenied (no usable request date).
    """
    values = [value for name, value in req.headers if name == "authorization"]
    params = presigned_params(req.raw_query)
    if values and params is not None:
        raise InvalidArgument(ONE_MECHANISM)
    if len(values) > 1:
        raise HEADER_ERRORS.malformed("the Authorization header must appear only once.")
    if values:
        return _parse_header(req, values[0])
    if params is not None:
        return parse_presigned(req, params)
    return None


def _parse_header(req: SignedRequest, value: str) -> Authorization:
    scheme, _, rest = value.strip().partition(" ")
    if scheme != ALGORITHM:
        raise InvalidRequest(UNSUPPORTED)
    components = _components(rest)
    payload_hash = header(req.headers, "x-amz-content-sha256")
    if payload_hash is None:
        raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    amz_date, timestamp = _request_time(req)
    return Authorization(
        presigned=False,
        scope=parse_credential(components["Credential"], amz_date, HEADER_ERRORS),
        signed_headers=_signed_headers(components["SignedHeaders"]),
        signature=components["Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        expires=None,
        payload_hash=check_payload_hash(payload_hash),
    )


def _components(rest: str) -> dict[str, str]:
    """``Credential=…, SignedHeaders=…, Signature=…`` in any order, spaces tolerated."""
    components: dict[str, str] = {}
    for part in rest.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals or key not in _COMPONENTS or key in components:
            raise HEADER_ERRORS.malformed(
                f'the authorization component "{part.strip()}" is malformed.'
            )
        components[key] = value.strip()
    if len(components) != len(_COMPONENTS):
        raise HEADER_ERRORS.malformed(
            "the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature."
        )
    return components


def _signed_headers(value: str) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not all(names):
        raise HEADER_ERRORS.malformed(f'the authorization component "{value}" is malformed.')
    return names


def _request_time(req: SignedRequest) -> tuple[str, datetime]:
    """The signed request time: x-amz-date, else the Date header (then in SigV4's format)."""
    missing: S3Error = AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    amz_date = header(req.headers, "x-amz-date")
    if amz_date is not None:
        timestamp = parse_amz_date(amz_date)
        if timestamp is None:
            raise missing
        return amz_date, timestamp
    date = header(req.headers, "date")
    try:
        parsed = parsedate_to_datetime(date) if date is not None else None
    except (TypeError, ValueError):
        parsed = None
    if parsed is None:
        raise missing
    timestamp = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return timestamp.strftime(AMZ_DATE_FORMAT), timestamp
