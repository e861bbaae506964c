"""The estate overview (netseg.render.overview) and the detail selectors: a large estate is
drawn as zones, segment groups and privileged domains with counts true to the model, its
violations overlaid; --view forces either drawing; --zone and --segment draw the detail of a
part; the CLI picks the overview by itself past the threshold."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

import netseg
from netseg.analysis import analyse
from netseg.errors import SelectorError
from netseg.render.dot import HIGHLIGHT_RULES, render_dot
from netseg.render.overview import OVERVIEW_GUESTS, OVERVIEW_HOSTS, wants_overview
from tests.render.diagram_sample import estate, mixed
from tests.render.examples import EXAMPLES, example_name


def draw(topology: netseg.Topology, **kw: object) -> str:
    analysis = analyse(topology, rules=HIGHLIGHT_RULES)
    return render_dot(topology, analysis.reachability, analysis.findings, **kw)  # type: ignore[arg-type]


def labels(dot: str, prefix: str) -> dict[str, str]:
    """Node id -> its label text, for the nodes whose id starts with ``prefix``."""
    found = re.findall(rf'^\s*"({prefix}[^"]*)" \[label=<(.*?)>, ', dot, re.M)
    return {unquote(ref): label for ref, label in found}


def count(text: str, word: str) -> int:
    m = re.search(rf"([\d,]+) {word}", text)
    assert m is not None, (word, text)
    return int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("path", EXAMPLES, ids=example_name)
def test_the_examples_are_drawn_in_detail(path: Path) -> None:
    topology = netseg.load(path)
    assert not wants_overview(topology)
    assert "overview" not in draw(topology).split("\n", 3)[1]


def test_a_large_estate_is_drawn_as_an_overview() -> None:
    topology = estate()
    assert len(topology.hosts) > OVERVIEW_HOSTS or len(topology.guests) > OVERVIEW_GUESTS
    dot = draw(topology)
    assert "— overview: 12 hosts" in dot
    assert '"guest:' not in dot and '"cluster_host:' not in dot


def test_overview_zone_counts_are_the_models() -> None:
    topology = estate()
    zones = labels(draw(topology), "zone:")
    guests = {g.zone for g in topology.guests}
    assert set(zones) == {f"zone:{z}" for z in guests | {e.zone for e in topology.endpoints}}
    for zone in guests:
        mine = [g for g in topology.guests if g.zone == zone]
        text = zones[f"zone:{zone}"]
        assert count(text, "guests?") == len(mine)
        assert count(text, r"guests? on") == len(mine)
        assert re.search(rf"on {len({g.host for g in mine})} hosts?", text), text


def test_overview_groups_every_segment_once_and_counts_the_interfaces() -> None:
    topology = estate()
    analysis = analyse(topology, rules=HIGHLIGHT_RULES)
    reach = analysis.reachability
    dot = render_dot(topology, reach, analysis.findings)
    groups = labels(dot, "segments:")
    in_use = {
        j.segment
        for a in reach.attachments
        if a.kind in ("guest", "endpoint", "management")
        for j in a.joins
        if not j.tagged
    }
    assert sum(count(text, "segments?") for text in groups.values()) == len(in_use)
    assert {f"segments:{min(s for s in in_use)}"} <= set(groups)
    pds = labels(dot, "privileged-domain:")
    total = sum(len(h.management) for h in topology.hosts)
    assert sum(count(text, "interfaces?") for text in pds.values()) == total
    for pd in {h.hypervisor.privileged_domain for h in topology.hosts}:
        hosts = [h for h in topology.hosts if h.hypervisor.privileged_domain == pd]
        assert re.search(rf"on {len(hosts)} \w+ hosts?", pds[f"privileged-domain:{pd}"])


def test_overview_overlays_the_violations_per_zone_and_privileged_domain() -> None:
    topology = estate("flat")
    analysis = analyse(topology, rules=HIGHLIGHT_RULES)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    red = [
        (unquote(z), unquote(p))
        for z, p in re.findall(
            r'^\s*"zone:([^"]+)" -> "privileged-domain:([^"]+)" .*class="finding"', dot, re.M
        )
    ]
    expected = set()
    for f in analysis.findings:
        if f.waived or f.object is None:
            continue
        subjects, objects = (
            f.classes.get(f.identity[0], [f.subject]),
            f.classes.get(f.identity[1], [f.object]),
        )
        for s in subjects:
            zone = analysis.reachability.attachment(s).zone
            for o in objects:
                host = analysis.reachability.attachment(o).host
                pd = topology.host(host).hypervisor.privileged_domain  # type: ignore[arg-type]
                expected.add((zone, pd))
    assert expected and set(red) == expected
    # the statement is in the zone's node, in red
    for zone, pd in red:
        assert f"→ {pd}: " in labels(dot, "zone:")[f"zone:{zone}"]
    # the segments that guests share with a privileged domain are marked
    assert "guests and privileged domain share these" in dot
    assert 'class="finding"' not in draw(topology, highlight="none")


def test_view_forces_either_drawing() -> None:
    assert '"cluster_host:' in draw(estate(), view="detail")
    assert "— overview:" in draw(mixed(), view="overview")
    with pytest.raises(SelectorError, match="--view overview draws the whole estate"):
        draw(mixed(), view="overview", host="esx01")


def test_a_selector_draws_the_detail_of_a_large_estate() -> None:
    topology = estate()
    host = sorted(h.name for h in topology.hosts)[0]
    dot = draw(topology, host=host)
    assert f"— host {host}" in dot and "— overview" not in dot


def guest_ids(dot: str) -> set[str]:
    return {unquote(g) for g in re.findall(r'^\s*"guest:([^"]+)" \[', dot, re.M)}


def test_zone_draws_that_zones_guests_on_their_hosts() -> None:
    topology = estate()
    dot = draw(topology, zone="z01", collapse_over=10_000)
    mine = {g.name for g in topology.guests if g.zone == "z01"}
    assert guest_ids(dot) == mine
    hosts = set(re.findall(r'"cluster_host:([^"]+)"', dot))
    assert hosts == {g.host for g in topology.guests if g.zone == "z01"}
    assert "— zone z01" in dot
    assert guest_ids(draw(topology, zone="zone:z01", collapse_over=10_000)) == mine
    with pytest.raises(SelectorError, match=r"no zone 'nowhere'.*z01"):
        draw(topology, zone="nowhere")


def test_zone_and_host_combine() -> None:
    topology = estate()
    g = sorted(topology.guests, key=lambda g: g.name)[1]
    dot = draw(topology, host=g.host, zone=g.zone, collapse_over=10_000)
    assert guest_ids(dot) == {
        x.name for x in topology.guests if x.host == g.host and x.zone == g.zone
    }


def test_segment_draws_the_guests_and_interfaces_in_it() -> None:
    topology = mixed()
    analysis = analyse(topology, rules=HIGHLIGHT_RULES)
    reach = analysis.reachability
    seg = next(
        s for s in reach.segments if any(a.kind == "management" for a in reach.attachments_in(s.id))
    )
    members = reach.attachments_in(seg.id)
    guests = {netseg.model.refs.last(a.ref)[0] for a in members if a.kind == "guest"}
    for ref in (str(seg.id), f"segment:{seg.id}", seg.label):
        dot = render_dot(topology, reach, analysis.findings, segment=ref)
        assert guest_ids(dot) == guests, ref
        assert f"— segment {seg.id} ({netseg.render.dot.text(seg.label)})" in dot
        for a in members:
            if a.kind == "management":
                assert f'"{a.ref}" [' in dot
    with pytest.raises(SelectorError, match="no segment '999'"):
        render_dot(topology, reach, analysis.findings, segment="999")


def test_the_cli_draws_the_overview_and_the_detail(tmp_path: Path) -> None:
    from netseg.cli.main import main

    big = tmp_path / "estate.json"
    import json

    from bench.shapes import generate_shape

    big.write_text(json.dumps(generate_shape("flat", 600)), encoding="utf-8")
    out = tmp_path / "o.dot"
    assert main(["diagram", str(big), "-o", str(out)]) == 0
    assert "— overview:" in out.read_text(encoding="utf-8")
    assert main(["diagram", str(big), "-o", str(out), "--view", "detail"]) == 0
    assert '"cluster_host:' in out.read_text(encoding="utf-8")
    assert main(["diagram", str(big), "-o", str(out), "--zone", "web"]) == 0
    assert "— zone web" in out.read_text(encoding="utf-8")
    assert main(["diagram", str(big), "-o", str(tmp_path / "x.dot"), "--zone", "nowhere"]) == 2
    assert not (tmp_path / "x.dot").exists()
