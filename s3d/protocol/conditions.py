"""Conditional request headers (If-Match, If-None-Match, If-Modified-Since,
If-Unmodified-Since) and their evaluation against an object's ETag and Last-Modified.

Evaluation follows RFC 9110 section 13.2.2 as S3 applies it: If-Match decides before
If-Unmodified-Since (which is then ignored), If-None-Match before If-Modified-Since. Reads
answer 304 where writes answer 412. A date that does not parse is ignored, as S3 does; dates
are compared to the second, Last-Modified's precision. If-Match compares ETags strongly (a
weak ``W/"…"`` never matches), If-None-Match weakly (``W/"x"`` matches ``"x"``), as RFC 9110
section 8.8.3.2 has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from s3d.protocol.errors import NotModified, PreconditionFailed


def _etags(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip().strip('"') for part in value.split(",") if part.strip())


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

    def _check(self, etag: str, last_modified: datetime, copy_prefix: str) -> None:
        bare = etag.strip().strip('"')
        lm = last_modified.replace(microsecond=0)
        if self.if_match is not None:
            if "*" not in self.if_match and bare not in self.if_match:
                raise PreconditionFailed(Condition=copy_prefix + "If-Match")
        elif self.if_unmodified_since is not None and lm > self.if_unmodified_since:
            raise PreconditionFailed(Condition=copy_prefix + "If-Unmodified-Since")
        failed = None
        if self.if_none_match is not None:
            weak = {tag.removeprefix("W/").strip('"') for tag in self.if_none_match}
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
