"""The draw.io export: every entity and edge of the Graphviz drawing is in the file, at
Graphviz's coordinates, inside its host and zone containers, carrying its entity reference;
the XML parses; finding edges and the privileged domain are styled. Then the file rendered by
mxGraph (the library diagrams.net draws with) in headless Chromium: every cell is drawn."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import netseg
from netseg.analysis import analyse
from netseg.render.diagram import render
from netseg.render.dot import render_dot
from netseg.render.drawio import render_drawio
from netseg.render.layout import kind_and_ref
from tests.render import npm
from tests.render.diagram_sample import mixed, views
from tests.render.examples import EXAMPLES, example_name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def layout_of(topology: netseg.Topology) -> tuple[str, dict[str, object]]:
    analysis = analyse(topology)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    out = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, text=True, check=True)
    return dot, json.loads(out.stdout)


def objects(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {o.attrib["id"]: o for o in root.iter("object")}


@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_every_node_cluster_and_edge_is_in_the_file(path: Path) -> None:
    topology = netseg.load(path)
    _, layout = layout_of(topology)
    xml = render_drawio(layout)
    cells = objects(xml)
    refs = {o.attrib["netseg_ref"] for o in cells.values() if "netseg_ref" in o.attrib}
    nsub = int(layout["_subgraph_cnt"])  # type: ignore[call-overload]
    nodes = layout["objects"][nsub:]  # type: ignore[index]
    assert {kind_and_ref(n["name"])[1] for n in nodes} <= refs
    for h in topology.hosts:
        assert f"host:{h.name}" in refs
        for g in topology.guests_on(h.name):
            assert f"guest:{g.name}" in refs or any(r.startswith("collapsed:") for r in refs)
    edges = [o for o in cells.values() if o.find("mxCell").attrib.get("edge") == "1"]  # type: ignore[union-attr]
    assert len(edges) == len(layout["edges"])  # type: ignore[arg-type]
    ids = set(cells) | {"0", "1"}
    for e in edges:
        cell = e.find("mxCell")
        assert cell is not None
        assert cell.attrib["source"] in ids and cell.attrib["target"] in ids


@pytest.mark.parametrize("view", ["overview", "zone", "segment"])
def test_overview_and_part_drawings_keep_every_node_and_edge(view: str) -> None:
    """The overview (zones, segment groups, privileged domains) and the --zone / --segment
    details export like the full drawing: every node with its reference, every edge with
    ends that exist, the findings flagged."""
    dot = views()[view]
    out = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, text=True, check=True)
    layout = json.loads(out.stdout)
    cells = objects(render_drawio(layout))
    refs = {o.attrib["netseg_ref"] for o in cells.values() if "netseg_ref" in o.attrib}
    nsub = int(layout["_subgraph_cnt"])
    assert {kind_and_ref(n["name"])[1] for n in layout["objects"][nsub:]} <= refs
    edges = [o for o in cells.values() if o.find("mxCell").attrib.get("edge") == "1"]  # type: ignore[union-attr]
    assert len(edges) == len(layout["edges"]) > 0
    ids = set(cells) | {"0", "1"}
    for e in edges:
        cell = e.find("mxCell")
        assert cell is not None and {cell.attrib["source"], cell.attrib["target"]} <= ids
    flagged = sum(1 for o in cells.values() if o.attrib.get("netseg_finding") == "1")
    assert flagged == dot.count('class="finding"')
    if view == "overview":
        assert flagged > 0 and any(r.startswith("privileged-domain:") for r in refs)


def test_guests_sit_in_their_zone_inside_their_host_at_graphviz_coordinates() -> None:
    topology = mixed()
    _, layout = layout_of(topology)
    cells = objects(render_drawio(layout))
    by_ref = {
        o.attrib["netseg_ref"]: o
        for o in cells.values()
        if o.attrib.get("netseg_kind") not in ("cell", None) and "netseg_ref" in o.attrib
    }
    guest = next(g for g in topology.guests if f"guest:{g.name}" in by_ref)
    zone_cell = by_ref[f"zone:{guest.host}/{guest.zone}"]
    host_cell = by_ref[f"host:{guest.host}"]
    g_cell = by_ref[f"guest:{guest.name}"].find("mxCell")
    assert g_cell is not None and g_cell.attrib["parent"] == zone_cell.attrib["id"]
    z_cell = zone_cell.find("mxCell")
    assert z_cell is not None and z_cell.attrib["parent"] == host_cell.attrib["id"]
    assert "container=1" in z_cell.attrib["style"]
    # the guest's absolute centre is Graphviz's, with the y axis turned downwards
    node = next(o for o in layout["objects"] if o.get("name") == f"guest:{guest.name}")  # type: ignore[union-attr]
    cx, cy = (float(v) for v in node["pos"].split(","))
    height = float(layout["bb"].split(",")[3])  # type: ignore[union-attr]

    def absolute(cell_id: str) -> tuple[float, float]:
        c = cells[cell_id].find("mxCell")
        assert c is not None
        geo = c.find("mxGeometry")
        assert geo is not None
        x, y = float(geo.attrib["x"]), float(geo.attrib["y"])
        if c.attrib["parent"] in cells:
            px, py = absolute(c.attrib["parent"])
            return x + px, y + py
        return x, y

    x, y = absolute(g_cell.attrib.get("id", by_ref[f"guest:{guest.name}"].attrib["id"]))
    geo = g_cell.find("mxGeometry")
    assert geo is not None
    assert abs(x + float(geo.attrib["width"]) / 2 - cx) < 0.02
    assert abs(y + float(geo.attrib["height"]) / 2 - (height - cy)) < 0.02


def test_findings_and_the_privileged_domain_are_styled_and_rows_are_edge_ends() -> None:
    topology = mixed()
    dot, layout = layout_of(topology)
    cells = objects(render_drawio(layout))
    findings = [o for o in cells.values() if o.attrib.get("netseg_finding") == "1"]
    assert len(findings) == dot.count('class="finding"') > 0
    for f in findings:
        style = f.find("mxCell").attrib["style"]  # type: ignore[union-attr]
        assert "dashed=1" in style and "#d62728" in style
        assert f.attrib["netseg_from"].startswith("guest:")
        assert f.attrib["netseg_to"].startswith("management:")
    mgmt = [o for o in cells.values() if o.attrib.get("netseg_kind") == "management"]
    assert mgmt and all("#ffb366" in o.find("mxCell").attrib["style"] for o in mgmt)  # type: ignore[union-attr]
    # an edge drawn to a port group's row ends on that row's cell, not on the whole table
    row_ends = [
        o
        for o in cells.values()
        if o.find("mxCell").attrib.get("edge") == "1" and "." in o.find("mxCell").attrib["target"]  # type: ignore[union-attr]
    ]
    assert len(row_ends) >= dot.count(":w ") + dot.count(":w;") - 1


def test_the_cli_writes_a_drawio_file(tmp_path: Path) -> None:
    from netseg.cli.main import main

    out = tmp_path / "d.drawio"
    assert main(["diagram", str(EXAMPLES[0]), "-o", str(out)]) == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.tag == "mxfile" and root.attrib["compressed"] == "false"
    assert (
        render(
            render_dot(
                netseg.load(EXAMPLES[0]),
                analyse(netseg.load(EXAMPLES[0])).reachability,
                analyse(
                    netseg.load(EXAMPLES[0]),
                    rules=("guest-reaches-management", "guest-can-tag-management-vlan"),
                ).findings,
            ),
            "drawio",
        )
        == out.read_bytes()
    )


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script>var mxBasePath = "@@BASE@@"; var mxLoadResources = false; var mxLoadStylesheets = false;</script>
<script src="@@BASE@@/js/mxClient.js"></script></head>
<body style="margin:0"><div id="graph" style="position:absolute;left:0;top:0;width:WIDTHpx;height:HEIGHTpx"></div>
<pre id="result" style="display:none"></pre>
<script>var XMLTEXT = @@XML@@;</script>
<script>
try {
  var xml = XMLTEXT;
  var doc = mxUtils.parseXml(xml);
  var graph = new mxGraph(document.getElementById('graph'));
  graph.foldingEnabled = false;
  graph.setHtmlLabels(true);
  graph.convertValueToString = function (cell) {
    var v = cell.value; return (v && v.getAttribute) ? (v.getAttribute('label') || '') : (v || '');
  };
  var codec = new mxCodec(doc);
  codec.decode(doc.getElementsByTagName('mxGraphModel')[0], graph.getModel());
  var model = graph.getModel(), vertices = 0, edges = 0, drawn = 0, refs = [];
  for (var id in model.cells) {
    var c = model.cells[id];
    if (c.vertex) vertices++;
    if (c.edge) edges++;
    if ((c.vertex || c.edge) && graph.view.getState(c) && graph.view.getState(c).shape &&
        graph.view.getState(c).shape.node && graph.view.getState(c).shape.node.ownerSVGElement) drawn++;
    if (c.value && c.value.getAttribute && c.value.getAttribute('netseg_ref')) refs.push(c.value.getAttribute('netseg_ref'));
  }
  document.getElementById('result').textContent = JSON.stringify(
    {vertices: vertices, edges: edges, drawn: drawn, refs: refs.sort(),
     paths: document.querySelectorAll('#graph svg path').length});
} catch (e) { document.getElementById('result').textContent = JSON.stringify({error: String(e)}); }
</script></body></html>
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["esxi-cluster", "hyperv-host", "overview"])
def test_mxgraph_draws_every_cell_in_chromium(name: str, tmp_path: Path) -> None:
    base = npm.package("mxgraph") / "javascript" / "src"
    if not (base / "js" / "mxClient.js").exists():
        base = npm.package("mxgraph") / "javascript"
    if name == "overview":  # a generated estate's overview (tests/render/diagram_sample.py)
        out = subprocess.run(
            ["dot", "-Tjson"], input=views()[name], capture_output=True, text=True, check=True
        )
        layout = json.loads(out.stdout)
    else:
        _, layout = layout_of(netseg.load(ROOT / "topologies" / f"{name}.yaml"))
    xml = render_drawio(layout)
    cells = objects(xml)
    want_edges = sum(1 for o in cells.values() if o.find("mxCell").attrib.get("edge") == "1")  # type: ignore[union-attr]
    want_vertices = len(cells) - want_edges
    bb = [float(v) for v in str(layout["bb"]).split(",")]
    page = (
        PAGE.replace("@@BASE@@", base.as_uri())
        .replace("WIDTH", str(int(bb[2]) + 20))
        .replace("HEIGHT", str(int(bb[3]) + 20))
        .replace("@@XML@@", json.dumps(xml).replace("</", "<\\/"))
    )
    html = tmp_path / "drawio.html"
    html.write_text(page, encoding="utf-8")
    proc = npm.chromium(
        tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", html.as_uri()
    )
    match = re.search(r'<pre id="result"[^>]*>([^<]+)</pre>', proc.stdout)
    assert match is not None, "the page's script did not run: " + proc.stderr[-1500:]
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert "error" not in result, result
    assert result["vertices"] == want_vertices and result["edges"] == want_edges
    assert result["drawn"] == want_vertices + want_edges  # every cell has an SVG shape
    assert result["refs"] == sorted(
        o.attrib["netseg_ref"] for o in cells.values() if "netseg_ref" in o.attrib
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"drawio-{name}.png"
    npm.chromium(
        tmp_path / "profile2",
        f"--window-size={int(bb[2]) + 20},{int(bb[3]) + 20}",
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        html.as_uri(),
    )
    assert shot.exists() and shot.stat().st_size > 10_000
