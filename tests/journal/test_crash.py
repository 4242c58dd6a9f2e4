"""Contract 1 under ``kill -9``: after any crash, every acknowledged change reaches the remote;
nothing unacknowledged or half-written ever does.

Theory of operation. ``s3d serve`` runs write-back as a real subprocess, on one port and one
data directory across restarts, in front of moto behind a ``CountingRelay`` that holds every
request a little (so uploads are in flight when a kill lands). Writer threads (boto3, no
retries) loop over single PUTs of random sizes (some above the multipart threshold, which s3d
uploads in parts), overwrites of a few shared keys, deletes, multi-object deletes, copies and
multipart uploads. Every body comes from a seeded RNG, and every object state a writer tries to
create is a ``Version`` (size, SHA-256, the ETag the remote must compute, Content-Type,
metadata) entered in the ``Ledger`` before its request is sent. Each request that changes a key
is a ``Change`` with its outcome: acknowledged (2xx), refused (4xx: nothing may come of it) or
unknown (the connection dropped, or a 5xx). A completion whose outcome is unknown is settled
after the restart by aborting its upload: still open means it was not committed, gone means it
was (the commit and the upload's removal are one transaction).

A ``Crasher`` kills the daemon with SIGKILL at moments it aims for — while bodies are being
staged, while the journal uploads, right after a CompleteMultipartUpload is sent, or at random —
restarts it and lets the writers go on. What a kill interrupted is taken from evidence, never
from the aim: bodies the dead daemon left in its staging directory, uploads ``/_s3d/status``
showed running just before the kill, completions it left without an answer.

At the end the daemon is killed and restarted once more, local uploads left open are aborted,
the journal drains, and moto is read directly. The states a key may end in are its
``candidates``: every change not refused such that no acknowledged change of the key started
after it ended (its answer, or the failure that made it unknown); the key's state before any
change (absent) while none is acknowledged. For a key one writer changes in sequence that is
exactly "the last acknowledged change, or an unknown one after it" — per-key order included;
for shared keys it is the order real time imposes. Every body the relay passed to the remote is
checked too: it belongs to a version attempted for its key, and never to one that was refused,
abandoned or settled as not committed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import signal
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    CountingRelay,
    DaemonProcess,
    client,
    free_port,
    send,
    sign,
    write_config,
)

KiB = 1024
MiB = 1024 * KiB
PART = 5 * MiB
"""s3d's multipart threshold and part size here, and S3's smallest part."""
SEED = int(os.environ.get("S3D_CRASH_SEED", "20261122"))
"""The workload's seed; ``make crash-soak`` runs the test again under other seeds."""
WRITERS = 4
OWN_KEYS = 5
SHARED_KEYS = 3
FRESH = 0.3
"""The share of puts, copies and multipart uploads to a key never written before nor after:
its acknowledged state cannot be hidden by a later overwrite."""
MIN_KILLS = 30
MAX_KILLS = 40
KILL_PHASE = 120.0
"""Seconds after which no kill is added beyond MIN_KILLS, even if a kind is still short."""
AIMS = ("staging", "uploads", "completion", "acknowledgement", "random")
KINDS = ("staging", "uploads", "completion", "acknowledgement")
ACKNOWLEDGED = (
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteObjects",
    "CompleteMultipartUpload",
)
"""The operations after whose acknowledgement a kill may be aimed."""
RELAY_DELAY = 0.06
"""Seconds the relay holds each request: uploads stay in flight long enough to be hit, and
far less than a restart takes, so nothing a dead daemon sent lands after its successor's."""
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
"""What the remote stores for a write that names no Content-Type."""
CONTENT_TYPES = ("text/plain", "application/json", "image/png", "application/x-s3d-crash")


# --- What was attempted ----------------------------------------------------------------------


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _multipart_etag(md5s: Sequence[str]) -> str:
    return f"{_md5(b''.join(bytes.fromhex(m) for m in md5s))}-{len(md5s)}"


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as the remote holds it."""

    size: int
    sha256: str
    etag: str
    content_type: str
    metadata: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Version:
    """An object state a writer tried to create."""

    size: int
    sha256: str
    md5: str
    """Of the whole body: what a single PUT to the remote carries."""
    slices: tuple[str, ...]
    """MD5s of the PART-sized slices s3d cuts a body above the threshold into."""
    parts: tuple[str, ...]
    """MD5s of a client's multipart parts (empty for a single PUT or a copy)."""
    etag: str
    """Unquoted, as the remote must compute it (and s3d must answer)."""
    content_type: str | None
    """None: none was given (the remote's default)."""
    metadata: tuple[tuple[str, str], ...]

    @classmethod
    def of(
        cls,
        parts: list[bytes],
        content_type: str | None,
        metadata: dict[str, str],
        *,
        client_parts: bool,
    ) -> Version:
        body = b"".join(parts)
        slices = tuple(_md5(body[at : at + PART]) for at in range(0, len(body), PART))
        version = cls(
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            md5=_md5(body),
            slices=slices,
            parts=tuple(_md5(part) for part in parts) if client_parts else (),
            etag="",
            content_type=content_type,
            metadata=tuple(sorted(metadata.items())),
        )
        etag = _multipart_etag(version.parts) if client_parts else version.single_etag()
        return replace(version, etag=etag)

    def single_etag(self) -> str:
        """The ETag of these bytes written by one PUT (or copy): above the threshold s3d
        uploads them in PART slices, and answers that layout's ETag."""
        return _multipart_etag(self.slices) if self.size > PART else self.md5

    def copied(self) -> Version:
        return replace(self, parts=(), etag=self.single_etag())

    def matches(self, stored: Stored) -> bool:
        return (
            self.size,
            self.sha256,
            self.etag,
            self.content_type or DEFAULT_CONTENT_TYPE,
            self.metadata,
        ) == (stored.size, stored.sha256, stored.etag, stored.content_type, stored.metadata)

    @property
    def pieces(self) -> set[str]:
        """MD5s of every body a correct s3d may send the remote for this version."""
        return {self.md5, *self.slices, *self.parts}


