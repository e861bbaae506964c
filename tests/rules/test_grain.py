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
    # identities are unique (diff and SARIF match on them)
    keys = [f.key for f in findings]
    assert len(keys) == len(set(keys))


def test_identity_is_stable_when_members_join_or_leave(tmp_path: Path) -> None:
    doc = generate_shape("flat", 60, seed=3)
    before = analyse(load(_write(tmp_path / "a.json", doc))).findings
    doc["guests"] = doc["guests"][1:]  # one guest leaves (every class keeps others)
    after = analyse(load(_write(tmp_path / "b.json", doc))).findings
    grain = {"guest-reaches-management", "zone-policy-violation", "guest-on-management-segment"}
    assert {f.key for f in before if f.rule in grain} == {f.key for f in after if f.rule in grain}


def _write(path: Path, doc: dict[str, object]) -> Path:
    path.write_text(json.dumps(doc))
    return path
