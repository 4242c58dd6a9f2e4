"""Whether the journal answers a write, and what its answer adds (write-back only).

The rule (docs/journal.md): a write is acknowledged locally only when s3d can give the answer
the remote would give; otherwise it is written through, after the key's pending changes. What
decides it is the bucket's facts (``s3d/bucket_facts.py``): a guarded bucket (versioning,
object lock, a policy) is written through unless the operator opted in; an SSE-KMS write whose
key id s3d cannot name is written through, and so is one whose user metadata the remote
client cannot send (not ASCII); otherwise the journal answers, with the SSE headers
the remote would answer (the request's, else the bucket default's), which are also kept with
the pending object so that GET and HEAD show them and its upload asks for them.

A write that creates an object decides (PutObject, CopyObject, CreateMultipartUpload), and so
do deletes and tagging (a versioned bucket answers them with version ids and delete markers).
The parts and completion of a local upload follow the decision made at its creation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from s3d.bucket_facts import BucketFactsService
from s3d.journal.service import Journal
from s3d.journal.uploads import is_local
from s3d.protocol import operations as ops
from s3d.protocol.bucket_facts import BucketFacts, encryption_answer, journal_allowed
from s3d.protocol.model import (
    CompleteMultipartResult,
    CopyResult,
    CreateMultipartResult,
    Headers,
    Result,
    WriteResult,
    header,
)

_CREATING = (ops.PutObject, ops.CopyObject, ops.CreateMultipartUpload)
_DECIDING = (
    *_CREATING,
    ops.DeleteObject,
    ops.DeleteObjects,
    ops.PutObjectTagging,
    ops.DeleteObjectTagging,
)
_FOLLOWING = (ops.UploadPart, ops.UploadPartCopy, ops.CompleteMultipartUpload)


@dataclass(frozen=True, slots=True)
class Journaled:
    """The journal answers ``op`` (amended with the SSE headers to keep), adding ``answer``."""

    op: ops.Operation
    answer: Headers = ()


class WriteDecider:
    def __init__(self, journal: Journal, facts: BucketFactsService, guarded: bool) -> None:
        self._journal = journal
        self._facts = facts
        self._guarded = guarded

    async def decide(self, op: ops.Operation) -> Journaled | None:
        """``Journaled`` when the journal may answer ``op``, None when it goes to the remote
        (its keys' pending changes settled first, so the remote sees them in order). Raises
        nothing of its own; a remote that cannot describe the bucket leaves writes journaled."""
        if isinstance(op, _FOLLOWING) and is_local(op.upload_id):
            upload = self._journal.multipart.uploads.get(op.upload_id)
            stored = upload.headers if upload is not None else ()
            return Journaled(op, encryption_answer(stored, BucketFacts()) or ())
        if not isinstance(op, _DECIDING):
            return Journaled(op)
        facts = await self._facts.of(op.bucket)
        answer = encryption_answer(op.headers, facts) if isinstance(op, _CREATING) else ()
        if answer is None or not journal_allowed(facts, self._guarded) or _unsendable(op):
            for bucket, key in _keys(op):
                await self._journal.settle(bucket, key)
            return None
        if not answer:
            return Journaled(op)
        missing = tuple((n, v) for n, v in answer if header(op.headers, n) is None)
        return Journaled(replace(op, headers=op.headers + missing), answer)


def with_headers(result: Result, added: Headers) -> Result:
    """``result`` answering ``added`` headers too (the SSE headers of a journaled write)."""
    if isinstance(
        result, WriteResult | CopyResult | CreateMultipartResult | CompleteMultipartResult
    ):
        return replace(result, headers=result.headers + added)
    return result


def _unsendable(op: ops.Operation) -> bool:
    """A write whose user metadata is not ASCII: botocore refuses to send it (CopyObject,
    CreateMultipartUpload) and a remote may refuse it, so a journaled one could end
    dead-lettered; written through, the client gets the remote's (or botocore's) answer."""
    if not isinstance(op, _CREATING):
        return False
    return any(n.startswith("x-amz-meta-") and not v.isascii() for n, v in op.headers)


def _keys(op: ops.Operation) -> list[tuple[str, str]]:
    if isinstance(op, ops.DeleteObjects):
        return [(op.bucket, o.key) for o in op.objects]
    if isinstance(op, _DECIDING):
        return [(op.bucket, op.key)]
    return []
