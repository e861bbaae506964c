"""Reachability: which attachment can send what to which, by which path (semantics.md).

:func:`analyse_reachability` builds the bridge-domain graph once; :class:`Reachability` then
answers questions about pairs of attachments. It never searches a path per pair: attachments
that share their segments, zone, address profile (gateways usable and prefixes matched) and,
for destinations, their host firewall form *classes*; verdicts are computed once per pair of
classes and memoised, and only the hop-by-hop path is built per reported pair (from a spanning
tree of the segment, so in time proportional to its length).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from netseg.collector import collector_paused
from netseg.graph.l2 import Hop, Join, Layer2, Node, Segment
from netseg.graph.l3 import (
    ANY,
    NONE,
    AclDecision,
    FirewallDecision,
    PrefixIndex,
    Side,
    evaluate_acl,
    evaluate_firewall,
    firewall_rule,
    policy_allows,
)
from netseg.graph.select import select, unknown_reference
from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.topology import (
    NOWHERE,
    Address,
    Firewall,
    Location,
    Router,
    RouterInterface,
    Topology,
    VlanMode,
)

Kind = Literal["guest", "management", "endpoint", "router"]
Mode = Literal["l2", "l3"]


@dataclass(frozen=True, slots=True, eq=False)
class Attachment:
    """Something that sends and receives frames: a guest NIC, a management interface, a
    physical endpoint or a router interface, with the bridge domains it joins."""

    ref: str
    kind: Kind
    zone: str | None
    addresses: tuple[Address, ...]
    joins: tuple[Join, ...]
    host: str | None = None
    vlan: VlanMode | None = None
    location: Location = NOWHERE

    @property
    def segments(self) -> frozenset[int]:
        return frozenset(j.segment for j in self.joins)

    @property
    def can_tag(self) -> bool:
        """Whether it sends tagged frames of its own (VGT, trunk NIC, transparent bridge, OVS
        port without a tag)."""
        return any(j.tagged for j in self.joins)


@dataclass(frozen=True, slots=True)
class ReachablePair:
    """One reachable (source, destination) pair, as ``netseg reach`` prints it.

    ``services`` get through (after router ACLs and the destination host's firewall);
    ``allowed``/``violating`` split them by the policy; ``mode`` is ``l2`` (same segment) or
    ``l3`` (routed ``via`` the named routers); ``tag_injection`` says the source must send
    tagged frames for it; ``path`` is the ordered hop list that explains it.
    """

    source: str
    destination: str
    services: ServiceSet
    allowed: ServiceSet
    violating: ServiceSet
    mode: Mode
    via: tuple[str, ...]
    tag_injection: bool
    path: tuple[Hop, ...] = field(compare=False)

    def __str__(self) -> str:
        how = "L2" if self.mode == "l2" else "L3 via " + ", ".join(self.via)
        tag = " (tag injection)" if self.tag_injection else ""
        return f"{self.source} -> {self.destination} over {how}{tag}: {self.services}"


# --- internal verdicts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Profile:
    """One declared address as rules see it: version, prefixes matched, gateways usable
    (router, interface, segment) from the attachment's segments."""

    version: int
    match: frozenset[int]
    gateways: frozenset[tuple[str, str, int]]


@dataclass(frozen=True, slots=True)
class _Route:
    """The routed way a verdict was found: gateway in, routers in order, gateway out."""

    entry: tuple[str, str, int]
    routers: tuple[str, ...]
    exit: tuple[str, str, int]
    decisions: tuple[AclDecision, ...]


@dataclass(frozen=True, slots=True)
class _Verdict:
    services: ServiceSet
    allowed: ServiceSet
    mode: Mode
    segment: int  # the shared segment (l2) or the source's segment (l3)
    tagged: bool
    route: _Route | None
    firewall: FirewallDecision | None
    permitted: ServiceSet = NONE  # services & allowed
    violating: ServiceSet = NONE  # services - allowed


def _make_verdict(
    services: ServiceSet,
    allowed: ServiceSet,
    mode: Mode,
    segment: int,
    tagged: bool,
    route: _Route | None,
    firewall: FirewallDecision | None,
    splits: dict[tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet, ServiceSet]],
) -> _Verdict:
    """``splits`` memoises (permitted, violating) per (services, allowed): a few hundred
    distinct values serve every class pair."""
    # by identity (hashing service sets is slow): the values are memoised objects nearly
    # always, and the entry keeps both alive
    key = (id(services), id(allowed))
    split = splits.get(key)
    if split is None:
        split = splits[key] = (services & allowed, services - allowed, services, allowed)
    return _Verdict(services, allowed, mode, segment, tagged, route, firewall, split[0], split[1])


def _say_once(hops: list[Hop]) -> tuple[Hop, ...]:
    """The hops without repeats of the one just before. Compared field by field: Hop's
    dataclass ``__eq__`` runs in Python, and paths of every reachable pair go through here."""
    out = [hops[0]]
    prev = hops[0]
    for h in hops[1:]:
        if h.ref != prev.ref or h.detail != prev.detail:
            out.append(h)
        prev = h
    return tuple(out)


def _union(a: ServiceSet, b: ServiceSet) -> ServiceSet:
    """``a | b`` without building a new set when one side is the empty constant."""
    if a is NONE:
        return b
    if b is NONE:
        return a
    return a | b


