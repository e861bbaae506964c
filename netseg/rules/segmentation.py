"""Segmentation rules: findings computed from reachability (rules.md, "Segmentation").

:func:`segmentation_findings` is called by the design analysis with a
:class:`~netseg.graph.Reachability` already built. Severities are the catalogue defaults;
``policy.severity`` overrides and waivers are applied by the caller.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netseg.collector import collector_paused
from netseg.graph import (
    UNTAGGED,
    Attachment,
    Reachability,
    ReachablePair,
    by_name,
    class_identity,
)
from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.topology import Location, PortGroup, Topology, VSwitch
from netseg.rules import catalogue
from netseg.rules.finding import Finding

STORAGE_SERVICES = frozenset({"iscsi", "nfs", "vsan"})
EXAMPLES = 10  # destinations listed in the evidence of an aggregated finding


def _finding(
    rule: str,
    message: str,
    subject: Attachment | tuple[str, Location],
    obj: str | None,
    evidence: dict[str, Any],
    identity: tuple[str, ...] = (),
    classes: Mapping[str, Sequence[str]] | None = None,
) -> Finding:
    ref, location = (subject.ref, subject.location) if isinstance(subject, Attachment) else subject
    return catalogue.finding(
        rule, message, ref, location, obj, evidence, identity=identity, classes=classes
    )


def _located(where: Mapping[str, Location], ref: str) -> dict[str, Any]:
    """An opening element: its reference, and its ``file`` and ``line`` when declared."""
    loc = where.get(ref)
    out: dict[str, Any] = {"ref": ref}
    if loc is not None and loc.line > 0:
        out["file"], out["line"] = loc.file, loc.line
    return out


def name(reach: Reachability, a: Attachment) -> str:
    """An attachment in plain words: ``guest web01 (nic0, zone web)``, ``vmk0 on esx01``."""
    kind, rest = refs.split(a.ref)
    if a.kind == "guest":
        guest, nic = refs.last(a.ref)
        return f"guest {guest} ({nic}, zone {a.zone})"
    if a.kind == "management" and a.host is not None:
        return f"{refs.under(a.ref, a.host)} on {a.host}"
    if a.kind == "endpoint":
        return f"endpoint {rest} (zone {a.zone})"
    return f"{kind} {rest}"


def _path(p: ReachablePair | None) -> list[str]:
    return [] if p is None else [h.ref for h in p.path]


def _by_segment(
    reach: Reachability, attachments: Iterable[Attachment]
) -> dict[int, list[Attachment]]:
    out: dict[int, list[Attachment]] = defaultdict(list)
    for a in attachments:
        for seg in reach.segment_numbers(a):
            out[seg].append(a)
    return out


@dataclass(frozen=True)
class Context:
    """What every segmentation rule reads: the topology, its reachability, and the guest and
    management attachments (listed once for all rules)."""

    topology: Topology
    reach: Reachability
    guests: Sequence[Attachment]
    management: Sequence[Attachment]
    where: Mapping[str, Location]


def locations(topology: Topology) -> dict[str, Location]:
    """Where each entity a path names is declared (for the opening element's FILE:LINE)."""
    out: dict[str, Location] = {}
    for sw in topology.switches:
        out[refs.switch(sw.name)] = sw.location
        for port in sw.ports:
            out[refs.switch(sw.name, port.name)] = port.location
    for h in topology.hosts:
        out[refs.host(h.name)] = h.location
        for n in h.nics:
            out[refs.nic(h.name, n.name)] = n.location
        for vs in h.vswitches:
            out[refs.vswitch(h.name, vs.name)] = vs.location
            for pg in vs.portgroups:
                out[refs.portgroup(h.name, vs.name, pg.name)] = pg.location
        for m in h.management:
            out[m.ref] = m.location
        if h.firewall is not None:
            for k, rule in enumerate(h.firewall.allow, start=1):
                out[f"firewall:{h.name}/{k}"] = rule.location
            out[f"firewall:{h.name}/default"] = h.firewall.location
    for g in topology.guests:
        for gn in g.nics:
            out[gn.ref] = gn.location
    for e in topology.endpoints:
        out[e.ref] = e.location
    for r in topology.routers:
        out[refs.router(r.name)] = r.location
        out[f"acl:{r.name}/default"] = r.location
        for i in r.interfaces:
            out[i.ref] = i.location
        for line in r.acl:
            out[f"acl:{r.name}/{line.index + 1}"] = line.location
    return out


def _opening(
    where: Mapping[str, Location], p: ReachablePair, route_lines: Sequence[str]
) -> dict[str, Any]:
    """The element a change would close (rules.md, "Grain"): routed, the ACL line that lets it
    through at the first router; adjacent, the source's own tagging port when it must tag its
    frames, else the port group (or port, NIC) by which the destination joins the segment."""
    ref = ""
    if p.mode == "l3" and route_lines:
        ref = route_lines[0]
    else:
        hops = [h.ref for h in p.path]
        if p.tag_injection and len(hops) > 1:
            ref = hops[1]
        elif p.destination in hops:
            k = hops.index(p.destination)
            ref = hops[k - 1] if k > 0 else p.destination
    loc = where.get(ref)
    out: dict[str, Any] = {"ref": ref}
    if loc is not None and loc.line > 0:
        out["file"], out["line"] = loc.file, loc.line
    return out


def _routes(p: ReachablePair) -> list[str]:
    """The ACL lines (``acl:ROUTER/N``) that let the pair's services through, in path order."""
    return [h.ref for h in p.path if h.ref.startswith("acl:")]


class Sides:
    """Each class's members in name order and their references, computed once per class (a
    class is on many findings: a guest class against every management class). Keyed by the
    identity of the members list :meth:`Reachability.class_verdicts` gives, which is one list
    per class; the entry keeps the list, so its identity stays its own."""

    def __init__(self, reach: Reachability) -> None:
        self.reach = reach
        self._ordered: dict[int, tuple[Sequence[Attachment], list[Attachment], list[str]]] = {}

    def _entry(
        self, members: Sequence[Attachment]
    ) -> tuple[Sequence[Attachment], list[Attachment], list[str]]:
        found = self._ordered.get(id(members))
        if found is None or found[0] is not members:
            ordered = by_name(members)
            found = (members, ordered, [a.ref for a in ordered])
            self._ordered[id(members)] = found
        return found

    def side(
        self, members: Sequence[Attachment], classes: dict[str, list[str]]
    ) -> tuple[dict[str, Any], str]:
        """A finding's side: its class's stable name, count and first examples in name order;
        every member goes to the finding's classes table (JSON writes it once)."""
        _, ordered, names = self._entry(members)
        cid = class_identity(self.reach, ordered[0])
        classes.setdefault(cid, names)
        return {"class": cid, "count": len(ordered), "examples": names[:EXAMPLES]}, cid


def _side(
    reach: Reachability, members: Sequence[Attachment], classes: dict[str, list[str]]
) -> tuple[dict[str, Any], str]:
    """A finding's side for a class seen once (see :class:`Sides`)."""
    return Sides(reach).side(members, classes)


def _ref(a: Attachment) -> str:
    return a.ref


def _more(n: int, what: str) -> str:
    return f" and {n - 1} more {what}" if n > 1 else ""


def segmentation_findings(
    topology: Topology, reach: Reachability, rules: Collection[str] | None = None
) -> list[Finding]:
    """The segmentation findings of ``topology`` (unsorted; catalogue severities): of every
    rule, or of ``rules`` only."""
    guests = [a for a in reach.attachments if a.kind == "guest"]
    management = [a for a in reach.attachments if a.kind == "management"]
    context = Context(topology, reach, guests, management, locations(topology))
    findings: list[Finding] = []
    with collector_paused():
        for rule_id, check in SEGMENTATION.items():
            if rules is None or rule_id in rules:
                findings += check(context)
    return findings


def _how(p: ReachablePair) -> str:
    if p.mode == "l2":
        how = "over L2"
    else:
        how = "over L3 via " + ", ".join(refs.body(v, "router") for v in p.via)
    return how + (" by tagging frames" if p.tag_injection else "")


def _on(services: ServiceSet) -> str:
    return "on any service" if services.is_any() else f"on {services}"


def guest_reaches_management(
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
    where: Mapping[str, Location],
) -> list[Finding]:
    """One finding per (guest class, management class) with services the policy does not
    allow (rules.md, "Grain"): subject and object are the first members in name order."""
    out = []
    sides = Sides(reach)
    for sm, dm, v in reach.class_verdicts(guests, management):
        if not v.violating:
            continue
        classes: dict[str, list[str]] = {}
        sources, scid = sides.side(sm, classes)
        destinations, dcid = sides.side(dm, classes)
        s, d = (
            reach.attachment(sources["examples"][0]),
            reach.attachment(destinations["examples"][0]),
        )
        p = reach.make_pair(s, d, v)
        lines = _routes(p)
        out.append(
            catalogue.finding(
                "guest-reaches-management",
                f"{name(reach, s)}{_more(len(sm), 'guests of its class')} reaches "
                f"{name(reach, d)}{_more(len(dm), 'management interfaces of its class')} "
                f"{_how(p)} {_on(p.violating)}",
                s.ref,
                s.location,
                d.ref,
                {
                    "services": p.violating.items(),
                    "reachable": p.services.items(),
                    "allowed": p.allowed.items(),
                    "mode": p.mode,
                    "via": list(p.via),
                    "tag_injection": p.tag_injection,
                    "path": _path(p),
                    "sources": sources,
                    "destinations": destinations,
                    "routes": [{"mode": p.mode, "via": list(p.via), "lines": lines}],
                    "opening": _opening(where, p, lines),
                },
                identity=(scid, dcid),
                classes=classes,
            )
        )
    return out


def guest_on_management_segment(
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
    where: Mapping[str, Location],
) -> list[Finding]:
    """One finding per (guest class, segment holding a management interface)."""
    mgmt_in = _by_segment(reach, management)
    groups: dict[tuple[tuple[object, ...], int], list[Attachment]] = {}
    for g in guests:
        for seg in reach.segment_numbers(g):
            if seg in mgmt_in:
                groups.setdefault((reach.class_key(g.ref), seg), []).append(g)
    out = []
    for (_, seg), members in groups.items():
        here = mgmt_in[seg]
        classes: dict[str, list[str]] = {}
        sources, scid = _side(reach, members, classes)
        g = reach.attachment(sources["examples"][0])
        first = here[0]
        more = f" and {len(here) - 1} more" if len(here) > 1 else ""
        label = reach.segments[seg].label
        path = [h.ref for h in reach.segment_path(g, first, seg)]
        opening = path[1] if len(path) > 2 else g.ref
        loc = where.get(opening)
        out.append(
            catalogue.finding(
                "guest-on-management-segment",
                f"{name(reach, g)}{_more(len(members), 'guests of its class')} is in the same "
                f"L2 segment ({label}) as {name(reach, first)}{more}",
                g.ref,
                g.location,
                first.ref,
                {
                    "segment": label,
                    "management": [m.ref for m in here[:EXAMPLES]],
                    "count": len(here),
                    "mode": "l2",
                    "path": path,
                    "sources": sources,
                    "opening": {"ref": opening}
                    | ({"file": loc.file, "line": loc.line} if loc and loc.line > 0 else {}),
                },
                identity=(scid, f"segment:{label}"),
                classes=classes,
            )
        )
    return out


def guest_can_tag_management_vlan(
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
    where: Mapping[str, Location],
) -> list[Finding]:
    """One finding per (guest class, the management segments and VLANs its tags reach)
    (rules.md, "Grain"): members of a class share their segments, so they share what their
    tags reach; the subject is the first member in name order."""
    mgmt_in = _by_segment(reach, management)
    atoms = reach.layer2.atoms
    groups: dict[tuple[tuple[object, ...], tuple[tuple[int, Any], ...]], list[Attachment]] = {}
    for g in guests:
        hits = tuple(
            sorted({(j.segment, j.node[3]) for j in g.joins if j.tagged and j.segment in mgmt_in})
        )
        if not hits:
            continue
        groups.setdefault((reach.class_key(g.ref), hits), []).append(g)
    sides = Sides(reach)
    out = []
    for (_, hits), members in groups.items():
        classes: dict[str, list[str]] = {}
        sources, scid = sides.side(members, classes)
        g = reach.attachment(sources["examples"][0])
        seg = hits[0][0]
        first = mgmt_in[seg][0]
        vlans = sorted({atoms.describe(a) for _, a in hits if a != UNTAGGED})
        labels = sorted({reach.segments[s].label for s, _ in hits})
        path = [h.ref for h in reach.segment_path(g, first, seg)]
        opening = path[1] if len(path) > 2 else g.ref  # the guest's own tagging port
        out.append(
            _finding(
                "guest-can-tag-management-vlan",
                f"{name(reach, g)}{_more(len(members), 'guests of its class')} can send "
                f"frames tagged {', '.join(vlans)} into the segment of {name(reach, first)}",
                g,
                first.ref,
                {
                    "vlans": vlans,
                    "segments": labels,
                    "management": sorted({m.ref for s, _ in hits for m in mgmt_in[s]})[:EXAMPLES],
                    "mode": "l2",
                    "tag_injection": True,
                    "path": path,
                    "sources": sources,
                    "opening": _located(where, opening),
                },
                identity=(scid, "tagged:" + ",".join(labels) + "/" + ",".join(vlans)),
                classes=classes,
            )
        )
    return out


def guest_observes_management(
    topology: Topology,
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
    where: Mapping[str, Location],
) -> list[Finding]:
    """ESXi promiscuous mode shows a guest every frame of the bridge domains it is attached
    to on its virtual switch; a management interface attached to one of them is observed.
    One finding per (guest class, promiscuous port group) (rules.md, "Grain")."""
    mgmt_at: dict[object, list[Attachment]] = defaultdict(list)
    for m in management:
        for j in m.joins:
            if j.node[0] == "vs":
                mgmt_at[j.node].append(m)
    if not mgmt_at:
        return []
    # (host, vswitch, port group) -> (vswitch, port group) when ESXi with promiscuous mode
    promiscuous: dict[tuple[str, str, str], tuple[VSwitch, PortGroup] | None] = {}
    groups: dict[
        tuple[object, ...], tuple[list[Attachment], set[str], str, VSwitch, PortGroup]
    ] = {}
    attached = {g.ref: g for g in guests}
    for ref, pkey in _portgroup_nics(topology):
        g = attached.get(ref)
        if g is None:
            continue
        if pkey in promiscuous:
            found = promiscuous[pkey]
        else:
            found = promiscuous[pkey] = _promiscuous(topology, *pkey)
        if found is None:
            continue
        seen = [m for j in g.joins for m in mgmt_at.get(j.node, ())]
        if not seen:
            continue
        key = (reach.class_key(g.ref), pkey)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ([], set(), pkey[0], *found)
        group[0].append(g)
        group[1].update(m.ref for m in seen)
    sides = Sides(reach)
    out = []
    for members, seen_refs, host, vs, pg in groups.values():
        classes: dict[str, list[str]] = {}
        sources, scid = sides.side(members, classes)
        g = reach.attachment(sources["examples"][0])
        first = next(m for j in g.joins for m in mgmt_at.get(j.node, ()))
        portgroup = refs.portgroup(host, vs.name, pg.name)
        out.append(
            _finding(
                "guest-observes-management",
                f"{name(reach, g)}{_more(len(members), 'guests of its class')} has "
                f"promiscuous mode on port group {pg.name} of {vs.name} and sees the frames "
                f"of {name(reach, first)}",
                g,
                first.ref,
                {
                    "portgroup": portgroup,
                    "management": sorted(seen_refs)[:EXAMPLES],
                    "sources": sources,
                    "opening": _located(where, portgroup),
                },
                identity=(scid, portgroup),
                classes=classes,
            )
        )
    return out


def _portgroup_nics(topology: Topology) -> Iterator[tuple[str, tuple[str, str, str]]]:
    """Every guest NIC on a port group: its reference and (host, vswitch, port group)."""
    for guest in topology.guests:
        for nic in guest.nics:
            if nic.portgroup is not None and nic.vswitch is not None:
                yield nic.ref, (guest.host, nic.vswitch, nic.portgroup)


def _promiscuous(
    topology: Topology, host: str, vswitch: str, portgroup: str
) -> tuple[VSwitch, PortGroup] | None:
    """An ESXi port group with promiscuous mode allowed, and its virtual switch."""
    vs = topology.host(host).vswitch(vswitch)
    pg = vs.portgroup(portgroup) if vs is not None else None
    if vs is None or not vs.is_esxi or pg is None or not pg.security.promiscuous:
        return None
    return vs, pg


def zone_policy_violation(reach: Reachability, where: Mapping[str, Location]) -> list[Finding]:
    """One finding per (source class, destination zone), the destinations of every class of
    that zone gathered; pairs from a guest to a management interface are
    guest-reaches-management's."""
    sources = [a for a in reach.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in reach.attachments if a.kind in ("guest", "endpoint", "management")]
    order = {a.ref: i for i, a in enumerate(reach.attachments)}
    rows = []
    # per source class its row of destination groups, each group sharing one verdict
    # (Reachability.verdict_rows): the work follows the groups, not the destination classes
    for sm, row in reach.verdict_rows(sources, destinations):
        per_zone: dict[str, list[tuple[Any, Any]]] = {}
        for (kind, zone), groups in row.items():
            if kind == "management" and sm[0].kind == "guest":
                continue  # guest-reaches-management's
            for g, v in groups:
                if v.violating:
                    per_zone.setdefault(zone or "", []).append((g, v))
        lone = sm[0] if len(sm) == 1 else None  # a class of one never counts itself
        for zone, cs in per_zone.items():
            found = _zone_destinations(cs, lone)
            if found is None:
                continue
            services, count, dests, d, dv, routes = found
            classes: dict[str, list[str]] = {}
            src_side, scid = _side(reach, sm, classes)
            s = reach.attachment(src_side["examples"][0])
            p = reach.make_pair(s, d, dv)
            route_list = []
            for rd, rv in routes:
                rp = reach.make_pair(s, rd, rv) if rd is not s else p
                route_list.append(
                    {"mode": rp.mode, "via": list(rp.via), "lines": _routes(rp), "path": _path(rp)}
                )
            lines = _routes(p)
            more = f" and {count - 1} more" if count > 1 else ""
            rows.append(
                (
                    (order[s.ref], zone),
                    catalogue.finding(
                        "zone-policy-violation",
                        f"{name(reach, s)}{_more(len(sm), 'of its class')} can send to zone "
                        f"{zone} ({name(reach, d)}{more}) {_how(p)} {_on(services)}, which the "
                        "policy does not allow",
                        s.ref,
                        s.location,
                        refs.zone(zone),
                        {
                            "services": services.items(),
                            "destinations": [e.ref for e in dests],
                            "count": count,
                            "mode": p.mode,
                            "via": list(p.via),
                            "tag_injection": p.tag_injection,
                            "path": _path(p),
                            "sources": src_side,
                            "routes": route_list,
                            "opening": _opening(where, p, lines),
                        },
                        identity=(scid, refs.zone(zone)),
                        classes=classes,
                    ),
                )
            )
    rows.sort(key=lambda t: t[0])
    return [f for _, f in rows]


def _zone_destinations(
    cs: list[tuple[Any, Any]], lone: Attachment | None
) -> tuple[ServiceSet, int, list[Attachment], Attachment, Any, list[tuple[Attachment, Any]]] | None:
    """What a zone-policy-violation finding says of its destinations, from the groups of one
    source's row in that zone (each ``(ClassGroup, Verdict)``): the violating services, the
    count, the first :data:`EXAMPLES` in name order, the first one and its verdict, and one
    example (the lowest-named destination) per route kind, the first :data:`EXAMPLES` kinds
    in order of their examples. ``lone`` (a source class of one) never counts itself."""
    services = ServiceSet.none()
    unioned: set[int] = set()
    count = 0
    heads: list[tuple[list[Attachment], Any]] = []
    routes: dict[tuple[str, tuple[str, ...]], tuple[Attachment, Any]] = {}
    for g, v in cs:
        members = g.first(EXAMPLES + 1)
        n = g.count
        if lone is not None and g.holds(lone):
            n -= 1
            members = [a for a in members if a is not lone]
        if n <= 0:
            continue
        count += n
        if id(v.violating) not in unioned:  # verdicts share their service sets
            unioned.add(id(v.violating))
            services = services | v.violating
        heads.append((members, v))
        key = (v.mode, v.route.routers if v.route is not None else ())
        known = routes.get(key)
        if known is None or members[0].ref < known[0].ref:
            routes[key] = (members[0], v)
    if not heads:
        return None
    # the first EXAMPLES members overall come from the groups whose first members are the
    # EXAMPLES lowest
    lowest = heapq.nsmallest(EXAMPLES, range(len(heads)), key=lambda k: heads[k][0][0].ref)
    merged = heapq.merge(*([(a.ref, k, a) for a in heads[k][0][:EXAMPLES]] for k in lowest))
    firsts = [(k, a) for _, k, a in itertools.islice(merged, EXAMPLES)]
    d = firsts[0][1]
    examples = sorted(routes.values(), key=lambda t: t[0].ref)[:EXAMPLES]
    return services, count, [a for _, a in firsts], d, heads[firsts[0][0]][1], examples


def native_vlan_carries_guests(
    topology: Topology,
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
) -> list[Finding]:
    l2 = reach.layer2
    guest_segs = {s for g in guests for s in reach.segment_numbers(g)}
    mgmt_in = _by_segment(reach, management)
    out = []
    for sw in topology.switches:
        for port in sw.ports:
            native = port.untagged_vlan
            if port.mode != "trunk" or native is None:
                continue
            seg = l2.segment_of_node.get(("sw", sw.name, "", l2.atoms.atom(native)))
            if seg is None or seg not in guest_segs:
                continue
            mgmt_vlans = []
            for a in l2.atoms.of(port.allowed):
                if l2.atoms.lo(a) <= native < l2.atoms.lo(a + 1):
                    continue
                ms = l2.segment_of_node.get(("sw", sw.name, "", a))
                if ms is not None and ms in mgmt_in:
                    mgmt_vlans.append((a, mgmt_in[ms][0]))
            if not mgmt_vlans:
                continue
            first = mgmt_vlans[0][1]
            subject = Attachment(
                refs.switch(sw.name, port.name), "endpoint", None, (), (), location=port.location
            )
            vlans = [l2.atoms.describe(a) for a, _ in mgmt_vlans]
            out.append(
                _finding(
                    "native-vlan-carries-guests",
                    f"trunk port {port.name} of switch {sw.name} carries guests untagged in "
                    f"native VLAN {native} and the management {', '.join(vlans)} "
                    f"({name(reach, first)}): double-tagged guest frames can hop into it",
                    subject,
                    first.ref,
                    {
                        "native": native,
                        "management_vlans": vlans,
                        "segment": reach.segments[seg].label,
                    },
                )
            )
    return out


def _shares(
    reach: Reachability, m: Attachment, others: dict[int, list[Attachment]]
) -> list[tuple[int, Attachment]]:
    return [(seg, o) for seg in reach.segment_numbers(m) for o in others.get(seg, ()) if o is not m]


def vmotion_not_isolated(
    topology: Topology,
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
) -> list[Finding]:
    guest_in = _by_segment(reach, guests)
    mgmt_role = _by_segment(
        reach, [m for m in management if "management" in _services(topology, m)]
    )
    out = []
    for m in management:
        if "vmotion" not in _services(topology, m):
            continue
        hits = _shares(reach, m, guest_in) + [
            h for h in _shares(reach, m, mgmt_role) if h[1].host == m.host
        ]
        if not hits:
            continue
        seg, other = hits[0]
        out.append(
            _finding(
                "vmotion-not-isolated",
                f"vMotion interface {name(reach, m)} shares a segment ({reach.segments[seg].label}) "
                f"with {name(reach, other)}",
                m,
                other.ref,
                {
                    "segment": reach.segments[seg].label,
                    "with": sorted({o.ref for _, o in hits})[:EXAMPLES],
                },
            )
        )
    return out


def storage_not_isolated(
    topology: Topology,
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
) -> list[Finding]:
    guest_in = _by_segment(reach, guests)
    out = []
    for m in management:
        roles = _services(topology, m) & STORAGE_SERVICES
        if not roles:
            continue
        hits = _shares(reach, m, guest_in)
        if not hits:
            continue
        seg, other = hits[0]
        out.append(
            _finding(
                "storage-not-isolated",
                f"storage interface {name(reach, m)} ({', '.join(sorted(roles))}) shares a "
                f"segment ({reach.segments[seg].label}) with {name(reach, other)}",
                m,
                other.ref,
                {
                    "segment": reach.segments[seg].label,
                    "with": sorted({o.ref for _, o in hits})[:EXAMPLES],
                },
            )
        )
    return out


def _services(topology: Topology, m: Attachment) -> frozenset[str]:
    if m.host is None:
        return frozenset()
    name_ = refs.under(m.ref, m.host)
    for mi in topology.host(m.host).management:
        if mi.name == name_:
            return mi.services
    return frozenset()


#: Rule id -> its check, in the order of rules.md (the design rules' half of the registry;
#: the declarations are in netseg.rules.catalogue).
SEGMENTATION: Mapping[str, Callable[[Context], list[Finding]]] = {
    "guest-reaches-management": lambda c: guest_reaches_management(
        c.reach, c.guests, c.management, c.where
    ),
    "guest-on-management-segment": lambda c: guest_on_management_segment(
        c.reach, c.guests, c.management, c.where
    ),
    "guest-can-tag-management-vlan": lambda c: guest_can_tag_management_vlan(
        c.reach, c.guests, c.management, c.where
    ),
    "guest-observes-management": lambda c: guest_observes_management(
        c.topology, c.reach, c.guests, c.management, c.where
    ),
    "zone-policy-violation": lambda c: zone_policy_violation(c.reach, c.where),
    "native-vlan-carries-guests": lambda c: native_vlan_carries_guests(
        c.topology, c.reach, c.guests, c.management
    ),
    "vmotion-not-isolated": lambda c: vmotion_not_isolated(
        c.topology, c.reach, c.guests, c.management
    ),
    "storage-not-isolated": lambda c: storage_not_isolated(
        c.topology, c.reach, c.guests, c.management
    ),
}
