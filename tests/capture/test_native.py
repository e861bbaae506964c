"""The compiled capture kernel against the numpy path where the kernel does work of its own:
its conversation index growing in the middle of a batch and catching up with rows a merge
added, its record walk resuming when its output arrays fill, and the switch to numpy."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netseg.capture import native, reader
from netseg.capture.conversations import ConversationTable
from netseg.capture.decode import decode_batch
from netseg.capture.reader import PAD, CaptureReader, _walk_pcap_slowly
from tests.capture.helpers import pcapng_section
from tests.capture.test_decode import batch_of

COLUMNS = (
    "frames",
    "bytes",
    "ts_first",
    "ts_last",
    "first_order",
    "first_dir",
    "other_port",
    "port_decided",
    "syn_order",
    "syn_dir",
    "samples",
)


def needs_kernel() -> None:
    if not native.built():
        pytest.skip(f"the compiled capture kernel is not built ({native.why_not()})")


def udp_frame(k: int, reply: bool = False) -> bytes:
    """UDP between 192.0.2.x and 198.51.100.y, conversation k (client port from k)."""
    a, b = bytes([192, 0, 2, 1 + k % 200]), bytes([198, 51, 100, 1 + k // 200 % 200])
    sport, dport = 40_000 + k % 20_000, 53 + k % 7
    mac_a, mac_b = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
    if reply:
        a, b, sport, dport, mac_a, mac_b = b, a, dport, sport, mac_b, mac_a
    l4 = struct.pack(">HHHH", sport, dport, 8, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, k & 0xFFFF, 0, 64, 17, 0, a, b)
    return mac_b + mac_a + b"\x81\x00" + struct.pack(">H", 10) + b"\x08\x00" + ip + l4


def table_of(batches: list[list[bytes]], use_kernel: bool, merge_first: bool) -> ConversationTable:
    with native.forced(use_kernel):
        t = ConversationTable()
        first = 1
        for i, frames in enumerate(batches):
            b = batch_of(frames)
            b.frame_no += first - 1
            first += len(frames)
            if merge_first and i == 0:
                part = ConversationTable()
                part.add_batch(decode_batch(b), 0)
                t.update(part)  # rows the kernel's index has not seen
                t.update(part.copy())
            else:
                t.add_batch(decode_batch(b), 0)
        return t


@pytest.mark.parametrize("merge_first", [False, True])
def test_ten_thousand_new_conversations_in_one_batch_match_the_numpy_path(
    merge_first: bool,
) -> None:
    """More new keys in one batch than the kernel's first index holds (4,096 rows): it grows
    and resumes mid-batch; rows a merge added first are found, not duplicated."""
    needs_kernel()
    first = [udp_frame(k) for k in range(3_000)]
    second = [udp_frame(k, reply=k % 3 == 0) for k in range(12_000)]
    second += [udp_frame(k) for k in range(0, 12_000, 5)]
    ours = table_of([first, second], True, merge_first)
    ref = table_of([first, second], False, merge_first)
    assert len(ours) == len(ref) == 12_000
    assert ours.keys == ref.keys
    for col in COLUMNS:
        assert np.array_equal(getattr(ours, col), getattr(ref, col)), col
    assert list(ours.conversations()) == list(ref.conversations())


def test_the_walk_resumes_when_its_output_arrays_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_kernel()
    monkeypatch.setattr(reader, "_NATIVE_PIECE", 3)
    data = b"".join(
        struct.pack("<IIII", 1_700_000_000 + i, i, i % 5, i % 5) + bytes(i % 5) for i in range(50)
    )
    arr = np.frombuffer(data[:-2] + bytes(PAD), dtype=np.uint8).copy()
    n = len(data) - 2
    offs, rest, bad, (caplen, origlen, ts) = reader._walk_pcap_native(
        native._built, arr, n, "<", 16, 262_144, 1_000
    )
    unpack = struct.Struct("<I").unpack_from
    ref, ref_rest, ref_bad = _walk_pcap_slowly(memoryview(arr), 0, n, 16, 262_144, unpack)
    assert offs.tolist() == ref.tolist() and (rest, bad) == (ref_rest, ref_bad)
    assert caplen.tolist() == [i % 5 for i in range(len(ref))] == origlen.tolist()
    assert ts.tolist() == [(1_700_000_000 + i) * 10**9 + i * 1_000 for i in range(len(ref))]


def test_the_environment_variable_forces_the_numpy_path() -> None:
    code = "from netseg.capture import native; print(native.kernel() is None, native.why_not())"
    env = {**os.environ, native.ENV: "numpy"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("True ") and ("NETSEG_CAPTURE_KERNEL=numpy" in out or "not built" in out)


def test_the_kernel_is_built_where_the_build_requires_it() -> None:
    """CI (.ci/run) installs a compiler and sets NETSEG_REQUIRE_KERNEL=1: there the install
    must have built the kernel, so the tests above ran on it and did not skip."""
    if os.environ.get("NETSEG_REQUIRE_KERNEL") != "1":
        pytest.skip("NETSEG_REQUIRE_KERNEL is not set: the numpy fallback is allowed here")
    assert native.built(), native.why_not()


def read_all(path: Path, use_kernel: bool, chunk_size: int) -> tuple[list[list[int]], object]:
    with native.forced(use_kernel):
        r = CaptureReader(path, chunk_size=chunk_size)
        cols = [[] for _ in range(6)]  # type: list[list[int]]
        for b in r.batches():
            for got, col in zip(
                cols,
                (b.data_off, b.caplen, b.origlen, b.ts_ns, b.linktype, b.frame_no),
                strict=True,
            ):
                got.extend(col.tolist())
        return cols, (r.frames, r.cut_short, r.damage, r.corrupt_record)


@pytest.mark.parametrize("chunk_size", [64, 1000, 1 << 20])
def test_pcapng_sections_and_interfaces_walk_as_the_block_loop_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    """The compiled walk stops at every section header and interface block for the Python
    loop, resumes when its outputs fill, and leaves damage and a cut-short end to the loop."""
    needs_kernel()
    monkeypatch.setattr(reader, "_NATIVE_PIECE", 4)
    frames = [udp_frame(k) for k in range(30)]
    data = pcapng_section([(1, 6)], [(0, 1_000 + k, f) for k, f in enumerate(frames[:10])])
    data += pcapng_section(
        [(1, 9), (101, 6)],
        [(k % 2, 7 + k, f[14:] if k % 2 else f) for k, f in enumerate(frames[10:25])],
        big_endian=True,
        simple=frames[25],
    )
    damaged = data + struct.pack("<II", 6, 13) + bytes(20)
    for name, blob in (("whole", data), ("cut", data[:-7]), ("damaged", damaged)):
        path = tmp_path / f"{name}.pcapng"
        path.write_bytes(blob)
        ours = read_all(path, True, chunk_size)
        ref = read_all(path, False, chunk_size)
        assert ours == ref, name
        assert ours[1][0] > 0


def test_a_pickled_table_leaves_the_kernel_index_behind_and_rebuilds_it() -> None:
    needs_kernel()
    frames = [udp_frame(k) for k in range(5_000)]
    with native.forced(True):
        t = ConversationTable()
        t.add_batch(decode_batch(batch_of(frames[:3_000])), 0)
        assert t._nindexed == 3_000
        copy = pickle.loads(pickle.dumps(t))
        assert copy._nindexed == 0 and len(copy._nkeys) == 0 and copy.keys == t.keys
        b = batch_of(frames)
        b.frame_no += 3_000
        for table in (t, copy):
            table.add_batch(decode_batch(b), 0)
    assert copy.keys == t.keys and len(t) == 5_000
    for col in COLUMNS:
        assert np.array_equal(getattr(copy, col), getattr(t, col)), col
