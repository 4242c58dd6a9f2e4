"""Object tags that override the rules' decisions: ``s3d.upload`` on writes, ``s3d.cache`` on
reads (docs/rules.md). Nothing overrides a refusal: any client can set any tag."""

from __future__ import annotations

from collections.abc import Mapping

from s3d.rules.decide import Decision
from s3d.rules.features import BYPASS, CACHE, PIN, REFUSE, WRITE_BACK, WRITE_THROUGH

UPLOAD_TAG = "s3d.upload"
CACHE_TAG = "s3d.cache"
_UPLOAD = {"now": WRITE_THROUGH, "true": WRITE_BACK, "later": WRITE_BACK}
_CACHE = {"pin": PIN, "bypass": BYPASS, "cache": CACHE}


def on_write(decision: Decision, tags: Mapping[str, str]) -> Decision:
    """The write queue's decision once ``s3d.upload`` has had its say."""
    value = tags.get(UPLOAD_TAG, "")
    override = _UPLOAD.get(value.lower())
    if override is None or decision.action == REFUSE:
        return decision
    return Decision("write-queue", override, reason=f"tag {UPLOAD_TAG}={value}")


def on_read(decision: Decision, tags: Mapping[str, str]) -> Decision:
    """The read cache's decision once ``s3d.cache`` has had its say."""
    value = tags.get(CACHE_TAG, "")
    override = _CACHE.get(value.lower())
    if override is None:
        return decision
    return Decision("read-cache", override, reason=f"tag {CACHE_TAG}={value}")


def pins(tags: Mapping[str, str]) -> bool:
    """Whether a write setting these tags pins its key."""
    return tags.get(CACHE_TAG, "").lower() == "pin"
