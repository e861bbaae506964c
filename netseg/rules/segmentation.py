"""Segmentation rules: findings computed from reachability (rules.md, "Segmentation").

:func:`segmentation_findings` is called by the design analysis with a
:class:`~netseg.graph.Reachability` already built. Severities are the catalogue defaults;
``policy.severity`` overrides and waivers are applied by the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netseg.collector import collector_paused
from netseg.graph import UNTAGGED, Attachment, Reachability, ReachablePair
from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.topology import Location, Topology
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
) -> Finding:
    ref, location = (subject.ref, subject.location) if isinstance(subject, Attachment) else subject
    return catalogue.finding(rule, message, ref, location, obj, evidence)


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


def segmentation_findings(
    topology: Topology, reach: Reachability, rules: Collection[str] | None = None
) -> list[Finding]:
    """The segmentation findings of ``topology`` (unsorted; catalogue severities): of every
    rule, or of ``rules`` only."""
    guests = [a for a in reach.attachments if a.kind == "guest"]
    management = [a for a in reach.attachments if a.kind == "management"]
    context = Context(topology, reach, guests, management)
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
    reach: Reachability, guests: Sequence[Attachment], management: Sequence[Attachment]
) -> list[Finding]:
    out = []
    for p in reach.pairs(guests, management, violating_only=True):
        s, d = reach.attachment(p.source), reach.attachment(p.destination)
        out.append(
            _finding(
                "guest-reaches-management",
                f"{name(reach, s)} reaches {name(reach, d)} {_how(p)} {_on(p.violating)}",
                s,
                d.ref,
                {
                    "services": p.violating.items(),
                    "reachable": p.services.items(),
                    "allowed": p.allowed.items(),
                    "mode": p.mode,
                    "via": list(p.via),
                    "tag_injection": p.tag_injection,
                    "path": _path(p),
                },
            )
        )
    return out


def guest_on_management_segment(
    reach: Reachability, guests: Sequence[Attachment], management: Sequence[Attachment]
) -> list[Finding]:
    mgmt_in = _by_segment(reach, management)
    out = []
    for g in guests:
        for seg in reach.segment_numbers(g):
            here = mgmt_in.get(seg)
            if not here:
                continue
            first = here[0]
            more = f" and {len(here) - 1} more" if len(here) > 1 else ""
            label = reach.segments[seg].label
            out.append(
                _finding(
                    "guest-on-management-segment",
                    f"{name(reach, g)} is in the same L2 segment ({label}) as "
                    f"{name(reach, first)}{more}",
                    g,
                    first.ref,
                    {
                        "segment": label,
                        "management": [m.ref for m in here[:EXAMPLES]],
                        "count": len(here),
                        "mode": "l2",
                        "path": [h.ref for h in reach.segment_path(g, first, seg)],
                    },
                )
            )
    return out


def guest_can_tag_management_vlan(
    reach: Reachability, guests: Sequence[Attachment], management: Sequence[Attachment]
) -> list[Finding]:
    mgmt_in = _by_segment(reach, management)
    atoms = reach.layer2.atoms
    out = []
    for g in guests:
        tagged = sorted({(j.segment, j.node[3]) for j in g.joins if j.tagged})
        hits = [(seg, atom) for seg, atom in tagged if seg in mgmt_in]
        if not hits:
            continue
        seg = hits[0][0]
        first = mgmt_in[seg][0]
        vlans = sorted({atoms.describe(a) for _, a in hits if a != UNTAGGED})
        out.append(
            _finding(
                "guest-can-tag-management-vlan",
                f"{name(reach, g)} can send frames tagged {', '.join(vlans)} into the "
                f"segment of {name(reach, first)}",
                g,
                first.ref,
                {
                    "vlans": vlans,
                    "segments": sorted({reach.segments[s].label for s, _ in hits}),
                    "management": sorted({m.ref for s, _ in hits for m in mgmt_in[s]})[:EXAMPLES],
                    "mode": "l2",
                    "tag_injection": True,
                    "path": [h.ref for h in reach.segment_path(g, first, seg)],
                },
            )
        )
    return out


def guest_observes_management(
    topology: Topology,
    reach: Reachability,
    guests: Sequence[Attachment],
    management: Sequence[Attachment],
) -> list[Finding]:
    """ESXi promiscuous mode shows a guest every frame of the bridge domains it is attached
    to on its virtual switch; a management interface attached to one of them is observed."""
    mgmt_at: dict[object, list[Attachment]] = defaultdict(list)
    for m in management:
        for j in m.joins:
            if j.node[0] == "vs":
                mgmt_at[j.node].append(m)
    out = []
    for g in guests:
        guest = topology.guest(refs.last(g.ref)[0])
        nic = next(n for n in guest.nics if n.ref == g.ref)
        if nic.portgroup is None:
            continue
        vs = topology.host(guest.host).vswitch(nic.vswitch)
        pg = vs.portgroup(nic.portgroup) if vs is not None else None
        if vs is None or not vs.is_esxi or pg is None or not pg.security.promiscuous:
            continue
        seen = [m for j in g.joins for m in mgmt_at.get(j.node, ())]
        if not seen:
            continue
        first = seen[0]
        out.append(
            _finding(
                "guest-observes-management",
                f"{name(reach, g)} has promiscuous mode on port group {pg.name} of {vs.name} "
                f"and sees the frames of {name(reach, first)}",
                g,
                first.ref,
                {
                    "portgroup": refs.portgroup(guest.host, vs.name, pg.name),
                    "management": sorted({m.ref for m in seen})[:EXAMPLES],
                },
            )
        )
    return out


def zone_policy_violation(reach: Reachability) -> list[Finding]:
    """One finding per (source, destination zone), aggregating the destinations; pairs from a
    guest to a management interface are guest-reaches-management's."""
    sources = [a for a in reach.attachments if a.kind in ("guest", "endpoint")]
    destinations = [a for a in reach.attachments if a.kind in ("guest", "endpoint", "management")]
    # Contributions per (source class, destination zone), in verdict order. A class's members
    # behave alike, so each member's aggregate is the class's, except for members that are
    # themselves among the destinations (left out of their own examples and count).
    contributions: dict[tuple[int, str], list[_Contribution]] = {}
    classes: dict[int, list[Attachment]] = {}
    for sm, dm, v in reach.class_verdicts(sources, destinations):
        violating = v.violating
        if not violating:
            continue
        zone = dm[0].zone or ""
        # guests reaching a management interface are guest-reaches-management's
        no_guests = dm[0].kind == "management"
        classes[id(sm)] = sm
        contributions.setdefault((id(sm), zone), []).append(
            _Contribution(violating, dm, v, no_guests)
        )
    agg: dict[tuple[str, str], list[Any]] = {}
    ids: dict[int, frozenset[int]] = {}

    def ids_of(members: list[Attachment]) -> frozenset[int]:
        found = ids.get(id(members))
        if found is None:
            found = ids[id(members)] = frozenset(id(a) for a in members)
        return found

    for (sid, zone), cs in contributions.items():
        sm = classes[sid]
        mine = ids_of(sm)
        # members among some contribution's first destinations: folded one by one
        special = {id(d) for c in cs for d in c.dm[: EXAMPLES + 1] if id(d) in mine}
        # members a same-zone contribution contains: one less in its count
        inside: dict[int, list[int]] = defaultdict(list)
        for k, c in enumerate(cs):
            if _same_zone(sm, c, zone):
                for a in mine & ids_of(c.dm):
                    inside[a].append(k)
        generic = {g: _fold(cs, None, zone, sm, g, ids_of) for g in (False, True)}
        for s in sm:
            is_guest = s.kind == "guest"
            if id(s) in special:
                entry = _fold(cs, s, zone, sm, is_guest, ids_of)
            else:
                entry = generic[is_guest]
                if entry is not None:
                    count = entry[3] - sum(1 for k in inside.get(id(s), ()) if cs[k].applies(s))
                    entry = [s, entry[1], entry[2], count, entry[4]]
            if entry is not None:
                agg[(s.ref, zone)] = entry
    order = {a.ref: i for i, a in enumerate(reach.attachments)}
    out = []
    for (_, zone), (s, services, examples, count, (d, v)) in sorted(
        agg.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])
    ):
        p = reach.make_pair(s, d, v)
        more = f" and {count - 1} more" if count > 1 else ""
        out.append(
            _finding(
                "zone-policy-violation",
                f"{name(reach, s)} can send to zone {zone} ({name(reach, d)}{more}) "
                f"{_how(p)} {_on(services)}, which the policy does not allow",
                s,
                refs.zone(zone),
                {
                    "services": services.items(),
                    "destinations": [e.ref for e in examples],
                    "count": count,
                    "mode": p.mode,
                    "via": list(p.via),
                    "tag_injection": p.tag_injection,
                    "path": _path(p),
                },
            )
        )
    return out


