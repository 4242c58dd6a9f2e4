"""The DRS benchmark's drs.index: records shaped like a sequencing project's catalogue.

Record ``n`` stands for the bytes ``bench-drs:<seed>:<n>``: its SHA-256 and MD5 are theirs, so
any record's checksums and id can be recomputed from ``n`` alone and the harness need not hold
a million of them to pick the ones it looks up. Sizes spread from bytes to 256 MiB; objects of
16 MiB and more carry a multipart ETag (``<md5>-<parts>``), the others their MD5, as S3 gives
them. Each has one ``s3`` access method (bucket, key, region, ETag, and the access id s3d
itself gives a key), a name and a MIME type from the key's extension.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from s3d.catalogue.index_format import AccessMethod, DrsRecord, Header, drs_id, write_index
from s3d.catalogue.service import access_id_for

PROJECT = "bench-drs"
BUCKET = "bench-drs-data"
REGION = "us-east-1"
CREATED = 1_790_000_000
"""Creation time of record 0 (2026-09-21, UTC); record ``n`` is ``n`` seconds younger."""
MAX_SIZE = 256 << 20
MULTIPART_FROM = 16 << 20
PART_SIZE = 8 << 20
KINDS = (
    ("fastq.gz", "application/gzip"),
    ("bam", "application/octet-stream"),
    ("bam.bai", "application/octet-stream"),
    ("vcf.gz", "application/gzip"),
    ("json", "application/json"),
    ("tsv", "text/tab-separated-values"),
)


@dataclass(frozen=True, slots=True)
class Wanted:
    """A record to look up: its SHA-256, and the one id the catalogue must answer with."""

    sha256: str
    id: str


def _content(seed: int, n: int) -> bytes:
    return f"bench-drs:{seed}:{n}".encode()


def sha256_of(seed: int, n: int) -> str:
    return hashlib.sha256(_content(seed, n)).hexdigest()


def record(seed: int, n: int) -> DrsRecord:
    sha = sha256_of(seed, n)
    md5 = hashlib.md5(_content(seed, n)).hexdigest()
    size = int(md5[:8], 16) % MAX_SIZE + 1
    parts = -(-size // PART_SIZE)
    # A multipart ETag is the MD5 of the parts' MD5s, not of the bytes: any other hex does.
    multipart = hashlib.md5(_content(seed, n) + b":parts").hexdigest()
    etag = f"{multipart}-{parts}" if size >= MULTIPART_FROM else md5
    extension, mime_type = KINDS[n % len(KINDS)]
    name = f"sample-{n:07d}.{extension}"
    key = f"runs/batch-{n // 1000:04d}/{name}"
    method = AccessMethod(access_id_for(BUCKET, key), BUCKET, key, REGION, True, etag)
    return DrsRecord(
        id=drs_id(PROJECT, sha),
        size=size,
        created_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(CREATED + n)),
        checksums=(("sha256", sha), ("md5", md5)),
        access_methods=(method,),
        name=name,
        mime_type=mime_type,
    )


def _records(seed: int, count: int) -> Iterator[DrsRecord]:
    return (record(seed, n) for n in range(count))


def generate(path: Path, seed: int, count: int) -> int:
    """Write a drs.index of ``count`` records to ``path`` (blocking); its size in bytes."""
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    header = Header(
        "1.0", "1.4.0", "s3d bench.drs_import", generated, BUCKET, "git-drs-uuid5", PROJECT
    )
    with path.open("wb", buffering=1 << 20) as out:
        write_index(out, header, _records(seed, count))
    return path.stat().st_size


def wanted(seed: int, count: int, lookups: int) -> list[Wanted]:
    """``lookups`` records picked at random (distinct while there are enough)."""
    rng = random.Random(seed)
    population = range(count)
    if lookups <= count:
        picked = rng.sample(population, lookups)
    else:
        picked = rng.choices(population, k=lookups)
    return [Wanted(sha, drs_id(PROJECT, sha)) for sha in (sha256_of(seed, n) for n in picked)]
