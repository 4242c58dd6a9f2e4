"""The daemon's settings: one frozen value, validated once at start.

Each field's metadata drives the configuration surface (see ``s3d/config/``): ``help`` for
``s3d serve --help`` and the docs, ``secret`` for masking in ``s3d check-config`` and error
messages (``show_suffix``: the last 4 characters may be shown, as for access key ids), ``flag``
where the command-line flag is not ``--<section>-<name>``, ``metavar`` for its value's name. The
TOML section is the group's name (``[server]``, ``[remote]``…); the environment variable is
``S3D_<SECTION>_<NAME>`` in upper case (``S3D_SERVER_PORT``), or ``env`` in the metadata where
set. Checks made once at load: ``min``/``max`` (inclusive), ``above`` (exclusive lower bound),
``must_exist`` (a path naming an existing file), ``requires`` (sibling fields that must be set
whenever this one is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


class ConfigError(ValueError):
    """A configuration that cannot be used.

    The message names the offending key and where it came from (the file and its TOML key,
    the environment variable, or the flag), and never contains a secret value. Defined here,
    beside the settings, so that adapters finding a setting unusable at start (a credential
    file, an SSE-C key) can raise it without importing the configuration loader.
    """


AnonymousAccess = Literal["off", "read", "read-write", "remote"]
LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]
AddressingStyle = Literal["auto", "path", "virtual"]
DataPath = Literal["native", "botocore"]

EMBEDDED = "embedded"
"""``remote.endpoint_url`` value that starts moto's S3 server on a free loopback port."""
EMBEDDED_CREDENTIALS = "embedded"
"""The fixed key the daemon gives the embedded remote (moto accepts any)."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    """A local access key clients sign with. Never the remote's credentials."""

    access_key_id: str = field(metadata={"secret": True, "show_suffix": True})
    secret_access_key: str = field(metadata={"secret": True})


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = field(
        default="127.0.0.1", metadata={"help": "address to listen on", "flag": "--host"}
    )
    port: int = field(
        default=9333,
        metadata={
            "help": "TCP port to listen on; 0 picks any free port",
            "flag": "--port",
            "min": 0,
            "max": 65535,
        },
    )
    region: str = field(
        default="us-east-1",
        metadata={"help": "region s3d reports (GetBucketLocation, signing scope hint)"},
    )
    base_domains: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "domains for virtual-hosted-style addressing: a Host of "
            "<bucket>.<base domain> names the bucket (comma-separated)"
        },
    )
    access_keys: tuple[AccessKey, ...] = field(
        default=(),
        metadata={
            "help": "local access keys clients sign with; when none are configured a key "
            "pair is generated once and kept in the data directory",
            "flag": "--access-key",
            "metavar": "ID:SECRET",
        },
    )
    anonymous: AnonymousAccess = field(
        default="off",
        metadata={
            "help": "unsigned requests: off (refused), read or read-write (answered with "
            "s3d's credentials for the remote), or remote (forwarded unsigned: the remote's "
            "ACLs and bucket policies decide)"
        },
    )
    tls_cert_file: Path | None = field(
        default=None,
        metadata={
            "help": "PEM certificate: serve HTTPS instead of HTTP",
            "must_exist": True,
            "requires": ("tls_key_file",),
        },
    )
    tls_key_file: Path | None = field(
        default=None,
        metadata={
            "help": "PEM private key for tls_cert_file",
            "must_exist": True,
            "requires": ("tls_cert_file",),
        },
    )
    shutdown_grace: float = field(
        default=30.0,
        metadata={"help": "seconds given to requests in flight after SIGTERM or SIGINT", "min": 0},
    )
    body_timeout: float = field(
        default=60.0,
        metadata={
            "help": "seconds a client may stay silent while sending a request body before it "
            "is answered 400 RequestTimeout",
            "above": 0,
        },
    )
    header_timeout: float = field(
        default=20.0,
        metadata={
            "help": "seconds a client has to send a whole request head (request line and "
            "headers) once it has begun; a slower one is disconnected",
            "above": 0,
        },
    )
    idle_timeout: float = field(
        default=60.0,
        metadata={
            "help": "seconds an open connection may wait for its next request (or its first) "
            "before it is closed",
            "above": 0,
        },
    )
    max_connections: int = field(
        default=1000,
        metadata={
            "help": "open client connections served at once; a request on one beyond it is "
            "answered 503 SlowDown with Retry-After and its connection closed (the /_s3d/ "
            "endpoints are exempt). Keep the open-file limit (LimitNOFILE) well above it",
            "min": 1,
        },
    )


