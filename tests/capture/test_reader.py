"""Reading captures: formats, byte orders, resolutions, interfaces, compression, damage."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netseg.capture import capture_files, read_frames, tabulate, write_evidence
from netseg.capture.reader import CaptureReader
from netseg.errors import CaptureError
from tests.capture.frames import SAMPLES
from tests.capture.helpers import pcap_bytes, pcapng_section, write

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")

T0 = 1_700_000_000_123_456_789
FRAMES = [SAMPLES["tcp-tagged"], SAMPLES["udp"], SAMPLES["arp"]]


def read_all(path: Path) -> tuple[CaptureReader, list[tuple[int, int, int, bytes]]]:
    reader = CaptureReader(path)
    out = []
    for b in reader.batches():
        for i in range(len(b)):
            out.append((int(b.frame_no[i]), int(b.linktype[i]), int(b.ts_ns[i]), b.frame_bytes(i)))
    return reader, out


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("ns", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_pcap_byte_orders_resolutions_and_gzip(
    tmp_path: Path, big_endian: bool, ns: bool, gz: bool
) -> None:
    data = pcap_bytes(
        [(T0 + i, f) for i, f in enumerate(FRAMES)], big_endian=big_endian, nanoseconds=ns
    )
    reader, frames = read_all(write(tmp_path / "capture.bin", data, compress=gz))
    assert [f[3] for f in frames] == FRAMES
    assert [f[0] for f in frames] == [1, 2, 3]
    expected_ts = T0 if ns else T0 // 1000 * 1000
    assert frames[0][2] == expected_ts
    assert (reader.format, reader.compressed, reader.cut_short) == ("pcap", gz, False)


def test_pcapng_interfaces_link_types_resolutions_and_sections(tmp_path: Path) -> None:
    raw_ip = SAMPLES["udp"][14:]
    first = pcapng_section(
        [(1, 6), (101, 9)],
        [(0, 1_700_000_000_000_001, FRAMES[0]), (1, 1_700_000_000_000_000_002, raw_ip)],
        simple=FRAMES[2],
    )
    second = pcapng_section([(1, 3)], [(0, 1_700_000_000_001, FRAMES[1])], big_endian=True)
    reader, frames = read_all(write(tmp_path / "multi.pcapng", first + second))
    assert [(f[0], f[1], f[3]) for f in frames] == [
        (1, 1, FRAMES[0]),
        (2, 101, raw_ip),
        (3, 1, FRAMES[2]),
        (4, 1, FRAMES[1]),
    ]
    assert frames[0][2] == 1_700_000_000_000_001_000
    assert frames[1][2] == 1_700_000_000_000_000_002
    assert frames[3][2] == 1_700_000_000_001_000_000
    assert reader.format == "pcapng"


def test_a_last_record_cut_short_is_not_a_frame(tmp_path: Path) -> None:
    data = pcap_bytes([(T0, f) for f in FRAMES])
    for cut in (5, 20):
        result = tabulate([write(tmp_path / f"cut{cut}.pcap", data[:-cut])])
        account = result.files[0]
        assert (account.frames, account.cut_short) == (2, True)
    ng = pcapng_section([(1, 6)], [(0, 1, f) for f in FRAMES])
    account = tabulate([write(tmp_path / "cut.pcapng", ng[:-7])]).files[0]
    assert (account.frames, account.cut_short) == (2, True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello, this is not a capture at all", "not a pcap or pcapng capture"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "header is cut short"),
    ],
)
def test_files_that_are_not_captures_raise_one_clear_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path / "bad.pcap", content)
    with pytest.raises(CaptureError, match=message) as info:
        list(CaptureReader(path).batches())
    assert info.value.file == str(path)


def test_gzip_of_garbage_names_the_decompressed_content(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="after gzip decompression"):
        list(CaptureReader(write(tmp_path / "x.pcap.gz", b"garbage" * 10, compress=True)).batches())


def test_unreadable_file_is_recorded_and_the_others_still_read(tmp_path: Path) -> None:
    good = write(tmp_path / "b.pcap", pcap_bytes([(T0, f) for f in FRAMES]))
    bad = write(tmp_path / "a.pcap", b"not a capture")
    result = tabulate([bad, good, tmp_path / "missing.pcap"])
    assert [f.error is None for f in result.files] == [False, True, False]
    assert "not a pcap" in (result.files[0].error or "")
    assert result.files[1].frames == 3 and result.decoded == 3


def test_a_directory_means_its_captures_in_name_order(tmp_path: Path) -> None:
    for name in ("b.pcap", "a.pcapng.gz", "c.txt"):
        write(tmp_path / name, pcap_bytes([(T0, FRAMES[0])]), compress=name.endswith(".gz"))
    (tmp_path / "notes.md").write_text("not a capture")
    assert [p.name for p in capture_files([tmp_path])] == ["a.pcapng.gz", "b.pcap", "c.txt"]


def test_oversized_record_ends_the_file_like_wireshark(tmp_path: Path) -> None:
    data = bytearray(pcap_bytes([(T0, f) for f in FRAMES]))
    second = 24 + 16 + len(FRAMES[0])
    data[second + 8 : second + 12] = (10_000_000).to_bytes(4, "little")
    account = tabulate([write(tmp_path / "damaged.pcap", bytes(data))]).files[0]
    assert account.frames == 1 and account.damage and "maximum" in account.damage


def test_small_chunks_give_the_same_frames(tmp_path: Path) -> None:
    frames = [(T0 + i, SAMPLES[n]) for i, n in enumerate(sorted(SAMPLES))] * 5
    for name, data in (
        ("x.pcap", pcap_bytes(frames)),
        ("x.pcapng", pcapng_section([(1, 9)], [(0, t, f) for t, f in frames])),
    ):
        path = write(tmp_path / name, data)
        whole = [b.frame_bytes(i) for b in CaptureReader(path).batches() for i in range(len(b))]
        small = [
            b.frame_bytes(i)
            for b in CaptureReader(path, chunk_size=100).batches()
            for i in range(len(b))
        ]
        assert whole == small == [f for _, f in frames]


def test_read_frames_returns_the_original_records(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.pcap.gz",
        pcap_bytes([(T0 + i, f) for i, f in enumerate(FRAMES)], nanoseconds=True),
        compress=True,
    )
    got = list(read_frames(path, [3, 1]))
    assert [(r.frame_no, r.data, r.ts_ns) for r in got] == [
        (1, FRAMES[0], T0),
        (3, FRAMES[2], T0 + 2),
    ]


def test_evidence_round_trips_with_comments(tmp_path: Path) -> None:
    out = tmp_path / "evidence.pcapng"
    raw_ip = SAMPLES["udp"][14:]
    n = write_evidence(
        out, [(1, T0, 200, FRAMES[0], "rule X"), (101, T0 + 5, len(raw_ip), raw_ip, "")]
    )
    assert n == 2
    _, frames = read_all(out)
    assert [(f[1], f[2], f[3]) for f in frames] == [(1, T0, FRAMES[0]), (101, T0 + 5, raw_ip)]
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.pcapng"]
    if shutil.which("tshark"):
        res = subprocess.run(
            ["tshark", "-r", str(out), "-T", "fields", "-e", "frame.number", "-e", "frame.comment"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        lines = res.stdout.splitlines()
        assert len(lines) == 2 and "rule X" in lines[0]
