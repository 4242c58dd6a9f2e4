"""The filter rules' admin command (``s3d rules reload``), on the admin endpoint.

``POST rules/reload``: read the rule and policy files again and put them in force, as SIGHUP
does. A file that does not read is refused with ``InvalidRules`` naming its file, line and
column; the rules in force stay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from s3d.protocol.errors import S3Error
from s3d.protocol.routing import Query
from s3d.server.admin import AdminRoute


class InvalidRules(S3Error):
    code = "InvalidRules"
    status = 400
    default_message = "The rule or policy files cannot be read; the rules in force stay."


def rules_routes(
    reload: Callable[[], Awaitable[str | None]], status: Callable[[], Mapping[str, object]]
) -> tuple[AdminRoute, ...]:
    """``reload`` returns None once the files are in force, else why not."""

    async def reload_rules(query: Query) -> Mapping[str, object]:
        problem = await reload()
        if problem is not None:
            raise InvalidRules(f"{problem} (the rules in force stay)")
        return {"reloaded": True, **status()}

    return (AdminRoute("POST", "rules/reload", "s3d:ReloadRules", reload_rules),)