class _Contribution:
    """One class verdict towards a zone, as zone-policy-violation aggregates it."""

    __slots__ = ("dm", "no_guests", "v", "violating")

    def __init__(self, violating: ServiceSet, dm: list[Attachment], v: Any, no_guests: bool):
        self.violating = violating
        self.dm = dm
        self.v = v
        self.no_guests = no_guests

    def applies(self, s: Attachment) -> bool:
        return not (self.no_guests and s.kind == "guest")


def _same_zone(sm: list[Attachment], c: _Contribution, zone: str) -> bool:
    """Whether the contribution's sources (after leaving guests out for a management
    destination) are of the destination zone: only then can a source be among them."""
    first = next((s for s in sm if c.applies(s)), None)
    return first is not None and first.zone == zone


def _fold(
    cs: list[_Contribution],
    s: Attachment | None,
    zone: str,
    sm: list[Attachment],
    is_guest: bool,
    ids_of: Callable[[list[Attachment]], frozenset[int]],
) -> list[Any] | None:
    """The aggregate [source, services, examples, count, (first destination, verdict)] of one
    member ``s`` over its class's contributions to one zone, or of a member found among no
    destination (``s`` None; ``is_guest`` says which contributions apply)."""
    entry: list[Any] | None = None
    for c in cs:
        if c.no_guests and is_guest:
            continue
        dm = c.dm
        others = [d for d in dm[: EXAMPLES + 1] if d is not s][:EXAMPLES]
        if not others:
            continue
        count = len(dm)
        if s is not None and id(s) in ids_of(dm) and _same_zone(sm, c, zone):
            count -= 1
        if entry is None:
            entry = [s, c.violating, others, count, (others[0], c.v)]
        else:
            if c.violating is not entry[1]:
                entry[1] = entry[1] | c.violating
            if len(entry[2]) < EXAMPLES:
                entry[2] = (entry[2] + others)[:EXAMPLES]
            entry[3] += count
    return entry


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
    "guest-reaches-management": lambda c: guest_reaches_management(c.reach, c.guests, c.management),
    "guest-on-management-segment": lambda c: guest_on_management_segment(
        c.reach, c.guests, c.management
    ),
    "guest-can-tag-management-vlan": lambda c: guest_can_tag_management_vlan(
        c.reach, c.guests, c.management
    ),
    "guest-observes-management": lambda c: guest_observes_management(
        c.topology, c.reach, c.guests, c.management
    ),
    "zone-policy-violation": lambda c: zone_policy_violation(c.reach),
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
