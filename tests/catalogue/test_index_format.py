"""The drs.index format (docs/drs-index.md): round trips, plain and gzip, and every way a
file can be refused — each error names the source and the line."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import resource
import uuid
from pathlib import Path

import pytest

from s3d.catalogue.index_format import (
    AccessMethod,
    DrsRecord,
    Header,
    IndexFormatError,
    drs_id,
    read_index,
    write_index,
)

HEADER = Header(
    format_version="1.0",
    drs_version="1.4.0",
    generator="s3d test",
    generated="2026-11-22T04:00:00Z",
    source_bucket="bucket",
    id_scheme="git-drs-uuid5",
    project="proj",
)


def record(n: int) -> DrsRecord:
    sha = hashlib.sha256(b"%d" % n).hexdigest()
    return DrsRecord(
        id=drs_id("proj", sha),
        size=n,
        created_time="2026-11-22T04:00:00Z",
        checksums=(("sha256", sha), ("md5", hashlib.md5(b"%d" % n).hexdigest())),
        access_methods=(AccessMethod("s3", "bucket", f"dir/ü {n}.bin", "us-east-1"),),
        name=f"ü {n}.bin",
        mime_type="application/octet-stream",
        aliases=(f"alias-{n}",),
    )


def written(records: list[DrsRecord]) -> bytes:
    out = io.BytesIO()
    write_index(out, HEADER, records)
    return out.getvalue()


def read(data: bytes) -> tuple[list[DrsRecord], Header | None]:
    reader = read_index(io.BytesIO(data), "s3://bucket/drs.index")
    return list(reader), reader.header


def refused(data: bytes) -> IndexFormatError:
    with pytest.raises(IndexFormatError) as caught:
        read(data)
    assert str(caught.value).startswith("s3://bucket/drs.index")
    return caught.value


def relined(data: bytes, number: int, change: dict[str, object]) -> bytes:
    """``data`` with line ``number`` (1-based) updated by ``change``, and the trailer fixed."""
    lines = data.splitlines(keepends=True)
    document = json.loads(lines[number - 1])
    document.update(change)
    lines[number - 1] = json.dumps(document).encode() + b"\n"
    body = b"".join(lines[:-1])
    count = sum(json.loads(line).get("type") == "object" for line in lines[:-1])
    trailer = {"type": "trailer", "records": count, "sha256": hashlib.sha256(body).hexdigest()}
    return body + json.dumps(trailer).encode() + b"\n"


def test_git_drs_ids() -> None:
    sha = "ab" * 32
    assert drs_id("proj", sha) == str(uuid.uuid5(uuid.NAMESPACE_DNS, f"proj:{sha}"))
    assert drs_id("proj", sha.upper()) == drs_id("proj", sha)
    assert drs_id("other", sha) != drs_id("proj", sha)


def test_round_trip_plain_and_gzip() -> None:
    records = [record(n) for n in range(50)]
    data = written(records)
    lines = data.splitlines()
    assert json.loads(lines[0])["type"] == "header"
    assert json.loads(lines[-1]) == {
        "type": "trailer",
        "records": 50,
        "sha256": hashlib.sha256(data[: data.rindex(b"\n", 0, len(data) - 1) + 1]).hexdigest(),
    }
    assert read(data) == (records, HEADER)
    assert read(gzip.compress(data)) == (records, HEADER)


def test_an_empty_catalogue() -> None:
    assert read(written([])) == ([], HEADER)


def test_a_future_major_version_is_refused() -> None:
    error = refused(relined(written([record(1)]), 1, {"format_version": "2.0"}))
    assert error.line == 1
    assert "format_version 2.0 is not supported (this s3d reads 1.x)" in str(error)


def test_a_newer_minor_version_and_unknown_fields_are_accepted() -> None:
    data = relined(written([record(1), record(2)]), 1, {"format_version": "1.7", "x-new": [1]})
    data = relined(data, 2, {"future_field": {"a": 1}, "checksums_v2": None})
    records, header = read(data)
    assert records == [record(1), record(2)]
    assert header is not None
    assert header.format_version == "1.7"
    # A line of a type this version does not know is skipped, like an unknown field.
    lines = data.splitlines(keepends=True)
    lines.insert(2, b'{"type": "annotation", "text": "from a newer writer"}\n')
    assert read(relined(b"".join(lines), 1, {}))[0] == [record(1), record(2)]


def test_a_truncated_file_is_refused() -> None:
    data = written([record(n) for n in range(10)])
    without_trailer = data[: data.rindex(b"\n", 0, len(data) - 1) + 1]
    error = refused(without_trailer)
    assert "truncated: no trailer after 10 records" in str(error)
    error = refused(data[: len(data) // 2])
    assert "truncated" in str(error)
    error = refused(gzip.compress(data)[:-20])
    assert "cannot be read" in str(error) or "truncated" in str(error)
    assert "empty file" in str(refused(b""))


def test_a_wrong_trailer_is_refused() -> None:
    data = written([record(n) for n in range(3)])
    lines = data.splitlines(keepends=True)
    altered = lines[0] + lines[1].replace(b'"size":0', b'"size":7') + b"".join(lines[2:])
    error = refused(altered)
    assert error.line == 5
    assert "sha256 does not match" in str(error)
    trailer = json.loads(lines[-1])
    trailer["records"] = 4
    error = refused(b"".join(lines[:-1]) + json.dumps(trailer).encode() + b"\n")
    assert "the trailer counts 4 records, the file has 3" in str(error)
    assert "after the trailer" in str(refused(data + lines[1]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "an object without an id"),
        ({"size": -1}, "size -1 is not a non-negative integer"),
        ({"size": "12"}, "size '12' is not a non-negative integer"),
        ({"checksums": []}, "no checksums"),
        ({"checksums": [{"type": "sha256"}]}, "a checksum is not {type, checksum}"),
        ({"access_methods": [{"type": "s3", "access_url": {"url": "https://x"}}]}, "s3://"),
    ],
)
def test_bad_records_are_refused_with_their_line(change: dict[str, object], message: str) -> None:
    error = refused(relined(written([record(1), record(2)]), 3, change))
    assert error.line == 3
    assert message in str(error)


def test_not_json_and_not_a_header() -> None:
    data = written([record(1)])
    lines = data.splitlines(keepends=True)
    error = refused(lines[0] + b"{not json\n" + b"".join(lines[2:]))
    assert error.line == 2
    assert "not JSON" in str(error)
    assert "not a drs.index header" in str(refused(b"".join(lines[1:])))
    assert "format is 'other'" in str(refused(relined(data, 1, {"format": "other"})))


def test_other_access_methods_are_skipped_and_unavailable_ones_kept() -> None:
    data = relined(
        written([record(1)]),
        2,
        {
            "access_methods": [
                {"type": "https", "access_url": {"url": "https://example.org/x"}},
                {"type": "s3", "access_id": "s3", "access_url": "s3://b/k", "available": False},
            ]
        },
    )
    [got], _ = read(data)
    assert got.access_methods == (AccessMethod("s3", "b", "k", available=False),)


def test_a_hundred_thousand_records_stream_in_bounded_memory(tmp_path: Path) -> None:
    """Written to and read from a real file, gzip'ed; the records are generated and consumed
    one at a time, so the process's peak RSS must not grow with the file."""
    path = tmp_path / "drs.index.gz"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with gzip.open(path, "wb") as out:
        assert write_index(out, HEADER, (record(n) for n in range(100_000))) == 100_000
    with path.open("rb") as raw:
        reader = read_index(raw, str(path))
        seen = 0
        for n, got in enumerate(reader):
            if n % 9973 == 0:
                assert got == record(n)
            seen += 1
    assert seen == reader.count == 100_000
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 64, f"peak RSS grew by {grown_mib:.0f} MiB"
