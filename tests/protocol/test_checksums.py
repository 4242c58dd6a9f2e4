"""S3 additional checksums: check values, agreement with botocore, header names, validation."""

from __future__ import annotations

import base64
import itertools

import pytest
from botocore import httpchecksum
from hypothesis import given
from hypothesis import strategies as st

from s3d.protocol import checksums
from s3d.protocol.checksums import ALGORITHMS, Checksum
from s3d.protocol.errors import InvalidRequest

# The standard check value of each algorithm: its digest of the ASCII bytes "123456789".
CHECK_VALUES = {
    "CRC32": "cbf43926",
    "CRC32C": "e3069283",
    "CRC64NVME": "ae8b14860a799888",
    "SHA1": "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
    "SHA256": "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
}

BOTOCORE = {
    "CRC32": httpchecksum.CrtCrc32Checksum,
    "CRC32C": httpchecksum.CrtCrc32cChecksum,
    "CRC64NVME": httpchecksum.CrtCrc64NvmeChecksum,
    "SHA1": httpchecksum.Sha1Checksum,
    "SHA256": httpchecksum.Sha256Checksum,
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_check_value(algorithm: str) -> None:
    checksum = Checksum.new(algorithm)
    checksum.update(b"123456789")
    assert checksum.digest().hex() == CHECK_VALUES[algorithm]
    assert checksum.b64digest() == base64.b64encode(bytes.fromhex(CHECK_VALUES[algorithm])).decode()
    assert checksum.algorithm == algorithm


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_input(algorithm: str) -> None:
    botocore = BOTOCORE[algorithm]()
    assert Checksum.new(algorithm).b64digest() == botocore.b64digest()


def test_names_are_case_insensitive() -> None:
    assert Checksum.new("crc32c").algorithm == "CRC32C"
    assert Checksum.new(" Sha256 ").algorithm == "SHA256"


@pytest.mark.parametrize("name", ["MD5", "CRC16", "SHA512", "", "crc-32"])
def test_unknown_algorithm_is_invalid_request(name: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        Checksum.new(name)
    assert caught.value.code == "InvalidRequest"
    assert repr(name) in caught.value.message
    with pytest.raises(InvalidRequest):
        checksums.header_name(name)


@given(
    algorithm=st.sampled_from(ALGORITHMS),
    data=st.binary(max_size=4096),
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=8),
)
def test_agrees_with_botocore_in_any_pieces(algorithm: str, data: bytes, cuts: list[int]) -> None:
    ours = Checksum.new(algorithm)
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    for start, end in itertools.pairwise(bounds):
        # memoryview slices: what the aws-chunked decoder feeds without copying.
        ours.update(memoryview(data)[start:end])
    theirs = BOTOCORE[algorithm]()
    theirs.update(data)
    assert ours.digest() == theirs.digest()
    assert ours.b64digest() == theirs.b64digest()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_header_names_round_trip(algorithm: str) -> None:
    name = checksums.header_name(algorithm)
    assert name == f"x-amz-checksum-{algorithm.lower()}"
    assert checksums.algorithm_of_header(name) == algorithm
    assert checksums.algorithm_of_header(name.upper()) == algorithm


@pytest.mark.parametrize(
    "name",
    ["x-amz-checksum-type", "x-amz-checksum-algorithm", "x-amz-checksum-md5", "content-md5", ""],
)
def test_other_headers_are_not_checksums(name: str) -> None:
    assert checksums.algorithm_of_header(name) is None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_well_formed_accepts_what_we_compute(algorithm: str) -> None:
    checksum = Checksum.new(algorithm)
    checksum.update(b"hello")
    assert checksums.well_formed(algorithm, checksum.b64digest())
    assert checksums.well_formed(algorithm.lower(), checksum.b64digest())


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", "AAAA"),  # 3 bytes
        ("CRC32", "AAAAAAAAAAA="),  # 8 bytes: a CRC64NVME length
        ("CRC64NVME", "AAAAAA=="),  # 4 bytes: a CRC32 length
        ("CRC32", "AAAAAA="),  # bad padding
        ("CRC32", "AAA*AA=="),  # not base64
        ("CRC32", "AAAAAB=="),  # decodes, but not canonical (stray bits)
        ("SHA256", ""),
        ("MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),  # not an S3 checksum algorithm
    ],
)
def test_well_formed_rejects(algorithm: str, value: str) -> None:
    assert not checksums.well_formed(algorithm, value)
