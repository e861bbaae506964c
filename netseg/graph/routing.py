"""Services through a graph of routers, as a fixed point rather than by enumerating paths.

A flow entering at router ``r1`` and leaving at ``r2`` gets the services that every router of
some path from ``r1`` to ``r2`` lets through: the union, over the paths, of the intersection
of the routers' ACL decisions along each. Enumerating the simple paths costs their number
(1,957 per pair of routers for 8 routers on one transit segment, about 10^11 for 50).

:func:`fixed_point` computes, for one entry router and one (source, destination) side pair,
the services that reach and pass each router: ``S(entry) = acl(entry)`` and ``S(r) = acl(r)
& union(S(q) for q next to r)``, iterated until nothing grows. Intersection distributes over
union, so ``S(r)`` is the union over walks ending at ``r`` of the intersection along the walk,
and a walk gets no more than the simple path left when its cycles are cut out (cutting removes
routers, hence intersections): the fixed point equals the union over simple paths, in time
proportional to (routers + links) x (how often a router's set grows, bounded by the distinct
ACL decisions). ``tests/graph/test_routing.py`` compares it with the enumeration.

:func:`first_path` finds the one concrete path a finding's evidence shows: the shortest, then
first in name order, that lets something through.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from netseg.graph.l3 import AclDecision, PrefixIndex, first_match
from netseg.model.services import PROTOCOLS, ServiceSet
from netseg.model.topology import Router

Acl = Callable[[str], ServiceSet]


def fixed_point(
    neighbours: Mapping[str, Sequence[str]], entry: str, acl: Acl
) -> dict[str, ServiceSet]:
    """The services that reach each router from ``entry`` and pass its ACL (routers that
    nothing reaches are absent)."""
    start = acl(entry)
    out: dict[str, ServiceSet] = {}
    if not start:
        return out
    out[entry] = start
    work = deque([entry])
    queued = {entry}
    while work:
        q = work.popleft()
        queued.discard(q)
        sq = out[q]
        for r in neighbours.get(q, ()):
            if r == entry:
                continue  # the entry already has everything its ACL lets through
            gained = sq & acl(r)
            if not gained:
                continue
            cur = out.get(r)
            if cur is not None:
                if gained <= cur:
                    continue
                gained = cur | gained
            out[r] = gained
            if r not in queued:
                queued.add(r)
                work.append(r)
    return out


#: Steps of the exact search for the evidence path before the single-service search takes over.
SEARCH_BUDGET = 20_000


def first_path(
    neighbours: Mapping[str, Sequence[str]],
    entry: str,
    exit_: str,
    acl: Acl,
    reached: Mapping[str, ServiceSet] | None = None,
) -> list[str] | None:
    """One simple path from ``entry`` to ``exit_`` whose routers all let some service
    through, or None when there is none: the shortest, then the first in name order
    (iterative deepening, neighbours in name order). Where that search would take more than
    :data:`SEARCH_BUDGET` steps (many routers, few of them agreeing), the shortest path on
    which one service that gets through is let through by every router (a plain
    breadth-first search, since a single service is either let through or not).
    ``reached`` is ``fixed_point(neighbours, entry, acl)`` when the caller has it."""
    reach = fixed_point(neighbours, entry, acl) if reached is None else reached
    if exit_ not in reach:
        return None
    if entry == exit_:
        return [entry]
    order = {r: sorted(ns) for r, ns in neighbours.items()}
    budget = [SEARCH_BUDGET]
    path = [entry]

    def dfs(node: str, through: ServiceSet, left: int) -> bool | None:
        for nxt in order.get(node, ()):
            if nxt in path or (nxt == exit_) != (left == 1):
                continue
            budget[0] -= 1
            if budget[0] < 0:
                return None
            got = through & acl(nxt)
            if not got:
                continue
            path.append(nxt)
            if left == 1:
                return True
            found = dfs(nxt, got, left - 1)
            if found is not False:
                return found
            path.pop()
        return False

    for length in range(2, len(order) + 1):
        found = dfs(entry, acl(entry), length - 1)
        if found:
            return path
        if found is None:
            break
    return _one_service_path(order, entry, exit_, acl, _atom(reach[exit_]))


def _atom(services: ServiceSet) -> ServiceSet:
    """One service of a non-empty set (an ACL decision lets it through whole or not at all)."""
    for flag in ("icmp", "icmp6", "other"):
        if getattr(services, flag):
            return ServiceSet.single(flag)
    for proto in PROTOCOLS:
        ports = getattr(services, proto)
        if ports.ranges:
            return ServiceSet.single(proto, ports.ranges[0][0])
    raise ValueError("an empty service set has no service")


def _one_service_path(
    order: Mapping[str, Sequence[str]], entry: str, exit_: str, acl: Acl, service: ServiceSet
) -> list[str] | None:
    """The shortest path (first in name order) whose every router lets ``service`` through."""
    if not service <= acl(entry):
        return None
    parent: dict[str, str] = {}
    seen = {entry}
    queue = deque([entry])
    while queue:
        q = queue.popleft()
        for r in order.get(q, ()):
            if r in seen or not service <= acl(r):
                continue
            seen.add(r)
            parent[r] = q
            if r == exit_:
                out = [r]
                while out[-1] != entry:
                    out.append(parent[out[-1]])
                return out[::-1]
            queue.append(r)
    return None


class RouterAcl:
    """One router's ACL compiled once: peers as (zone, prefix number) pairs (no ``ipaddress``
    hashing per line and call), and decisions memoised per (source, destination) *as this ACL
    sees them*: the zone when a line names it, and the match set restricted to the prefixes
    its lines name. A ``/32`` line elsewhere in the estate splits no decision here."""

    __slots__ = ("_by_source", "_lines", "_memo", "_restricted", "prefixes", "router", "zones")

    def __init__(self, router: Router, index: PrefixIndex) -> None:
        self.router = router
        lines = []
        prefixes: set[int] = set()
        zones: set[str] = set()
        for line in router.acl:
            ends = []
            for peer in (line.source, line.destination):
                number = index.number[peer.prefix] if peer.prefix is not None else None
                if number is not None:
                    prefixes.add(number)
                if peer.zone is not None:
                    zones.add(peer.zone)
                ends.append((peer.zone, number))
            lines.append((ends[0], ends[1], line))
        self._lines = tuple(lines)
        self.prefixes = frozenset(prefixes)
        self.zones = frozenset(zones)
        self._memo: dict[tuple[object, ...], AclDecision] = {}
        self._restricted: dict[frozenset[int], frozenset[int]] = {}
        # the lines whose source matches, per source view: a 500-line ACL of host entries
        # has a few dozen for any one source
        self._by_source: dict[tuple[object, ...], tuple[Any, ...]] = {}

    def _view(self, match: frozenset[int]) -> frozenset[int]:
        found = self._restricted.get(match)
        if found is None:
            found = self._restricted[match] = match & self.prefixes
        return found

    def decide(
        self, zs: str | None, ms: frozenset[int], zd: str | None, md: frozenset[int]
    ) -> AclDecision:
        """:func:`~netseg.graph.l3.evaluate_acl` for sides with declared addresses."""
        zones = self.zones
        key = (
            zs if zs in zones else None,
            self._view(ms),
            zd if zd in zones else None,
            self._view(md),
        )
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._evaluate(*key)
        return found

    def _evaluate(
        self, zs: str | None, ms: frozenset[int], zd: str | None, md: frozenset[int]
    ) -> AclDecision:
        skey = (zs, ms)
        lines = self._by_source.get(skey)
        if lines is None:
            lines = self._by_source[skey] = tuple(
                (dst, line)
                for (szone, snum), dst, line in self._lines
                if (szone is None or szone == zs) and (snum is None or snum in ms)
            )
        return first_match(
            (
                line
                for (dzone, dnum), line in lines
                if (dzone is None or dzone == zd) and (dnum is None or dnum in md)
            ),
            self.router.default,
        )


__all__ = ["RouterAcl", "first_path", "fixed_point"]
