"""Where the remote credentials come from: botocore's providers, tried in order, with an audit.

The chain, the first source that yields credentials winning: credentials written in s3d's
configuration (allowed, warned about); then botocore's own chain — environment variables,
assume-role and web identity (IRSA) profiles and ``AWS_ROLE_ARN`` with
``AWS_WEB_IDENTITY_TOKEN_FILE``, SSO, the shared credentials and config files (with
``credential_process``), container credentials (ECS task roles, EKS Pod Identity), EC2 instance
metadata with IMDSv2 — each provider asked in turn here rather than by botocore's resolver, so
that s3d can say which ones were tried and what each answered; last, a prompt on the terminal
with ``--prompt-credentials``.

Refresh is botocore's: refreshable credentials (web identity, container, instance metadata,
process) are renewed before they expire (15 minutes before, without blocking requests; 10
minutes before, blocking), and each renewal is audited.

Audit: one JSON line per resolution and per refresh to ``remote.credentials_audit_file``
(time, event, source, the last 4 characters of the key id, expiry) and to the log. Never a
secret: not the secret key, not the session token, not the whole key id.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiobotocore._helpers import resolve_awaitable
from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentials,
    AioDeferredRefreshableCredentials,
    AioRefreshableCredentials,
    create_credential_resolver,
)
from aiobotocore.session import AioSession

from s3d.settings import EMBEDDED_CREDENTIALS, BucketRemote, ConfigError, RemoteSettings

log = logging.getLogger("s3d.credentials")

CONFIGURATION = "s3d-configuration"
PROMPT = "prompt"
EMBEDDED_REMOTE = "embedded"
SOURCES = {
    CONFIGURATION: "s3d's configuration (remote.access_key_id)",
    EMBEDDED_REMOTE: "none needed (the embedded remote accepts any)",
    "env": "environment variables (AWS_ACCESS_KEY_ID)",
    "assume-role": "a role to assume, from the shared config profile",
    "assume-role-with-web-identity": "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)",
    "sso": "AWS SSO, from the shared config profile",
    "shared-credentials-file": "the shared credentials file (~/.aws/credentials)",
    "custom-process": "credential_process, from the shared config profile",
    "config-file": "the shared config file (~/.aws/config)",
    "ec2-credentials-file": "the EC2 credentials file",
    "boto-config": "the boto2 config file",
    "container-role": "container credentials (AWS_CONTAINER_CREDENTIALS_*_URI)",
    "iam-role": "EC2 instance metadata (IMDSv2)",
    "login": "aws login, from the shared config profile",
    PROMPT: "the terminal prompt (--prompt-credentials)",
}
"""Each source's name in messages, by botocore's ``METHOD`` (or s3d's own)."""


def describe(method: str) -> str:
    return SOURCES.get(method, method)


@dataclass
class Resolution:
    """What the chain found: the credentials (None: none anywhere), their source, and what
    each source tried answered, in order."""

    credentials: AioCredentials | None
    method: str = ""
    tried: list[tuple[str, str]] = field(default_factory=list)
    """(method, outcome): "no credentials", "chosen", or the error it raised."""

    @property
    def source(self) -> str:
        return describe(self.method) if self.method else "none"

    def tried_text(self) -> str:
        return "; ".join(f"{describe(method)}: {outcome}" for method, outcome in self.tried)


class Audit:
    """Writes the audit lines: to the log always, to ``path`` when configured."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(
        self,
        event: str,
        method: str,
        access_key_id: str,
        expiry: datetime | None,
        bucket: str | None = None,
        role: str | None = None,
    ) -> None:
        line = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "event": event,
            "source": method,
            "key_id_suffix": access_key_id[-4:],
            "expiry": expiry.astimezone(UTC).isoformat(timespec="seconds") if expiry else None,
            "bucket": bucket,
            "role": role,
        }
        log.info(
            "remote credentials %s from %s (key id …%s, expiry %s)",
            event,
            describe(method),
            line["key_id_suffix"],
            line["expiry"] or "none",
        )
        if self._path is None:
            return
        text = json.dumps(line) + "\n"
        with self._lock, open(self._path, "a", encoding="utf-8") as file:
            file.write(text)


async def resolve(
    session: AioSession, settings: RemoteSettings, prompt: Callable[[], AioCredentials | None]
) -> Resolution:
    """Ask each source in turn; the first with credentials wins. Never raises for a source
    that fails: its error is recorded and the next one asked, so the message at the end can
    say what every source answered."""
    if settings.access_key_id and settings.secret_access_key:
        credentials = AioCredentials(
            settings.access_key_id, settings.secret_access_key, settings.session_token
        )
        # The embedded remote's placeholders are no credentials anyone configured.
        embedded = settings.access_key_id == EMBEDDED_CREDENTIALS
        method = EMBEDDED_REMOTE if embedded else CONFIGURATION
        return Resolution(credentials, method, [(method, "chosen")])
    resolution = Resolution(None)
    resolver = create_credential_resolver(session, region_name=settings.region)
    for provider in resolver.providers:
        method = str(provider.METHOD)
        try:
            credentials = await provider.load()
            if (
                isinstance(credentials, AioRefreshableCredentials)
                and expiry_of(credentials) is None
            ):
                # Deferred (web identity, assume-role): fetched on first use by botocore.
                # Fetched now, so that a source that cannot deliver is known at start.
                await credentials.get_frozen_credentials()
        except Exception as exc:  # a broken source: say so, and go on down the chain
            resolution.tried.append((method, f"failed ({type(exc).__name__}: {_first_line(exc)})"))
            continue
        if credentials is None:
            resolution.tried.append((method, "no credentials"))
            continue
        resolution.tried.append((method, "chosen"))
        resolution.credentials, resolution.method = credentials, method
        return resolution
    if settings.prompt_credentials:
        credentials = prompt()
        resolution.tried.append((PROMPT, "chosen" if credentials else "no credentials"))
        if credentials is not None:
            resolution.credentials, resolution.method = credentials, PROMPT
    return resolution


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def prompt_on_terminal() -> AioCredentials | None:
    """Ask on the terminal (the secret without echo); None when there is no terminal or the
    answer is empty."""
    if not sys.stdin.isatty():
        return None
    print("s3d: no remote credentials found; enter them (kept in memory only)", file=sys.stderr)
    key_id = input("remote access key id: ").strip()
    if not key_id:
        return None
    secret = getpass.getpass("remote secret access key: ").strip()
    token = getpass.getpass("remote session token (empty for none): ").strip() or None
    return AioCredentials(key_id, secret, token)


def expiry_of(credentials: AioCredentials) -> datetime | None:
    if isinstance(credentials, AioRefreshableCredentials):
        expiry: datetime | None = credentials._expiry_time  # botocore keeps it private
        return expiry
    return None


def key_id_of(credentials: AioCredentials) -> str:
    """The key id as loaded. Not ``access_key``: on refreshable credentials reading it may
    renew them, and that renewal would go unaudited."""
    if isinstance(credentials, AioRefreshableCredentials):
        return str(credentials._access_key)
    return str(credentials.access_key)


def audit_refreshes(
    credentials: AioCredentials,
    method: str,
    audit: Audit,
    bucket: str | None = None,
    role: str | None = None,
) -> None:
    """Audit each renewal of refreshable credentials: botocore calls ``_refresh_using`` (a
    private attribute, stable since botocore 1.x) for every refresh; it is wrapped here."""
    if not isinstance(credentials, AioRefreshableCredentials):
        return
    fetch = credentials._refresh_using

    async def refreshed() -> Any:
        metadata = await resolve_awaitable(fetch())
        expiry = datetime.fromisoformat(str(metadata["expiry_time"]).replace("Z", "+00:00"))
        audit.record("refreshed", method, str(metadata["access_key"]), expiry, bucket, role)
        return metadata

    credentials._refresh_using = refreshed


def bucket_remote(settings: RemoteSettings, override: BucketRemote) -> RemoteSettings:
    """The remote settings of one bucket of ``remote.bucket_settings``: its own where given.
    Raises ConfigError for an addressing style that is not one."""
    style = override.addressing_style or settings.addressing_style
    if style not in ("auto", "path", "virtual"):
        raise ConfigError(
            f"remote.bucket_settings: bucket {override.bucket!r}: addressing_style {style!r} "
            "is not auto, path or virtual"
        )
    return dataclasses.replace(
        settings,
        endpoint_url=override.endpoint_url or settings.endpoint_url,
        region=override.region or settings.region,
        addressing_style=style,  # type: ignore[arg-type]
        bucket_settings=(),
    )


async def assume_role(
    session: AioSession,
    source: AioCredentials,
    override: BucketRemote,
    region: str,
    *,
    duration: int = 0,
    session_name: str = "",
    config: AioConfig | None = None,
) -> AioCredentials:
    """Credentials of ``override.role_arn``, assumed with ``source`` through STS (the
    endpoint botocore resolves: ``AWS_ENDPOINT_URL_STS`` where set), renewed by botocore
    before they expire. Fetched now: a role that cannot be assumed is known at start.
    ``config``: the STS client's timeouts and attempts."""
    extra: dict[str, object] = {"RoleSessionName": (session_name or f"s3d-{override.bucket}")[:64]}
    if override.external_id:
        extra["ExternalId"] = override.external_id
    if duration:
        extra["DurationSeconds"] = duration

    def create_client(service: str, **kwargs: Any) -> Any:
        return session.create_client(service, region_name=region, config=config, **kwargs)

    fetcher = AioAssumeRoleCredentialFetcher(
        create_client, source, override.role_arn, extra_args=extra
    )
    credentials = AioDeferredRefreshableCredentials(
        refresh_using=fetcher.fetch_credentials, method="assume-role"
    )
    await credentials.get_frozen_credentials()
    return credentials
