"""The ``drs.index`` file: a catalogue of DRS objects as JSON Lines (docs/drs-index.md).

A file is a header line, one line per DRS object, and a trailer line giving the number of
records and the SHA-256 of every byte before the trailer (header and records, newlines
included). It may be gzip-compressed as a whole. ``write_index`` produces one from records;
``read_index`` yields the records of one while checking it, in bounded memory (one line at a
time), and raises ``IndexFormatError`` naming the source and line of the first fault: not JSON,
a missing or misplaced header or trailer, a major format version it does not know, a record
missing a required field, a count or hash that does not match (a truncated or altered file).
Newer minor versions are read; fields it does not know are ignored.

Pure: streams in, streams out; no SQLite, no network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn, cast

import orjson

FORMAT = "drs.index"
FORMAT_VERSION = (1, 0)
DRS_VERSION = "1.4.0"
ID_SCHEME = "git-drs-uuid5"
"""``uuid5(NAMESPACE_DNS, "<project>:<sha256>")``: git-drs's ids, the default."""
_GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE = 1 << 20
"""Longest line read (bytes): a record is far smaller; a longer line is refused, not buffered."""


def drs_id(project: str, sha256: str) -> str:
    """The id of an object's bytes under the git-drs scheme."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{project}:{sha256.lower()}"))


class IndexFormatError(ValueError):
    """A drs.index that cannot be read; ``str`` names the source and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        where = f"{source} line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Header:
    format_version: str
    drs_version: str
    generator: str
    generated: str
    """RFC 3339, UTC."""
    source_bucket: str
    id_scheme: str
    project: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "header",
            "format": FORMAT,
            "format_version": self.format_version,
            "drs_version": self.drs_version,
            "generator": self.generator,
            "generated": self.generated,
            "source_bucket": self.source_bucket,
            "id_scheme": {"name": self.id_scheme, "project": self.project},
        }


@dataclass(frozen=True, slots=True)
class AccessMethod:
    access_id: str
    bucket: str
    key: str
    region: str = ""
    available: bool = True
    etag: str = ""
    """The object's ETag when this method was recorded: s3d checks it before handing out a
    URL, so that an id never resolves to bytes written later under the same key."""

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": "s3",
            "access_id": self.access_id,
            "access_url": {"url": self.url},
        }
        if self.region:
            document["region"] = self.region
        if not self.available:
            document["available"] = False
        if self.etag:
            document["etag"] = self.etag
        return document


@dataclass(frozen=True, slots=True)
class DrsRecord:
    """One DRS object as the file carries it (DRS v1.4 field names)."""

    id: str
    size: int
    created_time: str
    checksums: tuple[tuple[str, str], ...]
    """(type, checksum) pairs, e.g. ("sha256", "ab12…")."""
    access_methods: tuple[AccessMethod, ...] = ()
    updated_time: str = ""
    name: str = ""
    version: str = ""
    mime_type: str = ""
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": "object",
            "id": self.id,
            "size": self.size,
            "created_time": self.created_time,
            "checksums": [{"type": t, "checksum": c} for t, c in self.checksums],
            "access_methods": [method.to_json() for method in self.access_methods],
        }
        optional = {
            "updated_time": self.updated_time,
            "name": self.name,
            "version": self.version,
            "mime_type": self.mime_type,
            "description": self.description,
        }
        document.update({name: value for name, value in optional.items() if value})
        if self.aliases:
            document["aliases"] = list(self.aliases)
        return document


