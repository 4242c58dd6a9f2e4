"""``drs.credentials.json``: a sidecar next to a ``drs.index`` naming the credentials for its
bucket, without holding them (docs/drs-credentials.md).

Format 1.0, one JSON object: ``format`` ``"drs.credentials"``, ``format_version``
``"MAJOR.MINOR"``, and exactly one of

- ``assume_role``: ``{"role_arn", "external_id"?, "duration_seconds"?, "session_name"?}`` — a
  role assumed with the credentials the chain found;
- ``secrets_manager``: ``{"secret_id", "region"?}`` — a secret holding ``AccessKeyId``,
  ``SecretAccessKey`` (and ``SessionToken``), read with the credentials the chain found.

A sidecar holding credentials itself (any key named like an access key id, a secret key or a
session token) is refused: long-lived secrets do not belong next to a catalogue. Readers refuse
an unknown major version and ignore unknown fields, as for drs.index.

Pure parsing here; ``credentials_for`` talks to STS or Secrets Manager.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentials
from aiobotocore.session import AioSession

from s3d.remote.credentials import assume_role
from s3d.settings import BucketRemote

NAME = "drs.credentials.json"
SIDECAR = "drs-credentials-sidecar"
"""The source's name in the audit."""
FORMAT = "drs.credentials"
MAJOR = 1
_SECRET_KEYS = re.compile(
    r"^(aws_)?(access_?key(_?id)?|secret(_?access)?_?key|session_?token|token)$", re.IGNORECASE
)


class SidecarError(ValueError):
    """A sidecar that cannot be used; ``str`` names it and what is wrong."""


@dataclass(frozen=True, slots=True)
class Sidecar:
    source: str
    """Where it was read, for messages: s3://bucket/dir/drs.credentials.json."""
    role_arn: str = ""
    external_id: str = ""
    duration_seconds: int = 0
    session_name: str = ""
    secret_id: str = ""
    secret_region: str = ""

    @property
    def describe(self) -> str:
        if self.role_arn:
            return f"role {self.role_arn} named by {self.source}"
        return f"secret {self.secret_id} named by {self.source}"


def location_next_to(key: str) -> str:
    """The sidecar's key beside the drs.index at ``key``."""
    folder = key.rpartition("/")[0]
    return f"{folder}/{NAME}" if folder else NAME


def parse(data: bytes, source: str) -> Sidecar:
    """Raises SidecarError naming ``source``."""

    def fail(message: str) -> SidecarError:
        return SidecarError(f"{source}: {message}")

    try:
        document = json.loads(data)
    except ValueError as exc:
        raise fail(f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise fail("not a JSON object")
    secret = _secret_key(document)
    if secret is not None:
        raise fail(
            f"holds a credential ({secret!r}): a sidecar names credentials, never holds them"
        )
    if document.get("format") != FORMAT:
        raise fail(f"format is {document.get('format')!r}, not {FORMAT!r}")
    version = str(document.get("format_version", ""))
    major, _, minor = version.partition(".")
    if not (major.isdigit() and minor.isdigit()) or int(major) != MAJOR:
        raise fail(f"format_version {version!r} is not supported (this s3d reads {MAJOR}.x)")
    role, vault = document.get("assume_role"), document.get("secrets_manager")
    if (role is None) == (vault is None):
        raise fail("needs exactly one of assume_role and secrets_manager")
    if role is not None:
        if not isinstance(role, dict) or not isinstance(role.get("role_arn"), str):
            raise fail("assume_role needs a role_arn")
        duration = role.get("duration_seconds", 0)
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
            raise fail("assume_role.duration_seconds must be a whole number of seconds")
        return Sidecar(
            source,
            role_arn=role["role_arn"],
            external_id=str(role.get("external_id", "")),
            duration_seconds=duration,
            session_name=str(role.get("session_name", "")),
        )
    if not isinstance(vault, dict) or not isinstance(vault.get("secret_id"), str):
        raise fail("secrets_manager needs a secret_id")
    return Sidecar(source, secret_id=vault["secret_id"], secret_region=str(vault.get("region", "")))


def _secret_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if _SECRET_KEYS.match(str(key)):
                return str(key)
            found = _secret_key(item)
            if found is not None:
                return found
    if isinstance(value, list):
        for item in value:
            found = _secret_key(item)
            if found is not None:
                return found
    return None


async def credentials_for(
    sidecar: Sidecar,
    session: AioSession,
    source: AioCredentials,
    bucket: str,
    region: str,
    config: AioConfig | None = None,
) -> AioCredentials:
    """The credentials the sidecar names, obtained with ``source`` (STS or Secrets Manager
    clients with ``config``'s timeouts and attempts). Raises SidecarError."""
    if sidecar.role_arn:
        override = BucketRemote(bucket, role_arn=sidecar.role_arn, external_id=sidecar.external_id)
        try:
            return await assume_role(
                session,
                source,
                override,
                region,
                duration=sidecar.duration_seconds,
                session_name=sidecar.session_name,
                config=config,
            )
        except Exception as exc:
            raise SidecarError(f"{sidecar.describe}: cannot be assumed: {_code(exc)}") from None
    frozen = await source.get_frozen_credentials()
    async with session.create_client(
        "secretsmanager",
        region_name=sidecar.secret_region or region,
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
        config=config,
    ) as vault:
        try:
            answer = await vault.get_secret_value(SecretId=sidecar.secret_id)
        except Exception as exc:
            raise SidecarError(
                f"{sidecar.describe}: cannot be read: {type(exc).__name__}"
            ) from None
    try:
        values = json.loads(answer["SecretString"])
        return AioCredentials(
            values["AccessKeyId"], values["SecretAccessKey"], values.get("SessionToken")
        )
    except (KeyError, TypeError, ValueError):
        raise SidecarError(
            f"{sidecar.describe}: the secret is not a JSON object with AccessKeyId and "
            "SecretAccessKey"
        ) from None


def _code(exc: BaseException) -> str:
    """An AWS error's code, else the exception's type: never its message (which may quote
    parameters)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__
