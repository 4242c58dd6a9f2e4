"""Tag sets looked up for read rules are kept with the cache entry: with a real daemon, moto
as the remote and boto3, a restart on the same data directory decides from the kept tags
without asking the remote again, and a write through s3d drops them with the entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.rules.daemons import new_bucket, with_rules
from tests.rules.test_read_cache import cached
from tests.support import client

RULES = """\
[read-cache]
-  {b}/*[tag:cache=no]
+  *
"""


def kept(data_dir: Path) -> dict[str, str]:
    """Key → tag set (JSON) in the index's entry_tags table."""
    with sqlite3.connect(data_dir / "cache" / "index.sqlite") as conn:
        rows = conn.execute(
            "SELECT e.key, t.tags FROM entry_tags t JOIN entries e ON e.id = t.entry_id"
        ).fetchall()
    return dict(rows)


def test_a_tag_set_survives_a_restart_and_goes_with_its_entry(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    remote.put_object(Bucket=b, Key="a", Body=b"a", Tagging="cache=yes")
    remote.put_object(Bucket=b, Key="n", Body=b"n", Tagging="cache=no")
    data = tmp_path / "d"
    with with_rules(remote_url, data, RULES.format(b=b)) as daemon:
        s3 = client(daemon.endpoint_url)
        assert [cached(s3, b, k) for k in ("a", "a", "n", "n")] == [
            "miss",
            "hit",
            "bypass",
            "bypass",
        ]
        assert daemon.daemon.steering.finder.lookups == 2  # type: ignore[union-attr]
        # Looked up before "a" had an entry, kept with it at the next read; "n" has none.
        assert kept(data) == {"a": '{"cache": "yes"}'}
    with with_rules(remote_url, data, RULES.format(b=b)) as daemon:
        s3 = client(daemon.endpoint_url)
        assert cached(s3, b, "a") == "hit"
        assert daemon.daemon.steering.finder.lookups == 0  # type: ignore[union-attr]
        s3.put_object(Bucket=b, Key="a", Body=b"new", Tagging="cache=no")
        assert kept(data) == {}  # the write dropped the entry, and its tags with it
        assert cached(s3, b, "a") == "bypass"
        assert daemon.daemon.steering.finder.lookups == 1  # type: ignore[union-attr]