@dataclass(slots=True)
class Change:
    """One request that changes a key (a multi-object delete is one change per key)."""

    key: str
    op: str
    version: Version | None
    """The state it sets; None: the key is deleted."""
    writer: int
    epoch: int
    """The daemon instance (0, 1, …) the request was sent to."""
    start: float
    end: float = math.inf
    outcome: str = "sent"
    """acked, refused or unknown."""
    detail: str = ""
    settled: str = ""
    """How an unknown completion was settled after the restart."""
    first_outcome: str = ""

    def describe(self) -> str:
        state = (
            "delete" if self.version is None else f"{self.version.size} B etag {self.version.etag}"
        )
        note = f" ({self.detail})" if self.detail else ""
        settled = f", settled: {self.settled}" if self.settled else ""
        outcome = self.first_outcome or self.outcome
        return f"{self.op} by writer {self.writer} [{state}] {outcome}{note}{settled}"


class Ledger:
    """Every version attempted and every change sent, with outcomes; shared by the writers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.changes: list[Change] = []
        self.versions: defaultdict[str, list[Version]] = defaultdict(list)
        self.anomalies: list[str] = []
        self.errors: Counter[str] = Counter()
        """Why requests failed: exception names and S3 error codes."""

    def attempt(self, key: str, version: Version) -> None:
        with self._lock:
            self.versions[key].append(version)

    def begin(self, key: str, op: str, version: Version | None, writer: int, epoch: int) -> Change:
        change = Change(key, op, version, writer, epoch, time.monotonic())
        with self._lock:
            if version is not None:
                self.versions[key].append(version)
            self.changes.append(change)
        return change

    def finish(self, changes: list[Change], outcome: str, detail: str = "") -> None:
        now = time.monotonic()
        with self._lock:
            for change in changes:
                change.outcome, change.first_outcome, change.end, change.detail = (
                    outcome,
                    outcome,
                    now,
                    detail,
                )
            if detail:
                self.errors[detail] += 1

    def failed(self, why: str) -> None:
        with self._lock:
            self.errors[why] += 1

    def settle(self, change: Change, outcome: str, how: str) -> None:
        with self._lock:
            change.outcome, change.settled = outcome, how

    def anomaly(self, text: str) -> None:
        with self._lock:
            self.anomalies.append(text)

    def by_key(self) -> dict[str, list[Change]]:
        grouped: defaultdict[str, list[Change]] = defaultdict(list)
        for change in self.changes:
            grouped[change.key].append(change)
        return dict(grouped)


def candidates(history: list[Change]) -> list[Change | None]:
    """The states a key may end in (see the module's doc); None: the key's state before any
    change, absent."""
    acked = [c for c in history if c.outcome == "acked"]
    allowed: list[Change | None] = [
        c for c in history if c.outcome != "refused" and not any(w.start > c.end for w in acked)
    ]
    if not acked:
        allowed.append(None)
    return allowed


def verify_remote(ledger: Ledger, stored: dict[str, Stored]) -> tuple[list[str], Counter[str]]:
    """Failures (one line per key) and counts of how keys ended."""
    failures: list[str] = []
    counts: Counter[str] = Counter()
    by_key = ledger.by_key()
    for key in sorted(set(by_key) | set(stored)):
        found = stored.get(key)
        if key not in by_key:
            failures.append(f"{key}: on the remote, but no writer ever wrote it")
            continue
        history = by_key[key]
        allowed = candidates(history)
        counts["keys"] += 1
        counts["exact" if len(allowed) == 1 else "with unknown outcomes"] += 1
        last = next((c for c in reversed(history) if c.outcome == "acked"), None)
        expected = (
            "; ".join("initial (absent)" if c is None else c.describe() for c in allowed)
            or "(nothing)"
        )
        if found is None:
            if any(c is None or c.version is None for c in allowed):
                counts["absent"] += 1
            else:
                failures.append(f"{key}: absent on the remote; expected one of: {expected}")
            continue
        if not any(v.matches(found) for v in ledger.versions[key]):
            failures.append(
                f"{key}: the remote holds {found.size} B etag {found.etag} {found.content_type} "
                f"{found.metadata}, which no writer ever sent (half-written?); expected one of: "
                f"{expected}"
            )
            continue
        if any(
            c is not None and c.version is not None and c.version.matches(found) for c in allowed
        ):
            counts["present"] += 1
            if last is not None and last.version is not None and last.version.matches(found):
                counts["last acknowledged"] += 1
            continue
        held = [c.describe() for c in history if c.version is not None and c.version.matches(found)]
        failures.append(
            f"{key}: the remote holds the state of {held or 'a multipart upload never completed'}"
            f"; expected one of: {expected}"
        )
    return failures, counts


# --- The writers ---------------------------------------------------------------------------


class _Uncertain:
    """A key's state after a change of unknown outcome."""


UNCERTAIN = _Uncertain()
OPS = (
    ("put", 40),
    ("put_shared", 14),
    ("multipart", 13),
    ("copy", 8),
    ("delete", 8),
    ("delete_many", 4),
    ("delete_shared", 3),
)


@dataclass(slots=True)
class Outcome:
    kind: str
    answer: Any = None
    detail: str = ""


class Writer(threading.Thread):
    """Loops over random changes of its own keys and the shared keys until told to stop."""

    def __init__(
        self, index: int, crasher: Crasher, ledger: Ledger, bucket: str, rng: random.Random
    ) -> None:
        super().__init__(name=f"crash-writer-{index}", daemon=True)
        self.index = index
        self.crasher = crasher
        self.ledger = ledger
        self.bucket = bucket
        self.rng = rng
        self.keys = [f"w{index}/k{i}" for i in range(OWN_KEYS)]
        self.known: dict[str, Version | _Uncertain | None] = dict.fromkeys(self.keys)
        self.unsettled: list[tuple[Change, str]] = []
        self.error: BaseException | None = None
        self.done: Counter[str] = Counter()
        self._serial = 0
        self._s3: Any = None
        self._epoch = -1

    def run(self) -> None:
        try:
            while not self.crasher.stopping.is_set():
                if self.crasher.wait_up(1.0):
                    self._settle_completions()
                    self._one()
            for _ in range(10):
                if not self.unsettled or not self.crasher.wait_up(60.0):
                    break
                self._settle_completions()
        except BaseException as exc:  # reported by the test
            self.error = exc

    # -- requests ---------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._s3 is None or self._epoch != self.crasher.epoch:
            self._epoch = self.crasher.epoch
            self._s3 = self.crasher.client()
            events = self._s3.meta.events
            events.register(
                "before-send.s3.CompleteMultipartUpload", self.crasher.completion_sent_hook
            )
            for operation in ACKNOWLEDGED:
                events.register(f"after-call.s3.{operation}", self.crasher.answered_hook)
        return self._s3

    def _try(self, call: Callable[[Any], Any]) -> Outcome:
        try:
            return Outcome("acked", call(self._client()))
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return Outcome(
                "refused" if 400 <= status < 500 else "unknown", None, code or str(status)
            )
        except EndpointConnectionError:
            return Outcome("unsent", None, "connection refused")  # the daemon was down
        except BotoCoreError as exc:
            return Outcome("unknown", None, type(exc).__name__)

    def _change(self, changes: list[Change], call: Callable[[Any], Any]) -> Outcome:
        outcome = self._try(call)
        # A request that never reached the daemon is as sure to have changed nothing as a
        # refused one.
        kind = "refused" if outcome.kind == "unsent" else outcome.kind
        self.ledger.finish(changes, kind, outcome.detail)
        for change in changes:
            if change.key in self.known:
                if outcome.kind == "acked":
                    self.known[change.key] = change.version
                elif outcome.kind == "unknown":
                    self.known[change.key] = UNCERTAIN
        return outcome

    def _begin(self, key: str, op: str, version: Version | None) -> Change:
        return self.ledger.begin(key, op, version, self.index, self.crasher.epoch)

    def _check_etag(self, what: str, answered: str, expected: str) -> None:
        if answered != f'"{expected}"':
            self.ledger.anomaly(f"{what}: answered ETag {answered}, expected {expected}")

    # -- the workload -----------------------------------------------------------------------

    def _one(self) -> None:
        op = self.rng.choices([name for name, _ in OPS], [weight for _, weight in OPS])[0]
        shared = f"shared/s{self.rng.randrange(SHARED_KEYS)}"
        own = self.rng.choice(self.keys)
        if op in ("put", "multipart", "copy") and self.rng.random() < FRESH:
            self._serial += 1
            own = f"w{self.index}/fresh/{self._serial}"
        touched = [own]
        if op == "put_shared":
            self._put(shared, shared=True)
        elif op == "delete_shared":
            self._remove([shared])
        elif op == "delete":
            self._remove([own])
        elif op == "delete_many":
            touched = self.rng.sample(self.keys, 2)
            self._remove(touched)
        elif op == "multipart":
            self._multipart(own)
        elif op == "copy":
            self._copy(own)
        else:
            self._put(own, shared=False)
        self.done[op] += 1
        if not op.endswith("_shared"):
            for key in touched:
                self._read_back(key)

    def _read_back(self, key: str) -> None:
        """Read your writes: a key only this writer changes answers, right after, the state
        last acknowledged for it — across kills too, since what was acknowledged is durable.
        A read that fails (the daemon is down, or answers 5xx) proves nothing either way."""
        expected = self.known.get(key, UNCERTAIN)
        if isinstance(expected, _Uncertain):
            return
        try:
            etag: str | None = self._client().head_object(Bucket=self.bucket, Key=key)["ETag"]
        except ClientError as exc:
            if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) != 404:
                return
            etag = None
        except BotoCoreError:
            return
        self.done["read_back"] += 1
        wanted = None if expected is None else f'"{expected.etag}"'
        if etag != wanted:
            self.ledger.anomaly(f"read your writes: HEAD {key} answered {etag}, not {wanted}")

    def _size(self, shared: bool) -> int:
        roll = self.rng.random()
        if roll < 0.05:
            return 0
        if roll < 0.30:
            return self.rng.randrange(1, 4 * KiB)
        if roll < 0.55 or shared:
            return self.rng.randrange(4 * KiB, 256 * KiB)
        if roll < 0.80:
            return self.rng.randrange(256 * KiB, 2 * MiB)
        return self.rng.randrange(2 * MiB, 7 * MiB)

    def _description(self) -> tuple[str | None, dict[str, str]]:
        self._serial += 1
        if self.rng.random() < 0.5:
            return None, {}
        meta = {"writer": str(self.index), "serial": str(self._serial)}
        return self.rng.choice(CONTENT_TYPES), meta

    @staticmethod
    def _described(content_type: str | None, metadata: dict[str, str]) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": metadata} if metadata else {}
        if content_type is not None:
            extra["ContentType"] = content_type
        return extra

    def _put(self, key: str, *, shared: bool) -> None:
        body = self.rng.randbytes(self._size(shared))
        content_type, metadata = self._description()
        version = Version.of([body], content_type, metadata, client_parts=False)
        extra = self._described(content_type, metadata)
        change = self._begin(key, "put", version)
        outcome = self._change(
            [change],
            lambda s3: s3.put_object(Bucket=self.bucket, Key=key, Body=body, **extra),
        )
        if outcome.kind == "acked":
            self._check_etag(f"PUT {key}", outcome.answer["ETag"], version.etag)

    def _remove(self, keys: list[str]) -> None:
        changes = [self._begin(key, "delete", None) for key in keys]
        if len(keys) == 1:
            self._change(changes, lambda s3: s3.delete_object(Bucket=self.bucket, Key=keys[0]))
            return
        objects = {"Objects": [{"Key": key} for key in keys], "Quiet": True}
        outcome = self._change(
            changes, lambda s3: s3.delete_objects(Bucket=self.bucket, Delete=objects)
        )
        if outcome.kind == "acked" and outcome.answer.get("Errors"):
            self.ledger.anomaly(f"DeleteObjects {keys}: {outcome.answer['Errors']}")

    def _copy(self, target: str) -> None:
        sources = [k for k in self.keys if k != target and isinstance(self.known[k], Version)]
        if not sources:
            self._put(target, shared=False)
            return
        source = self.rng.choice(sources)
        known = self.known[source]
        assert isinstance(known, Version)
        version = known.copied()
        change = self._begin(target, "copy", version)
        outcome = self._change(
            [change],
            lambda s3: s3.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            ),
        )
        if outcome.kind == "acked":
            answered = outcome.answer["CopyObjectResult"]["ETag"]
            self._check_etag(f"COPY {source} to {target}", answered, version.etag)

    def _multipart(self, key: str) -> None:
        count = self.rng.choice((2, 3))
        sizes = [PART + self.rng.randrange(0, 64 * KiB) for _ in range(count - 1)]
        bodies = [self.rng.randbytes(size) for size in (*sizes, self.rng.randrange(1, 2 * MiB))]
        content_type, metadata = self._description()
        version = Version.of(bodies, content_type, metadata, client_parts=True)
        self.ledger.attempt(key, version)  # from now on its parts may legitimately be sent
        upload_id = self._create(key, self._described(content_type, metadata))
        if upload_id is None:
            return
        etags = []
        for number, body in enumerate(bodies, start=1):
            etag = self._part(key, upload_id, number, body)
            if etag is None:
                return  # left open: the final clean-up aborts it
            etags.append(etag)
        layout = {"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]}
        for _ in range(3):
            change = self._begin(key, "multipart", version)
            outcome = self._change(
                [change],
                lambda s3: s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload=layout
                ),
            )
            if outcome.kind != "unsent":
                break
            if not self.crasher.wait_up(60.0) or self.crasher.stopping.is_set():
                return  # left open: the final clean-up aborts it
        if outcome.kind == "acked":
            self._check_etag(f"CompleteMultipartUpload {key}", outcome.answer["ETag"], version.etag)
        elif outcome.kind == "unknown":
            self.unsettled.append((change, upload_id))
        elif outcome.kind == "refused":
            self.ledger.anomaly(
                f"{key}: completion refused ({outcome.detail}), parts all acknowledged"
            )

    def _create(self, key: str, extra: dict[str, Any]) -> str | None:
        for _ in range(3):
            outcome = self._try(
                lambda s3: s3.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)
            )
            if outcome.kind == "acked":
                return str(outcome.answer["UploadId"])
            if outcome.kind == "refused":
                self.ledger.anomaly(f"{key}: CreateMultipartUpload refused: {outcome.detail}")
                return None
            self.ledger.failed(f"CreateMultipartUpload: {outcome.detail}")
            # Unknown: after the restart, a new upload (one created here is aborted at the end).
            if not self.crasher.wait_up(60.0) or self.crasher.stopping.is_set():
                return None
        return None

    def _part(self, key: str, upload_id: str, number: int, body: bytes) -> str | None:
        for _ in range(3):
            outcome = self._try(
                lambda s3: s3.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
                )
            )
            if outcome.kind == "acked":
                etag = str(outcome.answer["ETag"])
                self._check_etag(f"UploadPart {key} #{number}", etag, _md5(body))
                return etag
            if outcome.kind == "refused":
                # The upload was acknowledged (created) before: it must have survived.
                self.ledger.anomaly(f"{key}: UploadPart #{number} refused: {outcome.detail}")
                return None
            self.ledger.failed(f"UploadPart: {outcome.detail}")
            if not self.crasher.wait_up(60.0) or self.crasher.stopping.is_set():
                return None  # the same part is sent again after the restart, below
        return None

    def _settle_completions(self) -> None:
        """Abort the upload of each completion of unknown outcome: NoSuchUpload means the
        completion was committed, a successful abort that it was not."""
        for change, upload_id in list(self.unsettled):
            outcome = self._try(self._abort(change.key, upload_id))
            if outcome.kind in ("unknown", "unsent"):
                return  # killed again: try after the next restart
            if outcome.kind == "acked":
                self.ledger.settle(change, "refused", "not committed (its upload was still open)")
            elif outcome.detail == "NoSuchUpload":
                self.ledger.settle(change, "acked", "committed (its upload was gone)")
            else:
                self.ledger.anomaly(f"{change.key}: abort of {upload_id}: {outcome.detail}")
            self.unsettled.remove((change, upload_id))

    def _abort(self, key: str, upload_id: str) -> Callable[[Any], Any]:
        return lambda s3: s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)


