"""Properties over random small topologies: VLAN atoms give exactly the per-VLAN segments, L2
reachability is symmetric, allowing more VLANs on a trunk never removes reachability, and what
reaches a management interface never exceeds what its firewall accepts."""

from __future__ import annotations

import json
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.gen_topology import generate_topology
from netseg.graph import Reachability, analyse_reachability
from netseg.graph.reach import Attachment
from netseg.model.services import ServiceSet
from netseg.model.topology import Topology
from netseg.topology import loads
from tests.graph.conftest import topo

VLAN_SETS = ["all", "10-20", "15", "1-100,200", "20,3000", "2-4094"]
NATIVES = ["none", "1", "10", "15", "200"]
NIC_MODES = ["0", "10", "15", "20", "200", "3000", "{trunk: '10-20', native: 0}", "{trunk: all}"]
SERVICES = ["tcp/22", "tcp/443", "udp/53", "icmp", "tcp/20-30"]


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, object]:
    ports = [(draw(st.sampled_from(VLAN_SETS)), draw(st.sampled_from(NATIVES))) for _ in range(4)]
    nics = [draw(st.sampled_from(NIC_MODES)) for _ in range(4)]
    link = draw(st.booleans())
    rules = draw(st.lists(st.sampled_from(SERVICES), min_size=0, max_size=2))
    acl = draw(st.lists(st.tuples(st.booleans(), st.sampled_from(SERVICES)), max_size=3))
    return {"ports": ports, "nics": nics, "link": link, "rules": rules, "acl": acl}


def render(spec: dict[str, object]) -> str:
    ports: list[tuple[str, str]] = spec["ports"]  # type: ignore[assignment]
    nics: list[str] = spec["nics"]  # type: ignore[assignment]
    lines = ["switches:"]
    for s in (0, 1):
        lines.append(f"  - name: s{s}")
        lines.append("    ports:")
        for k in (0, 1):
            allowed, native = ports[2 * s + k]
            lines.append(
                f"      - {{name: p{k}, mode: trunk, allowed: '{allowed}', native: {native}}}"
            )
        lines.append("      - {name: a10, mode: access, vlan: 10}")
        lines.append("      - {name: a15, mode: access, vlan: 15}")
    if spec["link"]:
        lines.append("links: [['s0:p1', 's1:p1']]")
    lines.append("routers:")
    lines.append("  - name: r")
    lines.append("    interfaces:")
    lines.append("      - {name: a, switch: s0, vlan: 10, address: 192.0.2.1/25}")
    lines.append("      - {name: b, switch: s1, vlan: 15, address: 192.0.2.129/25}")
    lines.append("    acl:")
    acl: list[tuple[bool, str]] = spec["acl"]  # type: ignore[assignment]
    lines.append("      - {action: deny, from: any, to: 203.0.113.0/24}")
    for permit, svc in acl:
        action = "permit" if permit else "deny"
        lines.append(f"      - {{action: {action}, from: any, to: any, services: {svc}}}")
    lines.append("endpoints:")
    lines.append("  - {name: e0, switch: s0, port: a10, address: 192.0.2.10/25}")
    lines.append("  - {name: e1, switch: s1, port: a15, address: 192.0.2.140/25}")
    lines.append("hosts:")
    for h in (0, 1):
        lines.append(f"  - name: h{h}")
        lines.append("    hypervisor: hyperv")
        lines.append(f"    nics: [{{name: NIC1, switch: s{h}, port: p0}}]")
        lines.append(
            "    vswitches: [{name: Ext, type: external, uplinks: [NIC1], allow_management_os: true}]"
        )
        lines.append(
            f"    management: [{{name: m, vswitch: Ext, vlan: {10 + 5 * h}, address: 192.0.2.{50 + 100 * h}/25}}]"
        )
        rules: list[str] = spec["rules"]  # type: ignore[assignment]
        allow = ", ".join(f"{{from: any, services: {s}}}" for s in rules)
        lines.append(f"    firewall: {{default: deny, allow: [{allow}]}}")
    lines.append("guests:")
    for k, mode in enumerate(nics):
        addr = "192.0.2.20/25" if k % 2 == 0 else "192.0.2.160/25"
        lines.append(
            f"  - {{name: g{k}, host: h{k % 2}, nics: [{{vswitch: Ext, vlan: {mode}, address: {addr}}}]}}"
        )
    return "\n".join(lines) + "\n"