@dataclass(frozen=True, slots=True)
class BucketRemote:
    """Where one bucket lives, when not where the others do: its own endpoint, region,
    addressing style, and a role to assume for it (in another account). Empty: as
    ``[remote]`` says."""

    bucket: str
    endpoint_url: str = ""
    region: str = ""
    addressing_style: str = ""
    role_arn: str = ""
    external_id: str = ""


@dataclass(frozen=True, slots=True)
class RemoteSettings:
    endpoint_url: str = field(
        default=EMBEDDED,
        metadata={
            "help": "remote S3 endpoint URL; 'embedded' starts moto's S3 server on a free "
            "loopback port, 'aws' uses AWS S3's own endpoints for the region",
            "flag": "--remote",
        },
    )
    region: str = field(default="us-east-1", metadata={"help": "remote region"})
    access_key_id: str | None = field(
        default=None,
        metadata={
            "help": "remote access key id; unset: the standard AWS credential chain",
            "secret": True,
            "show_suffix": True,
            "requires": ("secret_access_key",),
        },
    )
    secret_access_key: str | None = field(
        default=None,
        metadata={
            "help": "remote secret access key",
            "secret": True,
            "requires": ("access_key_id",),
        },
    )
    session_token: str | None = field(
        default=None,
        metadata={
            "help": "remote session token",
            "secret": True,
            "requires": ("access_key_id", "secret_access_key"),
        },
    )
    addressing_style: AddressingStyle = field(
        default="auto", metadata={"help": "path, virtual or auto (botocore decides)"}
    )
    buckets: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "buckets s3d checks at start with HeadBucket: it refuses to start, saying "
            "why, when one cannot be read (comma-separated)"
        },
    )
    bucket_settings: tuple[BucketRemote, ...] = field(
        default=(),
        metadata={
            "help": "per-bucket remote settings: endpoint_url, region, addressing_style, and "
            "role_arn (with external_id) to assume for that bucket with the credentials the "
            "chain found",
            "metavar": "JSON",
        },
    )
    allow_offline_start: bool = field(
        default=False,
        metadata={
            "help": "start even when the remote cannot be reached or the buckets read (a node "
            "that must start while the remote is down)",
            "flag": "--allow-offline-start",
        },
    )
    credentials_audit_file: Path | None = field(
        default=None,
        metadata={
            "help": "file the credential audit is appended to: one JSON line per resolution "
            "and refresh (source, key id's last 4 characters, expiry; never a secret)"
        },
    )
    sse_customer_key_file: Path | None = field(
        default=None,
        metadata={
            "help": "file holding a 32-byte key (raw or base64): every upload to and read from "
            "the remote is encrypted with it (SSE-C); without it, clients' own SSE-C headers "
            "pass through",
            "must_exist": True,
        },
    )
    prompt_credentials: bool = field(
        default=False,
        metadata={
            "help": "when no source has remote credentials and s3d runs on a terminal, ask "
            "for them",
            "flag": "--prompt-credentials",
        },
    )
    connect_timeout: float = field(
        default=10.0, metadata={"help": "seconds to open a connection to the remote", "above": 0}
    )
    read_timeout: float = field(
        default=60.0,
        metadata={
            "help": "seconds an attempt waits for a byte from the remote: the answer's first "
            "byte once the request is sent, then each read of its body (S3 keeps a long "
            "CompleteMultipartUpload or copy alive with whitespace)",
            "above": 0,
        },
    )
    retry_window: float = field(
        default=20.0,
        metadata={
            "help": "seconds after a remote call began within which a failed attempt is "
            "retried; past it the failure is final, so a call lasts at most about this plus "
            "20 s of backoff plus connect_timeout plus read_timeout",
            "min": 0,
        },
    )
    listing_deadline: float = field(
        default=10.0,
        metadata={
            "help": "seconds a listing call may wait for the remote, retries included; past "
            "it the remote counts as unreachable (in write-back the listing answers from what "
            "this node knows)",
            "above": 0,
        },
    )
    max_pool_connections: int = field(
        default=64, metadata={"help": "connections kept open to the remote", "min": 1}
    )
    max_attempts: int = field(
        default=5,
        metadata={
            "help": "attempts per remote call, the first included (botocore standard retries, "
            "within retry_window)",
            "min": 1,
        },
    )
    verify_tls: bool = field(default=True, metadata={"help": "verify the remote's TLS certificate"})
    ca_bundle: Path | None = field(
        default=None,
        metadata={"help": "CA bundle for the remote's TLS certificate", "must_exist": True},
    )
    # The client of GetObject, HeadObject, PutObject and UploadPart (docs/remote.md).
    data_path: DataPath = field(
        default="native",
        metadata={
            "help": "client of object reads and uploads: native (s3d's SigV4 signer over its "
            "own aiohttp session; cheaper per request) or botocore (aiobotocore, as every "
            "other remote call)"
        },
    )


MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool = field(
        default=True, metadata={"help": "serve GET and HEAD through the on-disk read cache"}
    )
    max_size: int = field(
        default=10 * GiB,
        metadata={
            "help": "bytes the cache and, in write-back, the pending writes may hold together "
            "on the data volume: clean entries are evicted to stay under it, a write that "
            "would take pending writes alone past it gets 503 SlowDown",
            "unit": "bytes",
            "min": 0,
        },
    )
    min_free_space: int = field(
        default=0,
        metadata={
            "help": "bytes to keep free on the data volume, evicting below that (0: no check)",
            "unit": "bytes",
            "min": 0,
        },
    )
    high_watermark: float = field(
        default=0.95,
        metadata={"help": "eviction starts above this fraction of max_size", "above": 0, "max": 1},
    )
    low_watermark: float = field(
        default=0.85,
        metadata={"help": "eviction stops at this fraction of max_size", "above": 0, "max": 1},
    )
    freshness: float = field(
        default=60.0,
        metadata={
            "help": "seconds an entry is served without asking the remote; after that it is "
            "revalidated with a conditional request on its ETag",
            "min": 0,
        },
    )
    revalidation_deadline: float = field(
        default=5.0,
        metadata={
            "help": "seconds a revalidation may wait for the remote; past it (or when the "
            "remote cannot be reached) the cached copy is served marked 'x-s3d-cache: stale'",
            "above": 0,
        },
    )
    memory_size: int = field(
        default=64 * MiB,
        metadata={
            "help": "bytes of small hot objects (up to 256KiB each) also kept in memory; 0 "
            "turns that off",
            "unit": "bytes",
            "min": 0,
        },
    )
    block_size: int = field(
        default=8 * MiB,
        metadata={
            "help": "objects larger than whole_object_max are fetched and cached in blocks of "
            "this many bytes",
            "unit": "bytes",
            "min": 64 * 1024,
        },
    )
    whole_object_max: int = field(
        default=8 * MiB,
        metadata={
            "help": "objects up to this size are cached whole, even on a ranged read",
            "unit": "bytes",
            "min": 0,
        },
    )


WriteMode = Literal["write-back", "write-through"]
SyncWatch = Literal["auto", "inotify", "poll"]