def _line(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class IndexWriter:
    """A drs.index produced piece by piece: ``header`` first, ``records`` as often as needed,
    ``trailer`` last; each returns the bytes to append (compressed when ``gzip``)."""

    def __init__(self, *, compress: bool = False) -> None:
        self._digest = hashlib.sha256()
        self.count = 0
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if compress else None

    def _out(self, data: bytes, final: bool = False) -> bytes:
        if self._zip is None:
            return data
        return self._zip.compress(data) + (self._zip.flush() if final else b"")

    def header(self, header: Header) -> bytes:
        line = _line(header.to_json())
        self._digest.update(line)
        return self._out(line)

    def records(self, records: Iterable[DrsRecord]) -> bytes:
        lines = []
        for record in records:
            lines.append(_line(record.to_json()))
            self.count += 1
        data = b"".join(lines)
        self._digest.update(data)
        return self._out(data)

    def trailer(self) -> bytes:
        document = {"type": "trailer", "records": self.count, "sha256": self._digest.hexdigest()}
        return self._out(_line(document), final=True)


def write_index(out: IO[bytes], header: Header, records: Iterable[DrsRecord]) -> int:
    """Write a whole drs.index to ``out`` (wrap it in ``gzip.GzipFile`` to compress);
    return the number of records."""
    writer = IndexWriter()
    out.write(writer.header(header))
    for record in records:
        out.write(writer.records([record]))
    out.write(writer.trailer())
    return writer.count


def open_index(raw: IO[bytes]) -> IO[bytes]:
    """``raw`` itself, or a decompressing reader when it starts with gzip's magic bytes.
    ``raw`` must be buffered (``peek``) or seekable."""
    if hasattr(raw, "peek"):
        start = raw.peek(2)[:2]
    else:
        start = raw.read(2)
        raw.seek(0)
    if start == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


class IndexReader:
    """Iterate over the records of a drs.index; ``header`` is set once the first line has been
    read, ``count`` once the trailer checked out."""

    def __init__(self, stream: IO[bytes], source: str) -> None:
        self._stream = open_index(stream)
        self._source = source
        self.header: Header | None = None
        self.count: int | None = None

    def __iter__(self) -> Iterator[DrsRecord]:
        digest = hashlib.sha256()
        records = 0
        number = 0
        trailer: dict[str, Any] | None = None
        for number, line in enumerate(self._lines(), start=1):
            if trailer is not None:
                if line.strip():
                    self._fail(number, "a line after the trailer")
                continue
            document = self._parse(number, line)
            kind = document.get("type")
            if number == 1:
                if kind != "header":
                    self._fail(number, "the first line is not a drs.index header")
                self.header = self._header(number, document)
            elif kind == "trailer":
                trailer = document
                self._check_trailer(number, trailer, records, digest.hexdigest())
                continue
            elif kind == "object":
                record = self._record(number, document)
                records += 1
                digest.update(line)
                yield record
                continue
            elif kind == "header":
                self._fail(number, "a second header")
            # Lines of a type this version does not know are skipped, like unknown fields.
            digest.update(line)
        if number == 0:
            self._fail(None, "empty file: no drs.index header")
        if trailer is None:
            self._fail(
                number,
                f"truncated: no trailer after {records} records (the file was cut short)",
            )
        self.count = records

    def _lines(self) -> Iterator[bytes]:
        try:
            while True:
                line = self._stream.readline(MAX_LINE + 1)
                if not line:
                    return
                if len(line) > MAX_LINE:
                    raise IndexFormatError(self._source, None, f"a line over {MAX_LINE} bytes")
                yield line
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise IndexFormatError(self._source, None, f"cannot be read: {exc}") from exc

    def _fail(self, line: int | None, message: str) -> NoReturn:
        raise IndexFormatError(self._source, line, message)

    def _parse(self, number: int, line: bytes) -> dict[str, Any]:
        if not line.endswith(b"\n"):
            self._fail(number, "truncated: the last line is incomplete")
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            self._fail(number, f"not JSON ({exc})")
        if not isinstance(document, dict):
            self._fail(number, "not a JSON object")
        return document

    def _header(self, number: int, document: dict[str, Any]) -> Header:
        if document.get("format") != FORMAT:
            self._fail(number, f"format is {document.get('format')!r}, not {FORMAT!r}")
        version = str(document.get("format_version", ""))
        major, _, minor = version.partition(".")
        if not (major.isdigit() and minor.isdigit()):
            self._fail(number, f"format_version {version!r} is not MAJOR.MINOR")
        if int(major) != FORMAT_VERSION[0]:
            known = f"{FORMAT_VERSION[0]}.x"
            self._fail(
                number, f"format_version {version} is not supported (this s3d reads {known})"
            )
        scheme = document.get("id_scheme") or {}
        if not isinstance(scheme, dict):
            scheme = {"name": str(scheme)}
        return Header(
            format_version=version,
            drs_version=str(document.get("drs_version", "")),
            generator=str(document.get("generator", "")),
            generated=str(document.get("generated", "")),
            source_bucket=str(document.get("source_bucket", "")),
            id_scheme=str(scheme.get("name", "")),
            project=str(scheme.get("project", "")),
        )

    def _record(self, number: int, document: dict[str, Any]) -> DrsRecord:
        ident = document.get("id")
        if not isinstance(ident, str) or not ident:
            self._fail(number, "an object without an id")
        size = document.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self._fail(number, f"object {ident}: size {size!r} is not a non-negative integer")
        checksums = document.get("checksums")
        if not isinstance(checksums, list) or not checksums:
            self._fail(number, f"object {ident}: no checksums")
        pairs = []
        for item in checksums:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("type"), str)
                and isinstance(item.get("checksum"), str)
            ):
                self._fail(number, f"object {ident}: a checksum is not {{type, checksum}}")
            pairs.append((item["type"], item["checksum"]))
        methods = []
        for item in document.get("access_methods") or []:
            method = self._access_method(number, ident, item)
            if method is not None:
                methods.append(method)
        aliases = document.get("aliases") or []
        return DrsRecord(
            id=ident,
            size=size,
            created_time=str(document.get("created_time", "")),
            checksums=tuple(pairs),
            access_methods=tuple(methods),
            updated_time=str(document.get("updated_time", "")),
            name=str(document.get("name", "")),
            version=str(document.get("version", "")),
            mime_type=str(document.get("mime_type", "")),
            description=str(document.get("description", "")),
            aliases=tuple(str(alias) for alias in aliases if isinstance(alias, str)),
        )

    def _access_method(self, number: int, ident: str, item: Any) -> AccessMethod | None:
        """An s3 access method; methods of other types are skipped (s3d serves s3 ones)."""
        if not isinstance(item, dict) or item.get("type") != "s3":
            return None
        url = item.get("access_url")
        url = url.get("url") if isinstance(url, dict) else url
        if not isinstance(url, str) or not url.startswith("s3://"):
            self._fail(number, f"object {ident}: s3 access_url {url!r} is not s3://bucket/key")
        bucket, _, key = url[len("s3://") :].partition("/")
        if not bucket or not key:
            self._fail(number, f"object {ident}: s3 access_url {url!r} is not s3://bucket/key")
        return AccessMethod(
            access_id=str(item.get("access_id") or "s3"),
            bucket=bucket,
            key=key,
            region=str(item.get("region", "")),
            available=item.get("available", True) is not False,
            etag=str(item.get("etag") or ""),
        )

    def _check_trailer(self, number: int, trailer: dict[str, Any], records: int, sha: str) -> None:
        if trailer.get("records") != records:
            self._fail(
                number,
                f"the trailer counts {trailer.get('records')!r} records, the file has {records}",
            )
        if str(trailer.get("sha256", "")).lower() != sha:
            self._fail(number, "the trailer's sha256 does not match the file (altered or damaged)")


def read_index(stream: IO[bytes], source: str) -> IndexReader:
    """An ``IndexReader`` over ``stream`` (plain or gzip; buffered or seekable); ``source``
    names it in errors."""
    if not hasattr(stream, "peek") and not stream.seekable():
        stream = cast(IO[bytes], io.BufferedReader(cast(Any, stream)))
    return IndexReader(stream, source)
