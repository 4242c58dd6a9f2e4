"""Filter rules at start and on reload (SIGHUP): read the files, compile them, put them in
force. A bad file refuses the start (ConfigError naming file, line and column); on reload it
keeps the rules in force and says why in the log. A decision under way finishes with the set
it started with: the new set replaces the old one whole.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from s3d.decisions.service import Steering
from s3d.ports import Remote
from s3d.rules.decide import RuleSet, load_texts
from s3d.rules.syntax import RuleError
from s3d.settings import ConfigError, Settings

log = logging.getLogger("s3d.rules")


def read_rules(files: tuple[str, ...]) -> RuleSet:
    """The rule set of ``files`` (blocking: run it in a thread). Raises RuleError, OSError."""
    return load_texts((name, Path(name).read_text(encoding="utf-8")) for name in files)


async def start_steering(settings: Settings, remote: Remote) -> Steering:
    """The steering with the configured rules in force. Raises ConfigError for a bad or
    unreadable rule file."""
    steering = Steering(remote, settings.cache.freshness, settings.rules.tag_overrides)
    try:
        steering.use(await asyncio.to_thread(read_rules, settings.rules.files))
    except RuleError as exc:
        raise ConfigError(f"rules.files: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"rules.files: cannot read {exc.filename}: {exc.strerror}") from None
    if steering.rules.sources:
        log.info("filter rules: %d from %s", len(steering.rules), ", ".join(steering.rules.sources))
    return steering


async def reload_rules(steering: Steering, files: tuple[str, ...]) -> str | None:
    """Read ``files`` again and put them in force; on any error keep the rules in force and
    return why (also logged). Never raises but on cancellation."""
    try:
        rules = await asyncio.to_thread(read_rules, files)
    except RuleError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"cannot read {exc.filename}: {exc.strerror}"
    else:
        steering.use(rules)
        log.info("filter rules reloaded: %d from %s", len(rules), ", ".join(rules.sources))
        return None
    log.error("filter rules not reloaded, the rules in force stay: %s", problem)
    return problem
