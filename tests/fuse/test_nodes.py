"""The inode table's lookup by key, which tells the kernel what to drop when a key changes."""

from __future__ import annotations

from s3d.fuse.nodes import Nodes


def test_a_key_finds_the_file_node_the_kernel_was_told_of() -> None:
    nodes = Nodes("team/", ttl=1.0)
    root = nodes.get(1)
    assert root is not None
    sub = nodes.learn(root, "sub", True)
    file = nodes.learn(sub, "f.txt", False, 3)
    assert nodes.find("team/sub/f.txt") is file
    assert nodes.find("team/sub/other.txt") is None  # never looked up
    assert nodes.find("team/sub") is None  # a directory, not a file
    assert nodes.find("team/sub/") is None  # a directory marker
    assert nodes.find("other/sub/f.txt") is None  # outside the mount's prefix
    assert nodes.find("team/f.txt/x") is None
