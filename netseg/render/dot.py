"""Graphviz DOT for a design review: model + reachability + findings -> DOT text.

Pure and deterministic: the same topology gives byte-identical DOT (everything is iterated in
sorted order; no timestamps, no dict or set order). The drawing, left to right:

- guests grouped by zone, and the privileged domain's interfaces (orange octagons), inside one
  cluster per host titled ``HOST (hypervisor) — privileged domain: dom0|vmkernel|management OS``;
- virtual switches as tables, one row per port group (ESXi) or per VLAN in use (Hyper-V, Xen),
  then the host's physical NICs at the cluster's right edge;
- physical switches, routers and endpoints outside the hosts, links labelled with their VLANs
  (trunks with their ranges and native VLAN);
- one fill colour per L2 segment an attachment sends untagged frames into, with a legend;
- with ``highlight="findings"``, every ``guest-reaches-management`` and
  ``guest-can-tag-management-vlan`` finding as a red dashed edge guest -> management interface,
  labelled with the services (or the VLANs the guest can tag).

More than ``collapse_over`` guests on one port group (or, without port groups, one vswitch and
VLAN) are drawn as one node per zone, "37 guests"; a guest that carries a highlighted finding is
always drawn on its own, so every red edge has a real source.

Every user-supplied name goes into HTML-like labels (escaped) or into percent-encoded node
identifiers, never raw into DOT syntax: names may hold quotes, backslashes, spaces or slashes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from netseg.errors import SelectorError
from netseg.graph import UNTAGGED, Reachability
from netseg.model import refs
from netseg.model.topology import (
    Endpoint,
    GuestNic,
    Host,
    ManagementInterface,
    Router,
    RouterInterface,
    SwitchPort,
    Topology,
    VlanMode,
    VSwitch,
)
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

Highlight = Literal["findings", "none"]
View = Literal["auto", "overview", "detail"]

COLLAPSE_OVER = 12
"""More guests than this on one port group collapse into one node per zone."""

#: Pastel fills readable under black text (ColorBrewer Set3 and Pastel1, without the reds that
#: would blur with the red of findings and the orange of management interfaces).
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#80b1d3",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#a6cee3",
    "#d9d9d9",
    "#decbe4",
)
TAGGING_FILL = "#ffffff"  # attachments that only send tagged frames belong to no one segment

UPSTREAM = "upstream"


# --- descriptions --------------------------------------------------------------------------


def port_config(port: SwitchPort) -> str:
    """``access 99`` or ``trunk 10-99 (native 1)``: what a link carries, seen from a port."""
    if port.mode == "access":
        return f"access VLAN {port.vlan}"
    native = "no native" if port.native is None else f"native {port.native}"
    qinq = ", QinQ" if port.qinq else ""
    return f"trunk {port.allowed} ({native}{qinq})"


def vlan_mode(mode: VlanMode) -> str:
    if mode.kind == "access":
        return "untagged" if mode.vlan == 0 else f"VLAN {mode.vlan}"
    if mode.kind == "transparent":
        return "untagged (guest tags pass)"
    native = "no native" if mode.native is None else f"native {mode.native or 'untagged'}"
    return f"trunk {mode.trunk} ({native})"


def _pg_vlan(source: int | str, mode: VlanMode) -> str:
    if source == 4095:
        return "4095 (guest tagging)"
    if mode.kind == "trunk":
        return f"trunk {mode.trunk}"
    return "untagged" if mode.vlan == 0 else f"VLAN {mode.vlan}"


def _member_pairs(f: Finding) -> list[tuple[str, str]]:
    """Every (guest NIC, management interface) pair of :func:`member_sets`: each red edge so
    joins a real guest to a real interface whatever the findings' grain."""
    subjects, objects = member_sets(f)
    return [(s, o) for s in subjects for o in objects]


_services_label = services_label
_attrs = attrs
_html = html_label


def _natural(name: str) -> list[tuple[int, int | str]]:
    """``Eth1/2`` before ``Eth1/10``: digits compared as numbers."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p]


def _some(names: Sequence[str], shown: int = 20) -> str:
    """``a, b, c`` — at most ``shown`` of them, then how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f", … ({more:,} more)" if more > 0 else "") or "none"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- the diagram model ---------------------------------------------------------------------


@dataclass
class _Row:
    port: str
    name: str
    vlan: str
    segment: int | None
    order: tuple[int, int, str] = (0, 0, "")  # port groups by name, VLAN rows by VLAN


def _vlan_order(mode: VlanMode) -> tuple[int, int, str]:
    """VLAN rows top to bottom: untagged, VLANs by number, trunks, transparent, so an
    appliance's interfaces (VLAN 40, 50, 60…) face their rows and their edges do not cross."""
    if mode.kind == "access":
        return (1, mode.vlan, "")
    if mode.kind == "trunk":
        return (2, 0, vlan_mode(mode))
    return (3, 0, vlan_mode(mode))


