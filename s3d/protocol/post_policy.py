"""POST Object (an HTML form upload): its SigV4 POST policy, checked. Pure.

Theory of operation. A browser form carries the object's key and headers as form fields, a
base64 JSON ``policy`` (an expiration and a list of conditions) and ``x-amz-signature``: the
SigV4 signature of the base64 policy text itself, with the key of the ``x-amz-credential``
scope (or SigV2's ``AWSAccessKeyId`` and ``signature``). ``check_form`` verifies, in S3's
order: the signature (the policy cannot have been altered), the expiration, then that every
condition holds for the fields, the bucket and the file's size, and that every field the form
sends is named by a condition (but ``policy``, the signature fields, ``file`` and
``x-ignore-*``). Conditions: ``{"field": "value"}`` and
``["eq", "$field", "value"]`` (exact), ``["starts-with", "$field", "prefix"]`` (``""``: any),
``["content-length-range", min, max]``. Field names compare case-insensitively.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from s3d.protocol.errors import AccessDenied, EntityTooLarge, EntityTooSmall, InvalidArgument
from s3d.protocol.sigv4 import derive_signing_key, hmac_hex
from s3d.protocol.sigv4_model import Scope

UNCHECKED = frozenset({"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"})
"""Form fields no condition needs to name."""


@dataclass(frozen=True, slots=True)
class PostForm:
    """The fields of a form upload (names lower-cased), its bucket, its file's size."""

    fields: Mapping[str, str]
    bucket: str
    size: int


def check_form(form: PostForm, secret: Callable[[str], str], now: datetime) -> str:
    """The access key id that signed ``form``'s policy, once the policy holds. ``secret``
    gives a key's secret (raising InvalidAccessKeyId). Raises AccessDenied (a policy or
    condition that does not hold, a bad signature), InvalidArgument (a malformed policy),
    EntityTooSmall and EntityTooLarge (``content-length-range``)."""
    fields = form.fields
    key_id = _signed_by(fields, secret)
    policy = _policy(fields["policy"])
    if _expiration(policy) <= now:
        raise AccessDenied("Invalid according to Policy: Policy expired.")
    named = {"bucket"}
    conditions = policy.get("conditions")
    if not isinstance(conditions, list):
        raise InvalidArgument("Invalid Policy: no conditions.", ArgumentName="policy")
    for condition in conditions:
        named |= _holds(condition, form)
    extra = [n for n in fields if n not in UNCHECKED | named and not n.startswith("x-ignore-")]
    if extra:
        raise AccessDenied(
            f"Invalid according to Policy: Extra input fields: {', '.join(sorted(extra))}"
        )
    return key_id


def _signed_by(fields: Mapping[str, str], secret: Callable[[str], str]) -> str:
    """The key id whose signature of the policy the form carries: SigV4 (``x-amz-*``), or
    SigV2 (``AWSAccessKeyId``, ``signature``: base64 HMAC-SHA1), which boto3 still uses for
    ``generate_presigned_post`` against a custom endpoint."""
    policy = fields["policy"]
    if "awsaccesskeyid" in fields:
        key_id = fields["awsaccesskeyid"]
        digest = hmac.new(secret(key_id).encode(), policy.encode(), hashlib.sha1).digest()
        signed, given = base64.b64encode(digest).decode(), fields.get("signature", "")
    else:
        parts = fields.get("x-amz-credential", "").split("/")
        if len(parts) != 5 or fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            raise InvalidArgument("The form needs x-amz-credential and x-amz-algorithm.")
        key_id, date, region, service, _ = parts
        key = derive_signing_key(secret(key_id), Scope(key_id, date, region, service))
        signed = hmac_hex(key, policy)
        given = fields.get("x-amz-signature", "").lower()
    if not hmac.compare_digest(signed.encode(), given.encode()):
        raise AccessDenied("The form's policy signature does not match.")
    return key_id


def _policy(text: str) -> dict[str, object]:
    try:
        policy = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        policy = None
    if not isinstance(policy, dict):
        raise InvalidArgument("The form's policy is not base64 JSON.", ArgumentName="policy")
    return policy


def _expiration(policy: dict[str, object]) -> datetime:
    text = policy.get("expiration")
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidArgument("The policy's expiration is not a UTC time.")
    return when


def _holds(condition: object, form: PostForm) -> set[str]:
    """The field names ``condition`` names, once it holds. Raises as ``check_form``."""
    if isinstance(condition, dict) and len(condition) == 1:
        [(name, value)] = condition.items()
        _require(form, "eq", f"${name}", value)
        return {str(name).lower()}
    if isinstance(condition, list) and len(condition) == 3:
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            _size(form.size, condition[1], condition[2])
            return set()
        _require(form, operator, condition[1], condition[2])
        return {str(condition[1]).lower().removeprefix("$")}
    raise InvalidArgument(f"Invalid Policy: a condition is malformed: {condition!r}")


def _require(form: PostForm, operator: str, field: object, expected: object) -> None:
    if not (isinstance(field, str) and field.startswith("$") and isinstance(expected, str)):
        raise InvalidArgument(f"Invalid Policy: a condition is malformed: {field!r}")
    name = field[1:].lower()
    value = form.bucket if name == "bucket" else form.fields.get(name, "")
    holds = value == expected if operator == "eq" else None
    if operator == "starts-with":
        holds = value.startswith(expected)
    if holds is None:
        raise InvalidArgument(f"Invalid Policy: unknown condition operator {operator!r}")
    if not holds:
        raise AccessDenied(
            f"Invalid according to Policy: Policy Condition failed: "
            f'["{operator}", "{field}", "{expected}"]'
        )


def _size(size: int, low: object, high: object) -> None:
    if not (isinstance(low, int) and isinstance(high, int)):
        raise InvalidArgument("Invalid Policy: content-length-range needs two integers.")
    if size < low:
        raise EntityTooSmall(ProposedSize=str(size), MinSizeAllowed=str(low))
    if size > high:
        raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(high))
