"""S3 request documents parsed from client bodies (untrusted input).

Parsing goes through defusedxml with DTDs forbidden, so entity expansion ("billion laughs") and
external entities never run. Documents are accepted with or without the S3 namespace; element
names are compared by local name. Anything that is not the expected document (bad syntax, wrong
root, a required element missing or repeated, a value of the wrong type) is ``MalformedXML``,
which is what S3 answers; element text is kept exactly (keys may begin or end with spaces).

Size caps bound what one request may make us hold: a body over ``max_bytes`` is refused before
parsing with ``MaxMessageLengthExceeded``. The server adapter should refuse such bodies while
reading them too; the check here keeps the parser safe on its own.
"""

from __future__ import annotations

import re
from itertools import pairwise
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from s3d.protocol.errors import (
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
    MaxMessageLengthExceeded,
)
from s3d.protocol.operations import CompletedPart, ObjectIdentifier

SMALL_DOCUMENT_BYTES = 64 * 1024
"""Default cap for CreateBucketConfiguration and Tagging (10 tags fit in a few kilobytes)."""
LARGE_DOCUMENT_BYTES = 8 * 1024 * 1024
"""Default cap for Delete (1000 keys of up to 1024 bytes) and CompleteMultipartUpload
(10000 parts with their checksums); both fit well under it."""

MAX_DELETE_OBJECTS = 1000
MAX_PART_NUMBER = 10000

# Checksum elements of a CompletedPart, as the S3 service model names them.
_PART_CHECKSUMS = frozenset(
    {"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5"}
    | {"XXHASH64", "XXHASH3", "XXHASH128"}
)
# An xs:int: ASCII digits only (int() alone would take "1_0" or Arabic digits), and few of
# them (int() refuses over 4300 digits with ValueError, which must not escape as a 500).
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,10}\s*\Z", re.ASCII)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _root(body: bytes, name: str, max_bytes: int) -> Element:
    """The parsed document, checked to have root element ``name``."""
    if len(body) > max_bytes:
        raise MaxMessageLengthExceeded()
    try:
        root: Element = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except (ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise MalformedXML() from exc
    if _local(root.tag) != name:
        raise MalformedXML()
    return root


def _children(parent: Element, name: str) -> list[Element]:
    return [child for child in parent if _local(child.tag) == name]


def _optional_text(parent: Element, name: str) -> str | None:
    """The text of the single child ``name`` ("" when empty), None when absent."""
    found = _children(parent, name)
    if len(found) > 1:
        raise MalformedXML()
    if not found:
        return None
    if len(found[0]):  # a leaf was expected, not a structure
        raise MalformedXML()
    return found[0].text or ""


def _text(parent: Element, name: str) -> str:
    value = _optional_text(parent, name)
    if value is None:
        raise MalformedXML()
    return value


def _boolean(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("true", "false"):
        raise MalformedXML()
    return word == "true"


def parse_create_bucket(body: bytes, *, max_bytes: int = SMALL_DOCUMENT_BYTES) -> str | None:
    """The LocationConstraint of a CreateBucketConfiguration; None for an empty body, a
    document without one, or an empty one (us-east-1).

    Raises MalformedXML, MaxMessageLengthExceeded."""
    if not body.strip():
        return None
    root = _root(body, "CreateBucketConfiguration", max_bytes)
    return _optional_text(root, "LocationConstraint") or None


def _part_number(part: Element) -> int:
    raw = _text(part, "PartNumber")
    if not _INTEGER.match(raw):
        raise MalformedXML()
    number = int(raw)
    if number < 1:
        raise InvalidArgument("PartNumber must be >= 1")
    if number > MAX_PART_NUMBER:
        # No such part can have been uploaded: S3 answers InvalidPart, not a range error.
        raise InvalidPart()
    return number


def _completed_part(part: Element) -> CompletedPart:
    names = dict.fromkeys(_local(child.tag) for child in part)
    # A repeated checksum element reaches _text, which refuses it.
    checksums = tuple(
        (name.removeprefix("Checksum"), _text(part, name))
        for name in names
        if name.startswith("Checksum") and name.removeprefix("Checksum") in _PART_CHECKSUMS
    )
    return CompletedPart(_part_number(part), _text(part, "ETag"), checksums)


def parse_complete_multipart(
    body: bytes, *, max_bytes: int = LARGE_DOCUMENT_BYTES
) -> tuple[CompletedPart, ...]:
    """The parts of a CompleteMultipartUpload document, in the order given, ETags as sent.

    Raises MalformedXML (no parts, a part without PartNumber or ETag, a non-integer number),
    InvalidArgument (a part number below 1), InvalidPart (above 10000), InvalidPartOrder
    (numbers not strictly ascending; a repeated number counts), MaxMessageLengthExceeded."""
    root = _root(body, "CompleteMultipartUpload", max_bytes)
    parts = tuple(_completed_part(element) for element in _children(root, "Part"))
    if not parts:
        raise MalformedXML()
    for previous, current in pairwise(parts):
        if current.part_number <= previous.part_number:
            raise InvalidPartOrder()
    return parts


def _object_identifier(element: Element) -> ObjectIdentifier:
    return ObjectIdentifier(_text(element, "Key"), _optional_text(element, "VersionId"))


def parse_delete(
    body: bytes, *, max_bytes: int = LARGE_DOCUMENT_BYTES
) -> tuple[tuple[ObjectIdentifier, ...], bool]:
    """The objects of a DeleteObjects ``Delete`` document and its Quiet flag.

    Raises MalformedXML (no objects, more than 1000, an object without Key, a Quiet that is
    not a boolean), MaxMessageLengthExceeded."""
    root = _root(body, "Delete", max_bytes)
    elements = _children(root, "Object")
    if not elements or len(elements) > MAX_DELETE_OBJECTS:
        raise MalformedXML()
    quiet = _optional_text(root, "Quiet")
    objects = tuple(_object_identifier(element) for element in elements)
    return objects, _boolean(quiet) if quiet is not None else False


def parse_tagging(
    body: bytes, *, max_bytes: int = SMALL_DOCUMENT_BYTES
) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs of a ``Tagging`` document, in order; the limits on tags are
    ``tagging.validate_tags``'s to check.

    Raises MalformedXML (no TagSet, a Tag without Key or Value), MaxMessageLengthExceeded."""
    root = _root(body, "Tagging", max_bytes)
    tag_sets = _children(root, "TagSet")
    if len(tag_sets) != 1:
        raise MalformedXML()
    return tuple((_text(tag, "Key"), _text(tag, "Value")) for tag in _children(tag_sets[0], "Tag"))
