# An example s3d routing policy (docs/rules.md, "Policies: routing"): besides allowing or
# denying, a policy may route writes and reads as filter rules do, knowing the local key.
#   [rules]
#   policy_files = ["policies/routing.rego"]
package s3d.authz

import rego.v1

ingest := "INGESTKEY0000000001"

# Routes only: every request is allowed.
default allow := true

# The ingest key's writes go to the remote before they are acknowledged.
write_queue := "write-through" if {
	input.account == ingest
	not startswith(input.object, "frozen/")
}

# Nobody writes under frozen/.
write_queue := "refuse" if startswith(input.object, "frozen/")

# Models stay in the cache for good; dashboards are fresh for 30 seconds.
read_cache := "pin" if input.bucket == "models"

read_cache := "cache=30s" if startswith(input.object, "dashboards/")
