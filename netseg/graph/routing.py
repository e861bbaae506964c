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
from netseg.model.topology import AclLine, Router

Acl = Callable[[str], ServiceSet]


class SetOps:
    """``&``, ``|`` and ``<=`` of service sets memoised on the operands' identities (the
    entries keep them alive). Fixed points over many side pairs combine the same few ACL
    decisions again and again; with the results memoised, equal inputs give the very same
    objects, so later combinations hit too."""

    __slots__ = ("_and", "_le", "_or")

    def __init__(self) -> None:
        self._and: dict[tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet]] = {}
        self._or: dict[tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet]] = {}
        self._le: dict[tuple[int, int], tuple[bool, ServiceSet, ServiceSet]] = {}

    def and_(self, a: ServiceSet, b: ServiceSet) -> ServiceSet:
        key = (id(a), id(b))
        found = self._and.get(key)
        if found is None:
            found = self._and[key] = (a & b, a, b)
        return found[0]

    def or_(self, a: ServiceSet, b: ServiceSet) -> ServiceSet:
        key = (id(a), id(b))
        found = self._or.get(key)
        if found is None:
            found = self._or[key] = (a | b, a, b)
        return found[0]

    def le(self, a: ServiceSet, b: ServiceSet) -> bool:
        key = (id(a), id(b))
        found = self._le.get(key)
        if found is None:
            found = self._le[key] = (a <= b, a, b)
        return found[0]


def fixed_point(
    neighbours: Mapping[str, Sequence[str]], entry: str, acl: Acl, ops: SetOps | None = None
) -> dict[str, ServiceSet]:
    """The services that reach each router from ``entry`` and pass its ACL (routers that
    nothing reaches are absent). ``ops`` memoises the set operations across calls."""
    ops = SetOps() if ops is None else ops
    and_, or_, le = ops.and_, ops.or_, ops.le
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
            gained = and_(sq, acl(r))
            if not gained:
                continue
            cur = out.get(r)
            if cur is not None:
                if le(gained, cur):
                    continue
                gained = or_(cur, gained)
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
    # hops from each router to the exit through routers the fixed point reached (every router
    # of a path that lets something through is one): a branch that cannot reach the exit in
    # the steps left is not walked, and no length shorter than the distance is tried
    far = _hops_to(order, exit_, reach)
    budget = [SEARCH_BUDGET]
    path = [entry]

    def dfs(node: str, through: ServiceSet, left: int) -> bool | None:
        for nxt in order.get(node, ()):
            if nxt in path or far.get(nxt, left) >= left or (nxt == exit_) != (left == 1):
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

    for length in range(far[entry] + 1, len(order) + 1):
        found = dfs(entry, acl(entry), length - 1)
        if found:
            return path
        if found is None:
            break
    return _one_service_path(order, entry, exit_, acl, _atom(reach[exit_]))


