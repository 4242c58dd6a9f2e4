"""The pure part of the write-back decision: configuration documents and SSE answers."""

from __future__ import annotations

from s3d.protocol.bucket_facts import (
    BucketFacts,
    Encryption,
    encryption_answer,
    journal_allowed,
    parse_encryption,
    parse_object_lock,
    parse_versioning,
)

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_documents() -> None:
    assert parse_versioning(f"<VersioningConfiguration {NS}/>".encode()) is None
    enabled = f"<VersioningConfiguration {NS}><Status>Enabled</Status></VersioningConfiguration>"
    assert parse_versioning(enabled.encode()) == "Enabled"
    assert parse_versioning(b"") is None
    lock = (
        f"<ObjectLockConfiguration {NS}><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
        "</ObjectLockConfiguration>"
    )
    assert parse_object_lock(lock.encode()) is True
    assert parse_object_lock(b"not xml") is False
    sse = (
        f"<ServerSideEncryptionConfiguration {NS}><Rule><ApplyServerSideEncryptionByDefault>"
        "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k1</KMSMasterKeyID>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
        "</ServerSideEncryptionConfiguration>"
    )
    assert parse_encryption(sse.encode()) == Encryption("aws:kms", "k1", True)
    assert parse_encryption(b"") is None


def test_guarded_buckets_are_journaled_only_by_choice() -> None:
    assert journal_allowed(BucketFacts(), False)
    for guarded in (
        BucketFacts(versioning="Suspended"),
        BucketFacts(object_lock=True),
        BucketFacts(policy=True),
    ):
        assert not journal_allowed(guarded, False)
        assert journal_allowed(guarded, True)


def test_encryption_answer_from_request_then_default() -> None:
    sse = "x-amz-server-side-encryption"
    kms = BucketFacts(encryption=Encryption("aws:kms", "bucket-key"))
    assert encryption_answer((), BucketFacts()) == ()
    assert encryption_answer((), BucketFacts(encryption=Encryption("AES256"))) == ((sse, "AES256"),)
    assert encryption_answer(((sse, "AES256"),), kms) == ((sse, "AES256"),)
    assert encryption_answer((), kms) == ((sse, "aws:kms"), (f"{sse}-aws-kms-key-id", "bucket-key"))
    assert encryption_answer(((sse, "aws:kms"),), kms) == (
        (sse, "aws:kms"),
        (f"{sse}-aws-kms-key-id", "bucket-key"),
    )
    # SSE-KMS naming no key, in a bucket without a KMS default: only the remote knows its key.
    assert encryption_answer(((sse, "aws:kms"),), BucketFacts()) is None
