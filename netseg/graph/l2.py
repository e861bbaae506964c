"""Layer 2: bridge domains, the wires that join them, and the segments they form.

A *bridge domain* is a (device, VLAN) pair: a virtual switch's untagged domain or one of its
VLANs, a physical switch's VLAN, or a VLAN of the implicit ``upstream`` switch that NICs naming
no switch are cabled to. Wires (uplink NIC ↔ switch port, switch ↔ switch link) join domains;
the connected components are the **segments** (semantics.md §1).

VLANs are handled symbolically. Every VLAN set and single VLAN id the topology mentions cuts
1–4094 into *atoms*: maximal ranges that no set splits. Two VLANs of one atom are in exactly the
same sets, and no rule treats a single VLAN of a multi-VLAN atom specially (single ids are atoms
of their own), so the domain graph restricted to one VLAN is the same for every VLAN of an atom.
One node per (device, atom) therefore gives exactly the segments of one node per (device,
VLAN), without materialising 4094 nodes per trunk (tests/graph/test_atoms.py checks it against
the per-VLAN construction).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import networkx as nx

from netseg.model import refs
from netseg.model.topology import (
    Endpoint,
    GuestNic,
    Host,
    ManagementInterface,
    Nic,
    RouterInterface,
    SwitchPort,
    Topology,
    VlanMode,
    VSwitch,
)
from netseg.model.vlans import VLAN_MAX, VLAN_MIN, VlanSet

UNTAGGED = -1
"""The atom index of a virtual switch's untagged domain."""

UPSTREAM = "upstream"
"""Name of the implicit switch that NICs naming no switch are cabled to."""

Node = tuple[str, str, str, int]
"""A bridge domain: ``("vs", host, vswitch, atom)``, ``("sw", switch, "", atom)`` or
``("up", "upstream", "", atom)``; atom ``UNTAGGED`` is a virtual switch's untagged domain."""

_UPSTREAM_PORT = SwitchPort("(implicit)", "trunk", allowed=VlanSet.full(), native=None)


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a path: an entity reference and what happens there, in plain words."""

    ref: str
    detail: str = ""

    def __str__(self) -> str:
        return self.ref


@dataclass(frozen=True, slots=True)
class Join:
    """An attachment's membership of one bridge domain.

    ``tagged`` says whether the attachment sends its frames into this domain tagged (tag
    injection); ``hops`` lead from the attachment (excluded) to the domain.
    """

    segment: int
    node: Node
    tagged: bool
    hops: tuple[Hop, ...]


class Atoms:
    """The partition of VLANs 1–4094 into atoms (see the module docstring)."""

    def __init__(self, sets: Iterable[VlanSet], singles: Iterable[int]) -> None:
        cuts = {VLAN_MIN, VLAN_MAX + 1}
        for s in sets:
            for lo, hi in s.ranges:
                cuts.add(lo)
                cuts.add(hi + 1)
        for v in singles:
            if VLAN_MIN <= v <= VLAN_MAX:
                cuts.add(v)
                cuts.add(v + 1)
        self.cuts = sorted(cuts)

    def __len__(self) -> int:
        return len(self.cuts) - 1

    def atom(self, vid: int) -> int:
        return bisect_right(self.cuts, vid) - 1

    def of(self, vlans: VlanSet) -> list[int]:
        out: list[int] = []
        for lo, hi in vlans.ranges:
            out.extend(range(self.atom(lo), self.atom(hi) + 1))
        return out

    def lo(self, atom: int) -> int:
        return self.cuts[atom]

    def vlans(self, atom: int) -> VlanSet:
        return VlanSet([(self.cuts[atom], self.cuts[atom + 1] - 1)])

    def describe(self, atom: int) -> str:
        if atom == UNTAGGED:
            return "untagged"
        lo, hi = self.cuts[atom], self.cuts[atom + 1] - 1
        return f"VLAN {lo}" if lo == hi else f"VLANs {lo}-{hi}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A broadcast domain: a connected set of bridge domains.

    ``label`` names it for people (``tor1 VLAN 10``); ``domains`` lists its bridge domains.
    """

    id: int
    label: str
    domains: tuple[Node, ...]

    def __str__(self) -> str:
        return f"segment {self.id} ({self.label})"


