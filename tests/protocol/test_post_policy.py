"""The POST policy decider on literal forms (tests/integration/test_post_object.py sends real
ones from boto3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from s3d.protocol.errors import AccessDenied, EntityTooSmall, InvalidArgument
from s3d.protocol.post_policy import PostForm, check_form

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SECRET = "form-secret"


def signed(conditions: object, expiration: str = "2026-12-04T13:00:00Z", **fields: str):  # type: ignore[no-untyped-def]
    policy = base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()
    digest = hmac.new(SECRET.encode(), policy.encode(), hashlib.sha1).digest()
    return {
        "awsaccesskeyid": "KEY",
        "policy": policy,
        "signature": base64.b64encode(digest).decode(),
        **fields,
    }


def check(fields: dict[str, str], size: int = 5) -> str:
    return check_form(PostForm(fields, "bucket", size), lambda _: SECRET, NOW)


def test_conditions_that_hold() -> None:
    fields = signed(
        [{"bucket": "bucket"}, ["starts-with", "$key", "up/"], ["eq", "$acl", "private"],
         ["starts-with", "$Content-Type", ""], ["content-length-range", 1, 10]],
        key="up/a", acl="private", **{"content-type": "x/y", "x-ignore-me": "1"},
    )  # fmt: skip
    assert check(fields) == "KEY"


@pytest.mark.parametrize(
    ("fields", "size", "error"),
    [
        (signed([["starts-with", "$key", "up/"]], key="down/a"), 5, AccessDenied),
        (signed([{"bucket": "other"}], key="a"), 5, AccessDenied),
        (signed([{"key": "a"}], key="a", extra="x"), 5, AccessDenied),
        (signed([{"key": "a"}], "2026-12-04T11:00:00Z", key="a"), 5, AccessDenied),
        (signed([["content-length-range", 10, 20], {"key": "a"}], key="a"), 5, EntityTooSmall),
        (signed([["between", "$key", "a"]], key="a"), 5, InvalidArgument),
        (signed("not a list", key="a"), 5, InvalidArgument),
        ({**signed([{"key": "a"}], key="a"), "signature": "AAAA"}, 5, AccessDenied),
        ({**signed([{"key": "a"}], key="a"), "policy": "%%%"}, 5, AccessDenied),
    ],
)
def test_what_does_not_hold_is_refused(
    fields: dict[str, str], size: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check(fields, size)
