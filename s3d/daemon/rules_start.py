"""Filter rules and policies at start and on reload (SIGHUP): read the files, compile them,
put them in force. A bad file refuses the start (ConfigError naming file, line and column); on
reload it keeps what is in force and says why in the log. A decision under way finishes with
the set it started with: the new set replaces the old one whole.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from s3d.decisions.authorise import Authorisation
from s3d.decisions.service import Steering
from s3d.ports import Remote
from s3d.remote.opa import OpaClient
from s3d.rules.decide import RuleSet, load_texts
from s3d.rules.rego import Policies
from s3d.rules.syntax import RuleError
from s3d.settings import ConfigError, RulesSettings, Settings

log = logging.getLogger("s3d.rules")

Texts = list[tuple[str, str]]


def _read(files: tuple[str, ...]) -> Texts:
    return [(name, Path(name).read_text(encoding="utf-8")) for name in files]


async def load(settings: RulesSettings) -> tuple[RuleSet, Policies | None]:
    """The rule set and the policies (None without policy files). Raises RuleError, OSError."""
    rules = load_texts(await asyncio.to_thread(_read, settings.files))
    modules = await asyncio.to_thread(_read, settings.policy_files)
    # Compiled on the event loop's thread, where they are evaluated: the engine stays there.
    policies = (
        Policies(modules, settings.policy_package, settings.policy_verdicts) if modules else None
    )
    return rules, policies


async def start_rules(settings: Settings, remote: Remote) -> tuple[Steering, Authorisation]:
    """The steering and the authorisation with the configured files in force. Raises
    ConfigError for a bad or unreadable file."""
    config = settings.rules
    steering = Steering(remote, settings.cache.freshness, config.tag_overrides)
    external = OpaClient(config.policy_url, config.policy_timeout) if config.policy_url else None
    authorisation = Authorisation(config.policy_failure == "open", external)
    try:
        rules, policies = await load(config)
    except RuleError as exc:
        raise ConfigError(f"rules: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"rules: cannot read {exc.filename}: {exc.strerror}") from None
    steering.use(rules)
    authorisation.use(policies)
    steering.authorisation = authorisation
    _announce("", rules, policies)
    return steering, authorisation


async def reload_rules(
    steering: Steering, authorisation: Authorisation, settings: RulesSettings
) -> str | None:
    """Read the files again and put them in force; on any error keep what is in force and
    return why (also logged). Never raises but on cancellation."""
    try:
        rules, policies = await load(settings)
    except RuleError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"cannot read {exc.filename}: {exc.strerror}"
    else:
        steering.use(rules)
        authorisation.use(policies)
        _announce(" reloaded", rules, policies)
        return None
    log.error("filter rules not reloaded, the rules in force stay: %s", problem)
    return problem


def _announce(how: str, rules: RuleSet, policies: Policies | None) -> None:
    if rules.sources:
        log.info("filter rules%s: %d from %s", how, len(rules), ", ".join(rules.sources))
    if policies is not None:
        log.info("policies%s: %s", how, ", ".join(policies.sources))
