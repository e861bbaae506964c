"""Golden reach results for every worked example in topologies/ (tests/data/golden/reach/).

Regenerate deliberately with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/graph/test_golden_reach.py``
and review the diff: a changed golden file is a changed answer to "who reaches what".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netseg.graph import analyse_reachability
from netseg.render.reach import render_json
from netseg.topology import load
from tests.conftest import DATA, REPO, UPDATE_GOLDEN, example_topologies

GOLDEN = DATA / "golden" / "reach"
EXAMPLES = example_topologies()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_reach_matches_golden(path: Path) -> None:
    topology = load(path, display=str(path.relative_to(REPO)))
    reach = analyse_reachability(topology)
    got = render_json(topology, reach.pairs("guests", "management"))
    golden = GOLDEN / f"{path.stem}.json"
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got)
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert json.loads(got) == json.loads(golden.read_text())


def test_every_golden_file_has_its_example() -> None:
    stems = {p.stem for p in EXAMPLES}
    orphans = sorted(g.name for g in GOLDEN.glob("*.json") if g.stem not in stems)
    assert not orphans, f"golden reach results without a topology: {orphans}"
