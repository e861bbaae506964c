"""bench/diagram.py: the overview's split per step covers every step and writes the SVG."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench import diagram
from bench.shapes import generate_shape


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_the_split_times_every_step_of_the_overview(tmp_path: Path) -> None:
    topology = tmp_path / "estate.json"
    topology.write_text(json.dumps(generate_shape("flat", 600)), encoding="utf-8")
    result = diagram.measure([sys.executable, "-m", "netseg.cli.main"], topology, tmp_path)
    assert list(result.phases) == list(diagram.STEPS)
    assert all(v["cpu"] >= 0 and v["wall"] >= 0 for v in result.phases.values())
    assert result.wall > 0 and result.cpu > 0
    for svg in ("overview.svg", "overview-2.svg"):
        assert "overview:" in (tmp_path / svg).read_text(encoding="utf-8")