# --- The daemon, killed and restarted ------------------------------------------------------


@dataclass(slots=True)
class Kill:
    number: int
    aimed: str
    epoch: int
    staged: list[tuple[str, int]]
    """Bodies the dead daemon left in its staging directory: (name, bytes)."""
    uploading: int | None
    """Uploads ``/_s3d/status`` showed running just before the kill (None: not asked)."""
    queue: int | None
    completions: int = 0
    """CompleteMultipartUploads sent to it that never got an answer."""
    just_acknowledged: str = ""
    """The operation whose acknowledgement the kill followed at once, if it was aimed so."""

    def kinds(self) -> set[str]:
        found = set()
        if self.just_acknowledged:
            found.add("acknowledgement")
        if self.staged:
            found.add("staging")
        if self.uploading:
            found.add("uploads")
        if self.completions:
            found.add("completion")
        return found


class Crasher:
    """Starts ``s3d serve``, kills it with SIGKILL at aimed moments and restarts it."""

    def __init__(self, config: Path, data_dir: Path, endpoint: str) -> None:
        self.config = config
        self.staging = data_dir / "staging"
        self.files = data_dir / "journal" / "files"
        self.endpoint = endpoint
        self.up = threading.Event()
        self.stopping = threading.Event()
        self.epoch = 0
        self.kills: list[Kill] = []
        self.restarts: list[float] = []
        self.process: DaemonProcess | None = None
        self.logs: list[str] = []
        self._completion_sent = threading.Event()
        self._kill_on_answer = threading.Lock()
        self._armed = False
        self._fired = threading.Event()
        self._fired_after = ""
        self._clients = threading.Lock()

    def client(self) -> Any:
        """boto3 against s3d that never retries: ``client``'s ``max_attempts=1`` allows one
        retry (botocore counts retries there), which would resend a request a kill cut to
        the restarted daemon and hide that its outcome was unknown."""
        config = Config(
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        )
        with self._clients:  # creating boto3 clients is not thread-safe
            return boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                region_name="us-east-1",
                config=config,
            )

    def wait_up(self, seconds: float) -> bool:
        return self.up.wait(seconds)

    def completion_sent_hook(self, **_: Any) -> None:
        self._completion_sent.set()

    def answered_hook(self, http_response: Any, model: Any, **_: Any) -> None:
        """In the writer's thread, as soon as a 2xx answer is parsed: when armed, the kill
        comes now, before the writer even records the acknowledgement."""
        if not self._armed or http_response.status_code >= 300:
            return
        with self._kill_on_answer:
            if self._armed and self.process is not None:
                os.kill(self.process.pid, signal.SIGKILL)
                self._armed, self._fired_after = False, str(model.name)
                self._fired.set()

    def start(self) -> None:
        began = time.monotonic()
        process = DaemonProcess(["--config", str(self.config)])
        process.__enter__()
        self.process = process
        self.restarts.append(time.monotonic() - began)
        assert process.endpoint_url == self.endpoint, process.stdout
        # Nothing in staging outlives a daemon: its bodies were never acknowledged.
        assert list(self.staging.iterdir()) == [], "staging not emptied at start"
        self.up.set()

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        assert self.process is not None
        self.up.clear()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(120)
        self.logs.append(self.process.stderr)
        return code

    def close(self) -> None:
        self.up.clear()
        if self.process is not None:
            self.process.kill()

    def status(self) -> dict[str, Any]:
        url, headers = sign("GET", f"{self.endpoint}/_s3d/status")
        code, _, body = send("GET", url, headers)
        assert code == 200, body
        journal: dict[str, Any] = json.loads(body)["journal"]
        return journal

    def kill(self, aimed: str, status: dict[str, Any] | None = None) -> Kill:
        assert self.process is not None
        self.up.clear()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(60)
        staged = [(p.name, p.stat().st_size) for p in self.staging.iterdir()]
        uploading = None if status is None else int(status["uploading"])
        queue = None if status is None else int(status["queue"])
        kill = Kill(len(self.kills) + 1, aimed, self.epoch, staged, uploading, queue)
        self.kills.append(kill)
        self.logs.append(self.process.stderr)
        self.epoch += 1
        return kill

    def campaign(self, rng: random.Random, ledger: Ledger) -> None:
        """Kill and restart until there are MIN_KILLS kills and each kind has been hit twice
        (or KILL_PHASE passed, or MAX_KILLS)."""
        began = time.monotonic()
        while len(self.kills) < MAX_KILLS:
            counts = kind_counts(self.kills, ledger)
            short = [kind for kind in KINDS if counts[kind] < 2]
            if len(self.kills) >= MIN_KILLS and (
                not short or time.monotonic() - began > KILL_PHASE
            ):
                break
            time.sleep(rng.uniform(0.3, 1.2))  # the writers get going again
            if len(self.kills) < MIN_KILLS or not short:
                aim = AIMS[len(self.kills) % len(AIMS)]
            else:
                aim = short[0]
            self._aimed_kill(aim, rng)
            self.start()

    def _aimed_kill(self, aim: str, rng: random.Random) -> Kill:
        deadline = time.monotonic() + 10.0
        if aim == "staging":
            # A body being received (or verified, awaiting adoption) sits in staging.
            while time.monotonic() < deadline and not self._staging_busy():
                time.sleep(0.001)
            return self.kill(aim)
        if aim == "uploads":
            status = self.status()
            while time.monotonic() < deadline and not status["uploading"]:
                time.sleep(0.01)
                status = self.status()
            return self.kill(aim, status)
        if aim == "acknowledgement":
            self._fired.clear()
            with self._kill_on_answer:
                self._armed = True
            self._fired.wait(10.0)
            with self._kill_on_answer:
                self._armed = False
            kill = self.kill(aim)
            kill.just_acknowledged = self._fired_after if self._fired.is_set() else ""
            return kill
        if aim == "completion":
            self._completion_sent.clear()
            if self._completion_sent.wait(20.0):
                time.sleep(rng.uniform(0.0, 0.03))
            return self.kill(aim)
        time.sleep(rng.uniform(0.0, 1.5))
        return self.kill(aim, self.status())

    def _staging_busy(self) -> bool:
        for path in self.staging.iterdir():
            try:
                if path.stat().st_size > 0:
                    return True
            except FileNotFoundError:
                continue  # adopted (or abandoned) as we looked
        return False


