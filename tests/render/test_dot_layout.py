"""What Graphviz makes of the DOT (its ``dot -Tjson`` layout), on every worked example (in
``topologies/`` and ``examples/``) and the mixed fixture: no two labels overlap, no label sits on
a cluster title, a cluster's border or a node; every edge on a virtual switch's row enters the
row from the side facing its other end; the words on
the picture are true to the model (switch ports named with their switch; "tags frames" only
where the guest's tags can leave its virtual switch)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import netseg
from netseg.analysis import analyse
from netseg.render.dot import port_config, render_dot
from tests.render.diagram_sample import mixed
from tests.render.examples import EXAMPLES, example_name

ROOT = Path(__file__).resolve().parents[2]
Box = tuple[float, float, float, float]

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def layout(topology: netseg.Topology) -> dict[str, Any]:
    analysis = analyse(topology)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    out = subprocess.run(["dot", "-Tjson"], input=dot, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def text_box(ops: Iterable[Mapping[str, Any]] | None) -> Box | None:
    """The box around a label's text operations: each line from its baseline's left end (by
    its alignment) over its width, a fifth of the font size below and 0.8 of it above."""
    boxes: list[Box] = []
    size = 14.0
    for op in ops or ():
        if op.get("op") == "F":
            size = float(op["size"])
        elif op.get("op") == "T":
            x, y = (float(v) for v in op["pt"])
            w = float(op["width"])
            left = {"l": x, "r": x - w}.get(str(op.get("align")), x - w / 2)
            boxes.append((left, y - size * 0.2, left + w, y + size * 0.8))
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def crosses(box: Box, border: Box) -> bool:
    """Whether a label box cuts a cluster's border line: it overlaps the cluster's box
    without lying wholly inside it."""
    inside = border[0] <= box[0] and box[2] <= border[2] and border[1] <= box[1]
    return overlap(box, border) and not (inside and box[3] <= border[3])


def clashes(d: Mapping[str, Any]) -> list[str]:
    nsub = int(d["_subgraph_cnt"])
    objects: Sequence[Mapping[str, Any]] = d["objects"]
    titles = [
        (str(o["name"]), b)
        for o in objects[:nsub]
        if str(o["name"]).startswith("cluster") and (b := text_box(o.get("_ldraw_")))
    ]
    borders: list[tuple[str, Box]] = []
    for o in objects[:nsub]:
        if str(o["name"]).startswith("cluster") and "bb" in o:
            x1, y1, x2, y2 = (float(v) for v in str(o["bb"]).split(","))
            borders.append((str(o["name"]), (x1, y1, x2, y2)))
    nodes: list[tuple[str, Box]] = []
    for o in objects[nsub:]:
        x, y = (float(v) for v in str(o["pos"]).split(","))
        w, h = float(o["width"]) * 72 / 2, float(o["height"]) * 72 / 2
        nodes.append((str(o["name"]), (x - w, y - h, x + w, y + h)))
    labels = [
        (f"{objects[e['tail']]['name']} -> {objects[e['head']]['name']} ({kind})", b)
        for e in d["edges"]
        for kind in ("_ldraw_", "_tldraw_", "_hldraw_")
        if (b := text_box(e.get(kind)))
    ]
    found = []
    for i, (name, box) in enumerate(labels):
        for other, b in labels[i + 1 :]:
            if overlap(box, b):
                found.append(f"label {name} overlaps label {other}")
        for other, b in titles:
            if overlap(box, b):
                found.append(f"label {name} overlaps the title of {other}")
        for other, b in borders:
            if crosses(box, b):
                found.append(f"label {name} crosses the border of {other}")
        for other, b in nodes:
            if overlap(box, b):
                found.append(f"label {name} overlaps node {other}")
    return found


@pytest.mark.parametrize(
    "path", [*EXAMPLES, None], ids=lambda p: example_name(p) if p else "fixture-mixed"
)
def test_no_label_overlaps_a_label_a_cluster_title_a_border_or_a_node(path: Path | None) -> None:
    topology = netseg.load(path) if path is not None else mixed()
    assert clashes(layout(topology)) == []


def test_the_overlap_check_sees_an_overlap() -> None:
    """The check itself, on a layout with one label drawn over another and over a title."""

    def label(x: float, y: float) -> list[dict[str, Any]]:
        return [
            {"op": "F", "size": 9.0, "face": "Helvetica"},
            {"op": "T", "pt": [x, y], "align": "c", "width": 40.0, "text": "tcp/443"},
        ]

    d = {
        "_subgraph_cnt": 2,
        "objects": [
            {"name": "cluster_host:h", "_ldraw_": label(105, 52)},
            {"name": "cluster_zone:h/z", "bb": "0,0,95,60"},
            {"name": "a", "pos": "0,-100", "width": "0.5", "height": "0.5"},
            {"name": "b", "pos": "300,0", "width": "0.5", "height": "0.5"},
        ],
        "edges": [
            {"tail": 2, "head": 3, "_ldraw_": label(100, 50)},
            {"tail": 3, "head": 2, "_tldraw_": label(110, 48)},
        ],
    }
    found = clashes(d)
    assert any("overlaps label" in c for c in found)
    assert any("overlaps the title of cluster_host:h" in c for c in found)
    assert any("crosses the border of cluster_zone:h/z" in c for c in found)
    inside = {**d, "edges": [{"tail": 2, "head": 3, "_ldraw_": label(40, 20)}]}
    assert not any("border" in c for c in clashes(inside))


def wrong_sides(d: Mapping[str, Any]) -> list[str]:
    """Edges on a virtual switch's row (a ``pN`` port) whose compass side faces away from the
    other end: a guest west of the table must enter from ``w``, the privileged domain's
    interfaces and router appliances east of it from ``e``."""
    objects: Sequence[Mapping[str, Any]] = d["objects"]
    found = []

    def x(i: int) -> float:
        return float(str(objects[i]["pos"]).split(",")[0])

    for e in d["edges"]:
        for end, port_key, other in (("head", "headport", "tail"), ("tail", "tailport", "head")):
            port = str(e.get(port_key, ""))
            node = objects[e[end]]
            if not str(node["name"]).startswith("vswitch:") or not port.startswith("p"):
                continue
            side = port.rsplit(":", 1)[-1]
            facing = "w" if x(e[other]) < x(e[end]) else "e"
            if side != facing:
                found.append(f"{objects[e[other]]['name']} enters {node['name']}:{port}")
    return found


@pytest.mark.parametrize(
    "path", [*EXAMPLES, None], ids=lambda p: example_name(p) if p else "fixture-mixed"
)
def test_every_row_is_entered_from_the_side_facing_its_node(path: Path | None) -> None:
    topology = netseg.load(path) if path is not None else mixed()
    d = layout(topology)
    rows = [e for e in d["edges"] if str(e.get("headport", e.get("tailport", ""))).startswith("p")]
    assert rows, "no edge ends on a row: the test proves nothing"
    assert wrong_sides(d) == []


def guest_label(dot: str, name: str) -> str:
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"guest:{name}" ['))
    return line


def test_tags_that_cannot_leave_the_bridge_are_not_called_tagging() -> None:
    """xen-host: web01 sits on xenbr110, a bridge over the VLAN subinterface eth0.110, so its
    tags reach xenbr110's other ports and nothing else; legacy01 on the raw trunk's bridge
    tags frames onto the network."""
    topology = netseg.load(ROOT / "topologies" / "xen-host.yaml")
    analysis = analyse(topology)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    assert "tags reach only xenbr110" in guest_label(dot, "web01")
    assert "tags frames" not in guest_label(dot, "web01")
    assert "<I>tags frames</I>" in guest_label(dot, "legacy01")


def switch_rows(dot: str, switch: str) -> dict[str, str]:
    """PORT -> text of each port row of a switch's table."""
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"switch:{switch}" ['))
    assert f'<TD PORT="h" BGCOLOR="#cfd8dc"><B>{switch}</B></TD>' in line
    return dict(
        re.findall(r'<TD PORT="(q\d+)" ALIGN="LEFT"><FONT POINT-SIZE="9">(.*?)</FONT>', line)
    )


CABLED = [
    p
    for p in EXAMPLES
    if any(
        n.switch is not None and n.port is not None for h in netseg.load(p).hosts for n in h.nics
    )
]


def test_most_examples_cable_nics_to_switch_ports() -> None:
    assert len(CABLED) >= 5


@pytest.mark.parametrize("path", CABLED, ids=example_name)
def test_switch_ports_are_named_with_their_switch(path: Path) -> None:
    """Each NIC's cable ends on its port's row in its switch's table (the switch's name heads
    it), entered from the west; the row says what the port carries."""
    topology = netseg.load(path)
    analysis = analyse(topology)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    cabled = 0
    for h in topology.hosts:
        for n in h.nics:
            if n.switch is None or n.port is None:
                continue
            cabled += 1
            m = re.search(
                rf'^\s*"nic:{re.escape(h.name)}/{re.escape(n.name)}" -> '
                rf'"switch:{re.escape(n.switch)}":(q\d+):w ',
                dot,
                re.M,
            )
            assert m is not None, (h.name, n.name)
            row = switch_rows(dot, n.switch)[m.group(1)]
            sw = next(s for s in topology.switches if s.name == n.switch)
            assert row.startswith(f"{n.port}: "), row
            if sw.has_port(n.port):
                assert row == f"{n.port}: {port_config(sw.port(n.port))}"
    assert cabled


def example(name: str) -> tuple[netseg.Topology, str]:
    topology = netseg.load(ROOT / "topologies" / f"{name}.yaml")
    analysis = analyse(topology)
    return topology, render_dot(topology, analysis.reachability, analysis.findings)


def test_a_guest_with_several_nics_has_a_row_per_nic_its_edges_leave_from() -> None:
    """hyperv-host: app01's prod and heartbeat NICs are rows of its node; each edge leaves
    its NIC's row (no NIC name floats on an edge)."""
    topology, dot = example("hyperv-host")
    app01 = topology.guest("app01")
    assert len(app01.nics) > 1
    line = guest_label(dot, "app01")
    for k, nic in enumerate(app01.nics):
        assert re.search(rf'<TD PORT="n{k}" [^>]*><FONT POINT-SIZE="9">{nic.name} · ', line)
        assert re.search(rf'^\s*"guest:app01":n{k}:e -> "vswitch:', dot, re.M), nic.name
    assert not re.search(r'"guest:app01"(:\w+)* -> [^\[]*\[label=', dot)


def test_a_subinterface_uplinks_vlan_is_in_its_switch_header() -> None:
    _, dot = example("xen-host")
    line = next(
        ln for ln in dot.splitlines() if ln.strip().startswith('"vswitch:xen01/xenbr110" [')
    )
    assert "uplink eth0 VLAN 110" in line
    assert not re.search(r'"vswitch:xen01/xenbr110":h:e -> [^\[]*\[label=', dot)
