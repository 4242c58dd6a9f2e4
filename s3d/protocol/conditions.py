"""Conditional request headers (If-Match, If-None-Match, If-Modified-Since,
If-Unmodified-Since) and their evaluation against an object's ETag and Last-Modified.

Evaluation follows RFC 9110 section 13.2.2 as S3 applies it: If-Match decides before
If-Unmodified-Since (which is then ignored), If-None-Match before If-Modified-Since. Reads
answer 304 where writes answer 412. A date that does not parse is ignored, as S3 does; dates
are compared to the second, Last-Modified's precision. If-Match compares ETags strongly (a
weak ``W/"…"`` never matches), If-None-Match weakly (``W/"x"`` matches ``"x"``), as RFC 9110
section 8.8.3.2 has it.

Writes (PutObject, CompleteMultipartUpload) take If-Match and If-None-Match only, against the
key's current ETag (None when there is no object), as S3's conditional writes do: If-None-Match
accepts nothing but ``*`` (any other value is 501 NotImplemented) and fails when the key exists;
If-Match needs the key to exist (404 NoSuchKey otherwise) and its ETag to match strongly or be
``*`` (a weak ``W/"…"`` never matches: 412).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from s3d.protocol.errors import NoSuchKey, NotImplemented_, NotModified, PreconditionFailed
from s3d.protocol.model import bare_etag


def _etags(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(bare_etag(part) for part in value.split(",") if part.strip())


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # asctime() dates carry no zone and RFC 2822's "-0000" parses naive: HTTP dates are GMT.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@dataclass(frozen=True, slots=True)
class Conditions:
    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    @classmethod
    def from_values(
        cls,
        if_match: str | None,
        if_none_match: str | None,
        if_modified_since: str | None,
        if_unmodified_since: str | None,
    ) -> Conditions:
        return cls(
            _etags(if_match),
            _etags(if_none_match),
            parse_http_date(if_modified_since),
            parse_http_date(if_unmodified_since),
        )

    @property
    def empty(self) -> bool:
        return self == NO_CONDITIONS

    def check_read(self, etag: str, last_modified: datetime) -> None:
        """Raise PreconditionFailed (412) or NotModified (304) as S3 answers a GET or HEAD."""
        self._check(etag, last_modified, "")

    def check_copy_source(self, etag: str, last_modified: datetime) -> None:
        """The x-amz-copy-source-if-* headers: every failure is 412 PreconditionFailed, its
        Condition naming the header that failed."""
        self._check(etag, last_modified, "x-amz-copy-source-")

    @property
    def guards_write(self) -> bool:
        """Whether a write must learn the key's current ETag and ``check_write`` it."""
        return self.if_match is not None or self.if_none_match is not None

    def check_write_supported(self) -> None:
        """Raise NotImplemented_ (501) as S3 does for a conditional write it cannot evaluate:
        an If-None-Match other than ``*`` (checked before a write goes to a remote that might
        ignore it and write)."""
        if self.if_none_match is not None and self.if_none_match != ("*",):
            raise NotImplemented_(Header="If-None-Match")

    def check_write(self, current_etag: str | None, key: str) -> None:
        """Raise as S3 answers a conditional PutObject or CompleteMultipartUpload on ``key``,
        whose current ETag is ``current_etag`` (None: no object): NotImplemented_ (501) for an
        If-None-Match other than ``*``, PreconditionFailed (412), NoSuchKey (404)."""
        self.check_write_supported()
        if self.if_none_match is not None and current_etag is not None:
            raise PreconditionFailed(Condition="If-None-Match")
        if self.if_match is not None:
            if current_etag is None:
                raise NoSuchKey(Key=key)
            if "*" not in self.if_match and bare_etag(current_etag) not in self.if_match:
                # Strong comparison: a weak tag (kept as 'W/"…', its prefix unstripped) is
                # never equal to a bare ETag.
                raise PreconditionFailed(Condition="If-Match")

    def _check(self, etag: str, last_modified: datetime, copy_prefix: str) -> None:
        bare = bare_etag(etag)
        lm = last_modified.replace(microsecond=0)
        if self.if_match is not None:
            if "*" not in self.if_match and bare not in self.if_match:
                raise PreconditionFailed(Condition=copy_prefix + "If-Match")
        elif self.if_unmodified_since is not None and lm > self.if_unmodified_since:
            raise PreconditionFailed(Condition=copy_prefix + "If-Unmodified-Since")
        failed = None
        if self.if_none_match is not None:
            weak = {bare_etag(tag.removeprefix("W/")) for tag in self.if_none_match}
            if "*" in weak or bare in weak:
                failed = "If-None-Match"
        elif self.if_modified_since is not None and lm <= self.if_modified_since:
            failed = "If-Modified-Since"
        if failed is not None:
            if copy_prefix:
                raise PreconditionFailed(Condition=copy_prefix + failed)
            raise NotModified()


NO_CONDITIONS = Conditions()
"""The frozen empty value, for defaults."""
