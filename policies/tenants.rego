# An example s3d authorisation policy (docs/rules.md): two tenants on one s3d, each with
# its own local access key (server.access_keys). Name it in the configuration:
#   [rules]
#   policy_files = ["policies/tenants.rego"]
# The input is MinIO's OPA shape (account, action, bucket, object, conditions) plus s3d's
# own fields under input.s3d (api, size, tags, headers, source address).
package s3d.authz

import rego.v1

analytics := "ANALYTICSKEY0000001"

ingest := "INGESTKEY0000000001"

reads := {"s3:GetObject", "s3:ListBucket", "s3:GetObjectTagging", "s3:ListAllMyBuckets"}

default allow := false

# Any other key may do anything, as without a policy.
allow if not input.account in {analytics, ingest}

# The analytics key only reads, and only the bucket "shared".
allow if {
	input.account == analytics
	input.action in reads
	input.bucket in {"shared", ""}
}

# The ingest key reads and writes buckets named ingest-*, objects of at most 1 GiB, and
# never deletes.
allow if {
	input.account == ingest
	startswith(input.bucket, "ingest-")
	not input.action in {"s3:DeleteObject", "s3:DeleteBucket"}
	object.get(input.s3d, "size", 0) <= 1073741824
}

# Logged with each denial, never sent to the client.
reason := sprintf("%s may not %s in %q", [input.account, input.action, input.bucket]) if not allow