def brute_force_l2(t: Topology) -> dict[str, set[tuple[object, ...]]]:
    """Per-VLAN reference: one node per (device, VLAN 1-4094 or 0 = untagged), union-find."""
    parent: dict[tuple[object, ...], tuple[object, ...]] = {}

    def find(x: tuple[object, ...]) -> tuple[object, ...]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: tuple[object, ...], b: tuple[object, ...]) -> None:
        parent[find(a)] = find(b)

    vids = range(1, 4095)
    for host in t.hosts:
        for vs in host.vswitches:
            for up in vs.uplinks:
                nic = host.nic(up.nic)
                assert nic is not None and nic.switch is not None and nic.port is not None
                port = t.switch(nic.switch).port(nic.port)
                if port.untagged_vlan is not None:
                    union(("vs", host.name, 0), ("sw", nic.switch, port.untagged_vlan))
                for v in vids:
                    if v in port.tagged_vlans:
                        union(("vs", host.name, v), ("sw", nic.switch, v))
    for link in t.links:
        pa = t.switch(link.a.switch).port(link.a.port)
        pb = t.switch(link.b.switch).port(link.b.port)
        if pa.untagged_vlan is not None and pb.untagged_vlan is not None:
            union(("sw", link.a.switch, pa.untagged_vlan), ("sw", link.b.switch, pb.untagged_vlan))
        for v in vids:
            if v in pa.tagged_vlans and v in pb.tagged_vlans:
                union(("sw", link.a.switch, v), ("sw", link.b.switch, v))
    members: dict[str, set[tuple[object, ...]]] = {}
    for g in t.guests:
        for n in g.nics:
            mode = n.vlan
            nodes = []
            if mode.kind == "access":
                nodes.append(("vs", g.host, mode.vlan))
            else:
                if mode.native is not None:
                    nodes.append(("vs", g.host, mode.native))
                nodes += [("vs", g.host, v) for v in mode.trunk]
            members[n.ref] = {find(x) for x in nodes}
    for e in t.endpoints:
        assert e.port is not None
        port = t.switch(e.switch).port(e.port)
        members[e.ref] = {find(("sw", e.switch, port.untagged_vlan))}
    return members


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(topologies())
def test_vlan_atoms_give_exactly_the_per_vlan_segments(spec: dict[str, object]) -> None:
    t = topo(render(spec))
    r = analyse_reachability(t)
    reference = brute_force_l2(t)
    for a, b in combinations(sorted(reference), 2):
        expected = bool(reference[a] & reference[b])
        assert bool(r.attachment(a).segments & r.attachment(b).segments) is expected, (a, b)


@SETTINGS
@given(topologies())
def test_l2_reachability_is_symmetric(spec: dict[str, object]) -> None:
    r = analyse_reachability(topo(render(spec)))
    refs = [a.ref for a in r.attachments if a.kind != "management"]
    for a, b in combinations(refs, 2):
        pa, pb = r.pair(a, b), r.pair(b, a)
        l2a = pa is not None and pa.mode == "l2"
        l2b = pb is not None and pb.mode == "l2"
        assert l2a is l2b


@SETTINGS
@given(topologies(), st.integers(0, 3), st.sampled_from([10, 15, 20, 200, 3000]))
def test_allowing_a_vlan_on_a_trunk_never_removes_reachability(
    spec: dict[str, object], port: int, vlan: int
) -> None:
    before = analyse_reachability(topo(render(spec)))
    ports: list[tuple[str, str]] = list(spec["ports"])  # type: ignore[call-overload]
    allowed, native = ports[port]
    ports[port] = (f"{allowed},{vlan}" if allowed != "all" else allowed, native)
    after = analyse_reachability(topo(render({**spec, "ports": ports})))
    for a in before.attachments:
        for b in before.attachments:
            if a is not b:
                got = after.services(a.ref, b.ref)
                assert before.services(a.ref, b.ref) <= got