def _hops_to(
    order: Mapping[str, Sequence[str]], exit_: str, within: Mapping[str, object]
) -> dict[str, int]:
    """Hops from each router of ``within`` to ``exit_`` through routers of ``within``."""
    far = {exit_: 0}
    queue = deque([exit_])
    while queue:
        q = queue.popleft()
        for r in order.get(q, ()):
            if r not in far and r in within:
                far[r] = far[q] + 1
                queue.append(r)
    return far


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
    sees them*, in two steps: the source as its lines' sources see it (the zone when a source
    names it, the match set restricted to the prefixes sources name) picks the lines that can
    match it; the destination is then seen only through *those* lines (the zones and prefixes
    their destinations name). A ``/32`` line elsewhere in the estate splits no decision here,
    and a host entry of this router splits only the decisions of the source it names."""

    __slots__ = (
        "_by_source",
        "_lines",
        "_restricted",
        "_source_sets",
        "prefixes",
        "router",
        "zones",
    )

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
        #: every prefix and zone a line names (either side)
        self.prefixes = frozenset(prefixes)
        self.zones = frozenset(zones)
        source_prefixes = frozenset(n for (_, n), _, _ in lines if n is not None)
        source_zones = frozenset(z for (z, _), _, _ in lines if z is not None)
        self._restricted: dict[frozenset[int], frozenset[int]] = {}
        # per source as the sources see it: (zone seen, prefixes seen) -> its SourceView
        self._by_source: dict[tuple[object, ...], SourceView] = {}
        self._source_sets = (source_zones, source_prefixes)

    def _view(self, match: frozenset[int]) -> frozenset[int]:
        found = self._restricted.get(match)
        if found is None:
            found = self._restricted[match] = match & self._source_sets[1]
        return found

    def source_view(self, zs: str | None, ms: frozenset[int]) -> SourceView:
        """The lines that can match a source, and what of a destination they look at."""
        key = (zs if zs in self._source_sets[0] else None, self._view(ms))
        found = self._by_source.get(key)
        if found is None:
            szs, sms = key
            found = self._by_source[key] = SourceView(
                self.router.default,
                tuple(
                    (dst, line)
                    for (szone, snum), dst, line in self._lines
                    if (szone is None or szone == szs) and (snum is None or snum in sms)
                ),
            )
        return found

    def decide(
        self, zs: str | None, ms: frozenset[int], zd: str | None, md: frozenset[int]
    ) -> AclDecision:
        """:func:`~netseg.graph.l3.evaluate_acl` for sides with declared addresses."""
        return self.source_view(zs, ms).decide(zd, md)


class SourceView:
    """One router's lines that can match one source (as the router's sources see it), and
    its decisions memoised per destination as those lines see it."""

    __slots__ = ("_default", "_lines", "_memo", "_restricted", "prefixes", "zones")

    def __init__(self, default: str, lines: tuple[tuple[tuple[Any, Any], AclLine], ...]) -> None:
        self._default = default
        self._lines = lines
        #: the zones and prefixes these lines' destinations name: all of a destination they see
        self.zones = frozenset(z for (z, _), _ in lines if z is not None)
        self.prefixes = frozenset(n for (_, n), _ in lines if n is not None)
        self._memo: dict[tuple[object, ...], AclDecision] = {}
        self._restricted: dict[frozenset[int], frozenset[int]] = {}

    def decide(self, zd: str | None, md: frozenset[int]) -> AclDecision:
        seen = self._restricted.get(md)
        if seen is None:
            seen = self._restricted[md] = md & self.prefixes
        key = (zd if zd in self.zones else None, seen)
        found = self._memo.get(key)
        if found is None:
            dzs, dms = key
            found = self._memo[key] = first_match(
                (
                    line
                    for (dzone, dnum), line in self._lines
                    if (dzone is None or dzone == dzs) and (dnum is None or dnum in dms)
                ),
                self._default,
            )
        return found


class SourceSide:
    """One source (zone, match set) as every router's lines see it: each router's
    :class:`~netseg.graph.routing.SourceView`, and the zones and prefixes any of them looks at
    in a destination. Two destinations equal in those are decided alike by every router."""

    __slots__ = ("_seen", "prefixes", "views", "zones")

    def __init__(self, views: dict[str, SourceView]) -> None:
        self.views = views
        self.zones: frozenset[str] = frozenset().union(*(v.zones for v in views.values()))
        self.prefixes: frozenset[int] = frozenset().union(*(v.prefixes for v in views.values()))
        self._seen: dict[frozenset[int], frozenset[int]] = {}

    def sees(self, zd: str | None, md: frozenset[int]) -> tuple[str | None, frozenset[int]]:
        """A destination as this source's lines see it (every router's decision for the
        source depends on nothing else of the destination)."""
        seen = self._seen.get(md)
        if seen is None:
            seen = self._seen[md] = md & self.prefixes
        return (zd if zd in self.zones else None, seen)


__all__ = ["RouterAcl", "SetOps", "SourceSide", "SourceView", "first_path", "fixed_point"]
