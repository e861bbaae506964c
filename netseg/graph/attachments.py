"""Attachments: where guests, management interfaces, endpoints and router interfaces meet
the bridge domains, collected once per topology (the first part of reachability)."""

from __future__ import annotations

from netseg.graph.l2 import Layer2, Segment
from netseg.graph.l3 import PrefixIndex
from netseg.graph.memo import Memo
from netseg.graph.select import unknown_reference
from netseg.graph.values import Attachment
from netseg.model.topology import RouterInterface, Topology


class Attachments:
    """The attachments of one topology and their bridge-domain joins; the base of
    :class:`~netseg.graph.reach.Reachability`, which adds verdicts and paths."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.layer2 = Layer2(topology)
        self.prefixes = PrefixIndex.of_topology(topology)
        self.memo = Memo()
        self.attachments: list[Attachment] = []
        self._by_ref: dict[str, Attachment] = {}
        self._routers = {r.name: r for r in topology.routers}
        self._router_ifaces: dict[tuple[str, str], RouterInterface] = {}
        self._collect_attachments()

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

    def attachments_in(self, segment: int) -> list[Attachment]:
        return [a for a in self.attachments if any(j.segment == segment for j in a.joins)]
