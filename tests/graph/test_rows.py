"""Verdicts per base pair (Reachability.verdict_rows) against the per-class-pair computation
they replace, on small random estates whose ACLs, policy and firewalls name host prefixes."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bench.shapes import chain
from netseg.graph import analyse_reachability
from netseg.graph.l3 import Side, evaluate_acl
from netseg.graph.reach import Reachability
from netseg.graph.values import Verdict
from netseg.topology import loads


def _estate(seed: int) -> dict[str, Any]:
    """A small chain of routers with host entries; some policy rules and firewall rules
    name hosts too, and some lines name a host against any or a zone."""
    rng = random.Random(seed)
    doc = chain(guests=rng.randint(20, 60), routers=rng.randint(1, 4), lines=30, seed=seed)
    hosts = [g["nics"][0]["address"].split("/")[0] + "/32" for g in doc["guests"]]
    zones = [z for z in doc["zones"] if z != "management"]
    for r in doc["routers"]:
        for _ in range(rng.randint(0, 3)):
            line = {
                "action": rng.choice(("permit", "deny")),
                "from": rng.choice([*hosts, "any", rng.choice(zones)]),
                "to": rng.choice([*hosts, "any", rng.choice(zones)]),
                "services": rng.choice(("tcp/22", "tcp/443", "udp/53", "any")),
            }
            r["acl"].insert(rng.randrange(len(r["acl"]) + 1), line)
    doc["policy"].setdefault("allow", []).append(
        {"from": rng.choice(hosts), "to": rng.choice(zones), "services": "tcp/8080"}
    )
    for h in doc["hosts"][: rng.randint(0, len(doc["hosts"]))]:
        h["firewall"] = {
            "default": "deny",
            "allow": [{"from": rng.choice(hosts), "services": "tcp/443"}],
        }
    return doc


def _reach(doc: dict[str, Any]) -> Reachability:
    return analyse_reachability(loads(json.dumps(doc), json_form=True))


def _per_class_pair(r: Reachability) -> dict[tuple[str, str], Verdict]:
    """The old computation: every (source class, destination class) asked on its own."""
    sources = [a for a in r.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in r.attachments if a.kind != "router"]
    out = {}
    for sc in r._classes(sources):
        for dc in r._classes(destinations):
            v = r._verdict(sc, dc)
            if v is not None:
                out[(sc.members[0].ref, dc.members[0].ref)] = v
    return out


@pytest.mark.parametrize("seed", range(40))
def test_rows_give_every_class_pair_its_own_verdict(seed: int) -> None:
    doc = _estate(seed)
    r = _reach(doc)
    sources = [a for a in r.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in r.attachments if a.kind != "router"]
    got: dict[tuple[str, str], Verdict] = {}
    for sm, dm, v in r.class_verdicts(sources, destinations):
        key = (sm[0].ref, dm[0].ref)
        assert key not in got, "a class pair is given twice"
        got[key] = v
    # a fresh Reachability, so no memo of the rows can leak into the reference
    expected = _per_class_pair(_reach(doc))
    assert got.keys() == expected.keys()
    for key, v in expected.items():
        assert got[key] == v


@pytest.mark.parametrize("seed", range(20))
def test_compiled_acl_decides_as_evaluate_acl(seed: int) -> None:
    # RouterAcl sees a source through its lines' sources, then the destination through the
    # lines that match that source: the same decision as walking every line
    r = _reach(_estate(seed))
    rng = random.Random(seed)
    sides = [
        Side(a.zone, r.prefixes.match(addr))
        for a in r.attachments
        if a.kind != "router"
        for addr in a.addresses
    ]
    for router in r.topology.routers:
        acl = r._compiled[router.name]
        for _ in range(200):
            s, d = rng.choice(sides), rng.choice(sides)
            assert acl.decide(s.zone, s.match, d.zone, d.match) == evaluate_acl(
                router, s, d, r.prefixes
            )
