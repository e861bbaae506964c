"""netseg replay never gives a false all-clear: nothing judged, damaged and cut-short inputs."""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from netseg.cli.main import main
from tests.capture.helpers import pcap_bytes
from tests.conftest import CAPTURES, TOPOLOGIES

TOPOLOGY = str(TOPOLOGIES / "esxi-cluster.yaml")
INCIDENT = CAPTURES / "esxi-incident.pcap"
AT = ["--at", "tor1:Eth1/11"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["replay", TOPOLOGY, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _nothing(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.txt").write_text("no captures here\n")
    header = tmp_path / "header-only.pcap"
    header.write_bytes(pcap_bytes([])[:24])
    radiotap = tmp_path / "radiotap.pcap"
    radiotap.write_bytes(pcap_bytes([(0, b"\x00" * 30), (1000, b"\x00" * 30)], linktype=127))
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture at all")
    return {
        "missing": tmp_path / "missing.pcap",
        "empty-folder": empty,
        "folder-without-captures": notes,
        "header-only": header,
        "radiotap-only": radiotap,
        "garbage": garbage,
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty-folder",
        "folder-without-captures",
        "header-only",
        "radiotap-only",
        "garbage",
    ],
)
def test_a_run_that_judged_nothing_says_so_and_exits_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(_nothing(tmp_path)[case])
    code, out, err = run([path, *AT], capsys)
    assert code == 2
    assert "Nothing was judged" in out and "PASS" not in out and "respects" not in out
    assert "NOTHING JUDGED" in out
    if case in ("missing", "garbage", "folder-without-captures"):
        assert path in err
    code, out, _ = run([path, *AT, "--format", "json"], capsys)
    assert code == 2 and json.loads(out)["nothing_judged"]


def test_an_empty_standard_input_judged_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netseg.cli.main", "replay", TOPOLOGY, "-", *AT],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "Nothing was judged" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_truncated_gzip_is_read_up_to_the_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = gzip.compress(INCIDENT.read_bytes(), mtime=0)
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    code, out, err = run([str(cut), *AT, "--format", "json"], capsys)
    (entry,) = json.loads(out)["files"]
    assert entry["frames"] > 0 and "compressed data ends early" in entry["warning"]
    assert "compressed data ends early" in err
    if shutil.which("capinfos"):
        counted = subprocess.run(
            ["capinfos", "-c", "-M", "-T", "-r", str(cut)], capture_output=True, text=True
        ).stdout
        assert entry["frames"] == int(counted.strip().rpartition("\t")[2])
    assert code in (0, 1)  # a warning, as Wireshark reads it: the verdicts stand


def test_a_record_claiming_a_gibibyte_is_a_corrupt_record_with_its_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = INCIDENT.read_bytes()
    off = 24
    for _ in range(5):
        off += 16 + struct.unpack("<I", data[off + 8 : off + 12])[0]
    big = tmp_path / "big.pcap"
    big.write_bytes(
        data[:off] + struct.pack("<IIII", 1_767_225_600, 0, 1 << 30, 1 << 30) + b"x" * 64
    )
    code, out, err = run([str(big), *AT, "--format", "json"], capsys)
    (entry,) = json.loads(out)["files"]
    assert entry["frames"] == 5 and entry["corrupt_record"] == 6
    assert "frame 6 is a corrupt record" in err
    assert code == 2
    code, out, _ = run([str(big), *AT], capsys)
    assert "respects the intended segmentation" not in out and "frame 6 is a corrupt record" in out
    # an input error (exit 2) never reads as a pass, even with no finding in what was read
    assert ": PASS" not in out