@dataclass(frozen=True, slots=True)
class JournalSettings:
    mode: WriteMode = field(
        default="write-back",
        metadata={
            "help": "write-back: answer once a write is durable on local disk and upload it in "
            "the background; write-through: answer after the remote answered",
            "flag": "--mode",
        },
    )
    upload_concurrency: int = field(
        default=8, metadata={"help": "changes uploaded to the remote at once", "min": 1}
    )
    multipart_threshold: int = field(
        default=64 * MiB,
        metadata={
            "help": "single PUT bodies larger than this are uploaded as multipart uploads "
            "(and acknowledged with the multipart ETag the remote will give them)",
            "unit": "bytes",
            "min": 5 * MiB,
        },
    )
    part_size: int = field(
        default=16 * MiB,
        metadata={
            "help": "part size for the multipart uploads s3d makes of large single PUTs",
            "unit": "bytes",
            "min": 5 * MiB,
        },
    )
    part_concurrency: int = field(
        default=4, metadata={"help": "parts of one upload sent at once", "min": 1}
    )
    retry_base: float = field(
        default=1.0,
        metadata={"help": "seconds before the first retry of a failed upload", "above": 0},
    )
    retry_max: float = field(
        default=300.0,
        metadata={"help": "longest wait between retries of a failed upload", "above": 0},
    )
    flush_on_stop: float = field(
        default=30.0,
        metadata={
            "help": "seconds spent uploading pending changes after SIGTERM before exiting "
            "(what is left resumes at the next start)",
            "min": 0,
        },
    )
    upload_expiry: float = field(
        default=86400.0,
        metadata={
            "help": "seconds a multipart upload assembled here may stay idle (no new part) "
            "before it is aborted, as S3's AbortIncompleteMultipartUpload; 0: never",
            "min": 0,
        },
    )
    upload_reclaim_idle: float = field(
        default=600.0,
        metadata={
            "help": "when pending writes fill the volume, multipart uploads idle for at least "
            "this many seconds are aborted (oldest first) to make room for a new write",
            "min": 0,
        },
    )
    guarded_buckets: WriteMode = field(
        default="write-through",
        metadata={
            "help": "writes into versioned, object-lock and policy-guarded buckets: "
            "write-through (the remote answers: version ids, delete markers, refusals) or "
            "write-back (journaled too; the answers lack what only the remote knows, see "
            "docs/journal.md)",
        },
    )
    bucket_facts_for: float = field(
        default=30.0,
        metadata={
            "help": "seconds what s3d learned of a bucket's configuration (versioning, object "
            "lock, policy, default encryption) is trusted before it is asked again",
            "above": 0,
        },
    )


AccessUrls = Literal["s3d", "remote"]


@dataclass(frozen=True, slots=True)
class DrsSettings:
    enabled: bool = field(
        default=True,
        metadata={
            "help": "keep the DRS catalogue of the objects passing through and serve the GA4GH "
            "DRS API under /ga4gh/drs/v1"
        },
    )
    project: str = field(
        default="s3d",
        metadata={
            "help": "project named in DRS ids: uuid5(NAMESPACE_DNS, '<project>:<sha256>'), "
            "git-drs's scheme; nodes sharing a catalogue must share it"
        },
    )
    hostname: str = field(
        default="",
        metadata={
            "help": "host in self_uri (drs://<hostname>/<id>); empty: the host the request named"
        },
    )
    buckets: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "buckets whose s3://<bucket>/drs.index is ingested at start, after checking "
            "s3d can read them (comma-separated)"
        },
    )
    index_locations: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "further drs.index files to ingest at start, as s3://bucket/key "
            "(comma-separated)"
        },
    )
    access_urls: AccessUrls = field(
        default="s3d",
        metadata={
            "help": "where DRS access URLs point: s3d (presigned URLs to this endpoint, signed "
            "with a local key) or remote (presigned URLs to the remote bucket)"
        },
    )
    url_expiry: int = field(
        default=3600,
        metadata={"help": "seconds a DRS access URL stays valid", "min": 1, "max": 604800},
    )
    bearer_tokens_file: Path | None = field(
        default=None,
        metadata={
            "help": "file of bearer tokens the DRS API accepts (one per line), besides the "
            "local keys' signatures and HTTP Basic with a local key id and secret",
            "must_exist": True,
        },
    )
    export_location: str = field(
        default="",
        metadata={"help": "s3://bucket/key the catalogue is exported to every export_interval"},
    )
    export_interval: float = field(
        default=0.0,
        metadata={
            "help": "seconds between exports to export_location; 0: only on `s3d drs export`",
            "min": 0,
            "requires": ("export_location",),
        },
    )


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    enabled: bool = field(
        default=True,
        metadata={
            "help": "serve Prometheus metrics at GET /_s3d/metrics (docs/operations.md names "
            "each one)"
        },
    )
    bearer_token_file: Path | None = field(
        default=None,
        metadata={
            "help": "file of bearer tokens (one per line) of which /_s3d/metrics asks one; "
            "unset: metrics are open to whoever reaches the port",
            "must_exist": True,
        },
    )


