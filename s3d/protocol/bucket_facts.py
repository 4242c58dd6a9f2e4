"""What a bucket's configuration says about the answer to a write (pure).

Theory of operation. Write-back answers a write before the remote has seen it, so the answer
must be one s3d can give exactly as the remote would. That depends on the bucket:

- **versioning** (Enabled or Suspended): the remote answers a version id s3d cannot know, keeps
  every version where the journal lets a newer write supersede a queued one, and answers a
  delete with a delete marker;
- **object lock**: the remote refuses overwrites and deletes the journal cannot foresee;
- **a bucket policy**: the remote may refuse a write the journal has acknowledged already;
- **default encryption**: the remote answers ``x-amz-server-side-encryption`` (and the KMS key
  id) for every write; s3d can say the same, from the request or from the default.

``BucketFacts`` holds these as learned from the remote's configuration documents (parsed
here); ``journal_allowed`` decides whether the journal may answer a write in the bucket, and
``encryption_answer`` what SSE headers the answer carries (None: s3d cannot say, write through).
"""

from __future__ import annotations

from dataclasses import dataclass

from defusedxml import ElementTree

from s3d.protocol.model import Headers, header

SSE = "x-amz-server-side-encryption"
SSE_KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"


@dataclass(frozen=True, slots=True)
class Encryption:
    """A bucket's default encryption: ``AES256``, ``aws:kms`` or ``aws:kms:dsse``."""

    algorithm: str
    kms_key_id: str | None = None
    bucket_key: bool = False


@dataclass(frozen=True, slots=True)
class BucketFacts:
    versioning: str | None = None
    """``Enabled``, ``Suspended``, or None for a bucket that never had versioning."""
    object_lock: bool = False
    policy: bool = False
    encryption: Encryption | None = None

    @property
    def guarded(self) -> bool:
        """Whether the remote's answers to writes in the bucket depend on what s3d cannot
        reproduce locally (versions, locks, a policy's refusals)."""
        return self.versioning is not None or self.object_lock or self.policy


UNKNOWN = BucketFacts()
"""What is assumed of a bucket whose configuration the remote could not be asked about (an
outage): writes are journaled as before, so that they are still accepted."""


def journal_allowed(facts: BucketFacts, guarded_write_back: bool) -> bool:
    """Whether a write into a bucket with ``facts`` may be answered from the journal;
    ``guarded_write_back`` is the operator's opt-in for guarded buckets."""
    return guarded_write_back or not facts.guarded


def encryption_answer(request: Headers, facts: BucketFacts) -> Headers | None:
    """The SSE headers the remote answers a write with ``request`` headers: the request's own
    choice, else the bucket default; () for none. None when s3d cannot know them: SSE-KMS with
    no key id named anywhere (the remote picks its managed key)."""
    algorithm = header(request, SSE)
    if algorithm is not None:
        key_id = header(request, SSE_KMS_KEY)
        bucket_key = (header(request, SSE_BUCKET_KEY) or "").lower() == "true"
        default = facts.encryption
        if key_id is None and default is not None and default.algorithm == algorithm:
            key_id = default.kms_key_id  # the bucket's key serves a request naming none
    elif facts.encryption is not None:
        algorithm = facts.encryption.algorithm
        key_id = facts.encryption.kms_key_id
        bucket_key = facts.encryption.bucket_key
    else:
        return ()
    if not algorithm.startswith("aws:kms"):
        return ((SSE, algorithm),)
    if key_id is None:
        return None
    out: Headers = ((SSE, algorithm), (SSE_KMS_KEY, key_id))
    return out + (((SSE_BUCKET_KEY, "true"),) if bucket_key else ())


def _root(document: bytes) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(document) if document.strip() else None
    except (ElementTree.ParseError, ValueError):
        return None


def _text(root: ElementTree.Element | None, name: str) -> str | None:
    """The text of the first element named ``name`` (any namespace) under ``root``."""
    if root is None:
        return None
    for element in root.iter():
        if element.tag.rpartition("}")[2] == name:
            return (element.text or "").strip()
    return None


def parse_versioning(document: bytes) -> str | None:
    """``Enabled``/``Suspended`` from a VersioningConfiguration; None when never set."""
    return _text(_root(document), "Status") or None


def parse_object_lock(document: bytes) -> bool:
    """Whether an ObjectLockConfiguration says ``ObjectLockEnabled: Enabled``."""
    return _text(_root(document), "ObjectLockEnabled") == "Enabled"


def parse_encryption(document: bytes) -> Encryption | None:
    """The first rule's default of a ServerSideEncryptionConfiguration, if any."""
    root = _root(document)
    algorithm = _text(root, "SSEAlgorithm")
    if not algorithm:
        return None
    bucket_key = (_text(root, "BucketKeyEnabled") or "").lower() == "true"
    return Encryption(algorithm, _text(root, "KMSMasterKeyID") or None, bucket_key)
