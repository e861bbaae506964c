"""Outputs written in chunks: the same text as the whole document, and every byte of a large
output arrives, whether written to a file, a pipe or standard output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.shapes import generate_shape
from netseg.analysis import analyse
from netseg.render.findings_json import check_document, iter_json
from netseg.render.sarif import iter_sarif, sarif_document
from netseg.topology import load
from tests.conftest import REPO, example_topologies

EXAMPLES = example_topologies()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_chunks_are_the_whole_document(path: Path) -> None:
    topology = load(path, display=str(path.relative_to(REPO)))
    findings = analyse(topology).findings
    doc = check_document(topology, findings)
    assert "".join(iter_json(topology, findings)) == json.dumps(doc, indent=2) + "\n"
    # every class a finding names is in the table, with all its members
    for f in doc["findings"]:
        for side in ("sources", "destinations"):
            cls = f["evidence"].get(side)
            if isinstance(cls, dict):
                assert len(doc["classes"][cls["class"]]) == cls["count"]
                assert doc["classes"][cls["class"]][: len(cls["examples"])] == cls["examples"]
    sarif = sarif_document(topology, findings)
    text = json.dumps(sarif, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert "".join(iter_sarif(topology, findings)) == text


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 guests on one VLAN with 80 hosts' management interfaces: 320,000 pairs, a JSON
    Lines output of about 125 MB."""
    path = tmp_path_factory.mktemp("flat") / "flat.json"
    path.write_text(json.dumps(generate_shape("flat", 4000)))
    return path


def _total(path: Path) -> int:
    """The number of pairs the document itself states: the text summary's total."""
    text = subprocess.run(
        [*NETSEG, "reach", str(path)], check=True, cwd=REPO, capture_output=True, text=True
    ).stdout
    m = re.search(r": ([0-9,]+) reachable pairs in ", text)
    assert m is not None, text
    return int(m.group(1).replace(",", ""))


NETSEG = [sys.executable, "-m", "netseg.cli.main"]
# the command, then its own peak resident memory on standard error (VmHWM is the process's
# own after exec; wait4's ru_maxrss would include what the forking test process held)
_PEAK = (
    "import sys\nfrom netseg.cli.main import main\ncode = main(sys.argv[1:])\n"
    "try:\n    sys.stderr.write(open('/proc/self/status').read())\n"
    "except OSError:\n    pass\nsys.exit(code)"
)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "text"])
def test_a_large_stream_arrives_whole_to_a_file_a_pipe_and_stdout(
    flat: Path, fmt: str, tmp_path: Path
) -> None:
    expected = _total(flat)
    assert expected == 4000 * 80  # every guest reaches every host's management interface
    extra = {"jsonl": 0, "csv": 1, "text": 3}[fmt]  # CSV header; table head, blank, total
    every = ["--all", "--explain"] if fmt == "text" else []  # text: every pair, hop by hop
    cmd = [*NETSEG, "reach", str(flat), "--format", fmt, *every]
    # a file, written atomically; memory stays well below the output's size
    out = tmp_path / f"pairs.{fmt}"
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *cmd[3:], "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    to_file = out.read_bytes()
    lines = to_file.splitlines()
    if fmt == "text":  # a pair's hops are the lines under it
        lines = [line for line in lines if not line.startswith(b"    ")]
    assert len(lines) == expected + extra
    peak = re.search(r"VmHWM:\s+(\d+) kB", done.stderr)
    if peak is not None:  # Linux: the peak resident memory of the command itself
        # holding the output whole would cost its size on top of the interpreter's own
        assert int(peak.group(1)) * 1024 < len(to_file), "the output was held in memory"
    if fmt == "text":
        assert to_file.endswith(
            f"{expected} reachable pairs, {expected} violating the policy\n".encode()
        )
    # a pipe, read while it is written
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=REPO) as reader:
        assert reader.stdout is not None
        piped = bytearray()
        while chunk := reader.stdout.read(1 << 20):
            piped += chunk
    assert reader.returncode == 0 and piped == to_file
    # standard output redirected to a file
    with (tmp_path / "stdout").open("wb") as fh:
        subprocess.run(cmd, stdout=fh, check=True, cwd=REPO)
    assert (tmp_path / "stdout").read_bytes() == to_file
    if fmt == "jsonl":
        first = json.loads(to_file.splitlines()[0])
        assert first["from"].startswith("guest:") and first["to"].startswith("management:")


def test_a_full_device_is_one_message_and_exit_2(flat: Path) -> None:
    """Writing to /dev/full fails with ENOSPC: the command says so, in one line, with the
    exit code of an output error, instead of exiting 0 with nothing written."""
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full (a device whose writes fail with ENOSPC) is not present")
    cmd = [*NETSEG, "reach", str(flat), "--format", "jsonl"]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, cwd=REPO, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "standard output: cannot be written: No space left on device" in done.stderr
    assert "incomplete" in done.stderr
    done = subprocess.run([*cmd, "-o", "/dev/full"], capture_output=True, cwd=REPO, text=True)
    assert done.returncode == 2 and "/dev/full: cannot be written" in done.stderr


def test_a_pipe_closed_early_is_one_message_and_exit_2(flat: Path) -> None:
    """``netseg reach … | head -c 100``: the reader goes away; netseg says that its output
    is incomplete (exit 2) instead of dying silently of SIGPIPE."""
    cmd = [*NETSEG, "reach", str(flat), "--format", "jsonl"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO) as child:
        assert child.stdout is not None and child.stderr is not None
        assert len(child.stdout.read(100)) == 100
        child.stdout.close()  # 125 MB to come: far more than a pipe buffers
        err = child.stderr.read().decode()
    assert child.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "standard output: cannot be written: the reader closed the pipe" in err
    assert "the output is incomplete" in err