PolicyFailure = Literal["closed", "open"]


@dataclass(frozen=True, slots=True)
class RulesSettings:
    """Filter rules (docs/rules.md): which writes wait in the journal, go straight to the
    remote or are refused; which reads are cached, bypass the cache or are pinned."""

    files: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "filter rule files, read in order (each feature's rules keep that order); "
            "a bad file refuses the start, and a reload (SIGHUP) keeps the old rules "
            "(comma-separated)",
            "metavar": "FILE,...",
        },
    )
    tag_overrides: bool = field(
        default=False,
        metadata={
            "help": "on reads, look up each object's tags (one GetObjectTagging per key and "
            "cache.freshness) so that s3d.cache=pin|bypass|cache tags set outside s3d take "
            "effect; writes through s3d always honour s3d.upload and s3d.cache"
        },
    )
    policy_files: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Rego policy files deciding whether each request of each local key is "
            "allowed (package rules.policy_package; its 'allow' rule); a denied request gets "
            "403 AccessDenied, its 'reason' is logged, never sent (comma-separated)",
            "metavar": "FILE,...",
        },
    )
    policy_package: str = field(
        default="s3d.authz", metadata={"help": "the Rego package whose 'allow' decides"}
    )
    policy_failure: PolicyFailure = field(
        default="closed",
        metadata={
            "help": "when a policy fails to evaluate for a request: closed denies it (403), "
            "open allows it; either way the failure is logged with the policy's files"
        },
    )
    policy_url: str = field(
        default="",
        metadata={
            "help": "an Open Policy Agent server's data API to ask too, with the same input "
            "(POST, e.g. http://127.0.0.1:8181/v1/data/s3d/authz); a request is allowed when "
            "the policy files and OPA both allow it; no answer in time is a policy failure",
            "metavar": "URL",
        },
    )
    policy_timeout: float = field(
        default=1.0, metadata={"help": "seconds OPA (rules.policy_url) has to answer"}
    )
    policy_verdicts: int = field(
        default=4096,
        metadata={
            "help": "verdicts a policy remembers, each for the requests that agree on every "
            "input field the policy reads (forgotten on reload); 0 evaluates every request"
        },
    )


@dataclass(frozen=True, slots=True)
class LogSettings:
    format: LogFormat = field(
        default="text", metadata={"help": "log format: text or json", "flag": "--log-format"}
    )
    level: LogLevel = field(default="info", metadata={"help": "log level", "flag": "--log-level"})


TraceExporter = Literal["otlp", "console", "none"]
TraceProtocol = Literal["http/protobuf", "grpc"]
TraceSampler = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]


@dataclass(frozen=True, slots=True)
class TracesSettings:
    """OpenTelemetry traces. Each setting left unset falls back to its standard ``OTEL_*``
    variable, then to the SDK's default (see docs/operations.md, "Traces")."""

    exporter: TraceExporter | None = field(
        default=None,
        metadata={
            "help": "where spans go: otlp, console or none; unset: OTEL_TRACES_EXPORTER, else "
            "otlp when an OTEL_EXPORTER_OTLP_*ENDPOINT is set, else none (tracing off)"
        },
    )
    endpoint: str = field(
        default="",
        metadata={
            "help": "OTLP collector base URL (/v1/traces is added for http/protobuf); empty: "
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else "
            "http://localhost:4318"
        },
    )
    protocol: TraceProtocol | None = field(
        default=None,
        metadata={
            "help": "OTLP protocol: http/protobuf, or grpc when opentelemetry-exporter-otlp-"
            "proto-grpc is installed; unset: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or "
            "OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf"
        },
    )
    service_name: str = field(
        default="",
        metadata={"help": "service.name of the spans; empty: OTEL_SERVICE_NAME, else s3d"},
    )
    resource_attributes: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "further resource attributes as key=value (comma-separated), added to "
            "OTEL_RESOURCE_ATTRIBUTES (these win)"
        },
    )
    sampler: TraceSampler | None = field(
        default=None,
        metadata={
            "help": "which traces are kept; unset: OTEL_TRACES_SAMPLER, else parentbased_always_on"
        },
    )
    sampler_ratio: float | None = field(
        default=None,
        metadata={
            "help": "share of traces kept by the traceidratio samplers; unset: "
            "OTEL_TRACES_SAMPLER_ARG, else 1.0",
            "min": 0,
            "max": 1,
        },
    )
    record_keys: bool = field(
        default=True,
        metadata={
            "help": "record object keys in spans (aws.s3.key, url.path); false leaves them out "
            "where keys are private"
        },
    )
    export_process: bool = field(
        default=True,
        metadata={
            "help": "encode and send OTLP spans in a child process, leaving the daemon's "
            "interpreter to serving requests; false: on a thread of the daemon"
        },
    )


