"""Findings at the grain of their cause (rules.md, "Grain"): a property test against the
pair-by-pair computation the class findings replace, on small random estates."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from bench.gen_topology import generate_topology
from bench.shapes import generate_shape
from netseg.analysis import analyse
from netseg.graph import Reachability
from netseg.model.services import ServiceSet
from netseg.rules.finding import Finding
from netseg.topology import load


def _estate(seed: int, tmp_path: Path) -> Path:
    rng = random.Random(seed)
    kind = rng.choice(("reference", "reference", "flat", "permissive", "mixed", "chain3"))
    guests = rng.randint(12, 60)
    if kind == "reference":
        doc = generate_topology(
            rng.randint(2, 6),
            guests,
            rng.randint(8, 14),
            rng.randint(4, 6),
            rng.randint(1, 3),
            seed,
        )
    elif kind == "chain3":
        from bench.shapes import chain

        doc = chain(guests, 3, lines=rng.randint(5, 40), seed=seed)
    else:
        doc = generate_shape(kind, guests, seed=seed)
    path = tmp_path / f"estate-{seed}.json"
    path.write_text(json.dumps(doc))
    return path


def _tagging_estate(seed: int, tmp_path: Path) -> Path:
    """ESXi hosts on one trunk with VGT port groups (trunks that may hold the management
    VLAN) and promiscuous port groups (on the management VLAN, a guest VLAN or VLAN 4095),
    guests spread over them: the ground of guest-can-tag-management-vlan and
    guest-observes-management, with classes that span hosts."""
    rng = random.Random(seed)
    subnet = {10: "192.0.2.0", 11: "192.0.2.64", 99: "192.0.2.128"}
    hosts = []
    guests = []
    n = 0
    for h in range(rng.randint(2, 5)):
        pgs: list[dict[str, object]] = [
            {"name": "mgmt", "vlan": 99},
            {"name": "web", "vlan": 10},
            {"name": "db", "vlan": 11},
            {"name": "vgt", "vlan": {"trunk": rng.choice(("10-11", "10-99", "11-99", "99"))}},
            {
                "name": "spy",
                "vlan": rng.choice((10, 99, 4095)),
                "security": {"promiscuous": rng.random() < 0.7},
            },
        ]
        host = f"esx{h:02d}"
        hosts.append(
            {
                "name": host,
                "hypervisor": "esxi",
                "nics": [{"name": "vmnic0", "switch": "tor1", "port": f"p{h}"}],
                "vswitches": [
                    {
                        "name": "dvs",
                        "type": "distributed",
                        "uplinks": ["vmnic0"],
                        "portgroups": pgs,
                    }
                ],
                "management": [
                    {"name": "vmk0", "portgroup": "mgmt", "address": f"192.0.2.{130 + h}/26"}
                ],
                "firewall": {
                    "default": "deny",
                    "allow": [{"from": "management", "services": "any"}],
                },
            }
        )
        for _ in range(rng.randint(2, 8)):
            n += 1
            pg = rng.choice(("web", "db", "vgt", "vgt", "spy", "spy"))
            vlan = {"web": 10, "db": 11}.get(pg, rng.choice((10, 11)))
            base = subnet[vlan].rsplit(".", 1)
            nic = {"portgroup": pg, "address": f"{base[0]}.{int(base[1]) + 1 + n}/26"}
            zone = "web" if vlan == 10 else "db"
            guests.append({"name": f"g{n:03d}", "host": host, "zone": zone, "nics": [nic]})
    doc = {
        "netseg": 1,
        "name": f"tagging-{seed}",
        "zones": {"web": {}, "db": {}},
        "switches": [
            {
                "name": "tor1",
                "ports": [
                    {"name": f"p{h}", "mode": "trunk", "allowed": "10,11,99", "native": "none"}
                    for h in range(len(hosts))
                ],
            }
        ],
        "hosts": hosts,
        "guests": guests,
    }
    path = tmp_path / f"tagging-{seed}.json"
    path.write_text(json.dumps(doc))
    return path


def _members(f: Finding, k: int) -> list[str]:
    return list(f.classes[f.identity[k]])


# --- the reference: pair by pair, as the rules did before the grain ----------------------


def reference_guest_reaches_management(reach: Reachability) -> dict[tuple[str, str], ServiceSet]:
    """Every (guest, management interface) pair with services the policy does not allow."""
    return {
        (p.source, p.destination): p.violating
        for p in reach.pairs("guests", "management", violating_only=True)
    }


def reference_zone_policy_violation(reach: Reachability) -> dict[tuple[str, str], ServiceSet]:
    """Per (source, destination zone): the services of every violating pair, leaving out
    guest to management (guest-reaches-management's)."""
    sources = [a for a in reach.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in reach.attachments if a.kind in ("guest", "endpoint", "management")]
    out: dict[tuple[str, str], ServiceSet] = defaultdict(ServiceSet.none)
    for p in reach.pairs(sources, destinations, violating_only=True):
        s, d = reach.attachment(p.source), reach.attachment(p.destination)
        if s.kind == "guest" and d.kind == "management":
            continue
        out[(s.ref, f"zone:{d.zone}")] = out[(s.ref, f"zone:{d.zone}")] | p.violating
    return dict(out)


def reference_guest_can_tag_management_vlan(reach: Reachability) -> set[str]:
    """Every guest whose tagged frames reach a segment holding a management interface, guest
    by guest, as the rule was before its grain."""
    mgmt_segments = {s for m in reach.attachments if m.kind == "management" for s in m.segments}
    return {
        g.ref
        for g in reach.attachments
        if g.kind == "guest" and any(j.tagged and j.segment in mgmt_segments for j in g.joins)
    }


def reference_guest_observes_management(reach: Reachability) -> set[str]:
    """Every guest on an ESXi port group with promiscuous mode whose virtual switch bridge
    domains hold a management interface, guest by guest."""
    topology = reach.topology
    mgmt_nodes = {j.node for m in reach.attachments if m.kind == "management" for j in m.joins}
    out = set()
    for guest in topology.guests:
        for nic in guest.nics:
            if nic.portgroup is None or nic.vswitch is None:
                continue
            vs = topology.host(guest.host).vswitch(nic.vswitch)
            pg = vs.portgroup(nic.portgroup) if vs is not None else None
            if vs is None or not vs.is_esxi or pg is None or not pg.security.promiscuous:
                continue
            a = reach.attachment(nic.ref)
            if any(j.node[0] == "vs" and j.node in mgmt_nodes for j in a.joins):
                out.add(nic.ref)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_tagging_and_observing_findings_cover_exactly_the_guests(seed: int, tmp_path: Path) -> None:
    """guest-can-tag-management-vlan and guest-observes-management per class: the union of
    each finding's members is the per-guest computation's set."""
    analysis = analyse(load(_tagging_estate(seed, tmp_path)))
    reach = analysis.reachability
    tag = reference_guest_can_tag_management_vlan(reach)
    observe = reference_guest_observes_management(reach)
    assert _per_guest_rule_members(analysis.findings, "guest-can-tag-management-vlan") == tag
    assert _per_guest_rule_members(analysis.findings, "guest-observes-management") == observe
    keys = [f.key for f in analysis.findings]
    assert len(keys) == len(set(keys))


def test_the_tagging_estates_exercise_classes(tmp_path: Path) -> None:
    """The random estates above are not vacuous: some findings of both rules have classes
    of several members."""
    sizes: dict[str, int] = defaultdict(int)
    for seed in range(30):
        for f in analyse(load(_tagging_estate(seed, tmp_path))).findings:
            if f.rule in ("guest-can-tag-management-vlan", "guest-observes-management"):
                sizes[f.rule] = max(sizes[f.rule], f.evidence["sources"]["count"])
    assert sizes["guest-can-tag-management-vlan"] > 1
    assert sizes["guest-observes-management"] > 1


def _per_guest_rule_members(findings: list[Finding], rule: str) -> set[str]:
    """The union of the findings' source members, checking each finding's grain: subject
    the first member in name order, count the members, no guest in two findings."""
    got: set[str] = set()
    for f in findings:
        if f.rule != rule:
            continue
        members = _members(f, 0)
        assert members == sorted(members) and f.subject == members[0]
        assert f.evidence["sources"]["count"] == len(members)
        assert got.isdisjoint(members), "a guest in two findings"
        got.update(members)
    return got


@pytest.mark.parametrize("seed", range(40))
def test_class_findings_cover_exactly_the_violating_pairs(seed: int, tmp_path: Path) -> None:
    analysis = analyse(load(_estate(seed, tmp_path)))
    reach = analysis.reachability
    findings = analysis.findings
    # guest-reaches-management: the union of sources x destinations over the findings is
    # exactly the violating pairs, each with its services; one finding per class pair
    got: dict[tuple[str, str], ServiceSet] = {}
    for f in findings:
        if f.rule != "guest-reaches-management":
            continue
        assert f.subject == _members(f, 0)[0] and f.object == _members(f, 1)[0]
        assert f.evidence["sources"]["count"] == len(_members(f, 0))
        services = ServiceSet.parse(f.evidence["services"])
        for s in _members(f, 0):
            for d in _members(f, 1):
                assert (s, d) not in got, "a pair in two findings"
                got[(s, d)] = services
    assert got == reference_guest_reaches_management(reach)
    # zone-policy-violation: every (member, zone) of the findings, with its services, is
    # exactly the pair-by-pair aggregate
    zones: dict[tuple[str, str], ServiceSet] = {}
    for f in findings:
        if f.rule != "zone-policy-violation":
            continue
        assert f.object is not None
        for s in _members(f, 0):
            assert (s, f.object) not in zones
            zones[(s, f.object)] = ServiceSet.parse(f.evidence["services"])
    assert zones == reference_zone_policy_violation(reach)
    # the two rules that were per guest: the union of their findings' members is exactly the
    # guests the per-guest computation reports
    assert _per_guest_rule_members(
        findings, "guest-can-tag-management-vlan"
    ) == reference_guest_can_tag_management_vlan(reach)
    assert _per_guest_rule_members(
        findings, "guest-observes-management"
    ) == reference_guest_observes_management(reach)
    # identities are unique (diff and SARIF match on them)
    keys = [f.key for f in findings]
    assert len(keys) == len(set(keys))


def test_identity_is_stable_when_members_join_or_leave(tmp_path: Path) -> None:
    doc = generate_shape("flat", 60, seed=3)
    before = analyse(load(_write(tmp_path / "a.json", doc))).findings
    doc["guests"] = doc["guests"][1:]  # one guest leaves (every class keeps others)
    after = analyse(load(_write(tmp_path / "b.json", doc))).findings
    grain = {
        "guest-reaches-management",
        "zone-policy-violation",
        "guest-on-management-segment",
        "guest-can-tag-management-vlan",
        "guest-observes-management",
    }
    assert {f.key for f in before if f.rule in grain} == {f.key for f in after if f.rule in grain}


def _write(path: Path, doc: dict[str, object]) -> Path:
    path.write_text(json.dumps(doc))
    return path
