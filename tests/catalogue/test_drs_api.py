"""The DRS catalogue end to end: objects written and read through a real s3d (write-back, moto
as the remote) register themselves; the GA4GH DRS API answers about them in documents that
validate against the vendored DRS 1.4 schemas; access URLs download the right bytes over
plain HTTP; overwritten and deleted keys stop resolving under their old ids."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s3d.catalogue.index_format import drs_id
from s3d.settings import DrsSettings
from tests.catalogue.drs_schema import validate
from tests.support import ACCESS_KEY, SECRET_KEY, DaemonThread, client, daemon_settings, send

PROJECT = "test-project"
API = "/ga4gh/drs/v1"
BASIC = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tokens") / "tokens"
    path.write_text("# DRS bearer tokens\nsecret-token-1\n")
    return path


@pytest.fixture(scope="module")
def daemon(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory, tokens_file: Path
) -> Iterator[DaemonThread]:
    settings = daemon_settings(remote_url, tmp_path_factory.mktemp("drs"), mode="write-back")
    drs = DrsSettings(project=PROJECT, bearer_tokens_file=tokens_file)
    with DaemonThread(_with_drs(settings, drs)) as running:
        yield running


def _with_drs(settings: Any, drs: DrsSettings) -> Any:
    from dataclasses import replace

    return replace(settings, drs=drs)


@pytest.fixture
def s3(daemon: DaemonThread):
    return client(daemon.endpoint_url)


@pytest.fixture
def bucket(s3) -> str:
    name = f"drs-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def settle(daemon: DaemonThread) -> None:
    """Wait for background hashing and queued registrations."""
    assert daemon.daemon is not None
    assert daemon.daemon.gateway is not None
    feed = daemon.daemon.gateway.feed
    assert feed is not None
    daemon.call(feed.idle())


def drs(
    daemon: DaemonThread,
    method: str,
    path: str,
    body: object = None,
    auth: str | None = BASIC,
) -> tuple[int, Any]:
    headers = {"Authorization": auth} if auth else {}
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, _, raw = send(method, daemon.endpoint_url + API + path, headers, data)
    return status, json.loads(raw) if raw else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_put_object_registers_itself_and_resolves_by_id_and_checksum(daemon, s3, bucket):
    data = os.urandom(3000)
    s3.put_object(Bucket=bucket, Key="dir/reads.bam", Body=data, ContentType="application/x-bam")
    expected_id = drs_id(PROJECT, sha256(data))

    status, found = drs(daemon, "GET", f"/objects/checksum/{sha256(data)}")
    assert status == 200, found
    validate("BulkObjectResponse", found)
    [document] = found["resolved_drs_object"]
    validate("DrsObject", document)
    assert document["id"] == expected_id
    assert document["size"] == 3000
    assert document["name"] == "reads.bam"
    assert document["mime_type"] == "application/x-bam"
    assert document["self_uri"] == f"drs://{daemon.endpoint_url.split('//')[1]}/{expected_id}"
    checksums = {c["type"]: c["checksum"] for c in document["checksums"]}
    assert checksums == {"sha256": sha256(data), "md5": hashlib.md5(data).hexdigest()}
    [method] = document["access_methods"]
    assert method["type"] == "s3"
    assert method["access_url"] == {"url": f"s3://{bucket}/dir/reads.bam"}

    status, same = drs(daemon, "GET", f"/objects/{expected_id}")
    assert status == 200
    validate("DrsObject", same)
    assert same == document


def test_an_access_url_is_a_presigned_url_to_s3d_that_downloads_the_bytes(daemon, s3, bucket):
    data = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="a b/ü.txt", Body=data)
    object_id = drs_id(PROJECT, sha256(data))
    status, document = drs(daemon, "GET", f"/objects/{object_id}")
    access_id = document["access_methods"][0]["access_id"]

    for method in ("GET", "POST"):
        body = {"passports": []} if method == "POST" else None
        status, access = drs(daemon, method, f"/objects/{object_id}/access/{access_id}", body)
        assert status == 200, access
        validate("AccessURL", access)
        assert access["url"].startswith(daemon.endpoint_url + f"/{bucket}/")
        assert "X-Amz-Signature=" in access["url"]
        got_status, _, got = send("GET", access["url"], {})
        assert got_status == 200
        assert got == data


def test_overwritten_and_deleted_keys_stop_resolving_under_their_old_ids(daemon, s3, bucket):
    first, second = b"first version" * 100, b"second version" * 100
    s3.put_object(Bucket=bucket, Key="k", Body=first)
    old = drs_id(PROJECT, sha256(first))
    status, document = drs(daemon, "GET", f"/objects/{old}")
    access_id = document["access_methods"][0]["access_id"]
    handed_out = drs(daemon, "GET", f"/objects/{old}/access/{access_id}")[1]["url"]
    assert send("GET", handed_out, {})[2] == first

    s3.put_object(Bucket=bucket, Key="k", Body=second)
    # A URL handed out before is pinned to the old bytes: 412, never the new ones.
    got = send("GET", handed_out, {})
    assert got[0] == 412, (got[1], hashlib.md5(first).hexdigest(), hashlib.md5(second).hexdigest())
    status, document = drs(daemon, "GET", f"/objects/{old}")
    assert status == 200  # the object is still known…
    assert "access_methods" not in document  # …but nothing serves its bytes any more
    status, error = drs(daemon, "GET", f"/objects/{old}/access/{access_id}")
    assert status == 404
    validate("Error", error)
    assert error["status_code"] == 404

    new = drs_id(PROJECT, sha256(second))
    status, access = drs(daemon, "GET", f"/objects/{new}/access/{access_id}")
    assert status == 200
    assert send("GET", access["url"], {})[2] == second

    s3.delete_object(Bucket=bucket, Key="k")
    status, error = drs(daemon, "GET", f"/objects/{new}/access/{access_id}")
    assert status == 404


def test_a_key_overwritten_behind_s3ds_back_is_refused_at_access_time(
    daemon, s3, bucket, remote_url
):
    data = b"original bytes" * 50
    s3.put_object(Bucket=bucket, Key="shared", Body=data)
    daemon.call(daemon.daemon.journal.wait_idle(30))
    object_id = drs_id(PROJECT, sha256(data))
    access_id = drs(daemon, "GET", f"/objects/{object_id}")[1]["access_methods"][0]["access_id"]
    # Another node writes the key on the remote directly; this node's cache has never seen it.
    client(remote_url, key="remote-access-key-id", secret="remote-secret").put_object(
        Bucket=bucket, Key="shared", Body=b"someone else's bytes"
    )
    status, error = drs(daemon, "GET", f"/objects/{object_id}/access/{access_id}")
    assert status == 404, error
    assert "no longer holds" in error["msg"]


def test_a_multipart_upload_registers_at_once_by_etag_then_by_sha256(daemon, s3, bucket):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1024)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
    etags = [
        s3.upload_part(
            Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=n, Body=part
        )["ETag"]
        for n, part in enumerate(parts, start=1)
    ]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]},
    )
    settle(daemon)
    whole = b"".join(parts)
    status, found = drs(daemon, "GET", f"/objects/checksum/{sha256(whole)}")
    assert status == 200, found
    [document] = found["resolved_drs_object"]
    validate("DrsObject", document)
    assert document["id"] == drs_id(PROJECT, sha256(whole))
    assert document["size"] == len(whole)
    checksums = {c["type"]: c["checksum"] for c in document["checksums"]}
    assert checksums["etag"] == done["ETag"].strip('"')
    assert checksums["md5"] == hashlib.md5(whole).hexdigest()
    # Found by its multipart ETag too.
    status, by_etag = drs(daemon, "GET", f"/objects/checksum/etag:{done['ETag'].strip(chr(34))}")
    assert status == 200
    assert [d["id"] for d in by_etag["resolved_drs_object"]] == [document["id"]]


def test_a_copy_resolves_to_the_same_id_at_both_keys(daemon, s3, bucket):
    data = os.urandom(2048)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    settle(daemon)
    _status, document = drs(daemon, "GET", f"/objects/{drs_id(PROJECT, sha256(data))}")
    urls = sorted(m["access_url"]["url"] for m in document["access_methods"])
    assert urls == [f"s3://{bucket}/dst", f"s3://{bucket}/src"]


def test_a_full_get_from_the_remote_registers_and_a_ranged_one_does_not(
    daemon, s3, bucket, remote_url
):
    remote = client(remote_url, key="remote-access-key-id", secret="remote-secret")
    whole, ranged = os.urandom(4096), os.urandom(4096)
    remote.put_object(Bucket=bucket, Key="whole", Body=whole)
    remote.put_object(Bucket=bucket, Key="ranged", Body=ranged)
    assert s3.get_object(Bucket=bucket, Key="whole")["Body"].read() == whole
    assert s3.get_object(Bucket=bucket, Key="ranged", Range="bytes=0-99")["Body"].read()
    settle(daemon)
    assert drs(daemon, "GET", f"/objects/checksum/{sha256(whole)}")[0] == 200
    assert drs(daemon, "GET", f"/objects/checksum/{sha256(ranged)}")[0] == 404


def test_bulk_requests_answer_in_drs_shapes(daemon, s3, bucket):
    data = os.urandom(100)
    s3.put_object(Bucket=bucket, Key="one", Body=data)
    known = drs_id(PROJECT, sha256(data))
    status, bulk = drs(daemon, "POST", "/objects", {"bulk_object_ids": [known, "nope"]})
    assert status == 200
    validate("BulkObjectResponse", bulk)
    assert bulk["summary"] == {"requested": 2, "resolved": 1, "unresolved": 1}
    assert bulk["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": ["nope"]}]
    access_id = bulk["resolved_drs_object"][0]["access_methods"][0]["access_id"]

    item = {"bulk_object_id": known, "bulk_access_ids": [access_id]}
    request = {"bulk_object_access_ids": [item]}
    status, urls = drs(daemon, "POST", "/objects/access", request)
    assert status == 200, urls
    validate("BulkAccessURLResponse", urls)
    [resolved] = urls["resolved_drs_object_access_urls"]
    assert send("GET", resolved["url"], {})[2] == data

    status, error = drs(daemon, "POST", "/objects", {"bulk_object_ids": ["x"] * 1001})
    assert status == 413
    validate("Error", error)


def test_service_info_and_options(daemon):
    status, info = drs(daemon, "GET", "/service-info", auth=None)
    assert status == 200
    validate("ServiceInfo", info)
    assert info["type"] == {"group": "org.ga4gh", "artifact": "drs", "version": "1.4.0"}
    status, error = drs(daemon, "OPTIONS", "/objects/unknown-id", auth=None)
    assert status == 404
    validate("Error", error)


def test_options_say_how_to_authenticate(daemon, s3, bucket):
    data = os.urandom(64)
    s3.put_object(Bucket=bucket, Key="opt", Body=data)
    known = drs_id(PROJECT, sha256(data))
    status, one = drs(daemon, "OPTIONS", f"/objects/{known}", auth=None)
    assert status == 200
    validate("Authorizations", one)
    assert one["supported_types"] == ["BasicAuth", "BearerAuth"]
    status, bulk = drs(daemon, "OPTIONS", "/objects", {"bulk_object_ids": [known, "x"]}, auth=None)
    assert status == 200
    validate("BulkAuthorizationsResponse", bulk)
    assert bulk["summary"] == {"requested": 2, "resolved": 1, "unresolved": 1}
    assert [a["drs_object_id"] for a in bulk["resolved_drs_object"]] == [known]


def test_authentication_basic_bearer_sigv4_and_refusals(daemon, s3, bucket):
    data = os.urandom(10)
    s3.put_object(Bucket=bucket, Key="auth", Body=data)
    path = f"/objects/{drs_id(PROJECT, sha256(data))}"
    assert drs(daemon, "GET", path, auth="Bearer secret-token-1")[0] == 200
    assert drs(daemon, "GET", path)[0] == 200  # Basic with the local key

    status, error = drs(daemon, "GET", path, auth=None)
    assert status == 401
    validate("Error", error)
    assert drs(daemon, "GET", path, auth="Bearer wrong")[0] == 401
    wrong = base64.b64encode(f"{ACCESS_KEY}:nope".encode()).decode()
    assert drs(daemon, "GET", path, auth=f"Basic {wrong}")[0] == 401

    from tests.support import sign

    url, headers = sign("GET", daemon.endpoint_url + API + path)
    status, _, raw = send("GET", url, headers)
    assert status == 200
    validate("DrsObject", json.loads(raw))


def test_bad_requests_get_drs_errors(daemon):
    status, _, raw = send(
        "POST", daemon.endpoint_url + API + "/objects", {"Authorization": BASIC}, b"{not json"
    )
    assert status == 400
    error = json.loads(raw)
    validate("Error", error)
    assert "not JSON" in error["msg"]
    status, error = drs(daemon, "POST", "/objects", {"bulk_object_ids": "x"})
    assert status == 400
    assert "list of strings" in error["msg"]
    status, error = drs(daemon, "GET", "/nowhere")
    assert status == 404