@SETTINGS
@given(topologies())
def test_services_reaching_management_never_exceed_its_firewall(spec: dict[str, object]) -> None:
    r = analyse_reachability(topo(render(spec)))
    rules: list[str] = spec["rules"]  # type: ignore[assignment]
    accepted = ServiceSet.parse(rules) if rules else ServiceSet.none()
    for m in r.select("management"):
        for a in r.attachments:
            if a is not m:
                assert r.services(a.ref, m.ref) <= accepted


def _refs(members: list[Attachment]) -> tuple[str, ...]:
    return tuple(a.ref for a in members)


def _all_class_verdicts(r: Reachability) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every (source class, destination class) pair with a verdict, by asking them all."""
    sources = [a for a in r.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in r.attachments if a.kind != "router"]
    return {
        (_refs(sc.members), _refs(dc.members))
        for sc in r._classes(sources)
        for dc in r._classes(destinations)
        if r._verdict(sc, dc) is not None
    }


def _yielded_class_verdicts(r: Reachability) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    sources = [a for a in r.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in r.attachments if a.kind != "router"]
    return {(_refs(sm), _refs(dm)) for sm, dm, _ in r.class_verdicts(sources, destinations)}


@SETTINGS
@given(topologies())
def test_class_verdicts_skip_only_pairs_without_a_verdict(spec: dict[str, object]) -> None:
    # class_verdicts prunes destination classes by segment and by routable groups
    r = analyse_reachability(topo(render(spec)))
    assert _yielded_class_verdicts(r) == _all_class_verdicts(r)


def test_class_verdicts_skip_only_pairs_without_a_verdict_on_a_routed_estate() -> None:
    # several routers, VLANs and zones: the pruning by entry routers is exercised
    doc = generate_topology(hosts=12, guests=240, vlans=24, zones=5, routers=3, seed=3)
    r = analyse_reachability(loads(json.dumps(doc), json_form=True))
    assert _yielded_class_verdicts(r) == _all_class_verdicts(r)


def _services_agree_with_each_pair(r: Reachability, fresh: Reachability) -> None:
    """services() answers per class pair; ``fresh`` (never asked before) answers each pair
    from its own verdict, in reverse order, so no memo of ``r`` can leak into it."""
    refs = [a.ref for a in r.attachments]
    pairs = [(a, b) for a in refs for b in refs]
    expected = {}
    for a, b in reversed(pairs):
        p = fresh.pair(a, b)
        expected[(a, b)] = ServiceSet.any() if a == b else (p.services if p else ServiceSet.none())
    for a, b in pairs:
        assert r.services(a, b) == expected[(a, b)], (a, b)
    # members of one class pair get one answer
    by_class: dict[tuple[object, ...], ServiceSet] = {}
    for a, b in pairs:
        if a != b:
            got = by_class.setdefault((r.class_key(a), r.class_key(b)), r.services(a, b))
            assert got == r.services(a, b)


@SETTINGS
@given(topologies())
def test_services_memoised_per_class_agree_with_each_pair(spec: dict[str, object]) -> None:
    text = render(spec)
    _services_agree_with_each_pair(
        analyse_reachability(topo(text)), analyse_reachability(topo(text))
    )


def test_services_memoised_per_class_agree_with_each_pair_on_a_routed_estate() -> None:
    doc = generate_topology(hosts=12, guests=48, vlans=24, zones=5, routers=3, seed=5)
    text = json.dumps(doc)
    _services_agree_with_each_pair(
        analyse_reachability(loads(text, json_form=True)),
        analyse_reachability(loads(text, json_form=True)),
    )
