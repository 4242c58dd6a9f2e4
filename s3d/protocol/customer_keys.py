"""SSE-C request headers (pure): a write's own key and its copy source's.

A copy names the source's key with ``x-amz-copy-source-server-side-encryption-customer-*``;
whoever reads the source (the gateway checking copy conditions, the journal making a copy's
bytes local) sends that key as a plain ``x-amz-server-side-encryption-customer-*`` GET would.
"""

from __future__ import annotations

from s3d.protocol.model import Headers

OWN_PREFIX = "x-amz-server-side-encryption-customer-"
SOURCE_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"


def source_key_for_read(headers: Headers) -> Headers:
    """The copy source's SSE-C headers of a copy request, named as a GET of the source needs."""
    return tuple(
        (OWN_PREFIX + name[len(SOURCE_PREFIX) :], value)
        for name, value in headers
        if name.startswith(SOURCE_PREFIX)
    )
