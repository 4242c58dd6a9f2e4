"""The client of an external Open Policy Agent server (``rules.policy_url``): one POST of the
input document per decision to OPA's data API, JSON both ways, within
``rules.policy_timeout`` seconds.

Owns one aiohttp session, made at the first decision and closed by ``aclose``. Every failure
(no connection, a timeout, a status other than 200, an answer that is not JSON of the
expected shape) is a ``PolicyError``: the authorisation turns it into the configured
fail-open or fail-closed answer.
"""

from __future__ import annotations

import asyncio

import aiohttp

from s3d.rules.opa import verdict_of
from s3d.rules.rego import PolicyError, Verdict


class OpaClient:
    def __init__(self, url: str, timeout: float) -> None:
        self.name = url
        """What the log names the policy by: the URL (it holds no secret)."""
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def decide(self, document: dict[str, object]) -> Verdict:
        """OPA's verdict on ``document``. Raises PolicyError; on cancellation the request is
        abandoned (its connection closed)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.post(self.name, json={"input": document}) as answer:
                    if answer.status != 200:
                        raise PolicyError(f"OPA answered HTTP {answer.status}")
                    found = await answer.json(content_type=None)
        except TimeoutError:
            raise PolicyError(f"OPA gave no answer within {self._timeout:g} s") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise PolicyError(f"OPA could not be asked: {type(exc).__name__}: {exc}") from None
        return verdict_of(found)

    async def aclose(self) -> None:
        """Close the session. Idempotent."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