def kind_counts(kills: list[Kill], ledger: Ledger) -> Counter[str]:
    """How many kills hit each kind of moment, from evidence (see ``Kill``)."""
    unanswered: Counter[int] = Counter(
        c.epoch
        for c in list(ledger.changes)
        if c.op == "multipart" and c.first_outcome == "unknown"
    )
    counts: Counter[str] = Counter()
    for kill in kills:
        kill.completions = unanswered[kill.epoch]
        counts.update(kill.kinds())
    return counts


# --- What reached the remote ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """A write the relay passed to the remote."""

    method: str
    key: str
    query: frozenset[str]
    md5: str
    size: int
    etags: tuple[str, ...]
    """The part ETags a CompleteMultipartUpload named."""


class RemoteWrites(threading.Thread):
    """Takes the relay's record of writes as they come (so bodies are not all kept)."""

    def __init__(self, relay: CountingRelay, bucket: str) -> None:
        super().__init__(name="crash-remote-writes", daemon=True)
        self.relay = relay
        self.bucket = bucket
        self.sent: list[Sent] = []
        self._finished = threading.Event()

    def run(self) -> None:
        while not self._finished.wait(0.05):
            self.take()

    def finish(self) -> list[Sent]:
        self._finished.set()
        self.join(30)
        self.take()
        return self.sent

    def take(self) -> None:
        count = len(self.relay.writes)
        batch = self.relay.writes[:count]
        del self.relay.writes[:count]  # the relay only appends
        for method, path_qs, data in batch:
            split = urllib.parse.urlsplit(path_qs)
            bucket, _, key = urllib.parse.unquote(split.path).lstrip("/").partition("/")
            if bucket != self.bucket or not key:
                continue
            query = frozenset(urllib.parse.parse_qs(split.query, keep_blank_values=True))
            etags: tuple[str, ...] = ()
            if method == "POST" and "uploadId" in query:
                text = data.decode("utf-8", "replace").replace("&quot;", "")
                etags = tuple(e.strip('"') for e in re.findall(r"<ETag>(.*?)</ETag>", text))
            self.sent.append(Sent(method, key, query, _md5(data), len(data), etags))


