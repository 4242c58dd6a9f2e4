"""What a write tells the write-queue rules about the objects it changes, without asking the
remote: its headers (``Content-Type``, ``x-amz-meta-*``…), its tags (``x-amz-tagging``, or
the tag set of PutObjectTagging) and its body's size.

Which writes are decided here: those that start changing a key (PutObject, CopyObject,
CreateMultipartUpload, deletes, tagging, and forwarded writes of a key such as PutObjectAcl).
The parts and completion of a multipart upload follow the decision made at its creation.
Deletes carry neither tags nor headers: rules decide them on bucket and key.
"""

from __future__ import annotations

from dataclasses import dataclass

from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.protocol.tagging import parse_tagging_header
from s3d.rules.match import Facts

_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


@dataclass(frozen=True, slots=True)
class WriteFacts:
    each: tuple[Facts, ...]
    """One per key the write changes."""
    tagged: bool = False
    """The write sets the objects' tags (so ``s3d.cache`` may pin or unpin them)."""


def write_facts(op: ops.Operation, size: int | None) -> WriteFacts | None:
    """The facts of each key ``op`` starts changing; None for any other operation. Raises
    InvalidArgument for an ``x-amz-tagging`` header S3 could not read either."""
    match op:
        case ops.PutObject() | ops.CopyObject() | ops.CreateMultipartUpload():
            headers = dict(op.headers)
            tagging = header(op.headers, "x-amz-tagging")
            tags = dict(parse_tagging_header(tagging)) if tagging is not None else {}
            facts = Facts(op.bucket, op.key, headers, tags, size=size)
            return WriteFacts((facts,), tagging is not None)
        case ops.PutObjectTagging():
            return WriteFacts((Facts(op.bucket, op.key, dict(op.headers), dict(op.tags)),), True)
        case ops.DeleteObjectTagging():
            return WriteFacts((Facts(op.bucket, op.key),), True)
        case ops.DeleteObject():
            return WriteFacts((Facts(op.bucket, op.key),))
        case ops.DeleteObjects():
            return WriteFacts(tuple(Facts(op.bucket, o.key) for o in op.objects))
        case ops.Forwarded() if op.method in _WRITE_METHODS and op.key is not None:
            assert op.bucket is not None
            return WriteFacts((Facts(op.bucket, op.key),))
    return None
