"""The report in a real browser (headless Chromium): the table, matrix and diagram render,
the filters work, the page fetches nothing. Skipped where Chromium is not installed (CI
installs Debian's `chromium`). A screenshot is left in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netseg.analysis import analyse
from netseg.render.diagram import dot_available, render, svg_for_html
from netseg.render.dot import render_dot
from netseg.render.html import render_report
from tests.render.diagram_sample import mixed

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    topology = mixed()
    analysis = analyse(topology)
    reach = analysis.reachability
    dot = render_dot(topology, reach, analysis.findings)
    svg = svg_for_html(render(dot, "svg")) if dot_available() else None
    out = tmp_path_factory.mktemp("report") / "report.html"
    out.write_text(render_report(topology, analysis, svg), encoding="utf-8")
    return out


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_report_renders_filters_and_fetches_nothing(page: Path, tmp_path: Path) -> None:
    proc = chromium(tmp_path / "profile", "--dump-dom", page.as_uri() + "#selftest")
    dom = proc.stdout
    assert 'id="findings-table"' in dom and 'id="zone-matrix"' in dom, proc.stderr[-2000:]
    match = re.search(r'<pre id="selftest" data-done="1">([^<]*)</pre>', dom)
    assert match is not None, "the page's script did not run"
    result = json.loads(match.group(1).replace("&quot;", '"'))

    analysis = analyse(mixed())
    assert result["rows"] == result["all"] == len(analysis.findings)
    assert result["critical"] == sum(1 for f in analysis.findings if f.severity == "critical")
    assert result["rule_rows"] == len(analysis.by_rule(result["rule"]))
    assert result["unwaived"] == len(analysis.active) < len(analysis.findings)
    zones = {a.zone for a in analysis.reachability.attachments if a.zone} | set(mixed().zones)
    assert result["matrix_cells"] == len(zones) ** 2
    assert result["svg"] == (1 if dot_available() else 0)
    # the page itself loaded no resource and the content policy refused nothing
    assert result["resources"] == 0
    assert result["csp_violations"] == 0


def test_report_with_captures_renders_them(tmp_path: Path) -> None:
    from netseg.cli.main import main

    topology = str(ROOT / "topologies" / "esxi-cluster.yaml")
    capture = str(ROOT / "captures" / "esxi-incident.pcap")
    out = tmp_path / "incident.html"
    args = ["--capture", capture, "--at", "tor1:Eth1/11"]
    assert main(["report", topology, "-o", str(out), *args]) == 0
    replay_json = tmp_path / "replay.json"
    main(["replay", topology, *args[1:], "--format", "json", "-o", str(replay_json)])
    expected = json.loads(replay_json.read_text(encoding="utf-8"))

    proc = chromium(tmp_path / "profile", "--dump-dom", out.as_uri() + "#selftest")
    match = re.search(r'<pre id="selftest" data-done="1">([^<]*)</pre>', proc.stdout)
    assert match is not None, "the page's script did not run"
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert result["capture_findings"] == len(expected["findings"]) > 0
    violating = [c for c in expected["conversations"] if c["verdict"] == "violation"]
    assert result["capture_violations"] == len(violating) > 0
    assert result["resources"] == 0 and result["csp_violations"] == 0


def test_screenshot_at_1280(page: Path, tmp_path: Path) -> None:
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report-1280.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
