"""Decisions remembered per key when names alone decide: the same decision every time, and
a key whose candidate rules test tags or headers is decided on its facts every time."""

from __future__ import annotations

from s3d.rules.decide import load_texts
from s3d.rules.match import Facts

RULES = """\
[read-cache]
-  b/x*[tag:k=v]
pin  b/x*[hdr:content-type='video/*']
cache=30s  b/y*
+  *
"""


def test_names_alone_or_facts_decide() -> None:
    rules = load_texts([("r", RULES)]).get("read-cache")
    for _ in range(3):  # the second and third answers come from what was remembered
        assert rules.needs("b", "y1") == frozenset()
        assert rules.decide(Facts("b", "y1")).verb == "cache"
        assert rules.decide(Facts("b", "y1")).action.freshness == 30  # type: ignore[union-attr]
        assert rules.decide(Facts("other", "x1")).verb == "cache"
        assert rules.needs("b", "x1") == frozenset({"tags", "headers"})
        assert rules.decide(Facts("b", "x1", tags={"k": "v"})).verb == "bypass"
        video = Facts("b", "x1", {"content-type": "video/mp4"})
        assert rules.decide(video).verb == "pin"
        assert rules.decide(Facts("b", "x1")).verb == "cache"
    empty = load_texts([("r", "[read-cache]\n- b/x*\n")]).get("read-cache")
    assert empty.decide(Facts("b", "y")).action is None
    assert empty.decide(Facts("b", "y")).action is None
