"""Taking a file in: its digests (two threads, what the journal needs) and its placement
in staging (hard link, or a checked copy), on real files."""

from __future__ import annotations

import hashlib
import os

from s3d.journal.acks import _part_md5s
from s3d.settings import JournalSettings
from s3d.sync.digests import file_digests
from s3d.sync.ingest import _stage

MiB = 1024 * 1024


async def test_digests_give_the_journals_part_layout_or_the_whole_md5(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(13 * MiB + 7)
    (tmp_path / "f").write_bytes(data)
    parts = await file_digests(tmp_path / "f", 5 * MiB)
    # Three parts on two threads: in order all the same.
    assert parts.parts == _part_md5s(tmp_path / "f", len(data), 5 * MiB)
    assert (parts.md5, parts.sha256) == (b"", b"")  # a multipart upload uses neither
    whole = await file_digests(tmp_path / "f", None, sha256=True)
    sha256 = hashlib.sha256(data).digest()
    assert (whole.md5, whole.sha256, whole.parts) == (hashlib.md5(data).digest(), sha256, ())


async def test_a_copy_from_another_file_system_is_checked_and_linked_otherwise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(7 * MiB)
    (tmp_path / "f").write_bytes(data)
    (tmp_path / "staging").mkdir()
    settings = JournalSettings(multipart_threshold=5 * MiB, part_size=5 * MiB)
    for link in (True, False):
        body, _, linked, parts = await _stage(tmp_path / "f", tmp_path / "staging", link, settings)
        assert linked == link
        assert body.read_bytes() == data
        assert body.path.stat().st_ino != (tmp_path / "f").stat().st_ino or link
        # A copy is checked by its SHA-256 (recorded); a link is the file itself.
        assert body.sha256 == (b"" if link else hashlib.sha256(data).digest())
        assert parts is not None
        assert [p.size for p in parts] == [5 * MiB, 2 * MiB]
