"""S3's request vocabulary: which query selectors name which operation, and which query
parameters are arguments. Data only, taken from the S3 service model (API version 2006-03-01,
as botocore ships it); ``tests/protocol/test_s3_api.py`` checks it against the installed model so
a new S3 operation shows up as a failing test, not as a request silently misrouted.
"""

from __future__ import annotations

SELECTORS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("bucket", "abac"): {"GET": ("GetBucketAbac",), "PUT": ("PutBucketAbac",)},
    ("bucket", "accelerate"): {
        "GET": ("GetBucketAccelerateConfiguration",),
        "PUT": ("PutBucketAccelerateConfiguration",),
    },
    ("bucket", "acl"): {"GET": ("GetBucketAcl",), "PUT": ("PutBucketAcl",)},
    ("bucket", "analytics"): {
        "DELETE": ("DeleteBucketAnalyticsConfiguration",),
        "GET": (
            "GetBucketAnalyticsConfiguration",
            "ListBucketAnalyticsConfigurations",
        ),
        "PUT": ("PutBucketAnalyticsConfiguration",),
    },
    ("bucket", "cors"): {
        "DELETE": ("DeleteBucketCors",),
        "GET": ("GetBucketCors",),
        "PUT": ("PutBucketCors",),
    },
    ("bucket", "delete"): {"POST": ("DeleteObjects",)},
    ("bucket", "encryption"): {
        "DELETE": ("DeleteBucketEncryption",),
        "GET": ("GetBucketEncryption",),
        "PUT": ("PutBucketEncryption",),
    },
    ("bucket", "intelligent-tiering"): {
        "DELETE": ("DeleteBucketIntelligentTieringConfiguration",),
        "GET": (
            "GetBucketIntelligentTieringConfiguration",
            "ListBucketIntelligentTieringConfigurations",
        ),
        "PUT": ("PutBucketIntelligentTieringConfiguration",),
    },
    ("bucket", "inventory"): {
        "DELETE": ("DeleteBucketInventoryConfiguration",),
        "GET": (
            "GetBucketInventoryConfiguration",
            "ListBucketInventoryConfigurations",
        ),
        "PUT": ("PutBucketInventoryConfiguration",),
    },
    ("bucket", "lifecycle"): {
        "DELETE": ("DeleteBucketLifecycle",),
        "GET": (
            "GetBucketLifecycle",
            "GetBucketLifecycleConfiguration",
        ),
        "PUT": (
            "PutBucketLifecycle",
            "PutBucketLifecycleConfiguration",
        ),
    },
    ("bucket", "location"): {"GET": ("GetBucketLocation",)},
    ("bucket", "logging"): {"GET": ("GetBucketLogging",), "PUT": ("PutBucketLogging",)},
    ("bucket", "metadataAnnotationTable"): {
        "PUT": ("UpdateBucketMetadataAnnotationTableConfiguration",)
    },
    ("bucket", "metadataConfiguration"): {
        "DELETE": ("DeleteBucketMetadataConfiguration",),
        "GET": ("GetBucketMetadataConfiguration",),
        "POST": ("CreateBucketMetadataConfiguration",),
    },
    ("bucket", "metadataInventoryTable"): {
        "PUT": ("UpdateBucketMetadataInventoryTableConfiguration",)
    },
    ("bucket", "metadataJournalTable"): {"PUT": ("UpdateBucketMetadataJournalTableConfiguration",)},
    ("bucket", "metadataTable"): {
        "DELETE": ("DeleteBucketMetadataTableConfiguration",),
        "GET": ("GetBucketMetadataTableConfiguration",),
        "POST": ("CreateBucketMetadataTableConfiguration",),
    },
    ("bucket", "metrics"): {
        "DELETE": ("DeleteBucketMetricsConfiguration",),
        "GET": (
            "GetBucketMetricsConfiguration",
            "ListBucketMetricsConfigurations",
        ),
        "PUT": ("PutBucketMetricsConfiguration",),
    },
    ("bucket", "notification"): {
        "GET": (
            "GetBucketNotification",
            "GetBucketNotificationConfiguration",
        ),
        "PUT": (
            "PutBucketNotification",
            "PutBucketNotificationConfiguration",
        ),
    },
    ("bucket", "object-lock"): {
        "GET": ("GetObjectLockConfiguration",),
        "PUT": ("PutObjectLockConfiguration",),
    },
    ("bucket", "ownershipControls"): {
        "DELETE": ("DeleteBucketOwnershipControls",),
        "GET": ("GetBucketOwnershipControls",),
        "PUT": ("PutBucketOwnershipControls",),
    },
    ("bucket", "policy"): {
        "DELETE": ("DeleteBucketPolicy",),
        "GET": ("GetBucketPolicy",),
        "PUT": ("PutBucketPolicy",),
    },
    ("bucket", "policyStatus"): {"GET": ("GetBucketPolicyStatus",)},
    ("bucket", "publicAccessBlock"): {
        "DELETE": ("DeletePublicAccessBlock",),
        "GET": ("GetPublicAccessBlock",),
        "PUT": ("PutPublicAccessBlock",),
    },
    ("bucket", "replication"): {
        "DELETE": ("DeleteBucketReplication",),
        "GET": ("GetBucketReplication",),
        "PUT": ("PutBucketReplication",),
    },
    ("bucket", "requestPayment"): {
        "GET": ("GetBucketRequestPayment",),
        "PUT": ("PutBucketRequestPayment",),
    },
    ("bucket", "session"): {"GET": ("CreateSession",)},
    ("bucket", "tagging"): {
        "DELETE": ("DeleteBucketTagging",),
        "GET": ("GetBucketTagging",),
        "PUT": ("PutBucketTagging",),
    },
    ("bucket", "uploads"): {"GET": ("ListMultipartUploads",)},
    ("bucket", "versioning"): {"GET": ("GetBucketVersioning",), "PUT": ("PutBucketVersioning",)},
    ("bucket", "versions"): {"GET": ("ListObjectVersions",)},
    ("bucket", "website"): {
        "DELETE": ("DeleteBucketWebsite",),
        "GET": ("GetBucketWebsite",),
        "PUT": ("PutBucketWebsite",),
    },
    ("object", "acl"): {"GET": ("GetObjectAcl",), "PUT": ("PutObjectAcl",)},
    ("object", "annotation"): {
        "DELETE": ("DeleteObjectAnnotation",),
        "GET": (
            "GetObjectAnnotation",
            "ListObjectAnnotations",
        ),
        "PUT": ("PutObjectAnnotation",),
    },
    ("object", "attributes"): {"GET": ("GetObjectAttributes",)},
    ("object", "encryption"): {"PUT": ("UpdateObjectEncryption",)},
    ("object", "legal-hold"): {"GET": ("GetObjectLegalHold",), "PUT": ("PutObjectLegalHold",)},
    ("object", "renameObject"): {"PUT": ("RenameObject",)},
    ("object", "restore"): {"POST": ("RestoreObject",)},
    ("object", "retention"): {"GET": ("GetObjectRetention",), "PUT": ("PutObjectRetention",)},
    ("object", "select"): {"POST": ("SelectObjectContent",)},
    ("object", "tagging"): {
        "DELETE": ("DeleteObjectTagging",),
        "GET": ("GetObjectTagging",),
        "PUT": ("PutObjectTagging",),
    },
    ("object", "torrent"): {"GET": ("GetObjectTorrent",)},
    ("object", "uploads"): {"POST": ("CreateMultipartUpload",)},
}
"""(level, selector) -> method -> the operations it can name, sorted by name when several
share it; ``routing`` picks among them (a List* variant when no ``id`` is given, else the
current API, e.g. GetBucketLifecycleConfiguration over GetBucketLifecycle)."""

PARAMETERS: frozenset[str] = frozenset(
    {
        "annotation-prefix",
        "annotationName",
        "bucket-region",
        "continuation-token",
        "delimiter",
        "encoding-type",
        "fetch-owner",
        "id",
        "key-marker",
        "list-type",
        "marker",
        "max-annotation-results",
        "max-buckets",
        "max-directory-buckets",
        "max-keys",
        "max-parts",
        "max-uploads",
        "part-number-marker",
        "partNumber",
        "prefix",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "select-type",
        "start-after",
        "upload-id-marker",
        "uploadId",
        "version-id-marker",
        "versionId",
    }
)
"""Query parameters that are operation arguments, not selectors."""
