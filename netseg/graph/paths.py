"""Paths: the hop-by-hop explanation of one reachable pair, built only for the pairs reported
(from a spanning tree of the shared segment, in time proportional to its length)."""

from __future__ import annotations

from netseg.graph.l2 import Hop, Join, Node
from netseg.graph.l3 import AclDecision, FirewallDecision, firewall_rule
from netseg.graph.values import Attachment, Route, Verdict, say_once
from netseg.graph.verdicts import Verdicts
from netseg.model import refs
from netseg.model.topology import Router


class Paths(Verdicts):
    """The hops of a pair's path, from its verdict."""

    def _between(self, u: Node, v: Node) -> tuple[Hop, ...]:
        key = (u, v)
        found = self.memo.hops.get(key)
        if found is None:
            found = tuple(self.layer2.hops_between(u, v)) if u != v else ()
            self.memo.hops[key] = found
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
        found = self.memo.joins_by_segment.get(id(a))
        if found is None:
            index: dict[int, Join] = {}
            for j in joins:
                if j.segment not in index or not j.tagged:
                    index[j.segment] = j
            found = self.memo.joins_by_segment[id(a)] = (index, a)
        return found[0][segment]

    def _self_hop(self, a: Attachment) -> Hop:
        found = self.memo.self_hops.get(a.ref)
        if found is None:
            found = self.memo.self_hops[a.ref] = self._describe_self(a)
        return found

    def _describe_self(self, a: Attachment) -> Hop:
        if a.kind == "guest" and a.vlan is not None:
            return Hop(a.ref, str(a.vlan))
        if a.kind == "management" and a.host is not None:
            what = self.topology.host(a.host).hypervisor.privileged_domain
            return Hop(a.ref, f"{what} interface")
        return Hop(a.ref, "")

    def _path(self, s: Attachment, d: Attachment, v: Verdict) -> tuple[Hop, ...]:
        route = v.route
        js = self._join_in(s, v.segment if route is None else route.entry[2])
        jd = self._join_in(d, v.segment if route is None else route.exit[2])
        if route is None:
            middle = self._between(js.node, jd.node)
        else:
            # three cached pieces: to the first gateway, through the routers, from the last
            key = id(route)
            found = self.memo.middle_hops.get(key)
            if found is None:
                found = self.memo.middle_hops[key] = (self._routed(route), route)
            routed = found[0]
            first, last = self._gateway_node(route.entry), self._gateway_node(route.exit)
            middle = (*self._between(js.node, first), *routed, *self._between(last, jd.node))
        tail: tuple[Hop, ...] = ()
        if d.kind == "management" and d.host is not None:
            tkey = (d.host, id(v.firewall))
            tail_found = self.memo.tail_hops.get(tkey)
            if tail_found is None:
                tail_found = (tuple(self._firewall_hops(d.host, v.firewall)), v.firewall)
                self.memo.tail_hops[tkey] = tail_found
            tail = tail_found[0]
        hops = [self._self_hop(s), *js.hops, *middle, *reversed(jd.hops), self._self_hop(d), *tail]
        # two attachments of one virtual switch meet there: say it once
        return say_once(hops)

    def _gateway_node(self, gateway: tuple[str, str, int]) -> Node:
        iface = self._router_ifaces[(gateway[0], gateway[1])]
        return self._join_in(self._by_ref[iface.ref], gateway[2]).node

    def _routed(self, route: Route) -> tuple[Hop, ...]:
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
        return say_once(hops)

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
