"""Live input: `netseg replay T -` reads a capture from a pipe as it comes, without seeking.

The captures are written by another process, slowly, into a real pipe (or a FIFO), as
``tcpdump -w -`` would; the verdicts must equal those of the same capture read from its file.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CAPTURES, TOPOLOGIES

TOPOLOGY = str(TOPOLOGIES / "esxi-cluster.yaml")
AT = ["--at", "tor1:Eth1/11"]
NETSEG = [sys.executable, "-m", "netseg.cli.main", "replay", TOPOLOGY]

# Writes the file given as argv[1] to standard output in pieces of argv[2] bytes, argv[3]
# seconds apart; with argv[4], stops after that many bytes and waits (a live capture).
SLOW_WRITER = """
import sys, time
data = open(sys.argv[1], "rb").read()
piece, pause = int(sys.argv[2]), float(sys.argv[3])
stop = int(sys.argv[4]) if len(sys.argv) > 4 else len(data)
out = sys.stdout.buffer
for at in range(0, stop, piece):
    out.write(data[at : min(at + piece, stop)])
    out.flush()
    time.sleep(pause)
if stop < len(data):
    time.sleep(60)
"""


def _writer(
    path: Path, piece: int, pause: float, stop: int | None = None
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-c", SLOW_WRITER, str(path), str(piece), str(pause)]
    if stop is not None:
        args.append(str(stop))
    return subprocess.Popen(args, stdout=subprocess.PIPE)


def _without_names(doc: dict[str, Any]) -> str:
    """The document with file names blanked: '-' stands where the path was."""
    text = json.dumps(doc, sort_keys=True)
    for entry in doc["files"]:
        text = text.replace(json.dumps(entry["file"]), '"FILE"')
    return text


def _from_file(capture: Path) -> str:
    done = subprocess.run(
        [*NETSEG, str(capture), *AT, "--format", "json", "--all-conversations"],
        capture_output=True,
        check=False,
    )
    return _without_names(json.loads(done.stdout))


@pytest.mark.parametrize("name", ["esxi-incident.pcap", "esxi-live.pcapng.gz"])
def test_a_capture_written_slowly_into_a_pipe_is_judged_like_its_file(name: str) -> None:
    capture = CAPTURES / name
    writer = _writer(capture, piece=97, pause=0.01)
    try:
        done = subprocess.run(
            [*NETSEG, "-", *AT, "--format", "json", "--all-conversations"],
            stdin=writer.stdout,
            capture_output=True,
            timeout=120,
            check=False,
        )
    finally:
        writer.kill()
        writer.wait()
        assert writer.stdout is not None
        writer.stdout.close()
    assert b"Traceback" not in done.stderr and done.returncode == 1, done.stderr
    assert _without_names(json.loads(done.stdout)) == _from_file(capture)


def test_a_fifo_and_dev_stdin_are_read_as_streams(tmp_path: Path) -> None:
    capture = CAPTURES / "esxi-incident.pcap"
    fifo = tmp_path / "live.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as out:
            data = capture.read_bytes()
            for at in range(0, len(data), 500):
                out.write(data[at : at + 500])
                out.flush()
                time.sleep(0.01)

    feeder = threading.Thread(target=feed)
    feeder.start()
    done = subprocess.run(
        [*NETSEG, str(fifo), *AT, "--format", "json", "--all-conversations"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    feeder.join(10)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert _without_names(json.loads(done.stdout)) == _from_file(capture)
    with open(capture, "rb") as stdin:
        through = subprocess.run(
            [*NETSEG, "/dev/stdin", *AT, "--format", "json", "--all-conversations"],
            stdin=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert _without_names(json.loads(through.stdout)) == _from_file(capture)


def test_ctrl_c_on_a_live_stream_judges_what_came_and_shows_progress_on_a_terminal() -> None:
    capture = CAPTURES / "esxi-incident.pcap"
    data = capture.read_bytes()
    half = len(data) // 2
    writer = _writer(capture, piece=200, pause=0.01, stop=half)
    master, slave = pty.openpty()
    try:
        netseg = subprocess.Popen(
            [*NETSEG, "-", *AT, "--format", "json"],
            stdin=writer.stdout,
            stdout=subprocess.PIPE,
            stderr=slave,
        )
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 60
        while b"frames" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                seen += os.read(master, 4096)
        assert b"frames" in seen  # the progress line, on the terminal only
        time.sleep(0.5)  # the writer has sent its half and waits
        netseg.send_signal(signal.SIGINT)
        out, _ = netseg.communicate(timeout=60)
    finally:
        writer.kill()
        writer.wait()
        assert writer.stdout is not None
        writer.stdout.close()
        os.close(master)
    doc = json.loads(out)
    (entry,) = doc["files"]
    assert entry["interrupted"] is True and 0 < entry["frames"] < 31
    assert netseg.returncode in (0, 1)  # verdicts, not "interrupted" (130)
    assert doc["totals"]["decoded"] == entry["decoded"] > 0
