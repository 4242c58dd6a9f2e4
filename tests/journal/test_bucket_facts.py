"""Write-back answers only what the remote would answer: per-bucket facts decide (real
write-back daemon in front of moto behind a relay that holds writes, boto3)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.journal.test_writeback import drained, new_bucket, state, writeback
from tests.support import client


def test_versioned_bucket_is_written_through_with_version_ids(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="before", Body=b"0")  # facts learned: unversioned
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        first = s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        second = s3.put_object(Bucket=bucket, Key="k", Body=b"2")
        assert state(first) != "pending"
        assert first["VersionId"]
        assert second["VersionId"] != first["VersionId"]
        marker = s3.delete_object(Bucket=bucket, Key="k")
        assert marker["DeleteMarker"] is True
        drained(daemon)
    versions = remote.list_object_versions(Bucket=bucket, Prefix="k")
    assert len(versions["Versions"]) == 2
    assert len(versions["DeleteMarkers"]) == 1


def test_guarded_buckets_can_be_written_back_by_choice(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with writeback(relay.url, tmp_path, guarded_buckets="write-back") as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        try:
            assert state(s3.put_object(Bucket=bucket, Key="k", Body=b"1")) == "pending"
        finally:
            relay.hold_writes(False)
        drained(daemon)


def test_a_bucket_policy_set_elsewhere_makes_writes_go_through(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    remote.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        put = s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        assert state(put) != "pending"
        assert remote.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


def test_default_encryption_is_answered_by_pending_writes(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        relay.hold_writes(True)
        try:
            put = s3.put_object(Bucket=bucket, Key="k", Body=b"1")
            assert state(put) == "pending"
            assert put["ServerSideEncryption"] == "AES256"
            head = s3.head_object(Bucket=bucket, Key="k")
            assert head["ServerSideEncryption"] == "AES256"
            kms = s3.put_object(
                Bucket=bucket,
                Key="kms",
                Body=b"2",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId="key-1",
            )
            assert state(kms) == "pending"
            assert (kms["ServerSideEncryption"], kms["SSEKMSKeyId"]) == ("aws:kms", "key-1")
            upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")
            assert upload["ServerSideEncryption"] == "AES256"
            part = s3.upload_part(
                Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"p"
            )
            assert part["ServerSideEncryption"] == "AES256"
            done = s3.complete_multipart_upload(
                Bucket=bucket,
                Key="mp",
                UploadId=upload["UploadId"],
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
            )
            assert done["ServerSideEncryption"] == "AES256"
            copy = s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/k")
            assert copy["ServerSideEncryption"] == "AES256"
        finally:
            relay.hold_writes(False)
        drained(daemon)
    assert remote.head_object(Bucket=bucket, Key="kms")["SSEKMSKeyId"].endswith("key-1")


def test_kms_without_a_key_id_anywhere_is_written_through(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        put = s3.put_object(Bucket=bucket, Key="k", Body=b"1", ServerSideEncryption="aws:kms")
        assert state(put) != "pending"
        assert put["ServerSideEncryption"] == "aws:kms"


def test_metadata_that_is_not_ascii_is_written_through(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Acknowledged, a write the remote client could not send could only be dead-lettered (and
    # its bucket never deleted): it is written through and the client gets the remote's answer.
    # The native data path sends a PUT's UTF-8 metadata (moto stores it); botocore, which
    # sends CopyObject, refuses it before sending (InvalidArgument).
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)

        def unicode_metadata(params, **_: object) -> None:  # type: ignore[no-untyped-def]
            params["headers"]["x-amz-meta-m"] = "Hello World\xe9"

        s3.meta.events.register("before-call.s3.PutObject", unicode_metadata)
        s3.meta.events.register("before-call.s3.CopyObject", unicode_metadata)
        put = s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        assert state(put) != "pending"
        assert "m" in remote.head_object(Bucket=bucket, Key="k")["Metadata"]
        with pytest.raises(ClientError) as caught:
            s3.copy_object(
                Bucket=bucket, Key="c", CopySource=f"{bucket}/k", MetadataDirective="REPLACE"
            )
        assert caught.value.response["Error"]["Code"] == "InvalidArgument"
        drained(daemon)
        s3.delete_object(Bucket=bucket, Key="k")
        drained(daemon)
        s3.delete_bucket(Bucket=bucket)