@dataclass(frozen=True, slots=True)
class SyncFolder:
    """One sync folder (docs/sync.md): files completed in ``directory`` are uploaded through
    the journal to ``bucket`` under ``key`` (``{path}``: the path relative to the folder,
    ``{name}``: the file's name; fixed names allowed). Every field is text, checked at start."""

    directory: str
    bucket: str
    key: str = "{path}"
    complete: str = "renamed"
    """renamed (a file renamed in), quiet (unchanged for ``quiet`` seconds) or marker."""
    quiet: str = "5"
    markers: str = "_SUCCESS,*.done"
    after: str = "keep"
    """keep, delete or move (to ``done_dir``), once the remote has the file."""
    done_dir: str = ""
    include: str = ""
    exclude: str = ""
    filter: str = ""
    """Rule lines of the [sync] section (docs/rules.md), one a line, for this folder only."""


@dataclass(frozen=True, slots=True)
class SyncSettings:
    folders: tuple[SyncFolder, ...] = field(
        default=(),
        metadata={
            "help": "sync folders: directory, bucket, key template ({path}, {name}), complete "
            "(renamed, quiet, marker), quiet (seconds), markers, after (keep, delete, move), "
            "done_dir, include and exclude globs (comma-separated), filter (rule lines: "
            "include/exclude SELECTOR); see docs/sync.md",
            "metavar": "JSON",
        },
    )
    watch: SyncWatch = field(
        default="auto",
        metadata={
            "help": "how sync folders see changes: inotify, poll (a rescan every "
            "poll_interval), or auto (inotify, polling where it is unavailable or its watch "
            "limit is reached)"
        },
    )
    poll_interval: float = field(
        default=2.0,
        metadata={"help": "seconds between the rescans of a polled sync folder", "above": 0},
    )
    rescan_interval: float = field(
        default=60.0,
        metadata={
            "help": "seconds between full rescans of the sync folders, besides those at start "
            "and after an inotify overflow (0: none)",
            "min": 0,
        },
    )


