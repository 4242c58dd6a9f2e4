"""Reading one secret from AWS Secrets Manager with the remote's credentials: what a secret
the operator keeps there (the snapshots' OpenPGP passphrase) costs at start.

The client is built as the remote's is: static keys from ``[remote]`` when given, else
botocore's default chain (environment, shared files, web identity, instance metadata); the
remote's region; its timeouts and attempts. The endpoint is AWS's for the region, or the one
``AWS_ENDPOINT_URL_SECRETS_MANAGER`` names (botocore reads it), as for every AWS SDK.
"""

from __future__ import annotations

import asyncio

from s3d.remote.connect import new_session, service_config
from s3d.settings import ConfigError, RemoteSettings


async def secret_string(settings: RemoteSettings, secret_id: str, *, what: str) -> str:
    """The SecretString of ``secret_id``. Raises ConfigError naming ``what`` (the setting),
    the secret and the error code — never the value, nor the error's message (which may quote
    parameters)."""
    session = await asyncio.to_thread(new_session, settings)
    try:
        async with session.create_client(
            "secretsmanager", region_name=settings.region, config=service_config(settings)
        ) as vault:
            answer = await vault.get_secret_value(SecretId=secret_id)
    except Exception as exc:
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        raise ConfigError(
            f"{what}: the secret {secret_id} cannot be read from Secrets Manager: "
            f"{code or type(exc).__name__}"
        ) from None
    value = answer.get("SecretString")
    if not isinstance(value, str):
        raise ConfigError(f"{what}: the secret {secret_id} holds no SecretString")
    return value
