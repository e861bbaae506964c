"""The benchmark harness runs end to end in quick mode and reports every figure.

No timing is asserted: the machines are shared and noisy, and small inputs mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness import FIGURES
from bench.shape_table import plan

REPO = Path(__file__).resolve().parents[2]


def test_quick_mode_reports_every_figure_as_numbers(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--cache",
            str(tmp_path / "cache"),
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())["figures"]
    assert list(figures) == list(FIGURES)
    for name, f in figures.items():
        assert isinstance(f["netseg"], float) and f["netseg"] > 0, name
        if f["peer"] is not None:
            assert isinstance(f["ratio"], float) and f["ratio"] > 0, name
        if f["target"]:
            assert isinstance(f["met"], bool), name
    # The table on the terminal has one row per figure.
    figures_table, _, shapes_table = done.stdout.partition("\n\n")
    rows = [line.split()[0] for line in figures_table.splitlines()[2:] if line.strip()]
    assert rows == list(FIGURES)
    # The shape table: every shape at both quick sizes, each check completed with its figures,
    # and the streamed reach of the flat shape.
    shapes = json.loads(out.read_text())["shapes"]
    checks = [r for r in shapes if r["command"].startswith("check")]
    assert [(r["shape"], r["guests"]) for r in checks] == [
        (shape, size) for shape, sizes in plan(quick=True) for size in sizes
    ]
    for r in shapes:
        assert r["outcome"] == "ok", r
        assert r["wall"] > 0 and r["rss_mb"] > 0 and r["output_bytes"] > 0, r
        assert isinstance(r["findings"], int), r
    assert [r["command"] for r in shapes if r["command"].startswith("reach")] == [
        "reach --format jsonl"
    ]
    assert len(shapes_table.splitlines()) == 2 + len(shapes)
