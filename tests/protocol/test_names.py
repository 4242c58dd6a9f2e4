"""Bucket names (S3's naming rules for creation, the legacy rule for access) and keys."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from s3d.protocol.errors import S3Error
from s3d.protocol.names import MAX_KEY_BYTES, check_bucket_name, check_key, decode_key, decode_path

# The rules as the S3 user guide ("General purpose bucket naming rules") states them, written
# the plain way, to compare the regex-based implementation against.
_ALLOWED = set(string.ascii_lowercase + string.digits + ".-")
_ALNUM = set(string.ascii_lowercase + string.digits)
_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def reference_creatable(name: str) -> bool:
    if not 3 <= len(name) <= 63:
        return False
    if any(c not in _ALLOWED for c in name):
        return False
    if name[0] not in _ALNUM or name[-1] not in _ALNUM:
        return False
    if ".." in name:
        return False
    # Not in today's list, but S3 still refuses a dash beside a period (DNS labels).
    if ".-" in name or "-." in name:
        return False
    parts = name.split(".")
    if len(parts) == 4 and all(p.isdigit() and 1 <= len(p) <= 3 for p in parts):
        return False
    return not any(name.startswith(p) for p in _PREFIXES) and not any(
        name.endswith(s) for s in _SUFFIXES
    )


def reference_reachable(name: str) -> bool:
    """Buckets made under us-east-1's old rules: capitals, underscores, up to 255 characters."""
    legacy = set(string.ascii_letters + string.digits + "._-")
    return (
        3 <= len(name) <= 255
        and all(c in legacy for c in name)
        and name[0].isascii()
        and name[0].isalnum()
        and name[-1].isascii()
        and name[-1].isalnum()
    )


def refusal(name: str, creating: bool) -> S3Error | None:
    try:
        check_bucket_name(name, creating=creating)
    except S3Error as error:
        return error
    return None


def accepted(name: str, creating: bool) -> bool:
    error = refusal(name, creating)
    if error is not None:
        assert (error.error_code, error.http_status) == ("InvalidBucketName", 400)
        assert error.details == {"BucketName": name}
    return error is None


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "my-bucket",
        "my.bucket.name",
        "0bucket9",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1a",
        "a-b-c",
        "xn-one-dash",
        "sthree",
        "bucket-s3alias-not-at-end",
        "a--b",
    ],
)
def test_creatable(name: str) -> None:
    assert accepted(name, creating=True)
    assert accepted(name, creating=False)


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "",
        "Upper",
        "under_score",
        "space here",
        "-start",
        "end-",
        ".start",
        "end.",
        "two..dots",
        "dot.-dash",
        "dash-.dot",
        "192.168.5.4",
        "1.2.3.4",
        "xn--punycode",
        "sthree-anything",
        "sthree-configurator",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bucket.mrap",
        "bucket--x-s3",
        "bucket--table-s3",
        "café",
        "ümlaut",
    ],
)
def test_not_creatable(name: str) -> None:
    assert not accepted(name, creating=True)


@pytest.mark.parametrize("name", ["Legacy_Bucket", "UPPER", "a" * 255, "two..dots", "1.2.3.4"])
def test_legacy_names_are_reachable_but_not_creatable(name: str) -> None:
    assert accepted(name, creating=False)
    assert not accepted(name, creating=True)


@pytest.mark.parametrize("name", ["ab", "a" * 256, "_start", "end_", "a!b", "a b", "café", ""])
def test_not_reachable(name: str) -> None:
    assert not accepted(name, creating=False)


_SHORT = ["a", "z", "0", "9", ".", "-", "..", ".-", "-.", "_", "A", "é", " ", "1", "192.168.1.1"]
_PIECES = st.sampled_from([*_SHORT, *_PREFIXES, *_SUFFIXES, "sthree-configurator"])
NAMES = st.one_of(
    st.text(alphabet="abz09.-_A", max_size=70),
    st.lists(_PIECES, max_size=12).map("".join),
    st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True),
    st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", *[st.integers(0, 999)] * 4),
    st.text(max_size=80),
)


@settings(max_examples=2000, deadline=None)
@given(name=NAMES)
@example(name="a" * 63)
@example(name="a" * 64)
@example(name="1.2.3.4")
@example(name="01.002.3.4")
def test_creation_rule_matches_the_documented_rules(name: str) -> None:
    assert accepted(name, creating=True) == reference_creatable(name)


@settings(max_examples=2000, deadline=None)
@given(name=NAMES)
@example(name="a" * 255)
@example(name="a" * 256)
def test_access_rule_matches_the_legacy_rules(name: str) -> None:
    assert accepted(name, creating=False) == reference_reachable(name)
    # Whatever may be created may also be reached.
    if reference_creatable(name):
        assert accepted(name, creating=False)


# ---------------------------------------------------------------------------------------------
# Keys.


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("a%2Fb", "a/b"),
        ("a+b", "a+b"),
        ("a%20b", "a b"),
        ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"),
        ("%00nul", "\x00nul"),
        ("caf%C3%A9", "café"),
        ("日本", "日本"),
        ("", ""),
    ],
)
def test_decode_key(raw: str, key: str) -> None:
    assert decode_key(raw) == key


@pytest.mark.parametrize("raw", ["%FF", "%C3%28", "a%E2%82", "\udcffx"])
def test_decode_key_not_utf8(raw: str) -> None:
    with pytest.raises(S3Error) as caught:
        decode_key(raw)
    assert (caught.value.error_code, caught.value.http_status) == ("InvalidURI", 400)


def test_surrogate_escaped_utf8_is_the_bytes_sent() -> None:
    # aiohttp decodes with surrogateescape; valid UTF-8 never takes that path, but an
    # escaped byte that completes a sequence with percent-encoded ones is still judged whole.
    assert decode_path("%C3\udca9") == "é"


def test_check_key_limit_is_in_bytes() -> None:
    check_key("k" * MAX_KEY_BYTES)
    check_key("é" * (MAX_KEY_BYTES // 2))
    for key in ("k" * (MAX_KEY_BYTES + 1), "é" * (MAX_KEY_BYTES // 2) + "k"):
        with pytest.raises(S3Error) as caught:
            check_key(key)
        assert caught.value.error_code == "KeyTooLongError"
        assert caught.value.details == {"Size": "1025", "MaxSizeAllowed": "1024"}


@settings(max_examples=300, deadline=None)
@given(key=st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
def test_decode_key_inverts_percent_encoding(key: str) -> None:
    raw = "".join(f"%{byte:02X}" for byte in key.encode())
    assert decode_key(raw) == key
