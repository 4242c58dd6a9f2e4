"""The completion rules and the folder spec, as pure decisions."""

from __future__ import annotations

import pytest

from s3d.settings import ConfigError, SyncFolder
from s3d.sync.completion import Seen, complete, released_by
from s3d.sync.spec import compile_folder, key_for, wanted


def spec(**fields: str):  # type: ignore[no-untyped-def]
    return compile_folder(SyncFolder("/data/exports", "bucket", **fields), 0)


def test_renamed_in_is_complete_at_once_anything_else_waits_for_quiet() -> None:
    rule = spec(complete="renamed", quiet="10")
    files = {
        "renamed": Seen(5, 1, changed_at=100.0, renamed_in=True),
        "in-place": Seen(5, 1, changed_at=100.0),
        "open": Seen(5, 1, changed_at=0.0, renamed_in=True, writing=True),
    }
    assert complete(rule, files, [], now=101.0) == ["renamed"]
    assert complete(rule, files, [], now=110.0) == ["in-place", "renamed"]


def test_quiet_needs_the_writer_gone_and_the_period_passed() -> None:
    rule = spec(complete="quiet", quiet="5")
    files = {"a": Seen(1, 1, changed_at=0.0, renamed_in=True), "b": Seen(1, 1, 0.0, writing=True)}
    assert complete(rule, files, [], now=4.9) == []
    assert complete(rule, files, [], now=5.0) == ["a"]


def test_markers_release_a_directory_or_a_sibling() -> None:
    rule = spec(complete="marker")
    files = ["run/p0", "run/sub/p1", "other/p2", "x.csv", "y.csv"]
    assert released_by(rule, "run/_SUCCESS", files) == {"run/p0", "run/sub/p1"}
    assert released_by(rule, "x.csv.done", files) == {"x.csv"}
    seen = {path: Seen(1, 1, 0.0) for path in files}
    assert complete(rule, seen, ["x.csv.done"], now=1e9) == ["x.csv"]


def test_temporary_names_and_markers_are_never_files_to_upload() -> None:
    rule = spec(complete="marker", include="*.gz", exclude="skip/*")
    assert wanted(rule, "g01.rdf.gz")
    assert not wanted(rule, ".g01.rdf.gz")
    assert not wanted(rule, "g01.rdf.gz.tmp")
    assert not wanted(rule, "skip/a.gz")
    assert not wanted(rule, "notes.txt")
    assert not wanted(rule, "_SUCCESS")


def test_key_template() -> None:
    assert key_for(spec(key="dgraph/{path}"), "a/b.rdf.gz") == "dgraph/a/b.rdf.gz"
    assert key_for(spec(key="latest/{name}"), "a/b.rdf.gz") == "latest/b.rdf.gz"
    assert key_for(spec(key="fixed/g01.rdf.gz"), "a/b.rdf.gz") == "fixed/g01.rdf.gz"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"complete": "soon"}, "complete"),
        ({"after": "move"}, "done_dir"),
        ({"after": "move", "done_dir": "/data/exports/done"}, "done_dir"),
        ({"quiet": "x"}, "quiet"),
        ({"key": "{date}/{path}"}, "key"),
    ],
)
def test_bad_entries_name_their_field(fields: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=rf"sync\.folders\[0\]\.{named}"):
        spec(**fields)


def test_a_folder_filter_is_read_as_sync_rules_and_decides_by_key_and_size() -> None:
    from s3d.rules.decide import RuleList
    from s3d.sync.spec import excluded, filtered

    rule = spec(
        key="dgraph/{path}", filter="- */dgraph/*.log\n+ */*[hdr:content-length>=1KiB]\n- *"
    )
    none = RuleList("sync")
    assert not excluded(filtered(rule, "g.rdf", 2048, none))
    assert excluded(filtered(rule, "g.rdf", 10, none))
    assert excluded(filtered(rule, "x/g.log", 2048, none))
    # Without a folder filter: the shared rules; with neither, included.
    shared = compile_folder(SyncFolder("/d", "b"), 0)
    assert filtered(shared, "a", 1, none).action is None


@pytest.mark.parametrize(
    ("text", "where"),
    [("+ ok/*\nbogus x", r"filter:2:1"), ("[read-cache]\ncache *", r"filter: only \[sync\]")],
)
def test_a_bad_filter_names_its_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=rf"sync\.folders\[0\]\.{where}"):
        spec(filter=text)
