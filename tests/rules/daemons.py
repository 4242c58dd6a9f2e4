"""A real daemon with filter rules, in front of the session's moto remote (or a relay)."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from s3d.settings import CacheSettings, RulesSettings
from tests.support import DaemonThread, daemon_settings


def with_rules(
    remote_url: str,
    data_dir: Path,
    text: str,
    *,
    mode: str = "write-through",
    cache: CacheSettings | None = None,
    tag_overrides: bool = False,
) -> DaemonThread:
    """A daemon whose rules are ``text`` (written to ``data_dir/../rules``)."""
    path = data_dir.parent / f"{data_dir.name}.rules"
    path.write_text(text, encoding="utf-8")
    settings = daemon_settings(remote_url, data_dir, mode=mode)
    settings = dataclasses.replace(
        settings, rules=RulesSettings(files=(str(path),), tag_overrides=tag_overrides)
    )
    if cache is not None:
        settings = dataclasses.replace(settings, cache=cache)
    return DaemonThread(settings)


def new_bucket(remote, prefix: str = "r") -> str:  # type: ignore[no-untyped-def]
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    return name


def header(answer, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(answer["ResponseMetadata"]["HTTPHeaders"].get(name, ""))
