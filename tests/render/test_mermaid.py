"""The Mermaid export: one subgraph per host, zone and privileged domain, a node per entity
(vswitch rows as nodes inside the vswitch's subgraph), every edge, finding edges styled; the
text parses and renders with the `mermaid` npm package in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import netseg
from netseg.analysis import analyse
from netseg.render.dot import render_dot
from netseg.render.layout import kind_and_ref
from netseg.render.mermaid import render_mermaid
from tests.render import npm
from tests.render.diagram_sample import mixed, views
from tests.render.examples import EXAMPLES, example_name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

NODE = re.compile(r"^\s+(n\d+(?:_\d+)?)(?:\{\{|>|\[\[|\[/|\(|\[)\"")
SUBGRAPH = re.compile(r"^\s+subgraph (\w+)\[")
LINK = re.compile(r"^\s+(\w+) (---|-\.->)(?:\|\"[^\"]*\"\|)? (\w+)$")


def mermaid_of(topology: netseg.Topology) -> tuple[dict[str, object], str]:
    analysis = analyse(topology)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    out = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, text=True, check=True)
    layout = json.loads(out.stdout)
    return layout, render_mermaid(layout)


def parse(text: str) -> tuple[set[str], set[str], list[tuple[str, str, str]], list[str]]:
    nodes: set[str] = set()
    subgraphs: set[str] = set()
    links: list[tuple[str, str, str]] = []
    refs: list[str] = []
    depth = 0
    for line in text.splitlines():
        if m := SUBGRAPH.match(line):
            subgraphs.add(m.group(1))
            depth += 1
        elif line.strip() == "end":
            depth -= 1
            assert depth >= 0
        elif m := NODE.match(line):
            assert m.group(1) not in nodes, f"{m.group(1)} defined twice"
            nodes.add(m.group(1))
        elif m := LINK.match(line):
            links.append((m.group(1), m.group(2), m.group(3)))
        elif line.strip().startswith("%% "):
            refs.append(line.strip()[3:])
    assert depth == 0
    return nodes, subgraphs, links, refs


@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_every_entity_cluster_and_edge_is_in_the_flowchart(path: Path) -> None:
    topology = netseg.load(path)
    layout, text = mermaid_of(topology)
    assert text.splitlines()[3] == "flowchart LR"
    nodes, subgraphs, links, refs = parse(text)
    nsub = int(layout["_subgraph_cnt"])  # type: ignore[call-overload]
    for o in layout["objects"][nsub:]:  # type: ignore[index]
        assert kind_and_ref(o["name"])[1] in refs
    for h in topology.hosts:
        assert f"host:{h.name}" in refs
        for g in topology.guests_on(h.name):
            assert f"guest:{g.name}" in refs or any(r.startswith("collapsed:") for r in refs)
    assert len(links) == len(layout["edges"])  # type: ignore[arg-type]
    for a, _, b in links:
        assert a in nodes | subgraphs and b in nodes | subgraphs


@pytest.mark.parametrize("view", ["overview", "zone", "segment"])
def test_overview_and_part_drawings_keep_every_node_and_edge(view: str) -> None:
    dot = views()[view]
    out = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, text=True, check=True)
    layout = json.loads(out.stdout)
    text = render_mermaid(layout)
    nodes, subgraphs, links, refs = parse(text)
    nsub = int(layout["_subgraph_cnt"])
    for o in layout["objects"][nsub:]:
        assert kind_and_ref(o["name"])[1] in refs
    assert len(links) == len(layout["edges"]) > 0
    for a, _, b in links:
        assert a in nodes | subgraphs and b in nodes | subgraphs
    dotted = sum(1 for _, arrow, _ in links if arrow == "-.->")
    assert dotted == dot.count('class="finding"')


def test_findings_are_dotted_red_arrows_to_the_management_interface() -> None:
    layout, text = mermaid_of(mixed())
    _, _, links, _ = parse(text)
    dotted = [i for i, (_, arrow, _) in enumerate(links) if arrow == "-.->"]
    assert len(dotted) == sum(1 for e in layout["edges"] if e.get("class") == "finding") > 0  # type: ignore[union-attr]
    for i in dotted:
        assert f"linkStyle {i} stroke:#d62728" in text
    # a hostile name never breaks the syntax: no raw quote inside a label
    for line in text.splitlines():
        if '"' in line:
            assert line.count('"') % 2 == 0


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="@@MERMAID@@"></script></head><body>
<div id="out"></div><pre id="result" style="display:none"></pre>
<script>
mermaid.initialize({startOnLoad: false, securityLevel: 'strict', flowchart: {htmlLabels: true}});
var text = @@TEXT@@;
mermaid.parse(text).then(function () { return mermaid.render('d', text); }).then(function (r) {
  document.getElementById('out').innerHTML = r.svg;
  var svg = document.querySelector('#out svg');
  document.getElementById('result').textContent = JSON.stringify({
    nodes: svg.querySelectorAll('g.node').length,
    clusters: svg.querySelectorAll('g.cluster').length,
    edges: svg.querySelectorAll('path.flowchart-link').length,
    labels: Array.from(svg.querySelectorAll('g.node')).map(function (n) { return n.textContent; })});
}).catch(function (e) { document.getElementById('result').textContent = JSON.stringify({error: String(e)}); });
</script></body></html>
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["esxi-cluster", "xen-host", "overview"])
def test_mermaid_renders_every_node_and_edge_in_chromium(name: str, tmp_path: Path) -> None:
    script = npm.package("mermaid") / "dist" / "mermaid.min.js"
    if name == "overview":  # a generated estate's overview (tests/render/diagram_sample.py)
        out = subprocess.run(
            ["dot", "-Tjson"], input=views()[name], capture_output=True, text=True, check=True
        )
        text = render_mermaid(json.loads(out.stdout))
    else:
        _, text = mermaid_of(netseg.load(ROOT / "topologies" / f"{name}.yaml"))
    nodes, subgraphs, links, _ = parse(text)
    page = PAGE.replace("@@MERMAID@@", script.as_uri()).replace(
        "@@TEXT@@", json.dumps(text).replace("</", "<\\/")
    )
    html = tmp_path / "mermaid.html"
    html.write_text(page, encoding="utf-8")
    proc = npm.chromium(
        tmp_path / "profile", "--virtual-time-budget=20000", "--dump-dom", html.as_uri()
    )
    match = re.search(r'<pre id="result"[^>]*>([^<]+)</pre>', proc.stdout)
    assert match is not None, "the page's script did not run: " + proc.stderr[-1500:]
    result = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert "error" not in result, result
    assert result["nodes"] == len(nodes)
    assert result["clusters"] == len(subgraphs)
    assert result["edges"] == len(links)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"mermaid-{name}.png"
    npm.chromium(
        tmp_path / "profile2",
        "--window-size=1600,1400",
        "--virtual-time-budget=20000",
        f"--screenshot={shot}",
        html.as_uri(),
    )
    assert shot.exists() and shot.stat().st_size > 10_000
