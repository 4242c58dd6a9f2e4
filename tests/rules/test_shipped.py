"""The rule files that ship in filters/ read without error and decide what their comments
say."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3d.rules.decide import RuleSet, load_texts
from s3d.rules.match import Facts

FILTERS = Path(__file__).resolve().parents[2] / "filters"


def load(name: str) -> RuleSet:
    path = FILTERS / name
    return load_texts([(str(path), path.read_text(encoding="utf-8"))])


@pytest.mark.parametrize("path", sorted(FILTERS.glob("*.rules")), ids=lambda p: p.name)
def test_every_shipped_file_reads(path: Path) -> None:
    assert len(load(path.name)) > 0


GiB = 1024**3
EXAMPLE = [
    ("write-queue", Facts("data", "scratch/tmp1"), "refuse"),
    ("write-queue", Facts("cold", "a", bucket_tags={"tier": "archive"}), "write-through"),
    ("write-queue", Facts("data", "big.tar", size=2 * GiB), "write-through"),
    ("write-queue", Facts("data", "logs/app.log", size=100), "write-back"),
    ("read-cache", Facts("models", "llama/weights.safetensors"), "pin"),
    ("read-cache", Facts("models", "llama/README.md"), "cache"),
    ("read-cache", Facts("media", "a.mp4", {"content-type": "video/mp4"}), "bypass"),
    ("read-cache", Facts("data", "private/key.pem"), "bypass"),
    ("read-cache", Facts("data", "x", {"x-amz-meta-cache": "no"}), "bypass"),
    ("read-cache", Facts("metrics", "live/cpu.json"), "cache"),
    ("sync", Facts("data", "run/out.tmp"), "exclude"),
    ("sync", Facts("data", "run/out.csv"), "include"),
    ("sync", Facts("other", "run/out.csv"), None),
]


@pytest.mark.parametrize(("feature", "facts", "verb"), EXAMPLE)
def test_the_example_decides_what_its_comments_say(
    feature: str, facts: Facts, verb: str | None
) -> None:
    decision = load("example.rules").get(feature).decide(facts)  # type: ignore[arg-type]
    assert decision.verb == verb


def test_the_example_freshness() -> None:
    rules = load("example.rules").get("read-cache")
    assert rules.decide(Facts("models", "m.bin")).action.freshness == 3600  # type: ignore[union-attr]
    assert rules.decide(Facts("metrics", "live/x")).action.freshness == 5  # type: ignore[union-attr]
