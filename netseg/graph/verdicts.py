"""Verdicts: what one class of attachments can send to another, and how (semantics.md).

Attachments that share segments and tags, zone, address profile and (for destinations) their
host firewall form a class; a verdict is computed once per pair of classes, from L2 (a shared
segment), L3 (gateways, router ACLs along the transit graph) and the destination's firewall,
and split by the policy into permitted and violating services. The tables it fills are in
:mod:`netseg.graph.memo`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

import networkx as nx

from netseg.graph.attachments import Attachments
from netseg.graph.l3 import (
    ANY,
    NONE,
    FirewallDecision,
    Side,
    evaluate_firewall,
    policy_allows,
)
from netseg.graph.routing import RouterAcl, SourceSide, first_path, fixed_point
from netseg.graph.values import (
    Attachment,
    AttachmentClass,
    Profile,
    Route,
    Verdict,
    make_verdict,
    union_services,
)
from netseg.model.services import ServiceSet
from netseg.model.topology import Address, Firewall, Network, Peer, RouterInterface, Topology


class Verdicts(Attachments):
    """Classes of attachments and the verdict between two classes."""

    def __init__(self, topology: Topology) -> None:
        super().__init__(topology)
        self._gateways: dict[int, list[tuple[RouterInterface, Address]]] = defaultdict(list)
        self._router_graph = self._build_router_graph()
        self._neighbours: dict[str, list[str]] = {
            r: sorted(self._router_graph.adj[r]) for r in self._router_graph
        }
        # each ACL compiled once, deciding per side pair as that ACL sees it
        self._compiled = {r.name: RouterAcl(r, self.prefixes) for r in topology.routers}

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
        found = self.memo.segtags.get(key)
        if found is None:
            best: dict[int, bool] = {}
            for j in a.joins:
                best[j.segment] = best.get(j.segment, True) and j.tagged
            found = tuple(sorted(best.items()))
            # one object per distinct value: class keys then hash by identity
            found = self.memo.segtags_intern.setdefault(found, found)
            self.memo.segtags[key] = found
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
        found = self.memo.gateways.get(key)
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
            self.memo.gateways[key] = found
        return found

    def _profile(self, segtags: tuple[tuple[int, bool], ...], addr: Address) -> Profile:
        # Most addresses share their subnet's profile: decided once per (segments, subnet),
        # so that each of 50,000 addresses costs a lookup and a membership test.
        net = addr.network
        plen = net.prefixlen
        ip = int(addr)
        skey = (id(segtags), addr.version, ip >> (net.max_prefixlen - plen), plen)
        subnet = self.memo.subnet_profiles.get(skey)
        if subnet is None:
            subnet = self.memo.subnet_profiles[skey] = self._subnet_profile(segtags, addr)
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
        return Profile(addr.version, match, frozenset(out))

    def _plain_profile(
        self,
        segtags: tuple[tuple[int, bool], ...],
        addr: Address,
        match: frozenset[int],
        gateways: list[tuple[str, str, int, Address, bool]],
    ) -> Profile:
        net = addr.network
        key = (id(segtags), addr.version, int(net.network_address), net.prefixlen, match)
        found = self.memo.plain_profiles.get(key)
        if found is None:
            gws = frozenset((router, iface, seg) for router, iface, seg, _, _ in gateways)
            found = self.memo.plain_profiles[key] = Profile(addr.version, match, gws)
        return found

    def _subnet_profile(
        self, segtags: tuple[tuple[int, bool], ...], addr: Address
    ) -> tuple[Profile | None, frozenset[int]]:
        """The profile every address of ``addr``'s subnet has when the subnet alone decides
        (else None), and the gateways' own addresses, which are the exceptions."""
        gateways = self._gateways_for(segtags, addr)
        gateway_ips = frozenset(int(gaddr) for _, _, _, gaddr, _ in gateways)
        match = self.prefixes.subnet_match(addr)
        if match is None or not all(whole for *_, whole in gateways):
            return None, gateway_ips
        return self._plain_profile(segtags, addr, match, gateways), gateway_ips

    def _profiles(self, a: Attachment) -> tuple[Profile, ...]:
        found = self.memo.profiles.get(id(a))
        if found is not None:
            return found
        segtags = self._segtags(a)
        out = {self._profile(segtags, addr) for addr in a.addresses}
        if len(out) == 1:
            result: tuple[Profile, ...] = (out.pop(),)
        else:
            result = tuple(
                sorted(out, key=lambda p: (p.version, sorted(p.match), sorted(p.gateways)))
            )
        # one object per distinct profile tuple: class keys then hash by identity
        result = self.memo.profile_intern.setdefault(result, result)
        self.memo.profiles[id(a)] = result
        return result

    def _firewall_of(self, a: Attachment) -> tuple[Firewall | None, bool]:
        if a.kind != "management" or a.host is None:
            return None, False
        return self.topology.host(a.host).firewall, True

    def _firewall_id(self, a: Attachment) -> int:
        """Equal firewalls share one number (hashing each host's rules once)."""
        if a.kind != "management" or a.host is None:
            return -1
        found = self.memo.firewall_intern.get(a.host)
        if found is None:
            fw = self.topology.host(a.host).firewall
            numbers = self.memo.firewall_numbers
            found = (fw, numbers.setdefault(fw, len(numbers)))
            self.memo.firewall_intern[a.host] = found
        return found[1]

    def _classes(self, members: Iterable[Attachment]) -> list[AttachmentClass]:
        groups: dict[tuple[object, ...], list[Attachment]] = {}
        key: tuple[object, ...]
        keys = self.memo.class_keys
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
                AttachmentClass(
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
    def _source(self, zs: str | None, ms: frozenset[int]) -> SourceSide:
        """What every router's ACL makes of one source, once per (zone, match set)."""
        key = (zs, ms)
        found = self.memo.sources.get(key)
        if found is None:
            found = self.memo.sources[key] = SourceSide(
                {name: acl.source_view(zs, ms) for name, acl in self._compiled.items()}
            )
        return found

    def _fixed(
        self, entry: str, src: SourceSide, dest: tuple[str | None, frozenset[int]]
    ) -> dict[str, ServiceSet]:
        """Services reaching each router from ``entry`` for one source and one destination
        as that source's lines see it (netseg.graph.routing).

        Memoised on what the routers decide (one decision per router), not on the sides:
        side pairs that every ACL sees alike share one fixed point, however many ``/32``
        entries elsewhere make their match sets differ."""
        key = (entry, id(src), dest)
        found = self.memo.fixed_by_side.get(key)
        if found is not None:
            return found
        zd, md = dest
        views = src.views
        vector = (entry, tuple(id(v.decide(zd, md)) for v in views.values()))
        found = self.memo.fixed_points.get(vector)
        if found is None:
            found = self.memo.fixed_points[vector] = fixed_point(
                self._neighbours,
                entry,
                lambda r: views[r].decide(zd, md).services,
                self.memo.set_ops,
            )
        self.memo.fixed_by_side[key] = found
        return found

    def _through(
        self, zs: str | None, ps: Profile, zd: str | None, pd: Profile
    ) -> tuple[ServiceSet, Route | None]:
        """Routed services from one source address profile to one destination profile."""
        # keyed by identity (profiles are interned, and the entry keeps both alive): this is
        # asked for every pair of source class and destination profile
        key = (zs, id(ps), zd, id(pd))
        found = self.memo.l3.get(key)
        if found is not None:
            return found[0]
        result: tuple[ServiceSet, Route | None] = (NONE, None)
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
        self.memo.l3[key] = (result, ps, pd)
        return result

    def _routes(self, zs: str | None, ps: Profile, zd: str | None, pd: Profile) -> bool:
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
        src = self._source(zs, ms)
        dest = src.sees(zd, md)
        key = (id(src), dest, routers)
        found = self.memo.routed.get(key)
        if found is None:
            found = NONE  # this very object when nothing gets through (see _routes)
            for r1, r2 in sorted(routers):
                through = self._fixed(r1, src, dest).get(r2)
                if through:
                    found = union_services(found, through)
            self.memo.routed[key] = found
        return found

    def _first_route(self, zs: str | None, ps: Profile, zd: str | None, pd: Profile) -> Route:
        """The first (entry, exit) in order with a router path that lets anything through,
        and its shortest such path (netseg.graph.routing.first_path): the one concrete path
        the evidence shows."""
        src = self._source(zs, ps.match)
        dest = src.sees(zd, pd.match)
        dzd, dmd = dest
        views = src.views
        memo = self.memo.first_paths
        for entry in sorted(ps.gateways):
            for exit_ in sorted(pd.gateways):
                if entry[2] == exit_[2]:
                    continue  # same segment: layer 2, not routed
                key = (entry[0], exit_[0], id(src), dest)
                if key in memo:
                    path = memo[key]
                else:
                    path = memo[key] = first_path(
                        self._neighbours,
                        entry[0],
                        exit_[0],
                        lambda r: views[r].decide(dzd, dmd).services,
                        self._fixed(entry[0], src, dest),
                    )
                if path is not None:
                    decisions = tuple(views[r].decide(dzd, dmd) for r in path)
                    return Route(entry, tuple(path), exit_, decisions)
        raise AssertionError("called only when some route lets services through")

    def _firewall(self, fw: Firewall | None, side: Side) -> FirewallDecision:
        key = (fw, side)
        found = self.memo.firewall.get(key)
        if found is None:
            found = evaluate_firewall(fw, side, self.prefixes)
            self.memo.firewall[key] = found
        return found

    def _sides(self, c: AttachmentClass) -> list[Side]:
        if not c.profiles:
            return [Side(c.zone, frozenset(), known=False)]
        return [Side(c.zone, p.match) for p in c.profiles]

    def _allowed(self, sc: AttachmentClass, dc: AttachmentClass) -> ServiceSet:
        # classes of equal zone and profiles are many; the policy sees only these
        ckey = (sc.zone, id(sc.profiles), sc.known, dc.zone, id(dc.profiles), dc.known)
        cached = self.memo.allowed.get(ckey)
        if cached is not None:
            return cached[0]
        ms = self._union_match(sc.profiles)
        md = self._union_match(dc.profiles)
        # the sides' fields rather than Side objects: their hash is computed in Python
        key = (sc.zone, ms, sc.known, dc.zone, md, dc.known)
        found = self.memo.policy.get(key)
        if found is None:
            src = Side(sc.zone, ms, sc.known)
            dst = Side(dc.zone, md, dc.known)
            found = policy_allows(self.topology, src, dst, self.prefixes)
            self.memo.policy[key] = found
        # the entry keeps the profile tuples alive, so their ids stay theirs
        self.memo.allowed[ckey] = (found, sc.profiles, dc.profiles)
        return found

    def _union_match(self, profiles: tuple[Profile, ...]) -> frozenset[int]:
        """The prefixes any of the profiles matches, once per interned profile tuple."""
        found = self.memo.union_matches.get(id(profiles))
        if found is None:
            union: frozenset[int] = frozenset().union(*(p.match for p in profiles))
            found = self.memo.union_matches[id(profiles)] = (union, profiles)
        return found[0]

    def _segdict(self, segtags: tuple[tuple[int, bool], ...]) -> dict[int, bool]:
        """``dict(segtags)``, once per interned value."""
        return self._segsets(segtags)[0]

    def _segsets(
        self, segtags: tuple[tuple[int, bool], ...]
    ) -> tuple[dict[int, bool], frozenset[int], frozenset[int]]:
        """(segment -> tagged only, segments, segments joined untagged), once per value."""
        found = self.memo.segdicts.get(id(segtags))
        if found is None:
            d = dict(segtags)
            untagged = frozenset(sg for sg, tagged in segtags if not tagged)
            found = self.memo.segdicts[id(segtags)] = (d, frozenset(d), untagged, segtags)
        return found[0], found[1], found[2]

    def _verdict(self, sc: AttachmentClass, dc: AttachmentClass) -> Verdict | None:
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
                    services = union_services(services, d.services)
                if not services:
                    return None
                return make_verdict(
                    services,
                    self._allowed(sc, dc),
                    "l2",
                    seg,
                    tagged,
                    None,
                    fwd,
                    self.memo.verdict_sets,
                )
            return make_verdict(
                ANY, self._allowed(sc, dc), "l2", seg, tagged, None, None, self.memo.verdict_sets
            )
        services = NONE
        route: Route | None = None
        fw_used: FirewallDecision | None = None
        for ps in sc.profiles:
            if not ps.gateways:
                continue
            through = NONE
            first: Route | None = None
            for pd in dc.profiles:
                got, r = self._through(sc.zone, ps, dc.zone, pd)
                if got:
                    through = union_services(through, got)
                    first = first or r
            if not through:
                continue
            if dc.firewalled:
                d = self._firewall(dc.firewall, Side(sc.zone, ps.match))
                through = through & d.services
                if through and fw_used is None:
                    fw_used = d
            if through:
                services = union_services(services, through)
                route = route or first
        if not services or route is None:
            return None
        tagged = self._segdict(sc.segtags).get(route.entry[2], False)
        return make_verdict(
            services,
            self._allowed(sc, dc),
            "l3",
            route.entry[2],
            tagged,
            route,
            fw_used,
            self.memo.verdict_sets,
        )

    def class_verdicts(
        self, sources: Sequence[Attachment], destinations: Sequence[Attachment]
    ) -> Iterator[tuple[list[Attachment], list[Attachment], Verdict]]:
        """Verdicts per pair of classes (members may include one attachment on both sides):
        :meth:`verdict_rows` with every group expanded into its classes.

        Internal building block for rules that aggregate without expanding every attachment
        pair."""
        for sm, row in self.verdict_rows(sources, destinations):
            for groups in row.values():
                for g, v in groups:
                    for dc in g.classes:
                        yield sm, dc.members, v

    def verdict_rows(
        self, sources: Sequence[Attachment], destinations: Sequence[Attachment]
    ) -> Iterator[tuple[list[Attachment], Row]]:
        """Per source class, its *row*: the destination classes it has a verdict to, in
        groups that share one verdict, by (destination kind, zone). Rows, their slices and
        groups are shared objects wherever the verdicts are (callers may memoise on them).

        Computed once per *base* pair rather than per class pair: a class's base drops the
        host prefixes (``/32``, ``/128``) its addresses match. A rule naming a host prefix
        (ACL line, policy rule, firewall rule) matters only to the pairs it matches on both
        sides (:meth:`_touched`); every other pair has its bases' verdict, and the touched
        pairs are asked exactly. ``tests/graph/test_rows.py`` compares every pair with its
        own verdict."""
        src_classes = self._classes(sources)
        dst_classes = self._classes(destinations)
        narrow = self._narrow()
        src_bases, src_base_of = self._bases(src_classes, narrow)
        dst_bases, dst_base_of = self._bases(dst_classes, narrow)
        reals: list[list[AttachmentClass]] = [[] for _ in dst_bases]
        for k, dc in enumerate(dst_classes):
            reals[dst_base_of[k]].append(dc)
        touched = self._touched(src_classes, dst_classes, narrow) if narrow else {}
        sweep = _Sweep(self, dst_bases, reals)
        rows: dict[int, tuple[Row, dict[int, tuple[tuple[str, str | None], int]]]] = {}
        for i, sc in enumerate(src_classes):
            b = src_base_of[i]
            found = rows.get(b)
            if found is None:
                found = rows[b] = sweep.row(src_bases[b])
            row, where = found
            hits = touched.get(i)
            if hits:
                row = self._touched_row(sc, row, where, hits, dst_classes, dst_base_of)
            yield sc.members, row

    # --- bases and touched pairs -----------------------------------------------------------
    def _narrow(self) -> frozenset[int]:
        """The numbers of the host prefixes (``/32``, ``/128``) rules name."""
        found = self.memo.narrow
        if found is None:
            found = self.memo.narrow = frozenset(
                i for net, i in self.prefixes.number.items() if net.prefixlen == net.max_prefixlen
            )
        return found

    def _base_profiles(
        self, profiles: tuple[Profile, ...], narrow: frozenset[int]
    ) -> tuple[Profile, ...]:
        """The profiles without the host prefixes (order kept, repeats dropped), interned."""
        found = self.memo.base_profiles.get(id(profiles))
        if found is not None:
            return found[0]
        out: list[Profile] = []
        for p in profiles:
            base = p if not (p.match & narrow) else Profile(p.version, p.match - narrow, p.gateways)
            base = self.memo.profile_bases.setdefault(base, base)
            if base not in out:
                out.append(base)
        result = tuple(out)
        result = self.memo.profile_intern.setdefault(result, result)
        self.memo.base_profiles[id(profiles)] = (result, profiles)
        return result

    def _bases(
        self, classes: list[AttachmentClass], narrow: frozenset[int]
    ) -> tuple[list[AttachmentClass], list[int]]:
        """The distinct bases of ``classes`` (a class with its host prefixes dropped) and the
        base of each class, by number."""
        if not narrow:
            return classes, list(range(len(classes)))
        bases: list[AttachmentClass] = []
        numbers: dict[tuple[object, ...], int] = {}
        of: list[int] = []
        for c in classes:
            profiles = self._base_profiles(c.profiles, narrow)
            key = (*c.key[:3], id(profiles), *c.key[4:])
            n = numbers.get(key)
            if n is None:
                n = numbers[key] = len(bases)
                bases.append(
                    c
                    if profiles is c.profiles
                    else AttachmentClass(
                        key, [], c.zone, c.segtags, profiles, c.known, c.firewall, c.firewalled
                    )
                )
            of.append(n)
        return bases, of

    def _touched(
        self,
        src_classes: list[AttachmentClass],
        dst_classes: list[AttachmentClass],
        narrow: frozenset[int],
    ) -> dict[int, set[int]]:
        """Per source class (by number), the destination classes some rule naming a host
        prefix matches together with it: an ACL line or policy rule whose two peers match the
        two classes, or a firewall rule whose source matches the source class on the
        destination's firewall. Only those pairs can differ from their bases' verdict."""
        number = self.prefixes.number
        src_index = _PeerIndex(src_classes)
        dst_index = _PeerIndex(dst_classes)
        out: dict[int, set[int]] = {}

        def touch(sources: Sequence[int], dests: Sequence[int]) -> None:
            if sources and dests:
                for i in sources:
                    out.setdefault(i, set()).update(dests)

        def is_narrow(peer: Peer) -> bool:
            return peer.prefix is not None and number[peer.prefix] in narrow

        pairs = [(line.source, line.destination) for r in self.topology.routers for line in r.acl]
        pairs += [(rule.source, rule.destination) for rule in self.topology.policy.allow]
        for src, dst in pairs:
            if is_narrow(src) or is_narrow(dst):
                touch(src_index.matching(src, number), dst_index.matching(dst, number))
        by_firewall: dict[int, list[int]] = defaultdict(list)
        for k, dc in enumerate(dst_classes):
            if dc.firewalled and dc.firewall is not None:
                by_firewall[id(dc.firewall)].append(k)
        seen: set[int] = set()
        for dc in dst_classes:
            fw = dc.firewall
            if not dc.firewalled or fw is None or id(fw) in seen:
                continue
            seen.add(id(fw))
            for rule in fw.allow:
                if is_narrow(rule.source):
                    touch(src_index.matching(rule.source, number), by_firewall[id(fw)])
        return out

    def _touched_row(
        self,
        sc: AttachmentClass,
        row: Row,
        where: dict[int, tuple[tuple[str, str | None], int]],
        hits: set[int],
        dst_classes: list[AttachmentClass],
        dst_base_of: list[int],
    ) -> Row:
        """``row`` (the base's) with the touched destination classes taken out of their
        groups and put back with their own verdicts."""
        out = dict(row)
        removed: dict[tuple[tuple[str, str | None], int], set[int]] = defaultdict(set)
        for k in hits:
            at = where.get(dst_base_of[k])
            if at is not None:
                removed[at].add(id(dst_classes[k]))
        changed: dict[tuple[str, str | None], list[tuple[ClassGroup, Verdict]]] = {}
        for (slice_key, pos), ids in removed.items():
            groups = changed.get(slice_key)
            if groups is None:
                groups = changed[slice_key] = list(out[slice_key])
            g, gv = groups[pos]
            rest = tuple(c for c in g.classes if id(c) not in ids)
            groups[pos] = (ClassGroup(rest, g.kind, g.zone, g._sorted), gv)
        for k in sorted(hits):
            dc = dst_classes[k]
            v = self._verdict(sc, dc)
            if v is None:
                continue
            slice_key = (dc.sample_kind, dc.zone)
            groups = changed.get(slice_key)
            if groups is None:
                groups = changed[slice_key] = list(out.get(slice_key, ()))
            groups.append((ClassGroup((dc,), dc.sample_kind, dc.zone), v))
        for slice_key, groups in changed.items():
            kept = tuple((g, v) for g, v in groups if g.classes)
            if kept:
                out[slice_key] = kept
            else:
                out.pop(slice_key, None)
        return out

    def _routable(
        self,
        zs: str | None,
        ps: Profile,
        groups: list[tuple[str | None, tuple[Profile, ...], list[int]]],
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
        self, zs: str | None, ps: Profile, entry: frozenset[str], zd: str | None, pd: Profile
    ) -> bool:
        """:meth:`_routes` when no gateway of ``pd`` shares a segment with one of ``ps``."""
        if ps.version != pd.version:
            return False
        routers = frozenset((r1, r2) for r1 in entry for r2, _, _ in pd.gateways)
        return self._routed_services(zs, ps.match, zd, pd.match, routers) is not NONE

    def _class_key(self, a: Attachment) -> tuple[object, ...]:
        found = self.memo.class_keys.get(id(a))
        if found is None:
            self._classes([a])  # computes and records the key
            found = self.memo.class_keys[id(a)]
        return found[0]


#: A source class's row: per (destination kind, zone), the groups of destination classes
#: that share one verdict from it.
Row = dict[tuple[str, str | None], tuple[tuple["ClassGroup", Verdict], ...]]


class ClassGroup:
    """Destination classes of one kind and zone that get one verdict from a source. Shared
    between rows wherever the verdict is, so what is worked out from it once (its count, its
    first members in name order) serves every row."""

    __slots__ = ("_count", "_first", "_sorted", "classes", "kind", "zone")

    def __init__(
        self,
        classes: tuple[AttachmentClass, ...],
        kind: str,
        zone: str | None,
        sorted_members: dict[int, tuple[list[Attachment], frozenset[int], object]] | None = None,
    ) -> None:
        self.classes = classes
        self.kind = kind
        self.zone = zone
        self._count = -1
        self._first: list[Attachment] = []
        # each class's members in name order and as ids, shared by the groups of one sweep
        self._sorted = {} if sorted_members is None else sorted_members

    def _of(self, c: AttachmentClass) -> tuple[list[Attachment], frozenset[int], object]:
        found = self._sorted.get(id(c.members))
        if found is None:
            ordered = sorted(c.members, key=lambda a: a.ref)
            found = self._sorted[id(c.members)] = (
                ordered,
                frozenset(id(a) for a in ordered),
                c.members,
            )
        return found

    @property
    def count(self) -> int:
        """Members of all its classes."""
        if self._count < 0:
            self._count = sum(len(c.members) for c in self.classes)
        return self._count

    def first(self, n: int) -> list[Attachment]:
        """The first ``n`` members in name order (merged from each class's, once)."""
        if len(self._first) < min(n, self.count):
            merged = heapq.merge(*(self._of(c)[0] for c in self.classes), key=lambda a: a.ref)
            self._first = list(itertools.islice(merged, n))
        return self._first[:n]

    def holds(self, a: Attachment) -> bool:
        """Whether ``a`` is a member (by identity)."""
        return any(id(a) in self._of(c)[1] for c in self.classes)


class _PeerIndex:
    """The classes (by number) a rule's peer matches: by zone, by prefix number, or all."""

    def __init__(self, classes: list[AttachmentClass]) -> None:
        self.all = list(range(len(classes)))
        self.by_zone: dict[str | None, list[int]] = defaultdict(list)
        self.by_prefix: dict[int, list[int]] = defaultdict(list)
        for k, c in enumerate(classes):
            self.by_zone[c.zone].append(k)
            for n in frozenset().union(*(p.match for p in c.profiles)):
                self.by_prefix[n].append(k)

    def matching(self, peer: Peer, number: dict[Network, int]) -> list[int]:
        if peer.zone is not None:
            return self.by_zone.get(peer.zone, [])
        if peer.prefix is not None:
            return self.by_prefix.get(number[peer.prefix], [])
        return self.all


class _Sweep:
    """One :meth:`Verdicts.verdict_rows` call's destination bases, grouped for the sweep:
    by segment (layer 2) and by what layer 3 sees of them (kind, zone, profiles, firewall),
    with the routable groups found once per source profile."""

    def __init__(
        self,
        verdicts: Verdicts,
        bases: list[AttachmentClass],
        reals: list[list[AttachmentClass]],
    ) -> None:
        self.v = verdicts
        self.bases = bases
        self.reals = reals
        # per segment: the destinations in that segment only, in groups that get one verdict
        # from any source (kind, zone, profiles, firewall alike), and the others one by one
        self.single: dict[int, list[list[int]]] = defaultdict(list)
        self.multi: dict[int, list[int]] = defaultdict(list)
        singles: dict[tuple[object, ...], list[int]] = {}
        by_l3: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for k, dc in enumerate(bases):
            if len(dc.segtags) == 1:
                seg = dc.segtags[0][0]
                skey = (seg, dc.sample_kind, dc.zone, id(dc.profiles), dc.known, dc.key[5])
                found = singles.get(skey)
                if found is None:
                    found = singles[skey] = []
                    self.single[seg].append(found)
                found.append(k)
            else:
                for seg, _ in dc.segtags:
                    self.multi[seg].append(k)
            if any(p.gateways for p in dc.profiles):
                by_l3[(dc.sample_kind, dc.zone, id(dc.profiles), dc.known, dc.key[5])].append(k)
        self.groups = [(bases[ks[0]].zone, bases[ks[0]].profiles, ks) for ks in by_l3.values()]
        # groups with a gateway in each segment (see Verdicts._routable)
        self.gateway_groups: dict[int, set[int]] = defaultdict(set)
        for gi, (_, dprofiles, _) in enumerate(self.groups):
            for pd in dprofiles:
                for _, _, seg in pd.gateways:
                    self.gateway_groups[seg].add(gi)
        self.routable: dict[tuple[str | None, int], list[int]] = {}
        self.by_routers: dict[tuple[object, ...], list[int]] = {}
        self.shared: dict[int, ClassGroup] = {}
        self.shared_l2: dict[int, ClassGroup] = {}
        self.sorted_members: dict[int, tuple[list[Attachment], frozenset[int], object]] = {}
        # the layer-3 verdict per (source zone, profiles, group): it does not depend on the
        # source's segments, except whether its entry is tagged
        self.l3: dict[tuple[object, ...], Verdict | None] = {}
        self.retagged: dict[tuple[int, bool], Verdict] = {}

    def _group(self, ks: Sequence[int], kind: str, zone: str | None) -> ClassGroup:
        return ClassGroup(
            tuple(c for k in ks for c in self.reals[k]), kind, zone, self.sorted_members
        )

    def row(self, sc: AttachmentClass) -> tuple[Row, dict[int, tuple[tuple[str, str | None], int]]]:
        """The row of one source (base) class, and where each destination base sits in it
        (slice, position)."""
        v = self.v
        bases = self.bases
        slices: dict[tuple[str, str | None], list[tuple[ClassGroup, Verdict]]] = {}
        where: dict[int, tuple[tuple[str, str | None], int]] = {}
        done: set[int] = set()
        l2: dict[tuple[object, ...], tuple[list[int], Verdict, str, str | None]] = {}
        for seg, _ in sc.segtags:
            for ks in self.single.get(seg, ()):
                done.update(ks)
                verdict = v._verdict(sc, bases[ks[0]])
                if verdict is None:
                    continue
                group = self.shared_l2.get(id(ks))
                if group is None:
                    dc = bases[ks[0]]
                    group = self.shared_l2[id(ks)] = self._group(ks, dc.sample_kind, dc.zone)
                self._put(slices, where, ks, group, verdict)
            for k in self.multi.get(seg, ()):
                if k in done:
                    continue
                done.add(k)
                verdict = v._verdict(sc, bases[k])
                if verdict is None:
                    continue
                dc = bases[k]
                gkey: tuple[object, ...] = (
                    dc.sample_kind,
                    dc.zone,
                    id(verdict.services),
                    id(verdict.allowed),
                    verdict.segment,
                    verdict.tagged,
                    id(verdict.firewall),
                )
                found = l2.get(gkey)
                if found is None:
                    l2[gkey] = ([k], verdict, dc.sample_kind, dc.zone)
                else:
                    found[0].append(k)
        for ks, verdict, kind, zone in l2.values():
            self._put(slices, where, ks, self._group(ks, kind, zone), verdict)
        hits: list[int] = []
        for ps in sc.profiles:
            if not ps.gateways:
                continue
            rkey = (sc.zone, id(ps))
            found_hits = self.routable.get(rkey)
            if found_hits is None:
                found_hits = self.routable[rkey] = v._routable(
                    sc.zone, ps, self.groups, self.gateway_groups, self.by_routers
                )
            hits = found_hits if not hits else sorted({*hits, *found_hits})
        segdict = v._segdict(sc.segtags)
        for gi in hits:
            ks = self.groups[gi][2]
            rest = [k for k in ks if k not in done] if done else ks
            if not rest:
                continue
            lkey = (sc.zone, id(sc.profiles), sc.known, gi)
            if lkey in self.l3:
                verdict = self.l3[lkey]
            else:
                verdict = self.l3[lkey] = v._verdict(sc, bases[rest[0]])
            if verdict is None:
                continue
            assert verdict.route is not None
            tagged = segdict.get(verdict.route.entry[2], False)
            if tagged != verdict.tagged:
                tkey = (id(verdict), tagged)
                other = self.retagged.get(tkey)
                if other is None:
                    other = self.retagged[tkey] = replace(verdict, tagged=tagged)
                verdict = other
            dc = bases[rest[0]]
            if len(rest) == len(ks):
                group = self.shared.get(gi)
                if group is None:
                    group = self.shared[gi] = self._group(ks, dc.sample_kind, dc.zone)
            else:
                group = self._group(rest, dc.sample_kind, dc.zone)
            self._put(slices, where, rest, group, verdict)
        return {key: tuple(groups) for key, groups in slices.items()}, where

    @staticmethod
    def _put(
        slices: dict[tuple[str, str | None], list[tuple[ClassGroup, Verdict]]],
        where: dict[int, tuple[tuple[str, str | None], int]],
        ks: Sequence[int],
        group: ClassGroup,
        verdict: Verdict,
    ) -> None:
        key = (group.kind, group.zone)
        groups = slices.setdefault(key, [])
        for k in ks:
            where[k] = (key, len(groups))
        groups.append((group, verdict))