def audit_remote_writes(sent: list[Sent], ledger: Ledger) -> list[str]:
    """Every body sent belongs to a version attempted for its key, and none to a version
    that was never acknowledged nor of unknown outcome (refused, abandoned, settled as not
    committed)."""
    failures = []
    live: defaultdict[str, set[str]] = defaultdict(set)
    for change in ledger.changes:
        if change.version is not None and change.outcome in ("acked", "unknown"):
            live[change.key] |= change.version.pieces
    for item in sent:
        versions = ledger.versions.get(item.key, [])
        attempted = {piece for v in versions for piece in v.pieces}
        dead = attempted - live[item.key] - {_md5(b"")}
        if item.method == "PUT" and "partNumber" not in item.query:
            if not any(v.md5 == item.md5 and v.size == item.size for v in versions):
                failures.append(f"PUT {item.key}: {item.size} B that no version of the key has")
            elif item.md5 in dead:
                failures.append(f"PUT {item.key}: {item.size} B of a version never acknowledged")
        elif item.method == "PUT":
            if item.md5 not in attempted:
                failures.append(f"UploadPart {item.key}: {item.size} B that are no part sent")
            elif item.md5 in dead:
                failures.append(f"UploadPart {item.key}: a part of a version never acknowledged")
        elif item.etags and not set(item.etags) <= attempted:
            failures.append(f"CompleteMultipartUpload {item.key}: unknown parts {item.etags}")
        elif item.etags and set(item.etags) & dead:
            failures.append(f"CompleteMultipartUpload {item.key}: a version never acknowledged")
    return failures


