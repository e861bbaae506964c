"""The estate overview: zones, segments and privileged domains as nodes, hosts counted.

An estate of 1,000 hosts and 50,000 guests has too many guests for one readable picture, so
``netseg diagram`` draws it as an overview (:data:`OVERVIEW_HOSTS`, :data:`OVERVIEW_GUESTS`),
left to right:

- one node per **zone**: its guests and endpoints, and on how many hosts its guests run;
- one node per **segment group**: the L2 segments that the same zones (and the same kinds of
  privileged domain) send untagged frames into, with how many segments, a few of their labels,
  how many guest NICs of each zone are in them, and how many NICs can tag into them; a group
  where guests and a privileged domain share segments has a red border;
- one node per **privileged domain** kind (vmkernel, dom0, management OS): its interfaces, and
  on how many hosts of that hypervisor;
- the routers, each joined to the groups its interfaces are in;
- the violations overlaid: one red dashed arrow from a zone to a privileged domain for the
  highlighted findings of the zone's guests (``guest-reaches-management``,
  ``guest-can-tag-management-vlan``), with how many guests reach how many interfaces and over
  which services written in red in the zone's node (so no label lies on an edge).

Counts are written in the nodes and edges carry no labels: nothing can overlap. Everything is
iterated in sorted order: the same topology gives the same DOT. The cost is one pass over the
attachments' joins and the findings' member sets (no member pair product).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from netseg.graph import Reachability
from netseg.model import refs
from netseg.model.topology import Topology
from netseg.render.dotparts import (
    FINDING_RED,
    FONT,
    HIGHLIGHT_RULES,
    MANAGEMENT_BORDER,
    MANAGEMENT_FILL,
    attrs,
    finding_edge,
    html_label,
    member_sets,
    node_id,
    services_label,
    text,
)
from netseg.rules.finding import Finding

OVERVIEW_HOSTS = 10
"""A drawing of more hosts than this is an overview unless asked otherwise."""
OVERVIEW_GUESTS = 500
"""A drawing of more guests than this is an overview unless asked otherwise."""
SHOWN_LABELS = 3  # segment labels written in a group's node


def wants_overview(topology: Topology) -> bool:
    """Whether ``netseg diagram`` draws ``topology`` as an overview by default."""
    return len(topology.hosts) > OVERVIEW_HOSTS or len(topology.guests) > OVERVIEW_GUESTS


def _n(value: int, word: str, plural: str | None = None) -> str:
    return f"{value:,} {word if value == 1 else (plural or word + 's')}"


@dataclass
class _Group:
    key: tuple[tuple[str, ...], tuple[str, ...]]  # zones, privileged domains (untagged)
    segments: list[int] = field(default_factory=list)
    nics: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # zone -> NICs
    tagging: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # zone -> tag into
    interfaces: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # pd -> count
    routers: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return node_id(f"segments:{self.segments[0]}")


def render_overview(
    topology: Topology,
    attachments: Reachability,
    findings: Sequence[Finding] = (),
    *,
    highlight: str = "findings",
) -> str:
    """The overview DOT of ``topology`` (its findings overlaid with ``highlight="findings"``)."""
    t = topology
    hosts = {h.name: h for h in t.hosts}
    pd_of_host = {h.name: h.hypervisor.privileged_domain for h in t.hosts}
    segments = attachments.segments

    # zones: guests, endpoints, hosts
    zone_guests: dict[str, int] = defaultdict(int)
    zone_hosts: dict[str, set[str]] = defaultdict(set)
    zone_endpoints: dict[str, int] = defaultdict(int)
    for g in t.guests:
        zone_guests[g.zone] += 1
        zone_hosts[g.zone].add(g.host)
    for e in t.endpoints:
        zone_endpoints[e.zone] += 1

    # who sends untagged frames into each segment; who tags into it
    untagged_zones: dict[int, set[str]] = defaultdict(set)
    untagged_pds: dict[int, set[str]] = defaultdict(set)
    for a in attachments.attachments:
        for j in a.joins:
            if j.tagged:
                continue
            if a.kind in ("guest", "endpoint") and a.zone is not None:
                untagged_zones[j.segment].add(a.zone)
            elif a.kind == "management" and a.host is not None:
                untagged_pds[j.segment].add(pd_of_host[a.host])
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], _Group] = {}
    group_of: dict[int, _Group] = {}
    for s in sorted(set(untagged_zones) | set(untagged_pds)):
        key = (tuple(sorted(untagged_zones[s])), tuple(sorted(untagged_pds[s])))
        group = groups.setdefault(key, _Group(key))
        group.segments.append(s)
        group_of[s] = group
    for a in attachments.attachments:
        seen: set[int] = set()
        for j in a.joins:
            into = group_of.get(j.segment)
            if into is None or id(into) in seen:
                continue
            seen.add(id(into))
            if a.kind in ("guest", "endpoint") and a.zone is not None:
                (into.tagging if j.tagged else into.nics)[a.zone] += 1
            elif a.kind == "management" and a.host is not None:
                into.interfaces[pd_of_host[a.host]] += 1
            elif a.kind == "router":
                into.routers.add(refs.last(a.ref)[0])

    # privileged domains: interfaces and hosts per kind
    pd_interfaces: dict[str, int] = defaultdict(int)
    pd_hosts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for h in t.hosts:
        pd = h.hypervisor.privileged_domain
        pd_interfaces[pd] += len(h.management)
        pd_hosts[pd][h.hypervisor.value] += 1

    # violations: zone -> privileged domain, from the findings' member sets
    red: dict[tuple[str, str], tuple[set[str], set[str], set[str]]] = {}
    if highlight == "findings":
        for f in findings:
            if f.rule not in HIGHLIGHT_RULES or f.object is None or f.waived:
                continue
            subjects, objects = member_sets(f)
            if f.rule == "guest-reaches-management":
                what = services_label(f.evidence)
            else:
                vlans = ", ".join(f.evidence.get("vlans", []))
                what = f"can tag {vlans}" if vlans else "can tag frames"
            by_zone: dict[str, set[str]] = defaultdict(set)
            for subject in subjects:
                a = attachments.attachment(subject)
                if a.kind == "guest" and a.zone is not None:
                    by_zone[a.zone].add(refs.last(subject)[0])
            by_pd: dict[str, set[str]] = defaultdict(set)
            for o in objects:
                a = attachments.attachment(o)
                if a.host is not None and a.host in hosts:
                    by_pd[pd_of_host[a.host]].add(o)
            for zone, guests in by_zone.items():
                for pd, ifaces in by_pd.items():
                    entry = red.setdefault((zone, pd), (set(), set(), set()))
                    entry[0].update(guests)
                    entry[1].update(ifaces)
                    entry[2].add(what)

    # --- DOT ---------------------------------------------------------------------------
    kinds: dict[str, int] = defaultdict(int)
    for h in t.hosts:
        kinds[h.hypervisor.value] += 1
    census = ", ".join(f"{n:,} {k}" for k, n in sorted(kinds.items()))
    title = (
        f"<B>{text(t.name)}</B> — overview: {text(_n(len(t.hosts), 'host'))} ({text(census)}), "
        f"{text(_n(len(t.guests), 'guest'))}, {text(_n(len(segments), 'segment'))}"
        f"<BR/><FONT POINT-SIZE='9'>detail: netseg diagram --host NAME | --zone NAME | "
        f"--segment ID</FONT>"
    ).replace("'", '"')
    out = [
        "digraph netseg {",
        "  graph "
        + attrs(
            rankdir="LR",
            newrank="true",
            fontname=FONT,
            fontsize="12",
            nodesep="0.2",
            ranksep="1.2",
            labelloc="t",
            label=html_label(title),
        )
        + ";",
        "  node " + attrs(fontname=FONT, fontsize="10", shape="box") + ";",
        "  edge " + attrs(fontname=FONT, fontsize="9", color="#777777", arrowhead="none") + ";",
    ]

    def emit(line: str, depth: int = 1) -> None:
        out.append("  " * depth + line)

    zones = sorted(set(zone_guests) | set(zone_endpoints))
    emit("subgraph " + node_id("cluster_overview:zones") + " {")
    emit(
        "graph " + attrs(label=html_label("<B>zones</B>"), style="rounded", color="#bbbbbb") + ";",
        2,
    )
    for zone in zones:
        lines = [f"zone <B>{text(zone)}</B>"]
        if zone_guests[zone]:
            lines.append(
                text(f"{_n(zone_guests[zone], 'guest')} on {_n(len(zone_hosts[zone]), 'host')}")
            )
        if zone_endpoints[zone]:
            lines.append(text(_n(zone_endpoints[zone], "endpoint")))
        reds = []
        for (z, pd), (guests, ifaces, whats) in sorted(red.items()):
            if z == zone:
                reds.append(
                    text(
                        f"→ {pd}: {_n(len(guests), 'guest')} reach "
                        f"{_n(len(ifaces), 'interface')} ({'; '.join(sorted(whats))})"
                    )
                )
        label = "<BR/>".join(lines)
        if reds:
            label += (
                f'<BR/><FONT COLOR="{FINDING_RED}" POINT-SIZE="9">' + "<BR/>".join(reds) + "</FONT>"
            )
        emit(
            node_id(refs.zone(zone))
            + " "
            + attrs(
                label=html_label(label),
                style="filled,rounded",
                fillcolor="#f4f4f4",
                color=FINDING_RED if reds else "#888888",
                penwidth="2" if reds else "1",
            )
            + ";",
            2,
        )
    emit("}")

    ordered = sorted(groups.values(), key=lambda g: g.segments[0])
    for group in ordered:
        zs, pds = group.key
        shared = bool(zs) and bool(pds)
        head = _n(len(group.segments), "segment")
        shown = [segments[s].label for s in group.segments[:SHOWN_LABELS]]
        more = len(group.segments) - len(shown)
        lines = [
            f"<B>{text(head)}</B>",
            text(", ".join(shown) + (f", … {more:,} more" if more else "")),
        ]
        if len(group.nics) > SHOWN_LABELS:
            # a segment that several zones share (a transparent bridge, a flat VLAN): counted
            top = sorted(group.nics, key=lambda z: (-group.nics[z], z))[:SHOWN_LABELS]
            lines.append(
                text(
                    f"{_n(sum(group.nics.values()), 'guest NIC')} of "
                    f"{_n(len(group.nics), 'zone')}: {', '.join(top)}, …"
                )
            )
        else:
            for zone in sorted(group.nics):
                lines.append(text(f"{zone}: {_n(group.nics[zone], 'guest NIC')}"))
        if group.tagging:
            # tagging NICs are counted, not drawn: an edge per zone and group would bury the
            # picture, and tagging into management is a red arrow of its own
            tagging = (
                f"{_n(sum(group.tagging.values()), 'NIC')} of "
                f"{_n(len(group.tagging), 'zone')} can tag into it"
            )
            lines.append(f"<I>{text(tagging)}</I>")
        for pd in sorted(group.interfaces):
            lines.append(text(f"{pd}: {_n(group.interfaces[pd], 'interface')}"))
        if shared:
            lines.append(
                f'<FONT COLOR="{FINDING_RED}">guests and privileged domain share these</FONT>'
            )
        emit(
            group.id
            + " "
            + attrs(
                label=html_label("<BR/>".join(lines)),
                shape="box",
                style="filled",
                fillcolor="#fff1e6" if pds else "#e8eef5",
                color=FINDING_RED if shared else "#34495e",
                penwidth="2" if shared else "1",
            )
            + ";"
        )

    emit("subgraph " + node_id("cluster_overview:privileged-domains") + " {")
    emit(
        "graph "
        + attrs(
            label=html_label("<B>privileged domains</B>"),
            style="filled,rounded",
            fillcolor="#fff1e6",
            color="#e0a070",
        )
        + ";",
        2,
    )
    for pd in sorted(pd_interfaces):
        on = ", ".join(f"{_n(n, k + ' host')}" for k, n in sorted(pd_hosts[pd].items()))
        label = f"<B>{text(pd)}</B><BR/>{text(_n(pd_interfaces[pd], 'interface'))}<BR/>{text('on ' + on)}"
        emit(
            node_id(f"privileged-domain:{pd}")
            + " "
            + attrs(
                label=html_label(label),
                shape="octagon",
                style="filled",
                fillcolor=MANAGEMENT_FILL,
                color=MANAGEMENT_BORDER,
                penwidth="2",
            )
            + ";",
            2,
        )
    emit("}")

    routers = sorted({r for g in ordered for r in g.routers})
    by_name = {r.name: r for r in t.routers}
    for name in routers:
        r = by_name[name]
        label = (
            f"<B>{text(name)}</B><BR/><FONT POINT-SIZE='8'>"
            f"{text(_n(len(r.interfaces), 'interface'))}, "
            f"{text(_n(len(r.acl), 'ACL line'))}, default {text(r.default)}</FONT>"
        ).replace("'", '"')
        emit(
            node_id(refs.router(name))
            + " "
            + attrs(label=html_label(label), shape="box3d", style="filled", fillcolor="#e6e0f0")
            + ";"
        )

    def width(n: int) -> str:
        return f"{1 + math.log10(max(n, 1)):.2f}"

    for group in ordered:
        for zone in sorted(group.nics):
            emit(
                f"{node_id(refs.zone(zone))} -> {group.id} "
                + attrs(penwidth=width(group.nics[zone]))
                + ";"
            )
        for pd in sorted(group.interfaces):
            emit(
                f"{group.id} -> {node_id('privileged-domain:' + pd)} "
                + attrs(penwidth=width(group.interfaces[pd]), color="#c0392b")
                + ";"
            )
        for name in sorted(group.routers):
            emit(f"{group.id} -> {node_id(refs.router(name))};")
    for (zone, pd), (guests, _, whats) in sorted(red.items()):
        emit(
            f"{node_id(refs.zone(zone))} -> {node_id('privileged-domain:' + pd)} "
            + finding_edge(text(f"{len(guests):,} guests: " + "; ".join(sorted(whats))))
            + ";"
        )
    out.append("}")
    return "\n".join(out) + "\n"


__all__ = ["OVERVIEW_GUESTS", "OVERVIEW_HOSTS", "render_overview", "wants_overview"]
