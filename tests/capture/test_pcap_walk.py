"""The guess-and-verify pcap walk finds exactly the records the plain record-by-record walk finds.

Payloads are built to fool it: copies of record headers inside frames, timestamps that jump by
days or go back, zero timestamps, a rejected captured length in the middle, either byte order.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netseg.capture.reader import PAD, _walk_pcap, _walk_pcap_slowly

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")

MAX = 262_144


def _arr(data: bytes) -> np.ndarray:  # type: ignore[type-arg]
    return np.frombuffer(data + bytes(PAD), dtype=np.uint8).copy()


def _walks_agree(data: bytes, endian: str, hdr_len: int = 16, frac_limit: int = 1_000_000) -> None:
    arr = _arr(data)
    offs, rest, bad = _walk_pcap(arr, len(data), endian, hdr_len, MAX, frac_limit)
    unpack = struct.Struct(endian + "I").unpack_from
    ref, ref_rest, ref_bad = _walk_pcap_slowly(memoryview(arr), 0, len(data), hdr_len, MAX, unpack)
    assert offs.tolist() == ref.tolist()
    assert (rest, bad) == (ref_rest, ref_bad)


def _record(endian: str, sec: int, frac: int, data: bytes, caplen: int | None = None) -> bytes:
    cl = len(data) if caplen is None else caplen
    return struct.pack(endian + "IIII", sec, frac, cl, len(data)) + data


record = st.tuples(
    st.sampled_from([1_700_000_000, 1_700_065_536, 1_700_200_000, 0, 0xFFFF_FFFF]),
    st.integers(0, 1_200_000),
    st.binary(max_size=120),
    st.booleans(),  # embed a header-like copy in the payload
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(record, max_size=40),
    st.sampled_from(["<", ">"]),
    st.integers(0, 40),
    st.booleans(),
)
def test_the_fast_walk_agrees_with_the_plain_walk(
    records: list[tuple[int, int, bytes, bool]], endian: str, cut: int, damage: bool
) -> None:
    parts = []
    for sec, frac, payload, fake in records:
        if fake:
            # A header of this very file inside the payload, pointing anywhere.
            payload = payload[:7] + _record(endian, sec, frac % 1_000_000, b"", 33) + payload[7:]
        parts.append(_record(endian, sec, frac, payload))
    if damage and parts:
        parts.insert(len(parts) // 2, _record(endian, 1_700_000_000, 0, b"x", MAX + 1))
    data = b"".join(parts)
    _walks_agree(data[: max(0, len(data) - cut)], endian)


def test_a_zero_filled_capture_is_walked_plainly_and_correctly() -> None:
    data = b"".join(_record("<", 0, 0, bytes(60)) for _ in range(500))
    _walks_agree(data, "<")
    _walks_agree(data[:-30], "<")


def test_modified_pcap_headers_are_walked() -> None:
    data = b"".join(
        struct.pack("<IIII", 1_700_000_000 + i, 5, 20, 20) + bytes(8) + bytes(20) for i in range(50)
    )
    _walks_agree(data, "<", hdr_len=24)
