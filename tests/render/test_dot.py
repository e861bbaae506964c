"""The DOT a design review gets: golden drawings of every worked example, determinism, the
collapse of crowded port groups, red finding edges, safe escaping, one-host drawings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import netseg
from netseg.analysis import analyse
from netseg.errors import SelectorError
from netseg.render.dot import HIGHLIGHT_RULES, render_dot
from tests.render.diagram_sample import MIXED, crowd, mixed
from tests.render.examples import EXAMPLES, example_name

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden" / "dot"
HAVE_DOT = shutil.which("dot") is not None


def draw(topology: netseg.Topology, **kw: object) -> str:
    analysis = analyse(topology)
    return render_dot(topology, analysis.reachability, analysis.findings, **kw)  # type: ignore[arg-type]


def example_dot(path: Path) -> str:
    return draw(netseg.load(path))


def check_golden(name: str, dot: str) -> None:
    golden = GOLDEN / f"{name}.dot"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(dot, encoding="utf-8")
    assert golden.exists(), f"no golden {golden}; run with UPDATE_GOLDEN=1"
    assert dot == golden.read_text(encoding="utf-8"), (
        f"{name}: the DOT changed; review it, then UPDATE_GOLDEN=1 to accept"
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_worked_example_matches_golden(path: Path) -> None:
    check_golden(example_name(path), example_dot(path))


def test_every_golden_has_a_worked_example() -> None:
    """A removed or renamed example leaves no stale golden behind."""
    names = {example_name(p) for p in EXAMPLES} | {"fixture-mixed"}
    stale = sorted(p.name for p in GOLDEN.glob("*.dot") if p.stem not in names)
    assert not stale


def test_fixture_matches_golden() -> None:
    check_golden("fixture-mixed", draw(mixed()))


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz dot not installed")
@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_worked_example_lays_out(path: Path) -> None:
    proc = subprocess.run(["dot", "-Tsvg"], input=example_dot(path).encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Warning" not in proc.stderr, proc.stderr.decode()


def test_same_topology_gives_identical_dot() -> None:
    assert draw(mixed()) == draw(mixed())


def test_declaration_order_does_not_change_the_drawing() -> None:
    """Guests listed in another order draw the same: iteration is sorted, not by position."""
    head, _, guests = MIXED.partition("guests:\n")
    lines = guests.strip("\n").split("\n")
    reordered = head + "guests:\n" + "\n".join(reversed(lines)) + "\n"
    assert draw(netseg.loads(reordered, file="tests/mixed.yaml")) == draw(mixed())


def test_host_cluster_titles_name_the_privileged_domain() -> None:
    dot = draw(mixed())
    assert "esx01 (esxi) — privileged domain: vmkernel" in dot
    assert "xen1 (xen) — privileged domain: dom0" in dot
    assert "hv01 (hyperv) — privileged domain: management OS" in dot


def test_management_interfaces_are_orange_octagons() -> None:
    dot = draw(mixed())
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith('"management:esx01/vmk0" ['))
    assert 'shape="octagon"' in line and 'fillcolor="#ffb366"' in line


def test_trunk_links_show_range_and_native_vlan() -> None:
    dot = draw(mixed())
    tor1 = next(ln for ln in dot.splitlines() if ln.strip().startswith('"switch:tor1" ['))
    core = next(ln for ln in dot.splitlines() if ln.strip().startswith('"switch:core" ['))
    assert ">Eth1/1: trunk 10-99 (native 1)<" in tor1
    assert ">Eth1/2: access VLAN 99<" in tor1
    # a switch-to-switch link joins the two ports' rows, each saying what it carries
    assert ">Eth1/48: trunk 5-99 (native 1)<" in tor1 and ">Eth1/48: trunk 5-99 (native 1)<" in core
    assert re.search(r'^\s*"switch:tor1":q\d+:e -> "switch:core":q\d+:w ', dot, re.M)


def test_legend_lists_each_coloured_segment_once() -> None:
    dot = draw(mixed())
    legend = next(ln for ln in dot.splitlines() if ln.strip().startswith("legend ["))
    labels = re.findall(r'<TD ALIGN="LEFT">(\d+): ', legend)
    assert labels == sorted(set(labels), key=int) and labels


# --- highlighted findings ----------------------------------------------------------------


def finding_edges(dot: str) -> list[str]:
    return [ln.strip() for ln in dot.splitlines() if 'class="finding"' in ln]


def node_line(dot: str, ref: str) -> str:
    return next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"{ref}" ['))


def finding_text(dot: str, guest: str) -> list[str]:
    """The red lines of a guest's node: its highlighted findings' statements."""
    m = re.search(r'<FONT COLOR="#d62728" POINT-SIZE="9">(.*?)</FONT>', node_line(dot, guest))
    return m.group(1).split("<BR/>") if m else []


def test_guest_reaching_management_is_a_red_dashed_edge_with_services() -> None:
    dot = draw(mixed())
    edges = finding_edges(dot)
    web01 = [e for e in edges if e.startswith('"guest:web01" -> "management:esx01/vmk0"')]
    assert len(web01) == 1
    assert 'style="dashed"' in web01[0] and 'color="#d62728"' in web01[0]
    # the statement is in the guest's node (where no label can overlap it), not on the edge
    assert "label" not in web01[0]
    assert "→ vmk0: any" in finding_text(dot, "guest:web01")


def test_guest_that_can_tag_the_management_vlan_is_highlighted() -> None:
    lines = finding_text(draw(mixed()), "guest:ids")
    assert "→ vmk0: can tag VLAN 99" in lines
    assert "→ vmk0: any except tcp/443" in lines  # its L2 reach, shorter than the complement


def test_waived_findings_are_not_highlighted() -> None:
    dot = draw(mixed())
    edges = finding_edges(dot)
    # waived-vm's guest-reaches-management findings (to esx01/vmk0 and xen1/xenbr0) are
    # waived; only the unwaived VLAN tagging finding (to esx01/vmk0) remains
    mine = [e.split(" [")[0] for e in edges if e.startswith('"guest:waived-vm" ->')]
    assert mine == ['"guest:waived-vm" -> "management:esx01/vmk0"']
    assert finding_text(dot, "guest:waived-vm") == ["→ esx01/vmk0: can tag VLAN 99"]


def test_highlight_none_draws_no_finding_edges() -> None:
    assert finding_edges(draw(mixed()))
    assert finding_edges(draw(mixed(), highlight="none")) == []


# --- crowds ------------------------------------------------------------------------------


def guest_nodes(dot: str) -> list[str]:
    return re.findall(r'^\s*"guest:([^"]+)" \[', dot, re.M)


def test_twelve_guests_on_a_port_group_are_drawn_one_by_one() -> None:
    dot = draw(crowd(12))
    assert len(guest_nodes(dot)) == 12
    assert "collapsed:" not in dot


def test_thirteen_guests_on_a_port_group_collapse_into_one_node() -> None:
    dot = draw(crowd(13))
    assert guest_nodes(dot) == []
    assert "<B>13 guests</B><BR/>on prod" in dot


def test_collapse_keeps_guests_with_highlighted_findings_visible() -> None:
    dot = draw(crowd(40, reaching=2))
    assert guest_nodes(dot) == ["vm0000", "vm0001"]
    assert "<B>38 guests</B><BR/>on prod" in dot
    assert len(finding_edges(dot)) == 2


def test_collapse_keeps_zones_apart() -> None:
    dot = draw(crowd(30, zones=2))
    assert dot.count("<B>15 guests</B><BR/>on prod") == 2
    assert '"cluster_zone:esx01/z0"' in dot and '"cluster_zone:esx01/z1"' in dot


# --- names, hosts ------------------------------------------------------------------------


def test_hostile_names_are_escaped() -> None:
    dot = draw(mixed())
    assert "web02 &lt;b&gt;&amp;amp;" in dot
    assert "db &quot;01&quot;" in dot
    assert "mixed &quot;lab&quot; &lt;&amp;&gt;" in dot
    # identifiers never carry a raw quote or backslash
    for ident in re.findall(r'"((?:guest|cluster_zone|vswitch|nic):[^"]*)"', dot):
        assert "\\" not in ident and "<" not in ident


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz dot not installed")
def test_hostile_names_lay_out() -> None:
    proc = subprocess.run(["dot", "-Tsvg"], input=draw(mixed()).encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "tool\\" in proc.stdout.decode() and "a/b c" in proc.stdout.decode()


def test_one_host_draws_its_switches_routers_and_endpoints_only() -> None:
    dot = draw(mixed(), host="hv01")
    assert '"cluster_host:hv01"' in dot
    assert '"cluster_host:esx01"' not in dot and "core-fw" not in dot
    assert '"switch:upstream"' in dot
    dot = draw(mixed(), host="host:esx01")
    assert '"cluster_host:xen1"' not in dot
    for drawn in ('"switch:tor1" [', '"switch:core" [', '"router:core-fw" [', '"endpoint:jump1" ['):
        assert drawn in dot


def test_one_host_drawing_keeps_the_full_drawings_colours() -> None:
    full = draw(mixed())
    one = draw(mixed(), host="esx01")
    pattern = r'"guest:web01" \[.*?fillcolor="(#[0-9a-f]{6})"'
    assert re.search(pattern, full).group(1) == re.search(pattern, one).group(1)  # type: ignore[union-attr]


def test_unknown_host_names_the_known_ones() -> None:
    with pytest.raises(SelectorError, match=r"no host 'esx9'.*esx01, hv01, xen1"):
        draw(mixed(), host="esx9")


# --- the highlighted findings ------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_highlighted_findings_match_the_full_analysis(path: Path) -> None:
    """The diagram's analysis of its two rules finds exactly what the full one reports."""
    topology = netseg.load(path)
    analysis = analyse(topology)
    full = [f for f in analysis.findings if f.rule in HIGHLIGHT_RULES]
    subset = analyse(topology, analysis.reachability, rules=HIGHLIGHT_RULES)
    assert list(subset.findings) == full


