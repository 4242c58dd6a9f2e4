"""Browser form uploads (POST Object) prepared by boto3's ``generate_presigned_post``: stored
through the gateway (and the journal in write-back), answered as S3 answers (201 document,
303 redirect, 204), and refused with S3's error when the policy does not allow them."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from tests.journal.test_writeback import drained, new_bucket, writeback
from tests.journal.test_writeback import status as status_of
from tests.support import client, s3_error_code, send


def form(fields: dict[str, str], data: bytes) -> tuple[str, bytes]:
    """A multipart/form-data body as a browser sends it: the fields, then the file last."""
    boundary = f"----s3d{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode()


def upload(s3, bucket: str, key: str, data: bytes, fields=None, conditions=None, expires=60):  # type: ignore[no-untyped-def]
    """A form upload as a browser sends it, prepared by boto3's generate_presigned_post."""
    post = s3.generate_presigned_post(
        bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires
    )
    content_type, body = form(post["fields"], data)
    return send("POST", post["url"], {"Content-Type": content_type}, body)


def test_a_form_upload_is_stored_and_answered_as_s3_does(s3, remote, bucket: str) -> None:  # type: ignore[no-untyped-def]
    status, headers, answer = upload(
        s3, bucket, "uploads/${filename}", b"hello form",
        fields={"success_action_status": "201", "Content-Type": "text/plain",
                "x-amz-meta-origin": "browser"},
        conditions=[{"success_action_status": "201"}, ["starts-with", "$key", "uploads/"],
                    ["content-length-range", 1, 1024], ["starts-with", "$Content-Type", "text/"],
                    {"x-amz-meta-origin": "browser"}],
    )  # fmt: skip
    etag = f'"{hashlib.md5(b"hello form").hexdigest()}"'
    assert status == 201, answer
    assert headers["etag"] == etag
    assert f"<Key>uploads/a.txt</Key><ETag>{etag}</ETag>" in answer.decode()
    stored = remote.get_object(Bucket=bucket, Key="uploads/a.txt")
    assert stored["Body"].read() == b"hello form"
    assert stored["ContentType"] == "text/plain"
    assert stored["Metadata"] == {"origin": "browser"}
    assert s3.get_object(Bucket=bucket, Key="uploads/a.txt")["Body"].read() == b"hello form"


def test_success_action_redirect_and_the_default_204(s3, remote, bucket: str) -> None:  # type: ignore[no-untyped-def]
    target = "https://example.org/done"
    redirected = upload(
        s3, bucket, "r.txt", b"r", fields={"success_action_redirect": target},
        conditions=[{"success_action_redirect": target}],
    )  # fmt: skip
    plain = upload(s3, bucket, "p.txt", b"p")
    etag = hashlib.md5(b"r").hexdigest()
    assert redirected[0] == 303
    assert redirected[1]["location"] == (f"{target}?bucket={bucket}&key=r.txt&etag=%22{etag}%22")
    assert plain[0] == 204
    assert remote.get_object(Bucket=bucket, Key="p.txt")["Body"].read() == b"p"


@pytest.mark.parametrize(
    ("key", "fields", "conditions", "expires", "code"),
    [
        # The key is not under the prefix the policy allows.
        ("other/a.txt", None, [["starts-with", "$key", "uploads/"]], 60, "AccessDenied"),
        ("uploads/a.txt", None, [["content-length-range", 1, 4]], 60, "EntityTooLarge"),
        # A field the policy does not name.
        ("a.txt", {"x-amz-meta-extra": "x"}, None, 60, "AccessDenied"),
        ("a.txt", None, None, -10, "AccessDenied"),  # expired
    ],
)
def test_a_form_the_policy_does_not_allow_stores_nothing(  # type: ignore[no-untyped-def]
    s3, remote, bucket: str, key, fields, conditions, expires, code
) -> None:
    status, headers, answer = upload(s3, bucket, key, b"too long", fields, conditions, expires)
    assert (status, s3_error_code(answer)) == ({"EntityTooLarge": 400}.get(code, 403), code)
    assert headers["x-amz-request-id"]
    assert remote.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_both_signatures_are_verified(s3d, remote, bucket: str, version: str) -> None:  # type: ignore[no-untyped-def]
    signer = client(s3d.endpoint_url, signature_version=version)
    good = upload(signer, bucket, f"{version}.txt", b"signed")
    forged = client(s3d.endpoint_url, secret="not-the-secret", signature_version=version)
    bad = upload(forged, bucket, f"forged-{version}.txt", b"forged")
    assert good[0] == 204
    assert (bad[0], s3_error_code(bad[2])) == (403, "AccessDenied")
    listed = [o["Key"] for o in remote.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [f"{version}.txt"]


def test_a_policy_altered_after_signing_is_refused(s3, remote, bucket: str) -> None:  # type: ignore[no-untyped-def]
    post = s3.generate_presigned_post(bucket, "a.txt")
    other = s3.generate_presigned_post(bucket, "b.txt")
    fields = {**post["fields"], "policy": other["fields"]["policy"], "key": "b.txt"}
    content_type, body = form(fields, b"x")
    status, _, answer = send("POST", post["url"], {"Content-Type": content_type}, body)
    assert (status, s3_error_code(answer)) == (403, "AccessDenied")
    assert remote.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_form_upload_goes_through_the_journal(relay, remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path / "data") as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)  # the upload waits: the answer came from the journal
        status, _, _ = upload(s3, bucket, "j.txt", b"journaled")
        pending = status_of(daemon)["journal"]["queue"]
        read = s3.get_object(Bucket=bucket, Key="j.txt")["Body"].read()
        relay.hold_writes(False)
        drained(daemon)
    assert (status, pending, read) == (204, 1, b"journaled")
    assert remote.get_object(Bucket=bucket, Key="j.txt")["Body"].read() == b"journaled"
