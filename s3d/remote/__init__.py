"""The remote adapter: the only package that imports aiobotocore and botocore.

``RemoteS3`` fulfils the gateway's ``Remote`` on any S3 endpoint; ``EmbeddedRemote`` runs
moto's S3 server in-process for when no remote is configured.
"""

from s3d.remote.client import RemoteS3
from s3d.remote.embedded import EmbeddedRemote

__all__ = ["EmbeddedRemote", "RemoteS3"]
