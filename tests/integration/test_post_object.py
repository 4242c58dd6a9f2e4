"""A browser form upload (POST Object, from boto3's ``generate_presigned_post``) is answered
``501 NotImplemented`` with a request id — not ``403 AccessDenied``, which would send people
looking for a wrong key — and nothing is stored."""

from __future__ import annotations

import uuid

from tests.support import s3_error_code, send


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


def test_a_form_upload_is_not_implemented_and_stores_nothing(s3, remote, bucket: str) -> None:  # type: ignore[no-untyped-def]
    post = s3.generate_presigned_post(
        bucket,
        "uploads/a.txt",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 1024]],
    )
    content_type, body = form(post["fields"], b"hello form")
    status, headers, answer = send("POST", post["url"], {"Content-Type": content_type}, body)
    assert status == 501
    assert s3_error_code(answer) == "NotImplemented"
    assert b"<Operation>PostObject</Operation>" in answer
    assert headers["x-amz-request-id"]
    assert remote.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