def remote_objects(remote: Any, bucket: str) -> dict[str, Stored]:
    stored = {}
    for page in remote.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            got = remote.get_object(Bucket=bucket, Key=entry["Key"])
            body = got["Body"].read()
            stored[entry["Key"]] = Stored(
                len(body),
                hashlib.sha256(body).hexdigest(),
                got["ETag"].strip('"'),
                got["ContentType"],
                tuple(sorted(got["Metadata"].items())),
            )
    return stored


# --- The test ------------------------------------------------------------------------------


def crash_config(tmp_path: Path, remote_url: str, port: int) -> Path:
    return write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": {
                "port": port,
                "access_keys": [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}],
                "shutdown_grace": 10.0,
            },
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": REMOTE_KEY,
                "secret_access_key": REMOTE_SECRET,
                "connect_timeout": 2.0,
                "read_timeout": 60.0,
                "max_attempts": 1,
            },
            "journal": {
                "mode": "write-back",
                "multipart_threshold": PART,
                "part_size": PART,
                "upload_concurrency": 4,
                "retry_base": 0.2,
                "retry_max": 1.0,
                "flush_on_stop": 5.0,
            },
            "log": {"level": "warning"},
        },
    )


def drained(crasher: Crasher, seconds: float = 120.0) -> dict[str, Any]:
    """The journal's status once nothing waits for upload, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    status = crasher.status()
    while (
        status["queue"] or status["uploading"] or status["remote_uploads_to_abort"]
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
        status = crasher.status()
    return status


def abort_open_uploads(crasher: Crasher, bucket: str) -> int:
    """Abort, through s3d, the local uploads kills left open (their creation's answer was
    lost, so no writer knows them): their parts leave the journal. How many."""
    s3 = crasher.client()
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            if upload["UploadId"].startswith("s3d-"):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted += 1
    return aborted


def remote_uploads(remote: Any, bucket: str) -> int:
    """Multipart uploads left open on the remote (by daemons killed while uploading)."""
    pages = remote.get_paginator("list_multipart_uploads").paginate(Bucket=bucket)
    return sum(len(page.get("Uploads", [])) for page in pages)


MIN_ACKED = 100
"""Acknowledged changes the audit wants at least (the writers go on until there are more)."""


def acked_count(ledger: Ledger) -> int:
    return sum(1 for c in list(ledger.changes) if c.first_outcome == "acked")


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_change(remote_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    remote = client(remote_url, key=REMOTE_KEY, secret=REMOTE_SECRET)
    bucket = f"crash-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=bucket)
    ledger = Ledger()
    with CountingRelay(remote_url, delay=RELAY_DELAY) as relay:
        port = free_port()
        crasher = Crasher(
            crash_config(tmp_path, relay.url, port), tmp_path / "data", f"http://127.0.0.1:{port}"
        )
        writers = [
            Writer(i, crasher, ledger, bucket, random.Random(f"{SEED}/{i}")) for i in range(WRITERS)
        ]
        watcher = RemoteWrites(relay, bucket)
        try:
            crasher.start()
            watcher.start()
            for writer in writers:
                writer.start()
            crasher.campaign(random.Random(SEED), ledger)
            # On a loaded machine the kill phase can end before enough writes were
            # acknowledged to make the audit worth much: keep writing, no more kills, until then.
            enough = time.monotonic() + 120
            while acked_count(ledger) <= MIN_ACKED and time.monotonic() < enough:
                time.sleep(0.5)
            crasher.stopping.set()
            for writer in writers:
                writer.join(300)
                assert not writer.is_alive(), f"{writer.name} did not stop"
                assert writer.error is None, f"{writer.name} failed: {writer.error!r}"
            # One more kill with whatever is pending, then the restart that drains it all.
            crasher.kill("final", crasher.status())
            crasher.start()
            aborted = abort_open_uploads(crasher, bucket)
            status = drained(crasher)
            dangling = remote_uploads(remote, bucket)
            journal_files = sorted(p.name for p in crasher.files.iterdir())
            staged = sorted(p.name for p in crasher.staging.iterdir())
            sent = watcher.finish()
            stored = remote_objects(remote, bucket)
            assert crasher.stop() == 0, crasher.logs[-1]
        finally:
            crasher.stopping.set()
            crasher.close()
    counts = kind_counts(crasher.kills, ledger)
    failures, ending = verify_remote(ledger, stored)
    outcomes = Counter(c.first_outcome for c in ledger.changes)
    settled = Counter(c.settled for c in ledger.changes if c.settled)
    ops: Counter[str] = sum((w.done for w in writers), Counter())
    errors = [line for log in crasher.logs for line in log.splitlines() if " ERROR " in line]
    report = "\n".join(
        [
            f"kill -9: {len(crasher.kills)} kills; hit "
            + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS)
            + f"; aimed: {dict(Counter(k.aimed for k in crasher.kills))}",
            "per kill (aimed: evidence): "
            + ", ".join(f"{k.aimed}:{'+'.join(sorted(k.kinds())) or '-'}" for k in crasher.kills),
            f"changes: {len(ledger.changes)} {dict(outcomes)}; unknown completions settled: "
            f"{dict(settled)}; operations: {dict(ops)}",
            f"request failures: {dict(ledger.errors)}",
            f"remote: {len(sent)} writes seen; keys {dict(ending)}; local uploads aborted at the "
            f"end: {aborted}; uploads left open on the remote by killed daemons: {dangling}",
            f"daemon log errors: {len(errors)} {errors[:3]}",
            f"restarts: {len(crasher.restarts)}, {min(crasher.restarts):.2f}-"
            f"{max(crasher.restarts):.2f} s; whole test {time.monotonic() - began:.0f} s",
        ]
    )
    print(report)
    problems = [*ledger.anomalies, *failures, *audit_remote_writes(sent, ledger)]
    if status["queue"] or status["uploading"] or status["remote_uploads_to_abort"]:
        problems.append(f"the journal did not drain: {status}")
    if status["dead_letters"] or status["uploads_in_progress"]:
        problems.append(f"dead letters or local uploads left: {status}")
    if journal_files:
        problems.append(f"journal files left after draining: {journal_files}")
    if staged:
        problems.append(f"staging not empty after draining: {staged}")
    assert problems == [], "\n".join([report, *problems])
    assert len(crasher.kills) >= 20, report
    for kind in KINDS:
        assert counts[kind] > 0, f"no kill hit {kind}\n{report}"
    assert outcomes["acked"] > MIN_ACKED, report
    assert outcomes["unknown"] > 0, report
