"""The write queue's rules with a real daemon in write-back, moto as the remote and boto3:
write-back, write-through or refused (403 AccessDenied), per rule and per tag override."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.rules.daemons import header, new_bucket, with_rules
from tests.support import client, send, sign

RULES = """\
[write-queue]
refuse         {b}/locked/*
-              {b}/direct/*
-              {b}/*[hdr:content-length>=1KiB]
write-through  {b}/*[md:route=now]
-              {b}/*[tag:class=hot]
+              *
"""


def pending(answer) -> bool:  # type: ignore[no-untyped-def]
    return header(answer, "x-s3d-state") == "pending"


def test_write_back_write_through_or_refused_per_rule(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    with with_rules(remote_url, tmp_path / "d", RULES.format(b=b), mode="write-back") as daemon:
        s3 = client(daemon.endpoint_url)
        assert pending(s3.put_object(Bucket=b, Key="small/a", Body=b"x" * 100))
        cases = {
            "direct/a": {"Body": b"x"},
            "big/a": {"Body": b"x" * 1024},
            "meta/a": {"Body": b"x", "Metadata": {"route": "now"}},
            "hot/a": {"Body": b"x", "Tagging": "class=hot"},
        }
        for key, arguments in cases.items():
            answer = s3.put_object(Bucket=b, Key=key, **arguments)
            assert not pending(answer), key
            # Written through: the remote has it when the write is acknowledged.
            assert remote.head_object(Bucket=b, Key=key)["ContentLength"] == len(arguments["Body"])
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=b, Key="locked/a", Body=b"no")
        error = refused.value.response
        assert error["Error"]["Code"] == "AccessDenied"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error["ResponseMetadata"]["RequestId"]
        assert "locked" not in error["Error"]["Message"]  # the rule is logged, never sent
        with pytest.raises(ClientError):
            remote.head_object(Bucket=b, Key="locked/a")
        with pytest.raises(ClientError) as deleted:
            s3.delete_object(Bucket=b, Key="locked/a")
        assert deleted.value.response["Error"]["Code"] == "AccessDenied"
        # What `s3d status` shows: the rule files in force and the decisions made.
        url, headers = sign("GET", f"{daemon.endpoint_url}/_s3d/status")
        code, _, body = send("GET", url, headers)
        assert code == 200
        status = json.loads(body)["rules"]
        assert status["files"] == [str(tmp_path / "d.rules")]
        assert status["rules"] == {"write-queue": 6}
        decisions = status["decisions"]["write-queue"]
        assert decisions["refuse"] == 2
        assert decisions["write-through"] == 4
        assert decisions["write-back"] == 1


def test_tags_override_the_rules_but_never_a_refusal(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    with with_rules(remote_url, tmp_path / "d", RULES.format(b=b), mode="write-back") as daemon:
        s3 = client(daemon.endpoint_url)
        now = s3.put_object(Bucket=b, Key="small/now", Body=b"1", Tagging="s3d.upload=now")
        assert not pending(now)
        assert remote.head_object(Bucket=b, Key="small/now")["ContentLength"] == 1
        later = s3.put_object(Bucket=b, Key="direct/later", Body=b"2", Tagging="s3d.upload=true")
        assert pending(later)
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=b, Key="locked/x", Body=b"3", Tagging="s3d.upload=true")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        journal = daemon.daemon.journal  # type: ignore[union-attr]
        assert daemon.call(journal.wait_idle(60))


def test_a_write_through_keeps_the_order_of_the_keys_pending_changes(
    remote_url, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    with with_rules(remote_url, tmp_path / "d", RULES.format(b=b), mode="write-back") as daemon:
        s3 = client(daemon.endpoint_url)
        for round_ in range(5):
            assert pending(s3.put_object(Bucket=b, Key="k", Body=b"old"))
            big = bytes([round_]) * 2048
            assert not pending(s3.put_object(Bucket=b, Key="k", Body=big))
            journal = daemon.daemon.journal  # type: ignore[union-attr]
            assert daemon.call(journal.wait_idle(60))
            # The older pending write never lands after the newer one went straight through.
            assert remote.get_object(Bucket=b, Key="k")["Body"].read() == big
            assert s3.get_object(Bucket=b, Key="k")["Body"].read() == big


def test_a_multipart_upload_follows_the_decision_made_at_its_creation(
    remote_url, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    with with_rules(remote_url, tmp_path / "d", RULES.format(b=b), mode="write-back") as daemon:
        s3 = client(daemon.endpoint_url)
        for key, through in (("direct/mp", True), ("small/mp", False)):
            upload = s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
            part = s3.upload_part(Bucket=b, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 10)
            parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
            done = s3.complete_multipart_upload(
                Bucket=b, Key=key, UploadId=upload, MultipartUpload=parts
            )
            assert pending(done) is not through, key
            if through:
                assert remote.head_object(Bucket=b, Key=key)["ContentLength"] == 10
        with pytest.raises(ClientError) as refused:
            s3.create_multipart_upload(Bucket=b, Key="locked/mp")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert daemon.call(daemon.daemon.journal.wait_idle(60))  # type: ignore[union-attr]
