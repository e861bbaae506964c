"""The router-graph fixed point against the enumeration of simple paths it replaces."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from netseg.graph import routing
from netseg.graph.routing import first_path, fixed_point
from netseg.model.services import ServiceSet

SERVICES = [ServiceSet.parse(s) for s in ("tcp/22", "tcp/443", "tcp/1-1000", "udp/53", "icmp")]


def _random_case(seed: int) -> tuple[nx.Graph, dict[str, ServiceSet]]:
    rng = random.Random(seed)
    n = rng.randint(1, 7)
    g = nx.gnp_random_graph(n, rng.choice((0.3, 0.5, 0.8)), seed=seed)
    g = nx.relabel_nodes(g, {k: f"r{k}" for k in g})
    acl = {}
    for r in g:
        roll = rng.random()
        if roll < 0.15:
            acl[r] = ServiceSet.none()
        elif roll < 0.3:
            acl[r] = ServiceSet.any()
        else:
            acl[r] = ServiceSet.union_all(rng.sample(SERVICES, rng.randint(1, 3)))
    return g, acl


def _enumerated(g: nx.Graph, acl: dict[str, ServiceSet], r1: str, r2: str) -> ServiceSet:
    """What Reachability did before: the union over simple paths of the intersection."""
    paths = [[r1]] if r1 == r2 else list(nx.all_simple_paths(g, r1, r2))
    out = ServiceSet.none()
    for p in paths:
        through = ServiceSet.any()
        for r in p:
            through = through & acl[r]
        out = out | through
    return out


def _first_enumerated(
    g: nx.Graph, acl: dict[str, ServiceSet], r1: str, r2: str
) -> list[str] | None:
    paths = [[r1]] if r1 == r2 else list(nx.all_simple_paths(g, r1, r2))
    for p in sorted(paths, key=lambda p: (len(p), p)):
        through = ServiceSet.any()
        for r in p:
            through = through & acl[r]
        if through:
            return p
    return None


@pytest.mark.parametrize("seed", range(300))
def test_fixed_point_is_the_union_over_simple_paths(seed: int) -> None:
    g, acl = _random_case(seed)
    neighbours = {r: sorted(g.adj[r]) for r in g}
    for r1 in g:
        got = fixed_point(neighbours, r1, acl.__getitem__)
        for r2 in g:
            assert got.get(r2, ServiceSet.none()) == _enumerated(g, acl, r1, r2), (r1, r2)
            # the evidence path: the shortest, then first in name order, that lets anything
            # through, as the enumeration sorted them
            assert first_path(neighbours, r1, r2, acl.__getitem__) == _first_enumerated(
                g, acl, r1, r2
            )


def test_twenty_routers_on_one_segment_without_enumerating_paths() -> None:
    """A complete graph of 20 routers has about 10^17 simple paths between two of them."""
    g = nx.complete_graph([f"r{k:02d}" for k in range(20)])
    neighbours = {r: sorted(g.adj[r]) for r in g}
    ssh, web = ServiceSet.parse("tcp/22"), ServiceSet.parse("tcp/443")
    # only r00 and r19 pass ssh and web; everyone else passes web only: ssh goes directly
    acl = {r: web for r in g} | {"r00": ssh | web, "r19": ssh | web}
    got = fixed_point(neighbours, "r00", acl.__getitem__)
    assert got["r19"] == ssh | web and got["r05"] == web
    assert first_path(neighbours, "r00", "r19", acl.__getitem__) == ["r00", "r19"]


@pytest.mark.parametrize("seed", range(100))
def test_the_evidence_search_out_of_budget_still_gives_a_path_that_lets_something_through(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the exact search would take too long, the single-service search takes over:
    its path exists exactly when the exact one does, and lets that service through."""
    monkeypatch.setattr(routing, "SEARCH_BUDGET", 1)
    g, acl = _random_case(seed)
    neighbours = {r: sorted(g.adj[r]) for r in g}
    for r1 in g:
        for r2 in g:
            path = first_path(neighbours, r1, r2, acl.__getitem__)
            exact = _first_enumerated(g, acl, r1, r2)
            assert (path is None) == (exact is None)
            if path is not None:
                assert path[0] == r1 and path[-1] == r2 and len(set(path)) == len(path)
                assert all(b in g.adj[a] for a, b in itertools.pairwise(path))
                through = ServiceSet.any()
                for r in path:
                    through = through & acl[r]
                assert through