def _port_detail(port: SwitchPort, what: str) -> str:
    if port.mode == "access":
        return f"access port VLAN {port.vlan}, {what}"
    native = "none" if port.native is None else str(port.native)
    return f"trunk {port.allowed} native {native}, {what}"


class Layer2:
    """The bridge-domain graph of a topology, its segments and attachment memberships."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.graph: nx.Graph = nx.Graph()
        self._vs_modes: dict[tuple[str, str], set[VlanMode]] = {}
        self._collect_modes()
        self.atoms = self._make_atoms()
        self._carried: dict[tuple[str, str], list[int]] = {}
        self._build_vswitches()
        self._build_wires()
        self._pending: list[Node] = []
        self.segment_of_node: dict[Node, int] = {}
        self.segments: list[Segment] = []
        self._join_cache: dict[tuple[str, str, str | None, VlanMode], tuple[Join, ...]] = {}
        self._components()
        self._trees: dict[int, tuple[dict[Node, Node], dict[Node, int]]] = {}

    # --- construction --------------------------------------------------------------------
    def _collect_modes(self) -> None:
        modes = self._vs_modes
        for host in self.topology.hosts:
            for vs in host.vswitches:
                s = modes.setdefault((host.name, vs.name), set())
                s.update(pg.vlan for pg in vs.portgroups)
            for m in host.management:
                if m.vswitch is not None:
                    modes.setdefault((host.name, m.vswitch), set()).add(m.vlan)
        for g in self.topology.guests:
            for n in g.nics:
                modes.setdefault((g.host, n.vswitch), set()).add(n.vlan)
        for r in self.topology.routers:
            for i in r.interfaces:
                if i.host is not None and i.vswitch is not None:
                    modes.setdefault((i.host, i.vswitch), set()).add(i.vlan_mode)

    def _make_atoms(self) -> Atoms:
        sets: list[VlanSet] = []
        singles: list[int] = []
        for ms in self._vs_modes.values():
            for m in ms:
                sets.append(m.trunk)
                singles.append(m.vlan)
                if m.native:
                    singles.append(m.native)
        for sw in self.topology.switches:
            for p in sw.ports:
                sets.append(p.allowed)
                for v in (p.vlan, p.native):
                    if v:
                        singles.append(v)
        for host in self.topology.hosts:
            for vs in host.vswitches:
                singles.extend(u.vlan for u in vs.uplinks if u.vlan)
            singles.extend(m.vlan.vlan for m in host.management if m.vlan.vlan)
        for e in self.topology.endpoints:
            if e.vlan:
                singles.append(e.vlan)
        for i in self.topology.router_interfaces():
            if i.vlan:
                singles.append(i.vlan)
        return Atoms(sets, singles)

    def _mode_atoms(self, mode: VlanMode) -> list[tuple[int, bool]]:
        """(atom, tagged) pairs a virtual port joins on its switch."""
        if mode.kind == "access":
            return [(UNTAGGED if mode.vlan == 0 else self.atoms.atom(mode.vlan), False)]
        out: list[tuple[int, bool]] = []
        untagged: int | None = None
        if mode.native == 0:
            untagged = UNTAGGED
        elif mode.native is not None:
            untagged = self.atoms.atom(mode.native)
        if untagged is not None:
            out.append((untagged, False))
        out.extend((a, True) for a in self.atoms.of(mode.trunk) if a != untagged)
        return out

    def _build_vswitches(self) -> None:
        everything = list(range(len(self.atoms)))
        for host in self.topology.hosts:
            for vs in host.vswitches:
                key = (host.name, vs.name)
                modes = self._vs_modes.get(key, ())
                raw_uplinks = sum(1 for u in vs.uplinks if u.vlan is None)
                if (
                    vs.type == "bridge"
                    and not vs.vlan_filtering
                    and (raw_uplinks > 1 or any(m.tags for m in modes))
                ):
                    # A Linux bridge forwards any tag between its ports. That matters only
                    # when a port tags (a guest) or two raw uplinks can hand tags across;
                    # otherwise its VLAN domains would be empty leaves that change no segment.
                    carried = everything
                else:
                    found: set[int] = set()
                    for mode in modes:
                        found.update(a for a, _ in self._mode_atoms(mode) if a != UNTAGGED)
                    carried = sorted(found)
                self._carried[key] = carried
                self.graph.add_node(("vs", host.name, vs.name, UNTAGGED))
                self.graph.add_nodes_from(("vs", host.name, vs.name, a) for a in carried)

    def _port_of(self, host: Host, nic: Nic) -> tuple[str, str, SwitchPort, str]:
        """(node kind, switch name, port, port reference) a NIC is cabled to."""
        if nic.switch is None or nic.port is None:
            ref = refs.switch(UPSTREAM, f"{host.name}/{nic.name}")
            return "up", UPSTREAM, _UPSTREAM_PORT, ref
        sw = self.topology.switch(nic.switch)
        return "sw", sw.name, sw.port(nic.port), refs.switch(sw.name, nic.port)

    def _sw_node(self, kind: str, switch: str, atom: int) -> Node:
        return (kind, switch, "", atom)

    def _edge(self, u: Node, v: Node, hops: tuple[Hop, ...]) -> None:
        if not self.graph.has_edge(u, v):
            self.graph.add_edge(u, v, hops=hops, start=u)

    def _build_wires(self) -> None:
        atoms = self.atoms
        for host in self.topology.hosts:
            for vs in host.vswitches:
                carried = self._carried[(host.name, vs.name)]
                for up in vs.uplinks:
                    nic = host.nic(up.nic)
                    if nic is None:
                        continue
                    kind, sw, port, pref = self._port_of(host, nic)
                    nref = refs.nic(host.name, nic.name)
                    vs_u: Node = ("vs", host.name, vs.name, UNTAGGED)
                    if up.vlan is not None:
                        if up.vlan in port.tagged_vlans:
                            a = atoms.atom(up.vlan)
                            hops = (
                                Hop(
                                    nref,
                                    f"subinterface {up}: untagged on the bridge, tag {up.vlan} on the wire",
                                ),
                                Hop(pref, _port_detail(port, f"VLAN {up.vlan} tagged")),
                            )
                            self._edge(vs_u, self._sw_node(kind, sw, a), hops)
                        continue
                    uv = port.untagged_vlan
                    if uv is not None:
                        hops = (
                            Hop(nref, "uplink, untagged"),
                            Hop(pref, _port_detail(port, f"untagged in VLAN {uv}")),
                        )
                        self._edge(vs_u, self._sw_node(kind, sw, atoms.atom(uv)), hops)
                    tagged = port.tagged_vlans
                    if not tagged:
                        continue
                    for a in carried:
                        if atoms.lo(a) in tagged:
                            what = atoms.describe(a)
                            hops = (
                                Hop(nref, f"uplink, {what} tagged"),
                                Hop(pref, _port_detail(port, f"{what} tagged")),
                            )
                            self._edge(
                                ("vs", host.name, vs.name, a), self._sw_node(kind, sw, a), hops
                            )
        for link in self.topology.links:
            pa = self.topology.switch(link.a.switch).port(link.a.port)
            pb = self.topology.switch(link.b.switch).port(link.b.port)
            ra, rb = link.a.ref, link.b.ref
            ua, ub = pa.untagged_vlan, pb.untagged_vlan
            if ua is not None and ub is not None:
                hops = (
                    Hop(ra, _port_detail(pa, f"untagged in VLAN {ua}")),
                    Hop(rb, _port_detail(pb, f"untagged in VLAN {ub}")),
                )
                self._edge(
                    ("sw", link.a.switch, "", atoms.atom(ua)),
                    ("sw", link.b.switch, "", atoms.atom(ub)),
                    hops,
                )
            both = pa.tagged_vlans & pb.tagged_vlans
            for a in atoms.of(both):
                what = atoms.describe(a)
                hops = (
                    Hop(ra, _port_detail(pa, f"{what} tagged")),
                    Hop(rb, _port_detail(pb, f"{what} tagged")),
                )
                self._edge(("sw", link.a.switch, "", a), ("sw", link.b.switch, "", a), hops)

    def _components(self) -> None:
        comps = [(min(c), c) for c in nx.connected_components(self.graph)]
        comps.sort(key=lambda mc: mc[0])
        for i, (_, comp) in enumerate(comps):
            for node in comp:
                self.segment_of_node[node] = i
            self.segments.append(Segment(i, self._label(comp), tuple(sorted(comp))))

    def _label(self, comp: set[Node]) -> str:
        physical = sorted(n for n in comp if n[0] == "sw")
        pick = physical[0] if physical else min(comp)
        return self.describe_node(pick)

    def describe_node(self, node: Node) -> str:
        kind, owner, sub, atom = node
        where = f"{owner}/{sub}" if kind == "vs" else owner
        return f"{where} {self.atoms.describe(atom)}"

    def node_segment(self, node: Node) -> int:
        """The segment of a bridge domain; a domain the wires never created is added alone."""
        seg = self.segment_of_node.get(node)
        if seg is None:
            seg = len(self.segments)
            self.graph.add_node(node)
            self.segment_of_node[node] = seg
            self.segments.append(Segment(seg, self.describe_node(node), (node,)))
        return seg

    # --- memberships -----------------------------------------------------------------------
    def _vport_joins(
        self, host: str, vswitch: str, portgroup: str | None, mode: VlanMode
    ) -> tuple[Join, ...]:
        key = (host, vswitch, portgroup, mode)
        found = self._join_cache.get(key)
        if found is not None:
            return found
        ref = (
            refs.portgroup(host, vswitch, portgroup)
            if portgroup is not None
            else refs.vswitch(host, vswitch)
        )
        joins = []
        carried = set(self._carried.get((host, vswitch), ()))
        for atom, tagged in self._mode_atoms(mode):
            if atom != UNTAGGED and atom not in carried:
                continue
            node: Node = ("vs", host, vswitch, atom)
            what = self.atoms.describe(atom)
            detail = f"{what}, guest-tagged" if tagged else what
            joins.append(Join(self.node_segment(node), node, tagged, (Hop(ref, detail),)))
        result = tuple(joins)
        self._join_cache[key] = result
        return result

    def guest_joins(self, nic: GuestNic, host: str) -> tuple[Join, ...]:
        return self._vport_joins(host, nic.vswitch, nic.portgroup, nic.vlan)

    def management_joins(self, m: ManagementInterface) -> tuple[Join, ...]:
        if m.vswitch is not None:
            return self._vport_joins(m.host, m.vswitch, m.portgroup, m.vlan)
        if m.nic is None:
            return ()
        host = self.topology.host(m.host)
        nic = host.nic(m.nic)
        if nic is None:
            return ()
        kind, sw, port, pref = self._port_of(host, nic)
        nref = refs.nic(m.host, m.nic)
        if m.vlan.vlan:
            vid: int | None = m.vlan.vlan if m.vlan.vlan in port.tagged_vlans else None
            wire = f"dedicated adapter, tag {m.vlan.vlan}"
        else:
            vid = port.untagged_vlan
            wire = "dedicated adapter, untagged"
        if vid is None:
            return ()
        node = self._sw_node(kind, sw, self.atoms.atom(vid))
        hops = (Hop(nref, wire), Hop(pref, _port_detail(port, f"VLAN {vid}")))
        return (Join(self.node_segment(node), node, False, hops),)

    def endpoint_joins(self, e: Endpoint) -> tuple[Join, ...]:
        sw = self.topology.switch(e.switch)
        if e.port is not None:
            port = sw.port(e.port)
            vid = port.untagged_vlan
            hop = Hop(refs.switch(sw.name, port.name), _port_detail(port, "untagged"))
        else:
            vid = e.vlan
            hop = Hop(refs.switch(sw.name), f"VLAN {vid}")
        if vid is None:
            return ()
        node = self._sw_node("sw", sw.name, self.atoms.atom(vid))
        return (Join(self.node_segment(node), node, False, (hop,)),)

    def router_joins(self, i: RouterInterface) -> tuple[Join, ...]:
        if i.host is not None and i.vswitch is not None:
            return self._vport_joins(i.host, i.vswitch, i.portgroup, i.vlan_mode)
        if i.switch is None:
            return ()
        sw = self.topology.switch(i.switch)
        if i.port is not None:
            port = sw.port(i.port)
            # a VLAN on a routed port is the port's own VLAN or an 802.1Q subinterface
            if i.vlan is None or i.vlan == port.untagged_vlan:
                vid = port.untagged_vlan
                detail = _port_detail(port, f"untagged in VLAN {vid}")
            else:
                vid = i.vlan if i.vlan in port.tagged_vlans else None
                detail = _port_detail(port, f"subinterface VLAN {i.vlan}")
            hop = Hop(refs.switch(sw.name, port.name), detail)
        else:
            vid = i.vlan
            hop = Hop(refs.switch(sw.name), f"SVI in VLAN {vid}")
        if vid is None:
            return ()
        node = self._sw_node("sw", sw.name, self.atoms.atom(vid))
        return (Join(self.node_segment(node), node, False, (hop,)),)

    # --- paths -----------------------------------------------------------------------------
    def _tree(self, seg: int) -> tuple[dict[Node, Node], dict[Node, int]]:
        found = self._trees.get(seg)
        if found is not None:
            return found
        root = self.segments[seg].domains[0]
        parent: dict[Node, Node] = {}
        depth: dict[Node, int] = {root: 0}
        queue = deque([root])
        adj = self.graph.adj
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if v not in depth:
                    depth[v] = depth[u] + 1
                    parent[v] = u
                    queue.append(v)
        self._trees[seg] = (parent, depth)
        return parent, depth

    def node_path(self, u: Node, v: Node) -> list[Node]:
        """Bridge domains from ``u`` to ``v`` (same segment) along a spanning tree."""
        seg = self.segment_of_node[u]
        parent, depth = self._tree(seg)
        left: list[Node] = [u]
        right: list[Node] = [v]
        a, b = u, v
        while depth[a] > depth[b]:
            a = parent[a]
            left.append(a)
        while depth[b] > depth[a]:
            b = parent[b]
            right.append(b)
        while a != b:
            a = parent[a]
            b = parent[b]
            left.append(a)
            right.append(b)
        right.pop()
        return left + right[::-1]

    def hops_between(self, u: Node, v: Node) -> list[Hop]:
        """The wires (and virtual switches crossed on the way) from domain ``u`` to ``v``."""
        nodes = self.node_path(u, v)
        hops: list[Hop] = []
        for i in range(len(nodes) - 1):
            a, b = nodes[i], nodes[i + 1]
            if i > 0 and a[0] == "vs":
                hops.append(Hop(refs.vswitch(a[1], a[2]), self.atoms.describe(a[3])))
            data = self.graph.edges[a, b]
            edge_hops: tuple[Hop, ...] = data["hops"]
            hops.extend(edge_hops if data["start"] == a else reversed(edge_hops))
        return hops

    def iter_nodes(self) -> Iterator[Node]:
        return iter(self.graph.nodes)


def vswitch_of(topology: Topology, host: str, name: str) -> VSwitch | None:
    return topology.host(host).vswitch(name)
