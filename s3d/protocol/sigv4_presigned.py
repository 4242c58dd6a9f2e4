"""Presigned URLs: SigV4 authentication carried in the query string (X-Amz-*)."""

from __future__ import annotations

import re

from s3d.protocol.errors import AuthorizationQueryParametersError, InvalidRequest
from s3d.protocol.model import header
from s3d.protocol.sigv4_canonical import query_pairs
from s3d.protocol.sigv4_fields import (
    QUERY_ERRORS,
    UNSUPPORTED,
    check_payload_hash,
    parse_amz_date,
    parse_credential,
)
from s3d.protocol.sigv4_model import (
    ALGORITHM,
    MAX_EXPIRES,
    UNSIGNED_PAYLOAD,
    Authorization,
    SignedRequest,
)

_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_OPTIONAL = ("X-Amz-Security-Token", "X-Amz-Content-Sha256")
_MARKERS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_NUMBER = re.compile(r"(-?)0*(\d+)")


def presigned_params(raw_query: str) -> dict[str, str] | None:
    """The X-Amz-* authentication parameters of a query, decoded; None if it has none.

    Raises InvalidRequest for a SigV2 presigned query, AuthorizationQueryParametersError when
    a parameter is repeated (which value was signed would be ambiguous).
    """
    if "X-Amz-" not in raw_query and "%" not in raw_query:
        if "AWSAccessKeyId" in raw_query and "Signature" in raw_query:
            raise InvalidRequest(UNSUPPORTED)
        return None  # no authentication parameter here: no need to decode anything
    params: dict[str, str] = {}
    names: set[str] = set()
    for raw_name, raw_value in query_pairs(raw_query):
        name = raw_name.decode("utf-8", "replace")
        names.add(name)
        if name in _REQUIRED or name in _OPTIONAL:
            if name in params:
                raise AuthorizationQueryParametersError(f"{name} must appear only once.")
            params[name] = raw_value.decode("utf-8", "replace")
    if any(marker in params for marker in _MARKERS):
        return params
    if {"AWSAccessKeyId", "Signature"} <= names:
        raise InvalidRequest(UNSUPPORTED)
    return None


def parse_presigned(req: SignedRequest, params: dict[str, str]) -> Authorization:
    """The Authorization a presigned query claims. Raises AuthorizationQueryParametersError
    (with S3's wording), InvalidArgument or NotImplemented for a bad payload hash."""
    if any(name not in params for name in _REQUIRED):
        raise AuthorizationQueryParametersError()
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthorizationQueryParametersError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    amz_date = params["X-Amz-Date"]
    timestamp = parse_amz_date(amz_date)
    if timestamp is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    expires = _expires(params["X-Amz-Expires"])
    scope = parse_credential(params["X-Amz-Credential"], amz_date, QUERY_ERRORS)
    signed_headers = tuple(params["X-Amz-SignedHeaders"].split(";"))
    if not all(signed_headers):
        raise AuthorizationQueryParametersError("X-Amz-SignedHeaders is malformed.")
    # A presigned URL cannot know its payload: UNSIGNED-PAYLOAD unless the client says more.
    payload_hash = (
        params.get("X-Amz-Content-Sha256")
        or header(req.headers, "x-amz-content-sha256")
        or UNSIGNED_PAYLOAD
    )
    return Authorization(
        presigned=True,
        scope=scope,
        signed_headers=signed_headers,
        signature=params["X-Amz-Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        expires=expires,
        payload_hash=check_payload_hash(payload_hash),
    )


def _expires(value: str) -> int:
    match = _NUMBER.fullmatch(value)
    if match is None:
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    sign, digits = match.groups()
    if sign and digits != "0":
        raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    # Compare the length first: int() refuses very long digit strings.
    if len(digits) > len(str(MAX_EXPIRES)) or int(digits) > MAX_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            "X-Amz-Expires must be less than 604800 seconds"
        )
    return int(digits)