@dataclass
class _VSwitchNode:
    id: str
    vswitch: VSwitch
    rows: dict[str, _Row] = field(default_factory=dict)  # key: port group name or VLAN text


@dataclass(frozen=True)
class _Collapsed:
    id: str
    count: int
    zone: str
    where: str


class _Builder:
    def __init__(
        self,
        topology: Topology,
        reach: Reachability,
        findings: Sequence[Finding],
        highlight: Highlight,
        host: str | None,
        collapse_over: int,
        zone: str | None = None,
        segment: str | None = None,
    ) -> None:
        self.t = topology
        self.reach = reach
        self.l2 = reach.layer2
        self.collapse_over = collapse_over
        self.hosts = self._pick_hosts(host)
        self.single = host is not None or zone is not None or segment is not None
        self.subtitle = [f"host {self.hosts[0].name}"] if host is not None else []
        self.keep: set[str] | None = None  # the guests drawn (None: all of the hosts')
        if zone is not None:
            self._pick_zone(zone)
        if segment is not None:
            self._pick_segment(segment)
        self.highlighted = self._highlighted(findings) if highlight == "findings" else {}
        self.colours = self._segment_colours()
        self.used_segments: set[int] = set()
        # host -> routers all of whose interfaces are appliance NICs on it: drawn inside it
        self.local_routers: dict[str, set[str]] = defaultdict(set)
        for r in self.t.routers:
            on = {i.host for i in r.interfaces}
            if len(on) == 1 and None not in on and all(i.vswitch for i in r.interfaces):
                self.local_routers[str(next(iter(on)))].add(r.name)
        self.lines: list[str] = []
        self.drawn_management = {m.ref: (h.name, m.name) for h in self.hosts for m in h.management}
        self.drawn_segments: set[int] = set()  # the segments of the guests and interfaces drawn
        self.switch_ports: dict[str, dict[str, str]] = {}  # switch -> port -> its row's PORT

    # -- selection ----------------------------------------------------------------------
    def _pick_hosts(self, selector: str | None) -> list[Host]:
        hosts = sorted(self.t.hosts, key=lambda h: h.name)
        if selector is None:
            return hosts
        name = refs.body(selector, "host")
        for h in hosts:
            if h.name == name:
                return [h]
        known = ", ".join(h.name for h in hosts) or "none"
        raise SelectorError(f"--host: no host {name!r} in the topology (hosts: {known})")

    def _pick_zone(self, selector: str) -> None:
        """``--zone NAME``: the zone's guests, on the hosts they run on."""
        name = selector.removeprefix("zone:")
        zones = sorted({g.zone for g in self.t.guests} | set(self.t.zones))
        if name not in zones:
            raise SelectorError(f"--zone: no zone {name!r} in the topology (zones: {_some(zones)})")
        keep = {g.name for g in self.t.guests if g.zone == name}
        self._restrict(keep, set(), f"zone {name}")

    def _pick_segment(self, selector: str) -> None:
        """``--segment REF``: the guests and management interfaces in one L2 segment, named
        by its number (``7``, ``segment:7``, as in the legend) or its label (``tor1 VLAN
        99``), on the hosts they are on."""
        segments = self.reach.segments
        body = selector.removeprefix("segment:")
        found = None
        if body.isdigit() and int(body) < len(segments):
            found = segments[int(body)]
        else:
            found = next((s for s in segments if s.label == body), None)
        if found is None:
            labels = [f"{s.id}: {s.label}" for s in segments]
            raise SelectorError(
                f"--segment: no segment {selector!r} (a number or label of: {_some(labels)})"
            )
        keep: set[str] = set()
        hosts: set[str] = set()
        for a in self.reach.attachments:
            if any(j.segment == found.id for j in a.joins):
                if a.kind == "guest":
                    keep.add(refs.last(a.ref)[0])
                elif a.kind == "management" and a.host is not None:
                    hosts.add(a.host)
        self._restrict(keep, hosts, f"segment {found.id} ({found.label})")

    def _restrict(self, keep: set[str], hosts: set[str], what: str) -> None:
        self.keep = keep if self.keep is None else self.keep & keep
        on = hosts | {self.t.guest(g).host for g in self.keep}
        self.hosts = [h for h in self.hosts if h.name in on]
        self.subtitle.append(what)
        if not self.hosts:
            raise SelectorError(
                f"--{what.split()[0]}: {what} has no guest or privileged-domain interface on "
                "the hosts selected"
            )

    def _highlighted(self, findings: Sequence[Finding]) -> dict[tuple[str, str], list[str]]:
        """(guest name, management ref) -> label lines, from the highlighted rules."""
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for f in findings:
            if f.rule not in HIGHLIGHT_RULES or f.object is None or f.waived:
                continue
            if f.rule == "guest-reaches-management":
                what = _services_label(f.evidence)
            else:
                vlans = ", ".join(f.evidence.get("vlans", []))
                what = f"can tag {vlans}" if vlans else "can tag frames"
            for subject, obj in _member_pairs(f):
                if not subject.startswith("guest:"):
                    continue
                guest, nic = refs.last(subject)
                line = f"{nic}: {what}" if len(self.t.guest(guest).nics) > 1 else what
                lines = out[(guest, obj)]
                if line not in lines:
                    lines.append(line)
        return out

    # -- colours ------------------------------------------------------------------------
    def _primary(self, ref: str) -> int | None:
        """The segment an attachment sends untagged frames into (None: only tagged, or
        several)."""
        a = self.reach.attachment(ref)
        untagged = sorted({j.segment for j in a.joins if not j.tagged})
        return untagged[0] if len(untagged) == 1 else None

    def _segment_colours(self) -> dict[int, str]:
        """Colours by rank among every segment an attachment sits in untagged, over the whole
        topology, so a one-host drawing uses the same colours as the full one."""
        segs: set[int] = set()
        for a in self.reach.attachments:
            seg = self._primary(a.ref)
            if seg is not None:
                segs.add(seg)
        return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sorted(segs))}

    def _fill(self, segment: int | None) -> str:
        if segment is None or segment not in self.colours:
            return TAGGING_FILL
        self.used_segments.add(segment)
        return self.colours[segment]

    def _vs_segment(self, host: str, vswitch: str, mode: VlanMode) -> int | None:
        if mode.kind == "trunk":
            return None
        atom = UNTAGGED if mode.vlan == 0 else self.l2.atoms.atom(mode.vlan)
        return self.l2.segment_of_node.get(("vs", host, vswitch, atom))

    # -- output helpers -----------------------------------------------------------------
    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("  " * depth + line)

    # -- hosts --------------------------------------------------------------------------
    def build(self) -> str:
        title = " — ".join([self.t.name, *self.subtitle])
        self.lines = [
            "digraph netseg {",
            "  "
            + "graph "
            + _attrs(
                rankdir="LR",
                newrank="true",
                compound="true",
                fontname=FONT,
                fontsize="12",
                nodesep="0.25",
                ranksep="0.7",
                labelloc="t",
                label=_html(f"<B>{text(title)}</B>"),
            )
            + ";",
            "  node " + _attrs(fontname=FONT, fontsize="10", shape="box") + ";",
            "  edge "
            + _attrs(fontname=FONT, fontsize="9", color="#555555", arrowhead="none")
            + ";",
        ]
        drawn_guests: set[str] = set()
        mgmt_ids: set[str] = set()
        switches: set[str] = set()
        for h in self.hosts:
            drawn_guests |= self._host(h, mgmt_ids, switches)
        self._physical(switches)
        self._highlights(drawn_guests, mgmt_ids)
        self._legend()
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    def _host(self, h: Host, mgmt_ids: set[str], switches: set[str]) -> set[str]:
        hid = refs.host(h.name)
        title = (
            f"{h.name} ({h.hypervisor.value}) — privileged domain: {h.hypervisor.privileged_domain}"
        )
        self.emit(f"subgraph {node_id('cluster_' + hid)} {{")
        self.emit(
            "graph "
            + _attrs(
                label=_html(f"<B>{text(title)}</B>"),
                style="rounded",
                color="#4a4a4a",
                penwidth="1.5",
                labeljust="l",
            )
            + ";",
            2,
        )
        vsnodes = {
            v.name: _VSwitchNode(node_id(refs.vswitch(h.name, v.name)), v)
            for v in sorted(h.vswitches, key=lambda v: v.name)
        }
        for node in vsnodes.values():
            for pg in sorted(node.vswitch.portgroups, key=lambda p: p.name):
                node.rows[pg.name] = _Row(
                    f"p{len(node.rows)}",
                    pg.name,
                    _pg_vlan(pg.vlan_source, pg.vlan),
                    self._vs_segment(h.name, node.vswitch.name, pg.vlan),
                )
        edges: list[str] = []

        def row_of(vswitch: str, portgroup: str | None, mode: VlanMode, side: str = "w") -> str:
            """The row's port, entered from ``side``: guests come from the west, the
            privileged domain's interfaces and router appliances sit east of the switch."""
            node = vsnodes[vswitch]
            key = portgroup if portgroup is not None else "\0" + vlan_mode(mode)
            row = node.rows.get(key)
            if row is None:
                row = _Row(
                    f"p{len(node.rows)}",
                    "",
                    vlan_mode(mode),
                    self._vs_segment(h.name, vswitch, mode),
                    _vlan_order(mode),
                )
                node.rows[key] = row
            # a port group row has two cells: the west port is its name, the east its VLAN
            port = row.port + "e" if side == "e" and row.name else row.port
            return f"{node.id}:{port}:{side}"

        # guests, grouped by zone; crowded port groups collapsed
        guests = sorted(
            (g for g in self.t.guests_on(h.name) if self.keep is None or g.name in self.keep),
            key=lambda g: g.name,
        )
        for ref in [n.ref for g in guests for n in g.nics] + [m.ref for m in h.management]:
            self.drawn_segments |= self.reach.attachment(ref).segments
        on_point: dict[tuple[str, str], list[GuestNic]] = defaultdict(list)
        for g in guests:
            for nic in g.nics:
                on_point[self._point(nic)].append(nic)
        crowded = {p for p, nics in on_point.items() if len(nics) > self.collapse_over}
        hot = {guest for guest, _ in self.highlighted}
        collapsed: dict[str, list[_Collapsed]] = defaultdict(list)
        kept: dict[str, list[str]] = defaultdict(list)  # zone -> guest names
        hidden: set[str] = set()
        for g in guests:
            if g.nics and g.name not in hot and all(self._point(n) in crowded for n in g.nics):
                hidden.add(g.name)
            else:
                kept[g.zone].append(g.name)
        for point in sorted(crowded):
            by_zone: dict[str, int] = defaultdict(int)
            for nic in on_point[point]:
                if nic.guest in hidden:
                    by_zone[self.t.guest(nic.guest).zone] += 1
            vswitch, pgkey = point
            for zone, count in sorted(by_zone.items()):
                cid = node_id(f"collapsed:{h.name}/{vswitch}/{pgkey}/{zone}")
                collapsed[zone].append(_Collapsed(cid, count, zone, pgkey.lstrip("\0")))
                nic = next(n for n in on_point[point] if n.guest in hidden)
                edges.append(
                    f"{cid} -> {row_of(nic.vswitch, nic.portgroup, nic.vlan)} "
                    + _attrs(style="bold")
                    + ";"
                )
        for zone in sorted(set(kept) | set(collapsed)):
            self.emit(f"subgraph {node_id(f'cluster_zone:{h.name}/{zone}')} {{", 2)
            self.emit(
                "graph "
                + _attrs(
                    label=_html(f"zone <B>{text(zone)}</B>"),
                    style="filled,rounded",
                    fillcolor="#f4f4f4",
                    color="#bbbbbb",
                )
                + ";",
                3,
            )
            for name in kept.get(zone, []):
                guest = self.t.guest(name)
                self.emit(self._guest_node(guest.name, guest.nics), 3)
                for k, nic in enumerate(guest.nics):
                    # a guest with several NICs is a table: each edge leaves its NIC's row
                    tail = node_id("guest:" + guest.name)
                    if len(guest.nics) > 1:
                        tail += f":n{k}:e"
                    edges.append(f"{tail} -> {row_of(nic.vswitch, nic.portgroup, nic.vlan)};")
            for c in collapsed.get(zone, []):
                label = f"<B>{text(_plural(c.count, 'guest'))}</B><BR/>on {text(c.where)}"
                self.emit(
                    f"{c.id} "
                    + _attrs(
                        label=_html(label),
                        shape="box3d",
                        style="filled",
                        fillcolor="#eeeeee",
                    )
                    + ";",
                    3,
                )
            self.emit("}", 2)

        # the privileged domain's interfaces
        east = False  # something sits between the switches and the NICs
        if h.management:
            pd = h.hypervisor.privileged_domain
            self.emit(f"subgraph {node_id(f'cluster_management:{h.name}')} {{", 2)
            self.emit(
                "graph "
                + _attrs(
                    label=_html(f"<I>{text(pd)}</I>"),
                    style="filled,rounded",
                    fillcolor="#fff1e6",
                    color="#e0a070",
                )
                + ";",
                3,
            )
            for m in sorted(h.management, key=lambda m: m.name):
                mid = node_id(m.ref)
                mgmt_ids.add(m.ref)
                self.emit(f"{mid} " + self._management_attrs(m) + ";", 3)
                if m.nic is not None:
                    edges.append(f"{mid} -> {node_id(f'nic:{h.name}/{m.nic}')};")
                elif m.vswitch is not None and m.vswitch in vsnodes:
                    # east of the switch: its edge does not share the guests' column
                    edges.append(f"{row_of(m.vswitch, m.portgroup, m.vlan, 'e')} -> {mid};")
                    east = True
            self.emit("}", 2)

        # virtual router appliances: their rows exist before the vswitch tables are drawn
        appliance: list[tuple[RouterInterface, str]] = []
        for r in sorted(self.t.routers, key=lambda r: r.name):
            for i in sorted(r.interfaces, key=lambda i: i.name):
                if i.host == h.name and i.vswitch in vsnodes:
                    appliance.append((i, row_of(i.vswitch, i.portgroup, i.vlan_mode, "e")))
                    east = True
        # a router whose every interface is an appliance NIC on this host is drawn inside it,
        # east of its switches, so its edges are short rows-to-rows lines
        for r in sorted(self.t.routers, key=lambda r: r.name):
            if r.name in self.local_routers.get(h.name, ()):
                self.emit(f"{node_id('router:' + r.name)} " + self._router_attrs(r) + ";", 2)

        # virtual switches
        for node in vsnodes.values():
            self.emit(f"{node.id} " + self._vswitch_attrs(node) + ";", 2)
            for up in node.vswitch.uplinks:
                # a subinterface uplink's VLAN is in the table's header, not on the edge
                edges.append(
                    f"{node.id}:h:e -> {node_id(f'nic:{h.name}/{up.nic}')} "
                    + _attrs(minlen="2" if east else None)  # NICs stay the right-hand column
                    + ";"
                )

        # physical NICs: the cluster's right edge
        nic_ids = []
        for n in sorted(h.nics, key=lambda n: n.name):
            nid = node_id(refs.nic(h.name, n.name))
            nic_ids.append(nid)
            self.emit(
                f"{nid} "
                + _attrs(
                    label=_html(text(n.name)),
                    shape="cds",
                    style="filled",
                    fillcolor="#dfe6ee",
                    color="#34495e",
                )
                + ";",
                2,
            )
        if nic_ids:
            self.emit("{ rank=same; " + " ".join(nic_ids) + " }", 2)
        self.emit("}")

        for e in edges:
            self.emit(e)
        for n in sorted(h.nics, key=lambda n: n.name):
            sw = n.switch if n.switch is not None else UPSTREAM
            switches.add(sw)
            self.emit(
                f"{node_id(f'nic:{h.name}/{n.name}')} -> {self._switch_port(sw, n.port, 'w')} "
                + _attrs(color="#222222", penwidth="1.5")
                + ";"
            )
        for i, row in appliance:
            self.emit(f"{row} -> {self._iface_port(i)};")
        return {g for names in kept.values() for g in names}

    def _point(self, nic: GuestNic) -> tuple[str, str]:
        return (
            nic.vswitch,
            nic.portgroup if nic.portgroup is not None else "\0" + vlan_mode(nic.vlan),
        )

    def _guest_node(self, name: str, nics: Iterable[GuestNic]) -> str:
        nics = list(nics)
        segs = {self._primary(n.ref) for n in nics}
        seg = next(iter(segs)) if len(segs) == 1 else None
        label = f"<B>{text(name)}</B>"
        if len(nics) == 1 and nics[0].addresses:
            label += "<BR/>" + "<BR/>".join(text(a) for a in nics[0].addresses[:3])
        tagging = [n for n in nics if n.vlan.tags]
        if tagging:
            beyond = [n for n in tagging if self._tags_leave(n)]
            if beyond:
                label += "<BR/><I>tags frames</I>"
            else:
                # a bridge over a VLAN subinterface (or a switch port that drops them): its
                # tags reach the bridge's other ports only,
                # and the picture must not say the guest tags frames onto the network
                where = ", ".join(sorted({n.vswitch for n in tagging}))
                label += f"<BR/><I>tags reach only {text(where)}</I>"
        label += self._finding_lines(name)
        if len(nics) > 1:
            # one row per NIC (its name, addresses, the fill of its own segment), the port
            # its edge leaves from: no NIC name floats on an edge among the others
            rows = [
                '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
                f'<TR><TD PORT="h" BGCOLOR="{self._fill(seg)}">{label}</TD></TR>',
            ]
            for k, n in enumerate(nics):
                what = " · ".join([n.name, *(str(a) for a in n.addresses[:2])])
                rows.append(
                    f'<TR><TD PORT="n{k}" BGCOLOR="{self._fill(self._primary(n.ref))}">'
                    f'<FONT POINT-SIZE="9">{text(what)}</FONT></TD></TR>'
                )
            rows.append("</TABLE>")
            return (
                f"{node_id('guest:' + name)} "
                + _attrs(label=_html("".join(rows)), shape="plain")
                + ";"
            )
        return (
            f"{node_id('guest:' + name)} "
            + _attrs(
                label=_html(label),
                style="filled,rounded",
                fillcolor=self._fill(seg),
            )
            + ";"
        )

    def _finding_lines(self, guest: str) -> str:
        """The guest's highlighted findings, one red line per statement, each naming the
        interface its red arrow points at (``→ vmk0: tcp/443``; ``HOST/NAME`` when the
        interface is on another host): the statement sits in the node, not on the edge, so it
        never overlaps another label, a node or a cluster."""
        here = self.t.guest(guest).host
        out = []
        for (g, ref), lines in sorted(self.highlighted.items()):
            if g != guest or ref not in self.drawn_management:
                continue
            host, name = self.drawn_management[ref]
            target = name if host == here else f"{host}/{name}"
            for line in lines:
                out.append(f"→ {text(target)}: {text(line)}")
        if not out:
            return ""
        return f'<BR/><FONT COLOR="{FINDING_RED}" POINT-SIZE="9">' + "<BR/>".join(out) + "</FONT>"

    def _tags_leave(self, nic: GuestNic) -> bool:
        """Whether a frame the guest tags can reach anything beyond its own virtual switch
        (another switch, a NIC, the wire): some segment it joins tagged spans more."""
        host = self.t.guest(nic.guest).host
        for j in self.reach.attachment(nic.ref).joins:
            if not j.tagged:
                continue
            for d in self.reach.segments[j.segment].domains:
                if not (len(d) >= 3 and d[0] == "vs" and d[1] == host and d[2] == nic.vswitch):
                    return True
        return False

    def _management_attrs(self, m: ManagementInterface) -> str:
        seg = self._primary(m.ref)
        swatch = self._fill(seg)
        roles = ", ".join(sorted(m.services))
        label = (
            '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1"><TR>'
            f'<TD BGCOLOR="{swatch}" WIDTH="10"> </TD><TD><B>{text(m.name)}</B></TD></TR>'
        )
        extra = [str(a) for a in m.addresses] + ([roles] if roles != "management" else [])
        for e in extra:
            label += f'<TR><TD></TD><TD><FONT POINT-SIZE="8">{text(e)}</FONT></TD></TR>'
        label += "</TABLE>"
        return _attrs(
            label=_html(label),
            shape="octagon",
            style="filled",
            fillcolor=MANAGEMENT_FILL,
            color=MANAGEMENT_BORDER,
            penwidth="2",
        )

    def _vswitch_attrs(self, node: _VSwitchNode) -> str:
        v = node.vswitch
        head = f"<B>{text(v.name)}</B> <FONT POINT-SIZE='8'>({text(v.type)})</FONT>".replace(
            "'", '"'
        )
        notes = []
        if v.domain != "dom0":
            notes.append(f"run by {v.domain}")
        if v.type == "bridge" and not v.vlan_filtering:
            notes.append("no VLAN filtering")
        if v.allow_management_os:
            notes.append("shared with management OS")
        for up in v.uplinks:
            if up.vlan is not None:  # a bridge over a VLAN subinterface (eth0.110)
                notes.append(f"uplink {up.nic} VLAN {up.vlan}")
        if notes:
            head += '<BR/><FONT POINT-SIZE="8">' + text(", ".join(notes)) + "</FONT>"
        rows = [
            '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
            f'<TR><TD PORT="h" COLSPAN="2" BGCOLOR="#d5dbe3">{head}</TD></TR>',
        ]
        for row in sorted(node.rows.values(), key=lambda r: (r.order, r.name)):
            fill = self._fill(row.segment)
            if row.name:
                rows.append(
                    f'<TR><TD PORT="{row.port}" ALIGN="LEFT" BGCOLOR="{fill}">{text(row.name)}</TD>'
                    f'<TD PORT="{row.port}e" BGCOLOR="{fill}">{text(row.vlan)}</TD></TR>'
                )
            else:
                rows.append(
                    f'<TR><TD PORT="{row.port}" COLSPAN="2" BGCOLOR="{fill}">{text(row.vlan)}</TD></TR>'
                )
        if not node.rows:
            rows.append('<TR><TD COLSPAN="2"><I>no ports</I></TD></TR>')
        rows.append("</TABLE>")
        return _attrs(label=_html("".join(rows)), shape="plain")

    # -- outside the hosts --------------------------------------------------------------
    def _iface_label(self, i: RouterInterface) -> str:
        parts = [i.name]
        if i.vlan is not None:
            parts.append(f"VLAN {i.vlan}")
        elif i.host is not None:
            parts.append(vlan_mode(i.vlan_mode))
        if i.address is not None:
            parts.append(str(i.address))
        return " · ".join(parts)

    def _physical(self, wanted: set[str]) -> None:
        """Switches the drawn hosts reach (all of them for a full drawing, the ones cabled to
        the host and their links for ``--host``), then routers and endpoints on them.

        A switch is a table: its name, then one row per port something drawn is cabled to
        (``Eth1/1: trunk 10-99 (native 1)``), in port order; NICs enter their port's row from
        the west, links, routers and endpoints leave it from the east. So every cable ends on
        its port, and no edge carries a port's text among crossing edges."""
        switches = {s.name: s for s in self.t.switches}
        if self.single:
            names = {w for w in wanted if w}
            # the host's switches and the switches linked to them: where its routers sit
            for link in self.t.links:
                if link.a.switch in names or link.b.switch in names:
                    names |= {link.a.switch, link.b.switch}
        else:
            names = set(switches)
            if any(n.switch is None for h in self.hosts for n in h.nics):
                names.add(UPSTREAM)
        later: list[str] = []
        for link in sorted(self.t.links, key=lambda lk: (str(lk.a), str(lk.b))):
            if link.a.switch not in names or link.b.switch not in names:
                continue
            later.append(
                f"{self._switch_port(link.a.switch, link.a.port, 'e')} -> "
                f"{self._switch_port(link.b.switch, link.b.port, 'w')} "
                + _attrs(color="#222222", penwidth="2")
                + ";"
            )
        for r in sorted(self.t.routers, key=lambda r: r.name):
            on = [
                i
                for i in sorted(r.interfaces, key=lambda i: i.name)
                if (i.switch is not None and i.switch in names)
                or (i.host is not None and i.host in {h.name for h in self.hosts})
            ]
            if self.single:
                # a part of the estate: the interfaces in a segment of what is drawn (a core
                # router's other 120 SVIs would bury the host), the others counted
                on = [
                    i
                    for i in on
                    if i.host in {h.name for h in self.hosts}
                    or not self.reach.attachment(i.ref).segments.isdisjoint(self.drawn_segments)
                ]
            if not on:
                continue
            if any(r.name in self.local_routers.get(h.name, ()) for h in self.hosts):
                continue  # drawn inside its host
            later.append(f"{node_id('router:' + r.name)} " + self._router_attrs(r, on) + ";")
            for i in on:
                if i.switch is None:
                    continue  # appliance interfaces were drawn with their host
                later.append(
                    f"{self._switch_port(i.switch, i.port, 'e')} -> {self._iface_port(i)};"
                )
        for e in sorted(self.t.endpoints, key=lambda e: e.name):
            if e.switch not in names:
                continue
            later.append(f"{node_id(e.ref)} " + self._endpoint_attrs(e) + ";")
            vlan = f"VLAN {e.vlan}" if e.port is None and e.vlan is not None else None
            later.append(
                f"{self._switch_port(e.switch, e.port, 'e')} -> {node_id(e.ref)} "
                + _attrs(label=_html(text(vlan)) if vlan else None)
                + ";"
            )
        for name in sorted(names):
            if name == UPSTREAM and name not in switches:
                self.emit(
                    f"{node_id('switch:' + UPSTREAM)} "
                    + _attrs(
                        label=_html("<I>upstream</I><BR/>(implicit: NICs with no switch)"),
                        style="dashed,rounded",
                    )
                    + ";"
                )
            elif name in switches:
                self.emit(f"{node_id('switch:' + name)} " + self._switch_attrs(name) + ";")
        for line in later:
            self.emit(line)

    def _switch_port(self, switch: str, port: str | None, side: str) -> str:
        """The end of a cable on ``switch``: its port's row (``side`` ``w`` for NICs, ``e``
        for what lies beyond), or the switch's header for an SVI or a VLAN with no port."""
        sid = node_id("switch:" + switch)
        if switch not in {s.name for s in self.t.switches}:
            return sid  # the implicit upstream switch: a plain node
        if port is None:
            return f"{sid}:h"
        ports = self.switch_ports.setdefault(switch, {})
        if port not in ports:
            ports[port] = f"q{len(ports)}"
        return f"{sid}:{ports[port]}:{side}"

    def _switch_attrs(self, name: str) -> str:
        sw = next(s for s in self.t.switches if s.name == name)
        rows = [
            '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
            f'<TR><TD PORT="h" BGCOLOR="#cfd8dc"><B>{text(name)}</B></TD></TR>',
        ]
        used = self.switch_ports.get(name, {})
        for port in sorted(used, key=_natural):
            what = port_config(sw.port(port)) if sw.has_port(port) else "not configured"
            rows.append(
                f'<TR><TD PORT="{used[port]}" ALIGN="LEFT">'
                f'<FONT POINT-SIZE="9">{text(port)}: {text(what)}</FONT></TD></TR>'
            )
        rows.append("</TABLE>")
        return _attrs(label=_html("".join(rows)), shape="plain")

    def _iface_port(self, i: RouterInterface) -> str:
        """The router table's row of an interface, entered from the west."""
        r = next(r for r in self.t.routers if r.name == i.router)
        k = sorted(x.name for x in r.interfaces).index(i.name)
        return f"{node_id('router:' + r.name)}:i{k}:w"

    def _router_attrs(self, r: Router, shown: Sequence[RouterInterface] | None = None) -> str:
        """A router as a table: its name and ACL, then one row per interface (name, VLAN,
        address), filled with the segment it sends untagged frames into; edges end on the
        interface's row, so no edge carries the interface's text. Only the ``shown``
        interfaces get a row (default all); a last row counts the others."""
        acl = f"{len(r.acl)} ACL lines, default {r.default}"
        rows = [
            # cells outlined, no table border: the draw.io and Mermaid exports take each
            # outlined cell as a shape, and a border around them all would cover the rows
            '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
            f'<TR><TD PORT="h" BGCOLOR="#e6e0f0"><B>{text(r.name)}</B><BR/>'
            f'<FONT POINT-SIZE="8">{text(acl)}</FONT></TD></TR>',
        ]
        names = {i.name for i in shown} if shown is not None else None
        for k, i in enumerate(sorted(r.interfaces, key=lambda i: i.name)):
            if names is not None and i.name not in names:
                continue
            fill = self._fill(self._primary(i.ref))
            rows.append(
                f'<TR><TD PORT="i{k}" BGCOLOR="{fill}">{text(self._iface_label(i))}</TD></TR>'
            )
        if names is not None and len(names) < len(r.interfaces):
            more = _plural(len(r.interfaces) - len(names), "other interface")
            rows.append(f"<TR><TD><I>{text(more)}</I></TD></TR>")
        rows.append("</TABLE>")
        return _attrs(label=_html("".join(rows)), shape="plain")

    def _endpoint_attrs(self, e: Endpoint) -> str:
        seg = self._primary(e.ref)
        label = f"<B>{text(e.name)}</B><BR/>zone {text(e.zone)}"
        for a in e.addresses[:2]:
            label += f"<BR/>{text(a)}"
        return _attrs(
            label=_html(label), shape="component", style="filled", fillcolor=self._fill(seg)
        )

    # -- findings and legend ------------------------------------------------------------
    def _highlights(self, guests: set[str], mgmt: set[str]) -> None:
        for (guest, ref), lines in sorted(self.highlighted.items()):
            if guest not in guests or ref not in mgmt:
                continue  # one end is not in this drawing (--host)
            self.emit(
                f"{node_id('guest:' + guest)} -> {node_id(ref)} "
                + finding_edge(text("; ".join(lines)).replace("\\", "/"))
                + ";"
            )

    def _legend(self) -> None:
        rows = [
            '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
            '<TR><TD COLSPAN="2"><B>Segments</B> (fill colour)</TD></TR>',
        ]
        for seg in sorted(self.used_segments):
            label = self.reach.segments[seg].label
            rows.append(
                f'<TR><TD BGCOLOR="{self.colours[seg]}" WIDTH="18"> </TD>'
                f'<TD ALIGN="LEFT">{seg}: {text(label)}</TD></TR>'
            )
        rows.append(
            f'<TR><TD BGCOLOR="{TAGGING_FILL}"> </TD><TD ALIGN="LEFT">sends tagged frames only, '
            "or several segments</TD></TR>"
        )
        rows.append(
            f'<TR><TD BGCOLOR="{MANAGEMENT_FILL}"> </TD><TD ALIGN="LEFT">privileged-domain '
            "interface (swatch: its segment)</TD></TR>"
        )
        if self.highlighted:
            rows.append(
                f'<TR><TD><FONT COLOR="{FINDING_RED}">- - →</FONT></TD><TD ALIGN="LEFT">'
                "guest reaches or can tag into management</TD></TR>"
            )
        rows.append("</TABLE>")
        self.emit("subgraph cluster_legend {")
        self.emit("graph " + _attrs(label="", style="invis") + ";", 2)
        self.emit("legend " + _attrs(label=_html("".join(rows)), shape="plain") + ";", 2)
        self.emit("}")


