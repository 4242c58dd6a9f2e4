"""An OPA server's answer, as a verdict: the answer to ``POST /v1/data/<path>`` with the
input document (``{"input": …}``), which is ``{"result": …}``, or ``{}`` when the document
at that path is undefined.

The path may name the package (``/v1/data/s3d/authz``): the result is then an object whose
``allow``, ``reason``, ``write_queue`` and ``read_cache`` mean what they mean for a local
policy (docs/rules.md). It may name a rule (``/v1/data/s3d/authz/allow``): the result is the
boolean itself. Undefined is a denial, as it is for a local policy.
"""

from __future__ import annotations

from s3d.rules.rego import ROUTES, PolicyError, Verdict


def verdict_of(answer: object) -> Verdict:
    """The verdict in an OPA data API answer. Raises PolicyError for an answer of any other
    shape (the message names the shape, never the input)."""
    if not isinstance(answer, dict):
        raise PolicyError(f"OPA answered a {type(answer).__name__}, not an object")
    result = answer.get("result")
    if result is None or isinstance(result, bool):
        return Verdict(result is True)
    if not isinstance(result, dict):
        raise PolicyError(f"OPA's result is a {type(result).__name__}, not an object or boolean")
    reason = result.get("reason")
    if result.get("allow") is not True:
        return Verdict(False, reason if isinstance(reason, str) else "")
    routes = tuple((name, result[name]) for name in ROUTES if result.get(name) is not None)
    return Verdict(True, routes=routes)
