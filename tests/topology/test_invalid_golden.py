"""Every broken topology under tests/data/invalid/ gives exactly its expected located messages.

Regenerate the expectations after a deliberate change with ``UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netseg.analysis import load
from netseg.cli.main import main
from netseg.errors import TopologyError
from tests.conftest import DATA, REPO, UPDATE_GOLDEN

INVALID = DATA / "invalid"
CASES = sorted(p for p in INVALID.iterdir() if p.suffix in (".yaml", ".json"))


def _messages(path: Path) -> str:
    rel = os.path.relpath(path, REPO)
    with pytest.raises(TopologyError) as info:
        load(rel)
    return "\n".join(str(p) for p in info.value.problems) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_topology_reports_every_problem_with_its_position(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    expected_file = case.with_suffix(case.suffix + ".expected")
    actual = _messages(case)
    if UPDATE_GOLDEN or not expected_file.exists():
        expected_file.write_text(actual)
    assert actual == expected_file.read_text()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_exits_2_with_one_line_per_problem_and_no_traceback(
    case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["validate", os.path.relpath(case, REPO)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    expected = case.with_suffix(case.suffix + ".expected").read_text()
    for line in expected.splitlines():
        assert line in err


def test_every_case_has_its_expectation_committed() -> None:
    missing = [c.name for c in CASES if not c.with_suffix(c.suffix + ".expected").exists()]
    assert not missing