def render_dot(
    topology: Topology,
    reachability: Reachability,
    findings: Sequence[Finding] = (),
    *,
    highlight: Highlight = "findings",
    host: str | None = None,
    zone: str | None = None,
    segment: str | None = None,
    view: View = "auto",
    collapse_over: int = COLLAPSE_OVER,
) -> str:
    """The DOT text of ``topology``.

    ``view="auto"`` draws an estate of more than :data:`~netseg.render.overview.OVERVIEW_HOSTS`
    hosts or :data:`~netseg.render.overview.OVERVIEW_GUESTS` guests as an overview
    (:mod:`netseg.render.overview`) unless a selector asks for the detail; ``"overview"`` and
    ``"detail"`` force either (an overview takes no selector). ``zone`` (``NAME`` or
    ``zone:NAME``) draws that zone's guests on their hosts; ``segment`` (a segment's number or
    label) the guests and management interfaces in that L2 segment; selectors combine.

    ``findings`` are the design findings (from :func:`netseg.analysis.analyse`); with
    ``highlight="findings"`` the unwaived guest-reaches-management and
    guest-can-tag-management-vlan ones are drawn as red dashed edges. ``host`` (a host name or
    ``host:NAME``) draws one host and what it connects to; an unknown host raises
    :class:`~netseg.errors.SelectorError`.
    """
    selected = host is not None or zone is not None or segment is not None
    from netseg.render import overview  # it draws with this module's helpers

    if view == "overview" or (
        view == "auto" and not selected and overview.wants_overview(topology)
    ):
        if selected:
            raise SelectorError(
                "--view overview draws the whole estate: drop --host, --zone and --segment, "
                "or draw their detail"
            )
        return overview.render_overview(topology, reachability, findings, highlight=highlight)
    return _Builder(
        topology, reachability, findings, highlight, host, collapse_over, zone, segment
    ).build()


__all__ = [
    "COLLAPSE_OVER",
    "HIGHLIGHT_RULES",
    "PALETTE",
    "node_id",
    "render_dot",
]
