"""The S3 API document lists every operation s3d forwards, so it cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from s3d.protocol.errors import S3Error
from s3d.protocol.operations import Forwarded
from s3d.protocol.request import build
from s3d.protocol.routing import NOT_SERVED, Target
from s3d.protocol.s3_api import SELECTORS

DOC = (Path(__file__).parent.parent / "docs" / "s3-api.md").read_text()


def forwarded_actions() -> set[str]:
    found = set()
    for (level, _selector), methods in SELECTORS.items():
        target = Target("bucket", "key" if level == "object" else None)
        for names in methods.values():
            for name in names:
                if name in NOT_SERVED:
                    continue
                try:
                    op = build(name, target, (), ())
                except S3Error:
                    continue  # served by s3d itself: it validates arguments, forwarding never does
                if isinstance(op, Forwarded):
                    found.add(name)
    return found


def test_every_forwarded_operation_is_documented() -> None:
    actions = forwarded_actions()
    assert "GetBucketVersioning" in actions
    missing = sorted(a for a in actions if f"| {a} |" not in DOC)
    assert missing == []


def test_refused_operations_are_documented() -> None:
    for name in NOT_SERVED:
        assert name in DOC
