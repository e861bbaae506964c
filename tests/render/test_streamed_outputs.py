"""Outputs written in chunks: the same text as the whole document, and every byte of a large
output arrives, whether written to a file, a pipe or standard output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.shapes import generate_shape
from netseg.analysis import analyse
from netseg.graph import analyse_reachability, class_pairs
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
    path = tmp_path_factory.mktemp("flat") / "flat.json"
    path.write_text(json.dumps(generate_shape("flat", 2000)))
    return path


def _pairs(path: Path) -> int:
    reach = analyse_reachability(load(path))
    return sum(
        c.pairs for c in class_pairs(reach, reach.select("guests"), reach.select("management"))
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_large_stream_arrives_whole_to_a_file_a_pipe_and_stdout(
    flat: Path, fmt: str, tmp_path: Path
) -> None:
    expected = _pairs(flat)
    assert expected == 2000 * 40  # every guest reaches every host's management interface
    header = 1 if fmt == "csv" else 0
    cmd = [sys.executable, "-m", "netseg.cli.main", "reach", str(flat), "--format", fmt]
    # a file, written atomically
    out = tmp_path / f"pairs.{fmt}"
    subprocess.run([*cmd, "-o", str(out)], check=True, cwd=REPO)
    to_file = out.read_bytes()
    assert to_file.count(b"\n") == expected + header
    # a pipe, read while it is written
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=REPO) as child:
        assert child.stdout is not None
        piped = b""
        while chunk := child.stdout.read(1 << 16):
            piped += chunk
    assert child.returncode == 0 and piped == to_file
    # standard output redirected to a file
    with (tmp_path / "stdout").open("wb") as fh:
        subprocess.run(cmd, stdout=fh, check=True, cwd=REPO)
    assert (tmp_path / "stdout").read_bytes() == to_file
    if fmt == "jsonl":
        first = json.loads(to_file.splitlines()[0])
        assert first["from"].startswith("guest:") and first["to"].startswith("management:")


def test_a_full_device_is_an_error_not_a_short_output(flat: Path) -> None:
    """Writing to /dev/full fails: the command says so instead of exiting 0 with nothing."""
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is not available here")
    cmd = [sys.executable, "-m", "netseg.cli.main", "reach", str(flat), "--format", "jsonl"]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, cwd=REPO)
    assert done.returncode != 0