def test_highlighted_findings_respect_waivers() -> None:
    topology = mixed()
    analysis = analyse(topology)
    full = [f for f in analysis.findings if f.rule in HIGHLIGHT_RULES]
    assert any(f.waived for f in full)
    subset = analyse(topology, analysis.reachability, rules=HIGHLIGHT_RULES)
    assert list(subset.findings) == full


def test_a_finding_per_class_draws_an_edge_per_member_pair() -> None:
    """A finding made per (source class, destination class) stands for every member pair:
    each guest of its source class gets a red edge to each interface of its destination
    class, not only the finding's subject to its object."""
    from netseg.graph import Reachability
    from netseg.render.dot import node_id
    from tests.conftest import example_topologies

    multi = 0
    for topology in [mixed(), *(netseg.load(p) for p in example_topologies())]:
        reach = Reachability(topology)
        analysis = analyse(topology, reach, rules=HIGHLIGHT_RULES)
        edges = finding_edges(render_dot(topology, reach, list(analysis.findings)))
        for f in analysis.findings:
            if f.rule != "guest-reaches-management" or f.waived:
                continue
            sources, targets = f.classes[f.identity[0]], f.classes[f.identity[1]]
            multi += len(sources) > 1 or len(targets) > 1
            for source in sources:
                guest = netseg.model.refs.last(source)[0]
                for target in targets:
                    assert any(
                        e.startswith(f"{node_id('guest:' + guest)} -> {node_id(target)}")
                        for e in edges
                    ), (topology.name, source, target)
    assert multi, "no class with several members among the examples: the test proves nothing"