@dataclass(frozen=True, slots=True)
class _Class:
    key: tuple[object, ...]
    members: list[Attachment]
    zone: str | None
    segtags: tuple[tuple[int, bool], ...]
    profiles: tuple[_Profile, ...]
    known: bool
    firewall: Firewall | None
    firewalled: bool  # a management interface: the host firewall applies

    @property
    def sample(self) -> Attachment:
        return self.members[0]


class Reachability:
    """Answers reachability questions about one topology. Build with
    :func:`analyse_reachability`.

    - :meth:`pairs` — reachable pairs between two selections (entity references, ``zone:``,
      ``host:``, ``guests``, ``management``, ``endpoints``, ``routers``);
    - :meth:`services` — the service set one attachment can send to another (any two);
    - :attr:`segments`, :meth:`segment_of` — the L2 segments and the ones an attachment is in;
    - :meth:`attachment`, :attr:`attachments` — attachments with their bridge-domain joins.
    """

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.layer2 = Layer2(topology)
        self.prefixes = PrefixIndex.of_topology(topology)
        self.attachments: list[Attachment] = []
        self._by_ref: dict[str, Attachment] = {}
        self._routers = {r.name: r for r in topology.routers}
        self._router_ifaces: dict[tuple[str, str], RouterInterface] = {}
        self._collect_attachments()
        self._gateways: dict[int, list[tuple[RouterInterface, Address]]] = defaultdict(list)
        self._router_graph = self._build_router_graph()
        self._segtags_cache: dict[int, tuple[tuple[int, bool], ...]] = {}
        self._acl_memo: dict[tuple[object, ...], AclDecision] = {}
        self._fw_memo: dict[tuple[object, ...], FirewallDecision] = {}
        self._policy_memo: dict[tuple[object, ...], ServiceSet] = {}
        # keyed by id() of interned profile tuples; the value keeps the tuple alive
        self._union_matches: dict[int, tuple[frozenset[int], tuple[_Profile, ...]]] = {}
        self._l3_memo: dict[
            tuple[object, ...], tuple[tuple[ServiceSet, _Route | None], _Profile, _Profile]
        ] = {}
        self._segdicts: dict[
            int, tuple[dict[int, bool], frozenset[int], frozenset[int], object]
        ] = {}
        self._allowed_memo: dict[tuple[object, ...], tuple[ServiceSet, object, object]] = {}
        self._verdict_sets: dict[
            tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet, ServiceSet]
        ] = {}
        self._routed_memo: dict[tuple[object, ...], ServiceSet] = {}
        self._paths_memo: dict[tuple[str, str], list[list[str]]] = {}
        self._along_memo: dict[tuple[object, ...], tuple[ServiceSet, tuple[AclDecision, ...]]] = {}
        self._hops_memo: dict[tuple[Node, Node], tuple[Hop, ...]] = {}
        self._profile_memo: dict[int, tuple[_Profile, ...]] = {}
        self._gw_memo: dict[
            tuple[int, int, int, int], list[tuple[str, str, int, Address, bool]]
        ] = {}
        self._self_memo: dict[str, Hop] = {}
        self._plain_profiles: dict[tuple[object, ...], _Profile] = {}
        self._subnet_profiles: dict[
            tuple[int, int, int, int], tuple[_Profile | None, frozenset[int]]
        ] = {}
        self._segment_numbers: dict[int, tuple[tuple[int, ...], object]] = {}
        self._class_keys: dict[int, tuple[tuple[object, ...], Attachment]] = {}
        self._services_memo: dict[tuple[tuple[object, ...], tuple[object, ...]], ServiceSet] = {}
        self._joins_by_segment: dict[int, tuple[dict[int, Join], Attachment]] = {}
        self._segtags_intern: dict[tuple[tuple[int, bool], ...], tuple[tuple[int, bool], ...]] = {}
        self._profile_intern: dict[tuple[_Profile, ...], tuple[_Profile, ...]] = {}
        self._fw_intern: dict[str, tuple[Firewall | None, int]] = {}
        self._fw_numbers: dict[Firewall | None, int] = {}
        # keyed by id() of memoised values; the value keeps the keyed object alive
        self._middle_memo: dict[int, tuple[tuple[Hop, ...], object]] = {}
        self._tail_memo: dict[tuple[str, int], tuple[tuple[Hop, ...], object]] = {}

    # --- attachments -----------------------------------------------------------------------
    def _add(self, a: Attachment) -> None:
        self.attachments.append(a)
        self._by_ref[a.ref] = a

    def _collect_attachments(self) -> None:
        l2 = self.layer2
        topo = self.topology
        for g in topo.guests:
            for n in g.nics:
                self._add(
                    Attachment(
                        n.ref,
                        "guest",
                        g.zone,
                        n.addresses,
                        l2.guest_joins(n, g.host),
                        g.host,
                        n.vlan,
                        n.location,
                    )
                )
        for h in topo.hosts:
            for m in h.management:
                self._add(
                    Attachment(
                        m.ref,
                        "management",
                        m.zone,
                        m.addresses,
                        l2.management_joins(m),
                        h.name,
                        m.vlan,
                        m.location,
                    )
                )
        for e in topo.endpoints:
            self._add(
                Attachment(
                    e.ref,
                    "endpoint",
                    e.zone,
                    e.addresses,
                    l2.endpoint_joins(e),
                    None,
                    None,
                    e.location,
                )
            )
        for r in topo.routers:
            for i in r.interfaces:
                self._router_ifaces[(r.name, i.name)] = i
                addrs = (i.address,) if i.address is not None else ()
                self._add(
                    Attachment(
                        i.ref,
                        "router",
                        None,
                        addrs,
                        l2.router_joins(i),
                        i.host,
                        i.vlan_mode,
                        i.location,
                    )
                )

    def attachment(self, ref: str) -> Attachment:
        """The attachment named by an entity reference; raises SelectorError when unknown."""
        found = self._by_ref.get(ref)
        if found is None:
            raise unknown_reference(ref, list(self._by_ref))
        return found

    @property
    def segments(self) -> list[Segment]:
        return self.layer2.segments

    def segment_of(self, ref: str) -> tuple[Segment, ...]:
        """The segments an attachment is in (several for a VGT/trunk/transparent port)."""
        a = self.attachment(ref)
        seen = sorted({j.segment for j in a.joins})
        return tuple(self.layer2.segments[s] for s in seen)

    def segment_numbers(self, a: Attachment) -> tuple[int, ...]:
        """``sorted(a.segments)``, computed once per distinct set of segments."""
        segtags = self._segtags(a)
        found = self._segment_numbers.get(id(segtags))
        if found is None:
            found = self._segment_numbers[id(segtags)] = (tuple(sg for sg, _ in segtags), segtags)
        return found[0]

    def tagged_in(self, a: Attachment, segment: int) -> bool:
        """Whether ``a`` is in ``segment`` only by tagged frames (VGT, trunk, transparent)."""
        return self._segdict(self._segtags(a)).get(segment, False)

    def attachments_in(self, segment: int) -> list[Attachment]:
        return [a for a in self.attachments if any(j.segment == segment for j in a.joins)]

    # --- routers ---------------------------------------------------------------------------
    def _build_router_graph(self) -> nx.Graph:
        """Routers joined by transit segments (both have an address there, same subnet)."""
        per_segment: dict[int, list[tuple[RouterInterface, Address]]] = defaultdict(list)
        for (_rname, _iname), iface in self._router_ifaces.items():
            if iface.address is None:
                continue
            att = self._by_ref[iface.ref]
            for j in att.joins:
                per_segment[j.segment].append((iface, iface.address))
                self._gateways[j.segment].append((iface, iface.address))
        g = nx.Graph()
        g.add_nodes_from(sorted(self._routers))
        for seg, ifaces in sorted(per_segment.items()):
            for i, (a, aa) in enumerate(ifaces):
                for b, ba in ifaces[i + 1 :]:
                    if a.router == b.router or aa.version != ba.version:
                        continue
                    if not aa.network.overlaps(ba.network):  # type: ignore[arg-type,unused-ignore]
                        continue
                    key = (a.router, b.router)
                    if not g.has_edge(*key):
                        g.add_edge(*key, transits=[])
                    g.edges[key]["transits"].append((a.router, a.name, b.router, b.name, seg))
        return g

    def _router_paths(self, r1: str, r2: str) -> list[list[str]]:
        key = (r1, r2)
        found = self._paths_memo.get(key)
        if found is None:
            if r1 == r2:
                found = [[r1]]
            else:
                found = sorted(
                    (list(p) for p in nx.all_simple_paths(self._router_graph, r1, r2, cutoff=8)),
                    key=lambda p: (len(p), p),
                )
            self._paths_memo[key] = found
        return found

    def _transit(self, ra: str, rb: str) -> tuple[str, str, int]:
        """(egress interface of ra, ingress interface of rb, transit segment)."""
        for t in self._router_graph.edges[ra, rb]["transits"]:
            if t[0] == ra:
                return t[1], t[3], t[4]
            return t[3], t[1], t[4]
        raise AssertionError("routers are adjacent")

    # --- classes ---------------------------------------------------------------------------
    def _segtags(self, a: Attachment) -> tuple[tuple[int, bool], ...]:
        key = id(a.joins)
        found = self._segtags_cache.get(key)
        if found is None:
            best: dict[int, bool] = {}
            for j in a.joins:
                best[j.segment] = best.get(j.segment, True) and j.tagged
            found = tuple(sorted(best.items()))
            # one object per distinct value: class keys then hash by identity
            found = self._segtags_intern.setdefault(found, found)
            self._segtags_cache[key] = found
        return found

    def _gateways_for(
        self, segtags: tuple[tuple[int, bool], ...], addr: Address
    ) -> list[tuple[str, str, int, Address, bool]]:
        """Gateways in an attachment's segments for one subnet: (router, interface, segment,
        gateway address, whether the subnet alone decides, i.e. no per-address check)."""
        net = addr.network
        plen = net.prefixlen
        # keyed by integers (hashing ipaddress objects dominates on 50,000 guests) and by the
        # interned segment tuple, which thousands of attachments share
        key = (id(segtags), addr.version, int(addr) >> (net.max_prefixlen - plen), plen)
        found = self._gw_memo.get(key)
        if found is None:
            found = []
            for seg, _ in segtags:
                for iface, gaddr in self._gateways.get(seg, ()):
                    gnet = gaddr.network
                    if gnet.version != net.version:
                        continue
                    whole = gnet.prefixlen <= net.prefixlen and net.subnet_of(gnet)  # type: ignore[arg-type]
                    if whole or gnet.overlaps(net):
                        found.append((iface.router, iface.name, seg, gaddr, whole))
            self._gw_memo[key] = found
        return found

    def _profile(self, segtags: tuple[tuple[int, bool], ...], addr: Address) -> _Profile:
        # Most addresses share their subnet's profile: decided once per (segments, subnet),
        # so that each of 50,000 addresses costs a lookup and a membership test.
        net = addr.network
        plen = net.prefixlen
        ip = int(addr)
        skey = (id(segtags), addr.version, ip >> (net.max_prefixlen - plen), plen)
        subnet = self._subnet_profiles.get(skey)
        if subnet is None:
            subnet = self._subnet_profiles[skey] = self._subnet_profile(segtags, addr)
        shared, gateway_ips = subnet
        if shared is not None and ip not in gateway_ips:
            return shared
        gateways = self._gateways_for(segtags, addr)
        match = self.prefixes.match(addr)
        # The subnet alone decides which gateways serve it, unless the address is a gateway's
        # own: one shared profile per (segments, subnet, match).
        if all(whole for *_, whole in gateways) and not any(
            int(gaddr) == ip for _, _, _, gaddr, _ in gateways
        ):
            return self._plain_profile(segtags, addr, match, gateways)
        out = []
        for router, iface, seg, gaddr, whole in gateways:
            if gaddr == addr:
                continue  # the router's own interface
            if whole or addr.ip in gaddr.network:
                out.append((router, iface, seg))
        return _Profile(addr.version, match, frozenset(out))

    def _plain_profile(
        self,
        segtags: tuple[tuple[int, bool], ...],
        addr: Address,
        match: frozenset[int],
        gateways: list[tuple[str, str, int, Address, bool]],
    ) -> _Profile:
        net = addr.network
        key = (id(segtags), addr.version, int(net.network_address), net.prefixlen, match)
        found = self._plain_profiles.get(key)
        if found is None:
            gws = frozenset((router, iface, seg) for router, iface, seg, _, _ in gateways)
            found = self._plain_profiles[key] = _Profile(addr.version, match, gws)
        return found

    def _subnet_profile(
        self, segtags: tuple[tuple[int, bool], ...], addr: Address
    ) -> tuple[_Profile | None, frozenset[int]]:
        """The profile every address of ``addr``'s subnet has when the subnet alone decides
        (else None), and the gateways' own addresses, which are the exceptions."""
        gateways = self._gateways_for(segtags, addr)
        gateway_ips = frozenset(int(gaddr) for _, _, _, gaddr, _ in gateways)
        match = self.prefixes.subnet_match(addr)
        if match is None or not all(whole for *_, whole in gateways):
            return None, gateway_ips
        return self._plain_profile(segtags, addr, match, gateways), gateway_ips

    def _profiles(self, a: Attachment) -> tuple[_Profile, ...]:
        found = self._profile_memo.get(id(a))
        if found is not None:
            return found
        segtags = self._segtags(a)
        out = {self._profile(segtags, addr) for addr in a.addresses}
        if len(out) == 1:
            result: tuple[_Profile, ...] = (out.pop(),)
        else:
            result = tuple(
                sorted(out, key=lambda p: (p.version, sorted(p.match), sorted(p.gateways)))
            )
        # one object per distinct profile tuple: class keys then hash by identity
        result = self._profile_intern.setdefault(result, result)
        self._profile_memo[id(a)] = result
        return result

    def _firewall_of(self, a: Attachment) -> tuple[Firewall | None, bool]:
        if a.kind != "management" or a.host is None:
            return None, False
        return self.topology.host(a.host).firewall, True

    def _firewall_id(self, a: Attachment) -> int:
        """Equal firewalls share one number (hashing each host's rules once)."""
        if a.kind != "management" or a.host is None:
            return -1
        found = self._fw_intern.get(a.host)
        if found is None:
            fw = self.topology.host(a.host).firewall
            numbers = self._fw_numbers
            found = (fw, numbers.setdefault(fw, len(numbers)))
            self._fw_intern[a.host] = found
        return found[1]

    def _classes(self, members: Iterable[Attachment]) -> list[_Class]:
        groups: dict[tuple[object, ...], list[Attachment]] = {}
        key: tuple[object, ...]
        keys = self._class_keys
        for a in members:
            found = keys.get(id(a))
            if found is None:
                key = (
                    a.kind,
                    a.zone,
                    id(self._segtags(a)),
                    id(self._profiles(a)),
                    bool(a.addresses),
                    self._firewall_id(a),
                )
                keys[id(a)] = (key, a)  # the entry keeps the attachment, so its id stays its
            else:
                key = found[0]
            groups.setdefault(key, []).append(a)
        out = []
        for key, ms in groups.items():
            fw, firewalled = self._firewall_of(ms[0])
            out.append(
                _Class(
                    key,
                    ms,
                    ms[0].zone,
                    self._segtags(ms[0]),
                    self._profiles(ms[0]),
                    bool(ms[0].addresses),
                    fw,
                    firewalled,
                )
            )
        return out

    # --- verdicts --------------------------------------------------------------------------
    def _acl(self, router: Router, src: Side, dst: Side) -> AclDecision:
        key = (router.name, src, dst)
        found = self._acl_memo.get(key)
        if found is None:
            found = evaluate_acl(router, src, dst, self.prefixes)
            self._acl_memo[key] = found
        return found

    def _through(
        self, zs: str | None, ps: _Profile, zd: str | None, pd: _Profile
    ) -> tuple[ServiceSet, _Route | None]:
        """Routed services from one source address profile to one destination profile."""
        # keyed by identity (profiles are interned, and the entry keeps both alive): this is
        # asked for every pair of source class and destination profile
        key = (zs, id(ps), zd, id(pd))
        found = self._l3_memo.get(key)
        if found is not None:
            return found[0]
        result: tuple[ServiceSet, _Route | None] = (NONE, None)
        if ps.version == pd.version:
            # The services depend only on the two sides and on which (entry router, exit
            # router) pairs are usable; tens of thousands of profile pairs share a few
            # hundred such keys, so the ACL walk is memoised on that.
            routers = frozenset(
                (entry[0], exit_[0])
                for entry in ps.gateways
                for exit_ in pd.gateways
                if entry[2] != exit_[2]
            )
            services = self._routed_services(zs, ps.match, zd, pd.match, routers)
            if services:
                result = (services, self._first_route(zs, ps, zd, pd))
        self._l3_memo[key] = (result, ps, pd)
        return result

    def _routes(self, zs: str | None, ps: _Profile, zd: str | None, pd: _Profile) -> bool:
        """Whether :meth:`_through` lets anything through (without building its route)."""
        if ps.version != pd.version:
            return False
        routers = frozenset(
            (entry[0], exit_[0])
            for entry in ps.gateways
            for exit_ in pd.gateways
            if entry[2] != exit_[2]
        )
        return self._routed_services(zs, ps.match, zd, pd.match, routers) is not NONE

    def _routed_services(
        self,
        zs: str | None,
        ms: frozenset[int],
        zd: str | None,
        md: frozenset[int],
        routers: frozenset[tuple[str, str]],
    ) -> ServiceSet:
        key = (zs, ms, zd, md, routers)
        found = self._routed_memo.get(key)
        if found is None:
            found = NONE  # this very object when nothing gets through (see _routes)
            src, dst = Side(zs, ms), Side(zd, md)
            for r1, r2 in sorted(routers):
                for path in self._router_paths(r1, r2):
                    through = self._along(path, src, dst)[0]
                    if through:
                        found = found | through
            self._routed_memo[key] = found
        return found

    def _along(
        self, path: list[str], src: Side, dst: Side
    ) -> tuple[ServiceSet, tuple[AclDecision, ...]]:
        """Services every router of ``path`` lets through, and the decisions up to the
        first router that stops everything."""
        through = ANY
        decisions = []
        for rname in path:
            d = self._acl(self._routers[rname], src, dst)
            decisions.append(d)
            through = through & d.services
            if not through:
                break
        return through, tuple(decisions)

    def _first_route(self, zs: str | None, ps: _Profile, zd: str | None, pd: _Profile) -> _Route:
        """The first (entry, exit, router path) in order that lets anything through."""
        src, dst = Side(zs, ps.match), Side(zd, pd.match)
        memo = self._along_memo
        for entry in sorted(ps.gateways):
            for exit_ in sorted(pd.gateways):
                if entry[2] == exit_[2]:
                    continue  # same segment: layer 2, not routed
                for path in self._router_paths(entry[0], exit_[0]):
                    # thousands of profile pairs walk the same few paths between the same
                    # sides; the path lists live in _paths_memo, so their ids stay theirs
                    key = (id(path), zs, ps.match, zd, pd.match)
                    found = memo.get(key)
                    if found is None:
                        found = memo[key] = self._along(path, src, dst)
                    through, decisions = found
                    if through:
                        return _Route(entry, tuple(path), exit_, decisions)
        raise AssertionError("called only when some route lets services through")

    def _firewall(self, fw: Firewall | None, side: Side) -> FirewallDecision:
        key = (fw, side)
        found = self._fw_memo.get(key)
        if found is None:
            found = evaluate_firewall(fw, side, self.prefixes)
            self._fw_memo[key] = found
        return found

    def _sides(self, c: _Class) -> list[Side]:
        if not c.profiles:
            return [Side(c.zone, frozenset(), known=False)]
        return [Side(c.zone, p.match) for p in c.profiles]

    def _allowed(self, sc: _Class, dc: _Class) -> ServiceSet:
        # classes of equal zone and profiles are many; the policy sees only these
        ckey = (sc.zone, id(sc.profiles), sc.known, dc.zone, id(dc.profiles), dc.known)
        cached = self._allowed_memo.get(ckey)
        if cached is not None:
            return cached[0]
        ms = self._union_match(sc.profiles)
        md = self._union_match(dc.profiles)
        # the sides' fields rather than Side objects: their hash is computed in Python
        key = (sc.zone, ms, sc.known, dc.zone, md, dc.known)
        found = self._policy_memo.get(key)
        if found is None:
            src = Side(sc.zone, ms, sc.known)
            dst = Side(dc.zone, md, dc.known)
            found = policy_allows(self.topology, src, dst, self.prefixes)
            self._policy_memo[key] = found
        # the entry keeps the profile tuples alive, so their ids stay theirs
        self._allowed_memo[ckey] = (found, sc.profiles, dc.profiles)
        return found

    def _union_match(self, profiles: tuple[_Profile, ...]) -> frozenset[int]:
        """The prefixes any of the profiles matches, once per interned profile tuple."""
        found = self._union_matches.get(id(profiles))
        if found is None:
            union: frozenset[int] = frozenset().union(*(p.match for p in profiles))
            found = self._union_matches[id(profiles)] = (union, profiles)
        return found[0]

    def _segdict(self, segtags: tuple[tuple[int, bool], ...]) -> dict[int, bool]:
        """``dict(segtags)``, once per interned value."""
        return self._segsets(segtags)[0]

    def _segsets(
        self, segtags: tuple[tuple[int, bool], ...]
    ) -> tuple[dict[int, bool], frozenset[int], frozenset[int]]:
        """(segment -> tagged only, segments, segments joined untagged), once per value."""
        found = self._segdicts.get(id(segtags))
        if found is None:
            d = dict(segtags)
            untagged = frozenset(sg for sg, tagged in segtags if not tagged)
            found = self._segdicts[id(segtags)] = (d, frozenset(d), untagged, segtags)
        return found[0], found[1], found[2]

    def _verdict(self, sc: _Class, dc: _Class) -> _Verdict | None:
        _, source_segments, source_untagged = self._segsets(sc.segtags)
        common = source_segments & self._segsets(dc.segtags)[1]
        if common:
            # untagged first, then the lowest segment
            untagged = common & source_untagged
            tagged, seg = (False, min(untagged)) if untagged else (True, min(common))
            if dc.firewalled:
                services = NONE
                fwd: FirewallDecision | None = None
                for side in self._sides(sc):
                    d = self._firewall(dc.firewall, side)
                    if fwd is None or (d.services and not fwd.services):
                        fwd = d
                    services = _union(services, d.services)
                if not services:
                    return None
                return _make_verdict(
                    services,
                    self._allowed(sc, dc),
                    "l2",
                    seg,
                    tagged,
                    None,
                    fwd,
                    self._verdict_sets,
                )
            return _make_verdict(
                ANY, self._allowed(sc, dc), "l2", seg, tagged, None, None, self._verdict_sets
            )
        services = NONE
        route: _Route | None = None
        fw_used: FirewallDecision | None = None
        for ps in sc.profiles:
            if not ps.gateways:
                continue
            through = NONE
            first: _Route | None = None
            for pd in dc.profiles:
                got, r = self._through(sc.zone, ps, dc.zone, pd)
                if got:
                    through = _union(through, got)
                    first = first or r
            if not through:
                continue
            if dc.firewalled:
                d = self._firewall(dc.firewall, Side(sc.zone, ps.match))
                through = through & d.services
                if through and fw_used is None:
                    fw_used = d
            if through:
                services = _union(services, through)
                route = route or first
        if not services or route is None:
            return None
        tagged = self._segdict(sc.segtags).get(route.entry[2], False)
        return _make_verdict(
            services,
            self._allowed(sc, dc),
            "l3",
            route.entry[2],
            tagged,
            route,
            fw_used,
            self._verdict_sets,
        )

    # --- paths -----------------------------------------------------------------------------
    def _between(self, u: Node, v: Node) -> tuple[Hop, ...]:
        key = (u, v)
        found = self._hops_memo.get(key)
        if found is None:
            found = tuple(self.layer2.hops_between(u, v)) if u != v else ()
            self._hops_memo[key] = found
        return found

    def _join_in(self, a: Attachment, segment: int) -> Join:
        """The join of ``a`` in ``segment``: its last untagged one, else its first."""
        joins = a.joins
        if len(joins) <= 8:
            best = None
            for j in joins:
                if j.segment == segment and (best is None or not j.tagged):
                    best = j
            assert best is not None
            return best
        # trunk and VGT ports join hundreds of segments: index them once
        found = self._joins_by_segment.get(id(a))
        if found is None:
            index: dict[int, Join] = {}
            for j in joins:
                if j.segment not in index or not j.tagged:
                    index[j.segment] = j
            found = self._joins_by_segment[id(a)] = (index, a)
        return found[0][segment]

    def _self_hop(self, a: Attachment) -> Hop:
        found = self._self_memo.get(a.ref)
        if found is None:
            found = self._self_memo[a.ref] = self._describe_self(a)
        return found

    def _describe_self(self, a: Attachment) -> Hop:
        if a.kind == "guest" and a.vlan is not None:
            return Hop(a.ref, str(a.vlan))
        if a.kind == "management" and a.host is not None:
            what = self.topology.host(a.host).hypervisor.privileged_domain
            return Hop(a.ref, f"{what} interface")
        return Hop(a.ref, "")

    def _path(self, s: Attachment, d: Attachment, v: _Verdict) -> tuple[Hop, ...]:
        route = v.route
        js = self._join_in(s, v.segment if route is None else route.entry[2])
        jd = self._join_in(d, v.segment if route is None else route.exit[2])
        if route is None:
            middle = self._between(js.node, jd.node)
        else:
            # three cached pieces: to the first gateway, through the routers, from the last
            key = id(route)
            found = self._middle_memo.get(key)
            if found is None:
                found = self._middle_memo[key] = (self._routed(route), route)
            routed = found[0]
            first, last = self._gateway_node(route.entry), self._gateway_node(route.exit)
            middle = (*self._between(js.node, first), *routed, *self._between(last, jd.node))
        tail: tuple[Hop, ...] = ()
        if d.kind == "management" and d.host is not None:
            tkey = (d.host, id(v.firewall))
            tail_found = self._tail_memo.get(tkey)
            if tail_found is None:
                tail_found = (tuple(self._firewall_hops(d.host, v.firewall)), v.firewall)
                self._tail_memo[tkey] = tail_found
            tail = tail_found[0]
        hops = [self._self_hop(s), *js.hops, *middle, *reversed(jd.hops), self._self_hop(d), *tail]
        # two attachments of one virtual switch meet there: say it once
        return _say_once(hops)

    def _gateway_node(self, gateway: tuple[str, str, int]) -> Node:
        iface = self._router_ifaces[(gateway[0], gateway[1])]
        return self._join_in(self._by_ref[iface.ref], gateway[2]).node

    def _routed(self, route: _Route) -> tuple[Hop, ...]:
        """Hops from the first gateway's bridge domain to the last gateway's."""
        hops: list[Hop] = []
        node = self._gateway_node(route.entry)
        iface_in = self._router_ifaces[(route.entry[0], route.entry[1])]
        segment = route.entry[2]
        for k, rname in enumerate(route.routers):
            j_in = self._join_in(self._by_ref[iface_in.ref], segment)
            hops += self._between(node, j_in.node)
            hops += reversed(j_in.hops)
            hops.append(Hop(iface_in.ref, f"gateway {iface_in.address}"))
            hops += self._acl_hops(self._routers[rname], route.decisions[k])
            next_iface = None
            if k + 1 < len(route.routers):
                out_name, next_in, segment = self._transit(rname, route.routers[k + 1])
                iface_out = self._router_ifaces[(rname, out_name)]
                next_iface = self._router_ifaces[(route.routers[k + 1], next_in)]
            else:
                iface_out = self._router_ifaces[(route.exit[0], route.exit[1])]
                segment = route.exit[2]
            hops.append(Hop(iface_out.ref, f"out via {iface_out.address}"))
            j_out = self._join_in(self._by_ref[iface_out.ref], segment)
            hops += j_out.hops
            node = j_out.node
            if next_iface is not None:
                iface_in = next_iface
        return tuple(hops)

    def segment_path(self, src: Attachment, dst: Attachment, segment: int) -> tuple[Hop, ...]:
        """Hops from ``src`` to ``dst`` inside one segment they share (no filtering applied)."""
        js, jd = self._join_in(src, segment), self._join_in(dst, segment)
        hops = [self._self_hop(src), *js.hops, *self._between(js.node, jd.node)]
        hops += [*reversed(jd.hops), self._self_hop(dst)]
        return _say_once(hops)

    def _acl_hops(self, router: Router, decision: AclDecision) -> list[Hop]:
        out = []
        for line in decision.lines:
            if line is None:
                out.append(Hop(f"acl:{router.name}/default", "default permit"))
            else:
                out.append(Hop(f"acl:{router.name}/{line.index + 1}", str(line)))
        return out

    def _firewall_hops(self, host: str, decision: FirewallDecision | None) -> list[Hop]:
        fw = self.topology.host(host).firewall
        if fw is None or decision is None or not decision.present:
            return [Hop(refs.host(host), "no firewall: everything accepted")]
        out = []
        for k in decision.rules:
            if k == 0:
                out.append(Hop(f"firewall:{host}/default", "default allow"))
            else:
                rule = firewall_rule(fw, k)
                out.append(Hop(f"firewall:{host}/{k}", f"allow from {rule.source} {rule.services}"))
        return out

    # --- public questions ------------------------------------------------------------------
    def select(self, selector: str) -> list[Attachment]:
        """Attachments a selector names, in topology order; raises SelectorError."""
        return [self.attachment(ref) for ref in select(self.topology, selector)]

    def class_verdicts(
        self, sources: Sequence[Attachment], destinations: Sequence[Attachment]
    ) -> Iterator[tuple[list[Attachment], list[Attachment], _Verdict]]:
        """Verdicts per pair of classes (members may include one attachment on both sides).

        Internal building block for rules that aggregate (zone-policy-violation) without
        expanding every attachment pair."""
        src_classes = self._classes(sources)
        dst_classes = self._classes(destinations)
        by_segment: dict[int, list[int]] = defaultdict(list)
        by_l3: dict[tuple[str | None, tuple[_Profile, ...]], list[int]] = defaultdict(list)
        for k, dc in enumerate(dst_classes):
            for seg, _ in dc.segtags:
                by_segment[seg].append(k)
            if any(p.gateways for p in dc.profiles):
                by_l3[(dc.zone, dc.profiles)].append(k)
        groups = [(zd, dprofiles, ks) for (zd, dprofiles), ks in by_l3.items()]
        # groups with a gateway in each segment (see _routable)
        gateway_groups: dict[int, set[int]] = defaultdict(set)
        for gi, (_, dprofiles, _) in enumerate(groups):
            for pd in dprofiles:
                for _, _, seg in pd.gateways:
                    gateway_groups[seg].add(gi)
        # destination groups a (zone, address profile) can route to, asked once per profile
        # rather than once per source class
        routable: dict[tuple[str | None, int], list[int]] = {}
        by_routers: dict[tuple[object, ...], list[int]] = {}
        for sc in src_classes:
            done: set[int] = set()
            for seg, _ in sc.segtags:
                for k in by_segment.get(seg, ()):
                    if k in done:
                        continue
                    done.add(k)
                    v = self._verdict(sc, dst_classes[k])
                    if v is not None:
                        yield sc.members, dst_classes[k].members, v
            hits: list[int] = []
            for ps in sc.profiles:
                if not ps.gateways:
                    continue
                rkey = (sc.zone, id(ps))
                found = routable.get(rkey)
                if found is None:
                    found = routable[rkey] = self._routable(
                        sc.zone, ps, groups, gateway_groups, by_routers
                    )
                hits = found if not hits else sorted({*hits, *found})
            for gi in hits:
                for k in groups[gi][2]:
                    if k in done:
                        continue
                    v = self._verdict(sc, dst_classes[k])
                    if v is not None:
                        yield sc.members, dst_classes[k].members, v

    def _routable(
        self,
        zs: str | None,
        ps: _Profile,
        groups: list[tuple[str | None, tuple[_Profile, ...], list[int]]],
        gateway_groups: dict[int, set[int]],
        by_routers: dict[tuple[object, ...], list[int]],
    ) -> list[int]:
        """The groups (in order) with a destination profile :meth:`_routes` lets ``ps`` reach.

        Gateways in different segments pair up completely, so for the groups with no gateway
        in ``ps``'s segments the answer depends only on the source's zone, match set and
        entry routers: hundreds of source profiles (one per subnet) share a few dozen of
        those, each asked once over every group. The other groups are asked exactly."""
        entry = frozenset(router for router, _, _ in ps.gateways)
        key = (zs, ps.version, ps.match, entry)
        coarse = by_routers.get(key)
        if coarse is None:
            coarse = by_routers[key] = [
                gi
                for gi, (zd, dprofiles, _) in enumerate(groups)
                if any(self._routes_between(zs, ps, entry, zd, pd) for pd in dprofiles)
            ]
        near = {gi for _, _, seg in ps.gateways for gi in gateway_groups.get(seg, ())}
        if not near:
            return coarse
        exact = {
            gi
            for gi in near
            if any(self._routes(zs, ps, groups[gi][0], pd) for pd in groups[gi][1])
        }
        return sorted({gi for gi in coarse if gi not in near} | exact)

    def _routes_between(
        self, zs: str | None, ps: _Profile, entry: frozenset[str], zd: str | None, pd: _Profile
    ) -> bool:
        """:meth:`_routes` when no gateway of ``pd`` shares a segment with one of ``ps``."""
        if ps.version != pd.version:
            return False
        routers = frozenset((r1, r2) for r1 in entry for r2, _, _ in pd.gateways)
        return self._routed_services(zs, ps.match, zd, pd.match, routers) is not NONE

    def make_pair(self, s: Attachment, d: Attachment, v: _Verdict) -> ReachablePair:
        via: tuple[str, ...] = ()
        if v.route is not None:
            via = tuple(refs.router(r) for r in v.route.routers)
        return ReachablePair(
            s.ref,
            d.ref,
            v.services,
            v.permitted,
            v.violating,
            v.mode,
            via,
            v.tagged,
            self._path(s, d, v),
        )

    def pairs(
        self,
        sources: str | Sequence[Attachment] = "guests",
        destinations: str | Sequence[Attachment] = "management",
        *,
        violating_only: bool = False,
    ) -> list[ReachablePair]:
        """Every reachable (source, destination) pair between two selections, in topology
        order of sources then destinations. An attachment never pairs with itself.
        ``violating_only`` keeps the pairs with services the policy does not allow (without
        building the paths of the others)."""
        srcs = self.select(sources) if isinstance(sources, str) else list(sources)
        dsts = self.select(destinations) if isinstance(destinations, str) else list(destinations)
        order = {a.ref: i for i, a in enumerate(self.attachments)}
        found: list[tuple[int, int, Attachment, Attachment, _Verdict]] = []
        for sm, dm, v in self.class_verdicts(srcs, dsts):
            if violating_only and not v.violating:
                continue
            for s in sm:
                for d in dm:
                    if s is not d:
                        found.append((order[s.ref], order[d.ref], s, d, v))
        found.sort(key=lambda t: (t[0], t[1]))
        return [self.make_pair(s, d, v) for _, _, s, d, v in found]

    def pair(self, src_ref: str, dst_ref: str) -> ReachablePair | None:
        """The reachable pair between two attachments, or None when nothing gets through."""
        s, d = self.attachment(src_ref), self.attachment(dst_ref)
        if s is d:
            return None
        v = self._verdict(self._classes([s])[0], self._classes([d])[0])
        return None if v is None else self.make_pair(s, d, v)

    def services(self, src_ref: str, dst_ref: str) -> ServiceSet:
        """Services ``src_ref`` can send to ``dst_ref`` (any two attachments), after router
        ACLs and, for a management interface, its host's firewall. Empty when unreachable.
        Cheap to call repeatedly: verdicts are memoised per class."""
        s, d = self.attachment(src_ref), self.attachment(dst_ref)
        if s is d:
            return ANY
        # The verdict depends only on the two attachments' classes (that is what makes them a
        # class), so it is worked out once per class pair: a replay asks for thousands of
        # pairs among a few classes, and building the two classes cost more than the verdict.
        key = (self._class_key(s), self._class_key(d))
        found = self._services_memo.get(key)
        if found is None:
            v = self._verdict(self._classes([s])[0], self._classes([d])[0])
            found = self._services_memo[key] = NONE if v is None else v.services
        return found

    def class_key(self, ref: str) -> tuple[object, ...]:
        """A key equal for two attachments exactly when they are in the same class (same
        kind, zone, segments and tags, address profiles and firewall), so every reachability
        answer between classes holds for their members: ``services(a, b) ==
        services(c, d)`` when ``a, c`` and ``b, d`` share keys (and ``a is not b``,
        ``c is not d``). Valid while this object lives."""
        return self._class_key(self.attachment(ref))

    def _class_key(self, a: Attachment) -> tuple[object, ...]:
        found = self._class_keys.get(id(a))
        if found is None:
            self._classes([a])  # computes and records the key
            found = self._class_keys[id(a)]
        return found[0]


def analyse_reachability(topology: Topology) -> Reachability:
    """Build the bridge-domain graph, segments and L3 model of a topology."""
    with collector_paused():
        return Reachability(topology)
