"""Configuration-hardening rules: findings read straight off the configuration (rules.md,
"Configuration hardening"), no reachability needed.

Each rule is one small function ``topology -> findings``; :func:`hardening_findings` runs them
all. Every finding names its subject with an entity reference (docs/cli.md) and points
at the subject's declaration. Settings are read as the model resolved them (ESXi security with
vSwitch inheritance and vendor defaults, Hyper-V implicit management vNICs, OVS defaults), so a
rule never re-derives a default.

Where rules.md leaves room (what counts as a permissive firewall prefix, when a VLAN is
"used", one finding per port group or per NIC, how driver domains are named), the choices are
listed in :data:`netseg.rules.catalogue.INTERPRETATION` and printed in docs/rules.md.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from netseg.collector import collector_paused
from netseg.model import refs
from netseg.model.topology import (
    Guest,
    GuestNic,
    Host,
    Hypervisor,
    Location,
    ManagementInterface,
    Network,
    PortGroup,
    RouterInterface,
    Topology,
    VlanMode,
    VSwitch,
)
from netseg.model.vlans import VlanSet
from netseg.rules import catalogue
from netseg.rules.finding import Finding


def _finding(
    rule: str,
    subject: str,
    message: str,
    location: Location,
    object: str | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> Finding:
    return catalogue.finding(rule, message, subject, location, object, dict(evidence or {}))


def _vswitch_ref(host: str, vs: str) -> str:
    return refs.vswitch(host, vs)


def _portgroup_ref(host: str, vs: str, pg: str) -> str:
    return refs.portgroup(host, vs, pg)


def _nic_ref(host: str, nic: str) -> str:
    return refs.nic(host, nic)


# --- an index of who attaches where, built once ------------------------------------------


@dataclass
class _Index:
    """Attachments grouped by the virtual switch or port group they sit on, per host."""

    guests: dict[str, Guest] = field(default_factory=dict)
    # host -> guests with PCI passthrough (few, so per-host look-ups stay linear overall)
    vlan_uses: list[_VlanUse] | None = None
    passthrough_guests: dict[str, list[Guest]] = field(default_factory=lambda: defaultdict(list))
    # (host, vswitch) -> guest NICs / management interfaces / router interfaces
    guest_nics: dict[tuple[str, str], list[GuestNic]] = field(
        default_factory=lambda: defaultdict(list)
    )
    management: dict[tuple[str, str], list[ManagementInterface]] = field(
        default_factory=lambda: defaultdict(list)
    )
    routers: dict[tuple[str, str], list[RouterInterface]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (host, vswitch, portgroup) -> number of attachments of any kind
    portgroup_users: dict[tuple[str, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    portgroup_guests: dict[tuple[str, str, str], list[GuestNic]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _index(topology: Topology) -> _Index:
    idx = _Index()
    for g in topology.guests:
        idx.guests[g.name] = g
        if g.passthrough:
            idx.passthrough_guests[g.host].append(g)
        for n in g.nics:
            idx.guest_nics[(g.host, n.vswitch)].append(n)
            if n.portgroup is not None:
                idx.portgroup_users[(g.host, n.vswitch, n.portgroup)] += 1
                idx.portgroup_guests[(g.host, n.vswitch, n.portgroup)].append(n)
    for h in topology.hosts:
        for m in h.management:
            if m.vswitch is not None:
                idx.management[(h.name, m.vswitch)].append(m)
                if m.portgroup is not None:
                    idx.portgroup_users[(h.name, m.vswitch, m.portgroup)] += 1
    for r in topology.routers:
        for i in r.interfaces:
            if i.host is not None and i.vswitch is not None:
                idx.routers[(i.host, i.vswitch)].append(i)
                if i.portgroup is not None:
                    idx.portgroup_users[(i.host, i.vswitch, i.portgroup)] += 1
    return idx


def _guest_names(nics: Iterable[GuestNic]) -> list[str]:
    return sorted({n.guest for n in nics})


def _guests(names: list[str], limit: int = 3) -> str:
    """``guests web01, web02 and 3 more``: a message stays one line on large estates."""
    if len(names) == 1:
        return f"guest {names[0]}"
    if len(names) <= limit:
        return f"guests {', '.join(names)}"
    return f"guests {', '.join(names[:limit])} and {len(names) - limit} more"


# --- PCI passthrough ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Passthrough:
    """Devices one domain (a guest or a Xen driver domain) owns by PCI passthrough."""

    subject: str
    label: str
    devices: tuple[str, ...]
    location: Location


def _passthroughs(idx: _Index, host: Host) -> list[_Passthrough]:
    out: list[_Passthrough] = []
    for dd in host.driver_domains:
        devices = list(dd.passthrough)
        for nic_name in dd.nics:
            nic = host.nic(nic_name)
            devices.append(nic.pci if nic is not None and nic.pci else f"NIC {nic_name}")
        if devices:
            # a NIC handed over is often also listed by its PCI address: name each device once
            unique = tuple(dict.fromkeys(devices))
            out.append(_Passthrough(host.ref, f"driver domain {dd.name}", unique, dd.location))
    for g in idx.passthrough_guests.get(host.name, ()):
        out.append(_Passthrough(refs.guest(g.name), f"guest {g.name}", g.passthrough, g.location))
    return out


def passthrough_without_iommu(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        if host.iommu:
            continue
        for p in _passthroughs(idx, host):
            yield _finding(
                "passthrough-without-iommu",
                p.subject,
                f"{p.label} on host {host.name} has PCI passthrough ({', '.join(p.devices)}) "
                f"but the host has no IOMMU: the device's DMA can read and write all memory",
                p.location,
                object=host.ref if p.subject != host.ref else None,
                evidence={"devices": list(p.devices), "domain": p.label},
            )


def shared_pci_bus(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        by_bus: dict[str, dict[str, _Passthrough]] = defaultdict(dict)
        for p in _passthroughs(idx, host):
            for dev in p.devices:
                if dev.count(":") == 2:  # a PCI address, not a NIC without one
                    by_bus[dev.rsplit(":", 1)[0]][p.label] = p
        for bus, owners in sorted(by_bus.items()):
            if len(owners) < 2:
                continue
            # a guest names the finding before a driver domain: its reference is its own
            ordered = sorted(owners.values(), key=lambda p: (p.subject == host.ref, p.label))
            first = ordered[0]
            for other in ordered[1:]:
                yield _finding(
                    "shared-pci-bus",
                    first.subject,
                    f"{first.label} and {other.label} on host {host.name} have devices on the "
                    f"same PCI bus {bus}: one can watch the other's bus traffic",
                    first.location,
                    object=other.subject,
                    evidence={
                        "bus": bus,
                        "domains": [first.label, other.label],
                        "devices": sorted(
                            d for p in (first, other) for d in p.devices if d.startswith(bus)
                        ),
                    },
                )


# --- the privileged domain's firewall ------------------------------------------------------


class _Addresses:
    """Guests' addresses, sorted for prefix look-ups.

    Physical endpoints are left out on purpose: an allow from the administrators' subnet
    (jump hosts) is what a management firewall is for, even when their zone is not privileged.
    """

    def __init__(self, topology: Topology) -> None:
        v4: list[int] = []
        v6: list[int] = []
        for n in topology.guest_nics():
            for a in n.addresses:
                (v4 if a.version == 4 else v6).append(int(a.ip))
        self._sorted = {4: sorted(v4), 6: sorted(v6)}
        self._cache: dict[Network, bool] = {}

    def admits_guests(self, prefix: Network) -> bool:
        found = self._cache.get(prefix)
        if found is None:
            values = self._sorted[prefix.version]
            lo = int(prefix.network_address)
            hi = int(prefix.broadcast_address)
            i = bisect.bisect_left(values, lo)
            found = self._cache[prefix] = i < len(values) and values[i] <= hi
        return found


def management_firewall_missing(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        if host.firewall is None:
            where = host.hypervisor.privileged_domain
            yield _finding(
                "management-firewall-missing",
                host.ref,
                f"host {host.name} declares no firewall for its {where}: every service of its "
                f"management interfaces is open to whoever reaches them",
                host.location,
            )


def management_firewall_permissive(topology: Topology, idx: _Index) -> Iterator[Finding]:
    addresses: _Addresses | None = None
    for host in topology.hosts:
        fw = host.firewall
        if fw is None:
            continue
        reasons: list[str] = []
        where: Location | None = None
        if fw.default == "allow":
            reasons.append("default allow")
            where = fw.location
        for line in fw.allow:
            src = line.source
            reason = None
            if src.is_any:
                reason = f"allows {line.services} from any"
            elif src.zone is not None:
                zone = topology.zones.get(src.zone)
                if zone is None or not zone.privileged:
                    reason = f"allows {line.services} from non-privileged zone {src.zone}"
            elif src.prefix is not None:
                if src.prefix.prefixlen == 0:
                    reason = f"allows {line.services} from {src.prefix} (everywhere)"
                else:
                    if addresses is None:
                        addresses = _Addresses(topology)
                    if addresses.admits_guests(src.prefix):
                        reason = (
                            f"allows {line.services} from {src.prefix}, which holds guests' "
                            f"addresses"
                        )
            if reason is not None:
                reasons.append(f"{reason} (line {line.location.line})")
                where = where or line.location
        if reasons:
            yield _finding(
                "management-firewall-permissive",
                host.ref,
                f"firewall of host {host.name} is permissive: {'; '.join(reasons)}",
                where or fw.location,
                evidence={"reasons": reasons},
            )


# --- the privileged domain's interfaces ----------------------------------------------------


def management_on_guest_switch(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        for m in host.management:
            if m.vswitch is None:
                continue
            guests = _guest_names(idx.guest_nics.get((host.name, m.vswitch), ()))
            if not guests:
                continue
            vs = host.vswitch(m.vswitch)
            how = ""
            if m.implicit and vs is not None:
                how = (
                    " (the internal switch's management-OS vNIC)"
                    if vs.type == "internal"
                    else " (allow_management_os)"
                )
            yield _finding(
                "management-on-guest-switch",
                m.ref,
                f"management interface {m.name} of host {host.name}{how} attaches to virtual "
                f"switch {m.vswitch}, also used by {_guests(guests)}",
                m.location,
                object=_vswitch_ref(host.name, m.vswitch),
                evidence={"guests": guests},
            )


def management_interface_multipurpose(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        if host.hypervisor is not Hypervisor.ESXI:
            continue
        for m in host.management:
            if "management" in m.services and len(m.services) > 1:
                others = sorted(m.services - {"management"})
                yield _finding(
                    "management-interface-multipurpose",
                    m.ref,
                    f"vmkernel interface {m.name} of host {host.name} carries management and "
                    f"{', '.join(others)}",
                    m.location,
                    evidence={"services": sorted(m.services)},
                )


# --- ESXi port group security ------------------------------------------------------------


def _esxi_portgroups_with_guests(
    topology: Topology, idx: _Index
) -> Iterator[tuple[Host, VSwitch, PortGroup, list[str]]]:
    for host in topology.hosts:
        for vs in host.vswitches:
            if not vs.is_esxi:
                continue
            for pg in vs.portgroups:
                nics = idx.portgroup_guests.get((host.name, vs.name, pg.name))
                if nics:
                    yield host, vs, pg, _guest_names(nics)


def _security_rule(
    rule: str, attr: str, what: str
) -> Callable[[Topology, _Index], Iterator[Finding]]:
    def check(topology: Topology, idx: _Index) -> Iterator[Finding]:
        for host, vs, pg, guests in _esxi_portgroups_with_guests(topology, idx):
            if getattr(pg.security, attr):
                yield _finding(
                    rule,
                    _portgroup_ref(host.name, vs.name, pg.name),
                    f"port group {pg.name} on {host.name}/{vs.name} allows {what} for "
                    f"{_guests(guests)}",
                    pg.location,
                    evidence={"guests": guests},
                )

    check.__name__ = rule.replace("-", "_")
    return check


promiscuous_allowed = _security_rule("promiscuous-allowed", "promiscuous", "promiscuous mode")
forged_transmits_allowed = _security_rule(
    "forged-transmits-allowed", "forged_transmits", "forged transmits"
)
mac_changes_allowed = _security_rule("mac-changes-allowed", "mac_changes", "MAC address changes")


# --- VLAN tagging by guests ----------------------------------------------------------------


def _is_ovs_default_trunk(vs: VSwitch | None, mode: VlanMode) -> bool:
    return (
        vs is not None
        and vs.type == "ovs"
        and mode.kind == "trunk"
        and mode.trunk == VlanSet.full()
        and mode.native == 0
    )


def guest_vlan_trunking(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host, vs, pg, guests in _esxi_portgroups_with_guests(topology, idx):
        if pg.vlan.kind == "trunk":
            what = "VLAN 4095, every VLAN" if pg.vlan_source == 4095 else f"trunk {pg.vlan.trunk}"
            yield _finding(
                "guest-vlan-trunking",
                _portgroup_ref(host.name, vs.name, pg.name),
                f"port group {pg.name} on {host.name}/{vs.name} lets {_guests(guests)} tag "
                f"frames: {what}",
                pg.location,
                evidence={"guests": guests, "vlans": str(pg.vlan.trunk)},
            )
    for g in topology.guests:
        host = topology.host(g.host)
        if host.hypervisor is Hypervisor.ESXI:
            continue
        for n in g.nics:
            if n.vlan.kind != "trunk" or _is_ovs_default_trunk(host.vswitch(n.vswitch), n.vlan):
                continue
            yield _finding(
                "guest-vlan-trunking",
                n.ref,
                f"guest {g.name} NIC {n.name} on {host.name}/{n.vswitch} is in trunk mode "
                f"(tags {n.vlan.trunk})",
                n.location,
                evidence={"vlans": str(n.vlan.trunk)},
            )


def transparent_bridge(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        for vs in host.vswitches:
            if vs.type != "bridge" or vs.vlan_filtering:
                continue
            raw = [str(u) for u in vs.uplinks if u.vlan is None]
            guests = _guest_names(idx.guest_nics.get((host.name, vs.name), ()))
            if raw and guests:
                yield _finding(
                    "transparent-bridge",
                    _vswitch_ref(host.name, vs.name),
                    f"bridge {vs.name} on host {host.name} has no VLAN filtering and uplink "
                    f"{', '.join(raw)}: {_guests(guests)} can put any VLAN tag on the wire",
                    vs.location,
                    evidence={"guests": guests, "uplinks": raw},
                )


def untagged_ovs_port(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for g in topology.guests:
        host = topology.host(g.host)
        for n in g.nics:
            if _is_ovs_default_trunk(host.vswitch(n.vswitch), n.vlan):
                yield _finding(
                    "untagged-ovs-port",
                    n.ref,
                    f"guest {g.name} NIC {n.name} is on OVS bridge {host.name}/{n.vswitch} "
                    f"without a VLAN tag, so the port trunks every VLAN",
                    n.location,
                )


# --- Hyper-V guards ------------------------------------------------------------------------


def _hyperv_nics(topology: Topology) -> Iterator[tuple[Guest, GuestNic]]:
    for g in topology.guests:
        if topology.host(g.host).hypervisor is Hypervisor.HYPERV:
            for n in g.nics:
                yield g, n


def mac_spoofing_allowed(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for g, n in _hyperv_nics(topology):
        if n.guards.mac_spoofing:
            yield _finding(
                "mac-spoofing-allowed",
                n.ref,
                f"guest {g.name} NIC {n.name} on {g.host} may send from any MAC address "
                f"(MAC spoofing on)",
                n.location,
            )


def _guard_rule(
    rule: str, attr: str, role: str, what: str
) -> Callable[[Topology, _Index], Iterator[Finding]]:
    def check(topology: Topology, idx: _Index) -> Iterator[Finding]:
        for g, n in _hyperv_nics(topology):
            if not getattr(n.guards, attr) and role not in g.roles:
                yield _finding(
                    rule,
                    n.ref,
                    f"guest {g.name} NIC {n.name} on {g.host} has {what} off and guest {g.name} "
                    f"has no role {role}",
                    n.location,
                )

    check.__name__ = rule.replace("-", "_")
    return check


dhcp_guard_off = _guard_rule("dhcp-guard-off", "dhcp_guard", "dhcp-server", "DHCP guard")
router_guard_off = _guard_rule("router-guard-off", "router_guard", "router", "router guard")


# --- VLAN numbers ----------------------------------------------------------------------------


_RESERVED = VlanSet([(1001, 1024), (4094, 4094)])
_NOTABLE = _RESERVED | VlanSet([1])


def _notable(vid: int | None) -> bool:
    return vid is not None and (vid == 1 or 1001 <= vid <= 1024 or vid == 4094)


@dataclass(frozen=True)
class _VlanUse:
    """VLANs one entity uses, kept only when one of them is VLAN 1 or reserved."""

    subject: str
    label: str
    location: Location
    access: tuple[int, ...] = ()  # VLANs it sits in directly
    trunk: VlanSet | None = None  # an explicit trunk set it tags
    native: int | None = None  # a trunk's native VLAN, reported as such

    @property
    def vlans(self) -> VlanSet:
        used = VlanSet(self.access)
        if self.trunk is not None:
            used = used | self.trunk
        if self.native:
            used = used | VlanSet([self.native])
        return used


def _mode_use(mode: VlanMode) -> tuple[tuple[int, ...], VlanSet | None, int | None]:
    if mode.kind == "access":
        return ((mode.vlan,) if mode.vlan else ()), None, None
    if mode.kind == "trunk":
        explicit = None if mode.trunk.is_full() else mode.trunk
        return (), explicit, (mode.native or None)
    return (), None, None


def _is_notable(access: tuple[int, ...], trunk: VlanSet | None, native: int | None) -> bool:
    return (
        any(_notable(v) for v in access)
        or _notable(native)
        or (trunk is not None and not trunk.isdisjoint(_NOTABLE))
    )


def _vlan_uses(topology: Topology, idx: _Index) -> list[_VlanUse]:
    if idx.vlan_uses is None:
        idx.vlan_uses = list(_find_vlan_uses(topology))
    return idx.vlan_uses


def _find_vlan_uses(topology: Topology) -> Iterator[_VlanUse]:
    for sw in topology.switches:
        if sw.implicit:
            continue
        for port in sw.ports:
            ref = refs.switch(sw.name, port.name)
            if port.mode == "access":
                if _notable(port.vlan):
                    yield _VlanUse(
                        ref, f"port {sw.name}:{port.name}", port.location, (port.vlan or 0,)
                    )
            elif _notable(port.native):
                yield _VlanUse(
                    ref, f"trunk port {sw.name}:{port.name}", port.location, native=port.native
                )
    for host in topology.hosts:
        for vs in host.vswitches:
            sub = tuple(u.vlan for u in vs.uplinks if _notable(u.vlan))
            if sub:
                yield _VlanUse(
                    _vswitch_ref(host.name, vs.name),
                    f"bridge {vs.name} on {host.name} (uplink subinterface)",
                    vs.location,
                    tuple(v for v in sub if v is not None),
                )
            for pg in vs.portgroups:
                access, trunk, native = _mode_use(pg.vlan)
                if _is_notable(access, trunk, native):
                    yield _VlanUse(
                        _portgroup_ref(host.name, vs.name, pg.name),
                        f"port group {pg.name} on {host.name}/{vs.name}",
                        pg.location,
                        access,
                        trunk,
                        native,
                    )
        for m in host.management:
            if m.portgroup is None:  # a port group's VLAN is reported on the port group
                access, trunk, native = _mode_use(m.vlan)
                if _is_notable(access, trunk, native):
                    yield _VlanUse(
                        m.ref,
                        f"management interface {m.name} of {host.name}",
                        m.location,
                        access,
                        trunk,
                        native,
                    )
    for g in topology.guests:
        for n in g.nics:
            if n.portgroup is None:
                access, trunk, native = _mode_use(n.vlan)
                if _is_notable(access, trunk, native):
                    yield _VlanUse(
                        n.ref, f"guest {g.name} NIC {n.name}", n.location, access, trunk, native
                    )
    for r in topology.routers:
        for i in r.interfaces:
            vlan = i.vlan if i.vlan is not None else i.vlan_mode.vlan
            if i.portgroup is None and _notable(vlan):
                yield _VlanUse(i.ref, f"router {r.name} interface {i.name}", i.location, (vlan,))
    for e in topology.endpoints:
        if _notable(e.vlan):
            yield _VlanUse(e.ref, f"endpoint {e.name}", e.location, (e.vlan or 0,))


def native_vlan_1(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for use in _vlan_uses(topology, idx):
        if use.native == 1:
            message = f"{use.label} has native VLAN 1"
        elif 1 in use.vlans:
            message = f"{use.label} uses VLAN 1"
        else:
            continue
        yield _finding(
            "native-vlan-1", use.subject, message, use.location, evidence={"vlans": ["1"]}
        )


def reserved_vlan(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for use in _vlan_uses(topology, idx):
        hit = use.vlans & _RESERVED
        if hit:
            yield _finding(
                "reserved-vlan",
                use.subject,
                f"{use.label} uses reserved VLAN {hit}",
                use.location,
                evidence={"vlans": str(hit)},
            )


# --- Xen driver domains, unused and unmodelled resources ---------------------------------


def dom0_runs_guest_bridge(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        if host.hypervisor is not Hypervisor.XEN:
            continue
        for vs in host.vswitches:
            if vs.domain != "dom0":
                continue
            guests = _guest_names(idx.guest_nics.get((host.name, vs.name), ()))
            if guests:
                yield _finding(
                    "dom0-runs-guest-bridge",
                    _vswitch_ref(host.name, vs.name),
                    f"{_guests(guests)} bridge through dom0 on {host.name}/{vs.name} rather "
                    f"than a driver domain",
                    vs.location,
                    evidence={"guests": guests},
                )


def unused_resource(topology: Topology, idx: _Index) -> Iterator[Finding]:
    # A distributed switch spans hosts: its port group is unused only when no host uses it,
    # and is then reported once, at its first declaration.
    distributed_used: set[tuple[str, str]] = set()
    for (_host, vs_name, pg_name), users in idx.portgroup_users.items():
        if users:
            distributed_used.add((vs_name, pg_name))
    distributed_reported: set[tuple[str, str]] = set()
    for host in topology.hosts:
        used_nics: set[str] = set()
        for vs in host.vswitches:
            used_nics.update(u.nic for u in vs.uplinks)
            key = (host.name, vs.name)
            attached = idx.guest_nics.get(key) or idx.management.get(key) or idx.routers.get(key)
            if not vs.uplinks and not attached:
                yield _finding(
                    "unused-resource",
                    _vswitch_ref(host.name, vs.name),
                    f"virtual switch {vs.name} on host {host.name} has no uplink and nothing "
                    f"attached",
                    vs.location,
                )
            for pg in vs.portgroups:
                if idx.portgroup_users.get((host.name, vs.name, pg.name)):
                    continue
                if vs.type == "distributed":
                    key_pg = (vs.name, pg.name)
                    if key_pg in distributed_used or key_pg in distributed_reported:
                        continue
                    distributed_reported.add(key_pg)
                yield _finding(
                    "unused-resource",
                    _portgroup_ref(host.name, vs.name, pg.name),
                    f"port group {pg.name} on {host.name}/{vs.name} is used by nothing",
                    pg.location,
                )
        used_nics.update(m.nic for m in host.management if m.nic is not None)
        for dd in host.driver_domains:
            used_nics.update(dd.nics)
        for nic in host.nics:
            if nic.name not in used_nics:
                yield _finding(
                    "unused-resource",
                    _nic_ref(host.name, nic.name),
                    f"NIC {nic.name} of host {host.name} is used by nothing",
                    nic.location,
                )


def upstream_unmodelled(topology: Topology, idx: _Index) -> Iterator[Finding]:
    for host in topology.hosts:
        for nic in host.nics:
            if not nic.cabled:
                yield _finding(
                    "upstream-unmodelled",
                    _nic_ref(host.name, nic.name),
                    f"NIC {nic.name} of host {host.name} names no switch; netseg assumed the "
                    f"implicit upstream switch (every VLAN tagged, untagged frames meet nothing)",
                    nic.location,
                )


HARDENING: Mapping[str, Callable[[Topology, _Index], Iterator[Finding]]] = {
    "passthrough-without-iommu": passthrough_without_iommu,
    "shared-pci-bus": shared_pci_bus,
    "management-firewall-missing": management_firewall_missing,
    "management-firewall-permissive": management_firewall_permissive,
    "management-on-guest-switch": management_on_guest_switch,
    "management-interface-multipurpose": management_interface_multipurpose,
    "promiscuous-allowed": promiscuous_allowed,
    "forged-transmits-allowed": forged_transmits_allowed,
    "mac-changes-allowed": mac_changes_allowed,
    "guest-vlan-trunking": guest_vlan_trunking,
    "transparent-bridge": transparent_bridge,
    "untagged-ovs-port": untagged_ovs_port,
    "mac-spoofing-allowed": mac_spoofing_allowed,
    "dhcp-guard-off": dhcp_guard_off,
    "router-guard-off": router_guard_off,
    "native-vlan-1": native_vlan_1,
    "reserved-vlan": reserved_vlan,
    "dom0-runs-guest-bridge": dom0_runs_guest_bridge,
    "unused-resource": unused_resource,
    "upstream-unmodelled": upstream_unmodelled,
}


def hardening_findings(topology: Topology, rules: Collection[str] | None = None) -> list[Finding]:
    """The configuration-hardening findings of ``topology`` (of ``rules`` only, when given),
    at default severity, unsorted."""
    checks = [c for rule_id, c in HARDENING.items() if rules is None or rule_id in rules]
    out: list[Finding] = []
    if not checks:
        return out
    with collector_paused():
        idx = _index(topology)
        for check in checks:
            out.extend(check(topology, idx))
    return out


__all__ = ["HARDENING", "hardening_findings"]