@dataclass(frozen=True, slots=True)
class SnapshotSettings:
    enabled: bool = field(
        default=True,
        metadata={
            "help": "serve snapshot sets under /_s3d/snapshots/<bucket>/<prefix> (list, latest, "
            "by name; docs/snapshots.md)"
        },
    )
    timestamp_pattern: str = field(
        default="",
        metadata={
            "help": "regular expression finding a snapshot's time in its key, with groups Y, m, "
            "d (H, M, S, tz optional) or epoch; empty: ISO-8601 dates and times"
        },
    )
    variant_pattern: str = field(
        default=r"(?:^|[/._-])(?P<variant>full|reduced|partial|incremental)(?=[/._-]|$)",
        metadata={"help": "regular expression whose group 'variant' names a snapshot's variant"},
    )
    sets: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "named snapshot sets, NAME=BUCKET[/PREFIX] (comma-separated): "
            "/_s3d/snapshots/NAME/latest serves the newest snapshot under BUCKET/PREFIX (a name "
            "wins over a bucket of the same name)"
        },
    )
    markers: tuple[str, ...] = field(
        default=("_SUCCESS", "*.done"),
        metadata={
            "help": "completion markers (file-name globs, comma-separated): '*.done' stands for "
            "its sibling, another name for its directory; a marker is never a snapshot, and its "
            "time is the snapshot's when the key carries none"
        },
    )
    bearer_tokens_file: Path | None = field(
        default=None,
        metadata={
            "help": "file of bearer tokens the snapshot endpoints accept (one per line), besides "
            "HTTP Basic with a local key id and secret and SigV4",
            "must_exist": True,
        },
    )
    decrypt_suffixes: tuple[str, ...] = field(
        default=(".gpg", ".pgp"),
        metadata={
            "help": "keys ending so are OpenPGP-encrypted: decrypted with gpg while streaming "
            "when a passphrase is configured (comma-separated)"
        },
    )
    passphrase_file: Path | None = field(
        default=None,
        metadata={
            "help": "file holding the OpenPGP passphrase of encrypted snapshots",
            "must_exist": True,
        },
    )
    passphrase_env: str = field(
        default="",
        metadata={"help": "name of an environment variable holding the OpenPGP passphrase"},
    )
    passphrase_secret: str = field(
        default="",
        metadata={
            "help": "name or ARN of an AWS Secrets Manager secret holding the OpenPGP "
            "passphrase (its SecretString, or that JSON object's 'passphrase'), read at start "
            "with the remote's credentials and region"
        },
    )
    gpg: str = field(default="gpg", metadata={"help": "the gpg program run to decrypt"})


@dataclass(frozen=True, slots=True)
class MountSpec:
    """One FUSE mount: ``source`` is ``BUCKET`` or ``BUCKET/PREFIX``, shown at ``mountpoint``."""

    source: str
    mountpoint: str


@dataclass(frozen=True, slots=True)
class FuseSettings:
    """FUSE mounts served by the daemon (docs/fuse.md)."""

    mounts: tuple[MountSpec, ...] = field(
        default=(),
        metadata={
            "help": "mount BUCKET[/PREFIX] at MOUNTPOINT once the S3 listener is up "
            "(pyfuse3 serves one mount per daemon)",
            "flag": "--mount",
            "metavar": "BUCKET[/PREFIX]:MOUNTPOINT",
        },
    )
    read_only: bool = field(
        default=False,
        metadata={"help": "mount read-only: every change is refused with EROFS"},
    )
    metadata_ttl: float = field(
        default=1.0,
        metadata={
            "help": "seconds the kernel and s3d keep a file's attributes and a name's lookup "
            "before asking again (HEAD or listing)",
            "min": 0,
        },
    )
    allow_other: bool = field(
        default=False,
        metadata={"help": "let users other than the daemon's use the mount (FUSE allow_other)"},
    )
    uid: int = field(
        default=-1, metadata={"help": "owner of every file; -1: the daemon's user", "min": -1}
    )
    gid: int = field(
        default=-1, metadata={"help": "group of every file; -1: the daemon's group", "min": -1}
    )
    file_mode: int = field(
        default=0o644,
        metadata={"help": "permission bits of files (0o644 in TOML; 420 as a flag)", "min": 0},
    )
    dir_mode: int = field(
        default=0o755,
        metadata={"help": "permission bits of directories (0o755 in TOML)", "min": 0},
    )


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = field(
        default=Path("s3d-data"),
        metadata={
            "help": "data directory: staging, cache, journal and catalogue live here",
            "flag": "--data-dir",
            "env": "S3D_DATA_DIR",
        },
    )
    server: ServerSettings = ServerSettings()
    remote: RemoteSettings = RemoteSettings()
    cache: CacheSettings = CacheSettings()
    journal: JournalSettings = JournalSettings()
    drs: DrsSettings = DrsSettings()
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()
    traces: TracesSettings = TracesSettings()
    sync: SyncSettings = SyncSettings()
    snapshots: SnapshotSettings = SnapshotSettings()
    fuse: FuseSettings = FuseSettings()
    rules: RulesSettings = RulesSettings()
