"""Presigned GET URLs, made with botocore before any timing starts.

One SigV4 query-string signature per (endpoint, key), valid for an hour: the timed requests
then cost the client no signing at all, and each server still checks a signature the way it
would for an application (s3d and rclone verify it; moto and the bare file server ignore it).
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.config import Config

from bench.services import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

EXPIRES = 3600


class Presigner:
    """Presigned PUT and GET URLs for objects behind one S3 endpoint (path-style addressing)."""

    def __init__(self, endpoint_url: str) -> None:
        session = botocore.session.get_session()
        self._client: Any = session.create_client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            # rclone's server takes SigV4 only; s3d takes both.
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def url(self, method: str, bucket: str, key: str) -> str:
        operation = {"PUT": "put_object", "GET": "get_object"}[method]
        url: str = self._client.generate_presigned_url(
            operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=EXPIRES
        )
        return url

    def get(self, bucket: str, key: str) -> str:
        return self.url("GET", bucket, key)


def plain_url(endpoint_url: str, bucket: str, key: str) -> str:
    """The unsigned path-style URL, for the bare file server."""
    return f"{endpoint_url}/{bucket}/{key}"
