"""Object tags: the ``x-amz-tagging`` header form and S3's limits on a tag set.

A tag set is a tuple of (key, value) pairs in the order the client gave them. The header form
is URL query encoding (``k1=v1&k2=v2``, '+' or %20 for a space); the XML form is parsed by
``xml_parse.parse_tagging``. Both go through ``validate_tags`` before anything is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, quote, urlencode

from s3d.protocol.errors import BadRequest, InvalidArgument, InvalidTag

MAX_TAGS = 10
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
_RESERVED_PREFIX = "aws:"
_HEADER_MESSAGE = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
    "parameters without tag name duplicates."
)


def parse_tagging_header(value: str) -> tuple[tuple[str, str], ...]:
    """The tags of an ``x-amz-tagging`` header, in order.

    Raises InvalidArgument (not UTF-8 once decoded, an empty key, a key given twice), as S3
    answers for a header it cannot read. The limits are ``validate_tags``'s to check."""
    try:
        pairs = parse_qsl(value, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(_HEADER_MESSAGE, ArgumentName="x-amz-tagging") from exc
    keys = [key for key, _ in pairs]
    if "" in keys or len(set(keys)) != len(keys):
        raise InvalidArgument(_HEADER_MESSAGE, ArgumentName="x-amz-tagging")
    return tuple(pairs)


def validate_tags(tags: Sequence[tuple[str, str]]) -> None:
    """Check a tag set against S3's limits for objects: at most 10 tags, keys of 1 to 128
    characters not starting with ``aws:``, values of at most 256 characters, no key twice.

    Raises BadRequest (more than 10 tags) or InvalidTag, with S3's messages."""
    if len(tags) > MAX_TAGS:
        raise BadRequest("Object tags cannot be greater than 10")
    for key, value in tags:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidTag("The TagKey you have provided is invalid")
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidTag("The TagValue you have provided is invalid")
        # Compared without case: S3 reserves the prefix in any case, and refusing here is
        # better than acknowledging a write the remote would refuse later.
        if key[: len(_RESERVED_PREFIX)].lower() == _RESERVED_PREFIX:
            raise InvalidTag("Your TagKey cannot be prefixed with aws:")
    if len({key for key, _ in tags}) != len(tags):
        raise InvalidTag("Cannot provide multiple Tags with the same key")


def render_tagging_header(tags: Sequence[tuple[str, str]]) -> str:
    """The ``x-amz-tagging`` header for ``tags``: each key and value percent-encoded (a space
    as %20), so ``parse_tagging_header`` gives the same pairs back."""
    return urlencode(list(tags), quote_via=quote, safe="")
