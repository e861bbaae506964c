"""netseg.output: every output is complete or absent, never replaces what is not a file."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from netseg import output
from netseg.cli.main import main
from netseg.errors import OutputError
from tests.conftest import CAPTURES, TOPOLOGIES

TOPOLOGY = str(TOPOLOGIES / "esxi-cluster.yaml")
INCIDENT = str(CAPTURES / "esxi-incident.pcap")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ordinary_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_a_file_is_replaced_whole_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    output.write_output("new text\n", target)
    assert target.read_text() == "new text\n"
    assert _mode(target) == _ordinary_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    output.write_output("through\n", link)
    assert link.is_symlink() and real.read_text() == "through\n"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "real" / "new.txt")
    output.write_output("made\n", dangling)
    assert dangling.is_symlink() and (tmp_path / "real" / "new.txt").read_text() == "made\n"


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read)
    reader.start()
    output.write_output(b"x" * 300_000, fifo)
    reader.join(10)
    assert got == [b"x" * 300_000]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_device_is_written_into_not_replaced(capsys: pytest.CaptureFixture[str]) -> None:
    before = os.stat("/dev/null")
    assert main(["rules", "-o", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_failed_write_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full (a device whose writes fail with ENOSPC) is not present")
    with pytest.raises(OutputError, match="/dev/full: cannot be written"):
        output.write_output("data", "/dev/full")


def test_short_writes_are_completed_and_refused_writes_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    real_write = os.write

    def short(fd: int, data: bytes | memoryview) -> int:
        sizes.append(len(data))
        return real_write(fd, bytes(data)[: max(1, len(data) // 3)])

    monkeypatch.setattr(output, "CHUNK", 1000)
    monkeypatch.setattr(output.os, "write", short)
    target = tmp_path / "big.txt"
    payload = "".join(f"{i:08d}\n" for i in range(2000))  # 18,000 bytes
    output.write_output(payload, target)
    assert target.read_text() == payload
    assert max(sizes) <= 1000  # bounded chunks: never one huge write

    monkeypatch.setattr(output.os, "write", lambda fd, data: 0)
    with pytest.raises(OutputError, match="refused"):
        output.write_output(payload, tmp_path / "never.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]


@pytest.mark.parametrize("where", ["missing/out.json", "a-file/out.json", "a-directory"], ids=str)
def test_an_unwritable_output_is_one_message_and_exit_2(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-directory").mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    capsys.readouterr()
    code = main(["check", TOPOLOGY, "--format", "json", "-o", str(tmp_path / where)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err and where in err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_an_unwritable_evidence_path_fails_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(["replay", TOPOLOGY, INCIDENT, "--evidence", str(tmp_path / "no" / "e.pcapng")])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and "e.pcapng" in out.err


def test_evidence_has_the_permissions_of_other_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "e.pcapng"
    report = tmp_path / "r.json"
    main(["replay", TOPOLOGY, INCIDENT, "--at", "tor1:Eth1/11", "--evidence", str(evidence),
          "--format", "json", "-o", str(report)])  # fmt: skip
    assert _mode(evidence) == _mode(report) == _ordinary_mode()


@pytest.mark.parametrize("exists", [True, False], ids=["replaced", "new"])
def test_a_disk_that_fills_mid_file_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    """ENOSPC after the first megabyte: the error says the file is left as it was (or was not
    created), and it is; no temporary file stays behind."""
    target = tmp_path / "pairs.jsonl"
    if exists:
        target.write_text("old\n")
    real_write = os.write
    calls = []

    def fills_up(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(output.os, "write", fills_up)
    chunks = (b"x" * 1000 + b"\n" for _ in range(3000))  # 3 MB, written in 1 MB pieces
    with pytest.raises(OutputError) as caught:
        output.write_output(chunks, target)
    fate = "it is left as it was" if exists else "it was not created"
    assert str(caught.value) == f"{target}: cannot be written: No space left on device; {fate}"
    assert [p.name for p in tmp_path.iterdir()] == (["pairs.jsonl"] if exists else [])
    if exists:
        assert target.read_text() == "old\n"


def test_a_failed_stream_says_how_much_was_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard output cannot be taken back: the message says the output is incomplete."""
    writes = iter([output.CHUNK, OSError(errno.EPIPE, os.strerror(errno.EPIPE))])

    def write(fd: int, data: bytes | memoryview) -> int:
        step = next(writes)
        if isinstance(step, OSError):
            raise step
        return step

    monkeypatch.setattr(output.os, "write", write)
    monkeypatch.setattr(output, "_stdout_fd", lambda: 1)
    with pytest.raises(OutputError) as caught:
        output.write_output(b"y" * (3 * output.CHUNK), None)
    assert str(caught.value) == (
        "standard output: cannot be written: the reader closed the pipe; "
        "the output is incomplete (cut after 1,048,576 bytes)"
    )


def test_a_file_in_a_folder_that_takes_no_new_file_is_one_message() -> None:
    """/proc/version exists and is a regular file, but nothing can be created beside it: the
    message says why instead of a bare 'No such file or directory'."""
    if not Path("/proc/version").is_file():
        pytest.skip("/proc (a folder where no file can be created) is not mounted")
    with pytest.raises(OutputError) as caught:
        output.write_output("x", "/proc/version")
    assert "cannot be written: no temporary file can be made in /proc" in str(caught.value)
    assert str(caught.value).endswith("; it is left as it was")
