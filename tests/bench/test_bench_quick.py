"""The benchmark harness runs end to end in quick mode and reports every figure.

No timing is asserted: the machines are shared and noisy, and small inputs mean nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness import FIGURES

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
    rows = [line.split()[0] for line in done.stdout.splitlines()[2:] if line.strip()]
    assert rows == list(FIGURES)
