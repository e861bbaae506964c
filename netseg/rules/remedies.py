"""Remedies: for every design rule, the concrete edits of the topology that close its findings.

Declared beside the catalogue (one entry of :data:`REMEDIES` per design rule id of
:data:`netseg.rules.catalogue.CATALOGUE`; tests/rules/test_remedies.py holds the two to the same
ids). A remedy reads a finding's rule, subject and object and the model, never the wording or
the shape of its evidence, and proposes candidate :class:`Edit` values in order of preference
(settings before restructuring). An edit says, in the topology's own terms, what changes
(:class:`Op`: a key set, an item inserted or deleted below the mapping declared at a
``Location``), why, which choice it made for the user (a free VLAN number) and the vendor
commands that apply it (:mod:`netseg.rules.vendor`).

Remedies propose; they do not decide. ``netseg fix`` (:mod:`netseg.fix`) applies candidates,
re-analyses, and keeps only those that close findings without opening new ones or losing an
intended flow. A rule whose findings no edit of the model can close (the information is not in
the topology, or every change is a redesign) has an entry with ``reason`` and no ``propose``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from netseg.graph import Reachability
from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.topology import (
    Address,
    Guest,
    GuestNic,
    Host,
    Hypervisor,
    Location,
    ManagementInterface,
    Network,
    Peer,
    PortGroup,
    Router,
    Switch,
    SwitchPort,
    Topology,
    VSwitch,
)
from netseg.model.vlans import VlanSet
from netseg.rules import vendor
from netseg.rules.finding import Finding
from netseg.rules.vendor import Command, FirewallAllow

Key = str | int


@dataclass(frozen=True, slots=True)
class Op:
    """One change of the document, starting at the mapping declared at ``at``.

    ``set``: the key ``path[-1]`` below ``path[:-1]`` (mappings created as needed) becomes
    ``value``; ``insert``: ``value`` goes into the list ``path[:-1]`` at index ``path[-1]``;
    ``delete``: the key or index ``path[-1]`` goes. Values are plain YAML data.
    """

    at: Location
    path: tuple[Key, ...]
    action: Literal["set", "insert", "delete"]
    value: Any = None


@dataclass(frozen=True)
class Edit:
    """One remedy applied to one place: what changes and why, in the topology's terms."""

    rule: str
    remedy: str
    target: str
    change: str
    why: str
    ops: tuple[Op, ...]
    commands: tuple[Command, ...] = ()
    kind: Literal["setting", "restructure"] = "setting"
    choice: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.remedy, self.target, self.change)

    @property
    def cost(self) -> int:
        """Settings before restructuring (the search's tie-break)."""
        return 1 if self.kind == "setting" else 3


@dataclass(frozen=True)
class Remedy:
    """A rule's remedies: ``propose`` yields candidate edits for one finding; a rule without
    one says in ``reason`` why no edit of the model can close it."""

    rule: str
    summary: str
    propose: Callable[[Context, Finding], list[Edit]] | None = None
    reason: str = ""


# --- what the remedies look things up in --------------------------------------------------


@dataclass
class Context:
    """The model (and its reachability) a remedy reads; lookups by entity reference."""

    topology: Topology
    reach: Reachability
    _extra_used: set[int] = field(default_factory=set)

    @cached_property
    def guest_nics(self) -> dict[str, tuple[Guest, int, GuestNic]]:
        return {n.ref: (g, i, n) for g in self.topology.guests for i, n in enumerate(g.nics)}

    @cached_property
    def management(self) -> dict[str, tuple[Host, ManagementInterface]]:
        return {m.ref: (h, m) for h in self.topology.hosts for m in h.management}

    @cached_property
    def portgroups(self) -> dict[str, tuple[Host, VSwitch, PortGroup]]:
        return {
            refs.portgroup(h.name, vs.name, pg.name): (h, vs, pg)
            for h in self.topology.hosts
            for vs in h.vswitches
            for pg in vs.portgroups
        }

    @cached_property
    def vswitches(self) -> dict[str, tuple[Host, VSwitch]]:
        return {
            refs.vswitch(h.name, vs.name): (h, vs)
            for h in self.topology.hosts
            for vs in h.vswitches
        }

    @cached_property
    def ports(self) -> dict[str, tuple[Switch, SwitchPort]]:
        return {
            refs.switch(s.name, p.name): (s, p) for s in self.topology.switches for p in s.ports
        }

    @cached_property
    def hosts(self) -> dict[str, Host]:
        return {h.ref: h for h in self.topology.hosts}

    @cached_property
    def used_vlans(self) -> set[int]:
        """Every VLAN named anywhere in the design (free-VLAN choice avoids them all)."""
        used: set[int] = set()
        t = self.topology
        for s in t.switches:
            for p in s.ports:
                for v in (p.vlan, p.native):
                    if v is not None:
                        used.add(v)
                if len(p.allowed) < 4094:
                    used.update(p.allowed)
        for h in t.hosts:
            for vs in h.vswitches:
                used.update(u.vlan for u in vs.uplinks if u.vlan is not None)
                for pg in vs.portgroups:
                    used.add(pg.vlan.vlan)
                    if len(pg.vlan.trunk) < 4094:
                        used.update(pg.vlan.trunk)
            for m in h.management:
                used.add(m.vlan.vlan)
        for n in t.guest_nics():
            used.add(n.vlan.vlan)
            if len(n.vlan.trunk) < 4094:
                used.update(n.vlan.trunk)
        for r in t.routers:
            for i in r.interfaces:
                if i.vlan is not None:
                    used.add(i.vlan)
        for e in t.endpoints:
            if e.vlan is not None:
                used.add(e.vlan)
        return used | self._extra_used

    def free_vlan(self) -> int:
        """The highest VLAN below 1000 that nothing in the design uses (VLAN 1 and the
        reserved 1001-1024 and 4094 never)."""
        for v in range(999, 1, -1):
            if v not in self.used_vlans:
                self._extra_used.add(v)
                return v
        raise LookupError("no free VLAN below 1000")

    @cached_property
    def management_vlans(self) -> set[int]:
        """VLANs a management interface sits in (by its port group, its vswitch VLAN, the
        ``NIC.VLAN`` uplink of its bridge, or the access VLAN of its NIC's switch port)."""
        out: set[int] = set()
        for h in self.topology.hosts:
            for m in h.management:
                if m.portgroup is not None and m.vswitch is not None:
                    vs = h.vswitch(m.vswitch)
                    pg = vs.portgroup(m.portgroup) if vs else None
                    if pg is not None and pg.vlan.kind == "access" and pg.vlan.vlan:
                        out.add(pg.vlan.vlan)
                elif m.vswitch is not None:
                    if m.vlan.kind == "access" and m.vlan.vlan:
                        out.add(m.vlan.vlan)
                    vs = h.vswitch(m.vswitch)
                    for u in vs.uplinks if vs else ():
                        if u.vlan is not None:
                            out.add(u.vlan)
                elif m.nic is not None:
                    nic = h.nic(m.nic)
                    if nic is not None and nic.switch is not None and nic.port is not None:
                        sw = self.topology.switch(nic.switch)
                        if sw.has_port(nic.port) and sw.port(nic.port).untagged_vlan:
                            out.add(sw.port(nic.port).untagged_vlan or 0)
        out.discard(0)
        return out

    def zone_prefixes(self, zone: str) -> tuple[Network, ...]:
        """Every declared address of the zone's attachments, as a host prefix (a firewall or
        ACL on the device matches addresses, and a subnet can hold members of other zones)."""
        nets: dict[Network, None] = {}
        for a in self.reach.attachments:
            if a.zone == zone and a.kind != "router":
                for addr in a.addresses:
                    nets[ipaddress.ip_network(addr.ip)] = None
        return tuple(sorted(nets, key=lambda n: (n.version, int(n.network_address), n.prefixlen)))


# --- shared building blocks ---------------------------------------------------------------


def _guest_portgroup(ctx: Context, nic_ref: str) -> tuple[Host, VSwitch, PortGroup] | None:
    found = ctx.guest_nics.get(nic_ref)
    if found is None:
        return None
    g, _, n = found
    if n.portgroup is None:
        return None
    return ctx.portgroups.get(refs.portgroup(g.host, n.vswitch, n.portgroup))


def _guest_vswitch(ctx: Context, nic_ref: str) -> tuple[Guest, int, GuestNic, Host, VSwitch] | None:
    """A guest NIC with its position, host and virtual switch, if the switch exists."""
    found = ctx.guest_nics.get(nic_ref)
    if found is None:
        return None
    g, index, n = found
    host = ctx.topology.host(g.host)
    vs = host.vswitch(n.vswitch)
    return None if vs is None else (g, index, n, host, vs)


def _security_edit(
    rule: str, host: Host, vs: VSwitch, pg: PortGroup, setting: str, why: str
) -> Edit:
    target = refs.portgroup(host.name, vs.name, pg.name)
    return Edit(
        rule,
        f"portgroup-{setting.replace('_', '-')}-off",
        target,
        f"set security.{setting}: false on port group {pg.name!r} of {vs.name} on {host.name}",
        why,
        (Op(pg.location, ("security", setting), "set", False),),
        (vendor.esxi_portgroup_security(host.name, vs.name, vs.type, pg.name, setting, False),),
    )


def _security_remedy(setting: str, what: str) -> Callable[[Context, Finding], list[Edit]]:
    def propose(ctx: Context, f: Finding) -> list[Edit]:
        found = ctx.portgroups.get(f.subject) or _guest_portgroup(ctx, f.subject)
        if found is None:
            return []
        h, vs, pg = found
        return [_security_edit(f.rule, h, vs, pg, setting, f"{what} lets a guest {_WHY[setting]}")]

    return propose


_WHY = {
    "promiscuous": "see every frame of the port group, management traffic included",
    "forged_transmits": "send frames from a MAC address that is not its own",
    "mac_changes": "take over another machine's MAC address",
}


def _trunk_text(vlans: VlanSet) -> str:
    return str(vlans).replace(" ", "")


def _tag_edits(ctx: Context, f: Finding, remove: set[int], why: str) -> list[Edit]:
    """Stop a guest's tags from reaching ``remove``: prune them from a VGT port group's or a
    trunk NIC's VLAN set, filter VLANs on a transparent bridge."""
    found = _guest_vswitch(ctx, f.subject)
    if found is None:
        return []
    g, _index, n, host, vs = found
    edits: list[Edit] = []
    pg = vs.portgroup(n.portgroup) if n.portgroup else None
    mode = pg.vlan if pg is not None else n.vlan
    if mode.kind == "transparent" or (vs.type == "bridge" and not vs.vlan_filtering):
        edits.append(_vlan_filtering_edit(f.rule, host, vs, why))
    elif mode.kind == "trunk":
        trunk = mode.trunk if len(mode.trunk) < 4094 else _vswitch_vlans(vs)
        keep = VlanSet.of(v for v in trunk if v not in remove)
        removed = sorted(set(trunk) - set(keep))
        if not removed or not keep:
            return edits
        text = _trunk_text(keep)
        if pg is not None:
            edits.append(
                Edit(
                    f.rule,
                    "portgroup-trunk-prune",
                    refs.portgroup(host.name, vs.name, pg.name),
                    f"set the trunk VLANs of port group {pg.name!r} ({vs.name} on {host.name}) "
                    f"to {text}",
                    why,
                    (Op(pg.location, ("vlan",), "set", {"trunk": text}),),
                    (vendor.esxi_portgroup_vlan(host.name, vs.name, vs.type, pg.name, text),),
                    choice=(
                        "VLAN 4095 replaced by the VLANs the switch's other port groups use, "
                        "minus management ones"
                        if len(mode.trunk) >= 4094
                        else ""
                    ),
                )
            )
        else:
            commands: tuple[Command, ...] = ()
            if host.hypervisor is Hypervisor.HYPERV:
                native = 0 if mode.native in (None, 0) else mode.native
                commands = (
                    vendor.hyperv_vlan(
                        host.name,
                        g.name,
                        n.name,
                        f"-Trunk -AllowedVlanIdList {_trunk_text(keep)} -NativeVlanId {native}",
                    ),
                )
            edits.append(
                Edit(
                    f.rule,
                    "nic-trunk-prune",
                    n.ref,
                    f"set the trunk VLANs of {g.name}'s NIC {n.name} to {text}",
                    why,
                    (Op(n.location, ("vlan", "trunk"), "set", text),),
                    commands,
                )
            )
    return edits


def _vswitch_vlans(vs: VSwitch) -> VlanSet:
    return VlanSet.of(
        pg.vlan.vlan for pg in vs.portgroups if pg.vlan.kind == "access" and pg.vlan.vlan
    )


def _vlan_filtering_edit(rule: str, host: Host, vs: VSwitch, why: str) -> Edit:
    cmd = Command(
        f"{host.name} dom0 (iproute2)",
        "shell",
        f"ip link set dev {vs.name} type bridge vlan_filtering 1\n"
        f"# and persistently: bridge-vlan-aware yes for {vs.name} in /etc/network/interfaces",
    )
    return Edit(
        rule,
        "bridge-vlan-filtering",
        refs.vswitch(host.name, vs.name),
        f"set vlan_filtering: true on bridge {vs.name} of {host.name}",
        why,
        (Op(vs.location, ("vlan_filtering",), "set", True),),
        (cmd,),
    )


def _dest_vlans(ctx: Context, dest_refs: list[str]) -> set[int]:
    """The access VLANs destinations sit in (guest NIC or port group VLANs, endpoints'
    switch ports)."""
    out: set[int] = set()
    for ref in dest_refs:
        found = ctx.guest_nics.get(ref)
        if found is not None:
            _g, _, n = found
            pg = _guest_portgroup(ctx, ref)
            mode = pg[2].vlan if pg is not None else n.vlan
            if mode.kind == "access" and mode.vlan:
                out.add(mode.vlan)
        for e in ctx.topology.endpoints:
            if e.ref == ref:
                if e.vlan:
                    out.add(e.vlan)
                elif e.port is not None:
                    sw = ctx.topology.switch(e.switch)
                    if sw.has_port(e.port) and sw.port(e.port).untagged_vlan:
                        out.add(sw.port(e.port).untagged_vlan or 0)
    out.discard(0)
    return out


def _destinations(ctx: Context, f: Finding) -> list[str]:
    """The attachments a reachability finding's source reaches: its object when that is an
    attachment, else the members its evidence lists, else every attachment of the zone."""
    if f.object is not None and refs.kind(f.object) in ("guest", "management", "endpoint"):
        return [f.object]
    listed = f.evidence.get("destinations")
    if isinstance(listed, list | tuple) and listed:
        return [str(x) for x in listed]
    if f.object is not None and refs.kind(f.object) == "zone":
        zone = refs.body(f.object, "zone")
        return [a.ref for a in ctx.reach.attachments if a.zone == zone and a.kind != "router"]
    return []


# --- firewall of the privileged domain ------------------------------------------------------


def _firewall_allows(ctx: Context, host: Host) -> tuple[list[dict[str, Any]], list[FirewallAllow]]:
    """The firewall ``netseg fix`` proposes: the privileged zones of the management
    interfaces, then each ``policy.allow`` rule towards one of the host's management zones
    (on its own services)."""
    t = ctx.topology
    yaml_rules: list[dict[str, Any]] = []
    allows: list[FirewallAllow] = []
    # the privileged domain's own zones (every management interface's, when privileged) in
    # full; any other zone, privileged or not, only through the policy's rules
    privileged = sorted({m.zone for m in t.management_interfaces()} & t.privileged_zones)
    for z in privileged:
        yaml_rules.append({"from": z, "why": "privileged zone (netseg fix)"})
        allows.append(FirewallAllow(f"zone {z}", ctx.zone_prefixes(z), ServiceSet.any()))
    mgmt_zones = {m.zone for m in host.management}
    mgmt_addresses = [a for m in host.management for a in m.addresses]
    for rule in t.policy.allow:
        dst = rule.destination
        to_here = (dst.zone is not None and dst.zone in mgmt_zones) or (
            dst.prefix is not None and any(_in(dst.prefix, a) for a in mgmt_addresses)
        )
        if not to_here or rule.source.zone in privileged:
            continue
        src = rule.source
        entry: dict[str, Any] = {"from": str(src), "services": rule.services.items()}
        why = rule.why or f"policy.allow {src} -> {dst}"
        entry["why"] = f"{why} (netseg fix)"
        yaml_rules.append(entry)
        prefixes = (
            ctx.zone_prefixes(src.zone)
            if src.zone is not None
            else ((src.prefix,) if src.prefix is not None else ())
        )
        allows.append(FirewallAllow(f"policy {src} -> {dst}", prefixes, rule.services, why))
    return yaml_rules, allows


def _in(net: Network, addr: Address) -> bool:
    return net.version == addr.version and addr.ip in net


def _firewall_commands(host: Host, allows: list[FirewallAllow]) -> tuple[Command, ...]:
    if host.hypervisor is Hypervisor.XEN:
        return (vendor.xen_firewall(host.name, allows),)
    if host.hypervisor is Hypervisor.ESXI:
        return (vendor.esxi_firewall(host.name, allows),)
    return (vendor.hyperv_firewall(host.name, allows),)


def _firewall_edit(ctx: Context, rule: str, host: Host) -> Edit | None:
    """A new firewall for a host without one; for a host with one, its permissive lines
    narrowed to what the policy allows (or removed) and ``default: deny``, the rest kept."""
    what = host.hypervisor.privileged_domain
    if host.firewall is None:
        yaml_rules, allows = _firewall_allows(ctx, host)
        return Edit(
            rule,
            "host-firewall-add",
            host.ref,
            f"add a {what} firewall to {host.name}: default deny, " + _allow_text(yaml_rules),
            "only the management interfaces' own privileged zones and the policy's rules "
            f"towards management may reach the {what}",
            (Op(host.location, ("firewall",), "set", {"default": "deny", "allow": yaml_rules}),),
            _firewall_commands(host, allows),
            choice="allowed in full: the privileged zones of the management interfaces; every "
            "other source only as the policy's rules towards the host's management zones "
            "allow, on their services; on the device, a zone is its members' declared addresses",
        )
    fw = host.firewall
    at = fw.location
    ops: list[Op] = []
    said: list[str] = []
    if fw.default == "allow":
        ops.append(Op(at, ("default",), "set", "deny"))
        said.append("default deny")
    mgmt_zones = {m.zone for m in host.management}
    privileged = ctx.topology.privileged_zones
    guest_addresses = [a for n in ctx.topology.guest_nics() for a in n.addresses]
    kept: list[FirewallAllow] = []
    for k in range(len(fw.allow) - 1, -1, -1):
        line = fw.allow[k]
        src = line.source
        permissive = (
            src.is_any
            or (src.prefix is not None and src.prefix.prefixlen == 0)
            or (src.zone is not None and src.zone not in privileged)
            or (src.prefix is not None and any(_in(src.prefix, a) for a in guest_addresses))
        )
        prefixes = (
            ctx.zone_prefixes(src.zone)
            if src.zone is not None
            else ((src.prefix,) if src.prefix is not None else ())
        )
        if not permissive:
            kept.append(FirewallAllow(f"from {src}", prefixes, line.services, line.why))
            continue
        allowed = ServiceSet.none()
        for r in ctx.topology.policy.allow:
            if r.source == src and r.destination.zone in mgmt_zones:
                allowed = allowed | r.services
        narrowed = line.services & allowed
        if not narrowed:
            ops.append(Op(at, ("allow", k), "delete"))
            why = (
                f" ({line.why!r}: if that flow is intended, add it to policy.allow)"
                if line.why
                else ""
            )
            said.append(f"remove the allow from {src} (line {line.location.line}){why}")
        elif narrowed != line.services:
            ops.append(Op(line.location, ("services",), "set", narrowed.items()))
            said.append(f"narrow the allow from {src} to {narrowed}")
            kept.append(FirewallAllow(f"from {src}", prefixes, narrowed, line.why))
        else:
            kept.append(FirewallAllow(f"from {src}", prefixes, line.services, line.why))
    if not ops:
        return None
    kept.reverse()
    return Edit(
        rule,
        "host-firewall-tighten",
        host.ref,
        f"{what} firewall of {host.name}: " + "; ".join(said),
        "what the policy does not allow towards management must not pass the firewall",
        tuple(ops),
        _firewall_commands(host, kept),
        choice="a line from a source the policy allows towards management keeps the services "
        "the policy names; the other lines are kept as they are",
    )


def _allow_text(rules: list[dict[str, Any]]) -> str:
    parts = [
        f"from {r['from']}" + (f" on {', '.join(r['services'])}" if "services" in r else "")
        for r in rules
    ]
    return "allow " + "; ".join(parts) if parts else "allow nothing"


# --- router ACLs ------------------------------------------------------------------------------


def _peer_matches(peer: Peer, zone: str | None, addresses: tuple[Address, ...]) -> bool:
    if peer.is_any:
        return True
    if peer.zone is not None:
        return peer.zone == zone
    return peer.prefix is not None and any(_in(peer.prefix, a) for a in addresses)


def _acl_edits(ctx: Context, f: Finding, dests: list[str]) -> list[Edit]:
    """A deny line above the first permit that lets the source's zone reach the destinations
    on the services the policy does not allow, on every router the route crosses."""
    src = ctx.reach.attachment(f.subject) if _known(ctx, f.subject) else None
    if src is None:
        return []
    by_router: dict[str, tuple[ServiceSet, list[str]]] = {}
    for d in dests:
        if not _known(ctx, d):
            continue
        pair = ctx.reach.pair(f.subject, d)
        if pair is None or pair.mode != "l3" or not pair.violating:
            continue
        for r in pair.via:
            services, ds = by_router.get(r, (ServiceSet.none(), []))
            by_router[r] = (services | pair.violating, [*ds, d])
    edits = []
    for rref, (services, ds) in by_router.items():
        router = next(r for r in ctx.topology.routers if r.ref == rref)
        edit = _acl_edit(ctx, f, router, src.zone, src.addresses, ds, services)
        if edit is not None:
            edits.append(edit)
    return edits


def _known(ctx: Context, ref: str) -> bool:
    try:
        ctx.reach.attachment(ref)
    except (KeyError, LookupError):
        return False
    return True


def _acl_edit(
    ctx: Context,
    f: Finding,
    router: Router,
    zone: str | None,
    addresses: tuple[Address, ...],
    dests: list[str],
    services: ServiceSet,
) -> Edit | None:
    dst_atts = [ctx.reach.attachment(d) for d in dests]
    dst_zones = {a.zone for a in dst_atts}
    if f.rule == "zone-policy-violation" and len(dst_zones) == 1 and None not in dst_zones:
        to: str = next(iter(z for z in dst_zones if z is not None))
        dst_nets: list[Network] = list(ctx.zone_prefixes(to))
    else:
        hosts = sorted(
            {a.ip for att in dst_atts for a in att.addresses}, key=lambda ip: (ip.version, int(ip))
        )
        if len(hosts) != 1:
            return None
        dst_nets = [ipaddress.ip_network(hosts[0])]
        to = str(dst_nets[0])
    index = len(router.acl)
    for k, line in enumerate(router.acl):
        if line.action != "permit" or line.services.isdisjoint(services):
            continue
        if not _peer_matches(line.source, zone, addresses):
            continue
        if any(_peer_matches(line.destination, a.zone, a.addresses) for a in dst_atts):
            index = k
            break
    if zone is None:
        return None
    entry = {
        "action": "deny",
        "from": zone,
        "to": to,
        "services": services.items(),
        "why": f"netseg fix: {f.rule} from {f.subject}",
    }
    return Edit(
        f.rule,
        "acl-deny",
        router.ref,
        f"insert in {router.name}'s ACL at line {index + 1}: deny {zone} -> {to} on {services}",
        f"the permit below it lets zone {zone} reach {to} on services the policy does not allow",
        (Op(router.location, ("acl", index), "insert", entry),),
        (
            vendor.acl_deny(
                router.name, index * 10 + 5, ctx.zone_prefixes(zone), dst_nets, services
            ),
        ),
        choice=f"the device's ACL is renumbered 10, 20, … in the model's order, so the deny is "
        f"entry {index * 10 + 5}; apply the edits' commands in their order",
    )


# --- moving an attachment away ---------------------------------------------------------------


def _isolate_guest(ctx: Context, f: Finding) -> list[Edit]:
    """Move an ESXi guest NIC off a port group shared with a management interface, to a new
    port group on a VLAN nothing uses; on Hyper-V make an internal switch private."""
    found = _guest_vswitch(ctx, f.subject)
    if found is None:
        return []
    g, index, n, host, vs = found
    if vs.type == "internal":
        return [
            Edit(
                f.rule,
                "hyperv-switch-private",
                refs.vswitch(host.name, vs.name),
                f"make switch {vs.name} on {host.name} private (type: private): the "
                "management OS keeps no vNIC on it",
                "an internal switch always gives the management OS a vNIC beside the guests",
                (Op(vs.location, ("type",), "set", "private"),),
                (vendor.hyperv_switch(host.name, vs.name, "-SwitchType Private"),),
            )
        ]
    if not vs.is_esxi or n.portgroup is None:
        return []
    vlan = ctx.free_vlan()
    name = f"{n.portgroup} - {g.zone}"
    ops = (
        Op(vs.location, ("portgroups", len(vs.portgroups)), "insert", {"name": name, "vlan": vlan}),
        Op(n.location, ("portgroup",), "set", name),
    )
    return [
        Edit(
            f.rule,
            "guest-new-portgroup",
            n.ref,
            f"move {g.name}'s NIC {n.name} from port group {n.portgroup!r} to a new port "
            f"group {name!r} (VLAN {vlan}) on {vs.name}",
            "no virtual machine belongs in the broadcast domain of a management interface",
            ops,
            (
                *vendor.esxi_new_portgroup(host.name, vs.name, vs.type, name, vlan),
                vendor.esxi_move_vm_nic(g.name, index, name),
            ),
            kind="restructure",
            choice=f"VLAN {vlan} is used nowhere in the topology; check that it is free on the "
            "physical network, allow it on the uplinks' trunks and route it if the guest needs "
            "to be reached",
        )
    ]


# --- the remedies, rule by rule ---------------------------------------------------------------


def _reaches_management(ctx: Context, f: Finding) -> list[Edit]:
    edits: list[Edit] = []
    if f.object is not None and f.object in ctx.management:
        host, _ = ctx.management[f.object]
        fw = _firewall_edit(ctx, f.rule, host)
        if fw is not None:
            edits.append(fw)
        edits += _acl_edits(ctx, f, [f.object])
    edits += _tag_edits(
        ctx, f, ctx.management_vlans, "the guest tags frames into a management VLAN"
    )
    edits += _isolate_guest(ctx, f)
    return edits


def _on_management_segment(ctx: Context, f: Finding) -> list[Edit]:
    return _tag_edits(
        ctx, f, ctx.management_vlans, "the guest reaches the management segment by tagging"
    ) + _isolate_guest(ctx, f)


def _can_tag(ctx: Context, f: Finding) -> list[Edit]:
    return _tag_edits(
        ctx, f, ctx.management_vlans, "the guest can tag frames into a management VLAN"
    )


def _zone_violation(ctx: Context, f: Finding) -> list[Edit]:
    dests = _destinations(ctx, f)
    edits = _acl_edits(ctx, f, dests)
    edits += _tag_edits(
        ctx,
        f,
        _dest_vlans(ctx, dests),
        "the guest tags frames into another zone's VLAN the policy does not let it reach",
    )
    return edits


def _native_vlan(ctx: Context, f: Finding) -> list[Edit]:
    """Set a trunk's native VLAN (and its link peer's) to a VLAN nothing uses."""
    found = ctx.ports.get(f.subject)
    if found is None:
        return []
    targets = [found]
    for link in ctx.topology.links:
        for a, b in ((link.a, link.b), (link.b, link.a)):
            if a.ref == f.subject:
                peer = ctx.ports.get(b.ref)
                if peer is not None:
                    targets.append(peer)
    vlan = ctx.free_vlan()
    ops = tuple(Op(p.location, ("native",), "set", vlan) for _, p in targets)
    commands = tuple(
        vendor.switch_interface(s.name, p.name, [f"switchport trunk native vlan {vlan}"])
        for s, p in targets
    )
    names = " and ".join(f"{s.name}:{p.name}" for s, p in targets)
    return [
        Edit(
            f.rule,
            "trunk-native-unused",
            f.subject,
            f"set the native VLAN of trunk {names} to {vlan}",
            "untagged frames then land in a VLAN nothing uses (no double-tag hopping, no VLAN 1)",
            ops,
            commands,
            choice=f"VLAN {vlan} is used nowhere in the topology; check that it is unused on "
            "the physical network too",
        )
    ]


def _passthrough(ctx: Context, f: Finding) -> list[Edit]:
    host = ctx.hosts.get(f.object or "")
    if host is None:
        return []
    if host.hypervisor is Hypervisor.XEN:
        cmd = Command(
            f"{host.name} (Xen boot loader)",
            "shell",
            "sed -i 's/^GRUB_CMDLINE_XEN_DEFAULT=\"/&iommu=force /' /etc/default/grub\n"
            "update-grub && reboot",
        )
    else:
        cmd = Command(
            f"{host.name} (firmware)",
            "shell",
            "# enable Intel VT-d / AMD-Vi in the host firmware setup, then reboot",
        )
    edits = [
        Edit(
            f.rule,
            "host-iommu-on",
            host.ref,
            f"set iommu: true on {host.name}",
            "without DMA remapping a passed-through device can read and write any memory",
            (Op(host.location, ("iommu",), "set", True),),
            (cmd,),
            choice="the firmware must support VT-d / AMD-Vi; netseg cannot check that",
        )
    ]
    return edits


def _shared_bus(ctx: Context, f: Finding) -> list[Edit]:
    if refs.kind(f.subject) != "guest":
        return []
    g = ctx.topology.guest(refs.body(f.subject, "guest"))
    bus = str(f.evidence.get("bus", ""))
    ops = tuple(
        Op(g.location, ("passthrough", k), "delete")
        for k, dev in reversed(list(enumerate(g.passthrough)))
        if bus and dev.startswith(bus)
    )
    if not ops:
        return []
    return [
        Edit(
            f.rule,
            "guest-passthrough-remove",
            f.subject,
            f"stop passing the bus {bus} devices through to {g.name}",
            "devices of one PCI bus passed to two domains let each watch the other's traffic",
            ops,
            (
                Command(
                    f"{g.host} (xl)",
                    "shell",
                    f"xl pci-detach {g.name} {bus}:00.1  # and remove it from pci=[…] in "
                    f"{g.name}'s domain configuration",
                ),
            )
            if ctx.topology.host(g.host).hypervisor is Hypervisor.XEN
            else (),
            kind="restructure",
            choice="the guest loses the device; move the card to a slot of its own bus to keep it",
        )
    ]


def _firewall(ctx: Context, f: Finding) -> list[Edit]:
    host = ctx.hosts.get(f.subject)
    edit = None if host is None else _firewall_edit(ctx, f.rule, host)
    return [] if edit is None else [edit]


def _management_on_guest_switch(ctx: Context, f: Finding) -> list[Edit]:
    found = ctx.vswitches.get(f.object or "")
    if found is None:
        return []
    host, vs = found
    if vs.type == "external" and vs.allow_management_os:
        return [
            Edit(
                f.rule,
                "hyperv-no-management-os",
                refs.vswitch(host.name, vs.name),
                f"set allow_management_os: false on switch {vs.name} of {host.name}",
                "the management OS should have an adapter of its own, not a vNIC on the guests' "
                "switch",
                (Op(vs.location, ("allow_management_os",), "set", False),),
                (vendor.hyperv_switch(host.name, vs.name, "-AllowManagementOS $false"),),
            )
        ]
    if vs.type == "internal":
        return [
            Edit(
                f.rule,
                "hyperv-switch-private",
                refs.vswitch(host.name, vs.name),
                f"make switch {vs.name} on {host.name} private (type: private)",
                "an internal switch always gives the management OS a vNIC beside the guests",
                (Op(vs.location, ("type",), "set", "private"),),
                (vendor.hyperv_switch(host.name, vs.name, "-SwitchType Private"),),
            )
        ]
    return []


def _guest_trunking(ctx: Context, f: Finding) -> list[Edit]:
    """Give the guests an access VLAN when their trunk, management VLANs removed, is one VLAN."""
    found = ctx.portgroups.get(f.subject)
    if found is not None:
        host, vs, pg = found
        trunk = pg.vlan.trunk if len(pg.vlan.trunk) < 4094 else _vswitch_vlans(vs)
        keep = [v for v in trunk if v not in ctx.management_vlans]
        if len(keep) != 1:
            return []
        return [
            Edit(
                f.rule,
                "portgroup-access-vlan",
                f.subject,
                f"set port group {pg.name!r} ({vs.name} on {host.name}) to access VLAN {keep[0]}",
                "its guests need one VLAN only; the others are management VLANs",
                (Op(pg.location, ("vlan",), "set", keep[0]),),
                (vendor.esxi_portgroup_vlan(host.name, vs.name, vs.type, pg.name, keep[0]),),
            )
        ]
    nic = ctx.guest_nics.get(f.subject)
    if nic is None:
        return []
    g, _, n = nic
    keep = [v for v in n.vlan.trunk if v not in ctx.management_vlans]
    if len(keep) != 1 or len(n.vlan.trunk) >= 4094:
        return []
    host = ctx.topology.host(g.host)
    cmds: tuple[Command, ...] = ()
    if host.hypervisor is Hypervisor.HYPERV:
        cmds = (vendor.hyperv_vlan(host.name, g.name, n.name, f"-Access -VlanId {keep[0]}"),)
    return [
        Edit(
            f.rule,
            "nic-access-vlan",
            f.subject,
            f"set {g.name}'s NIC {n.name} to access VLAN {keep[0]}",
            "the guest needs one VLAN only",
            (Op(n.location, ("vlan",), "set", keep[0]),),
            cmds,
        )
    ]


def _transparent_bridge(ctx: Context, f: Finding) -> list[Edit]:
    found = ctx.vswitches.get(f.subject)
    if found is None:
        return []
    host, vs = found
    return [_vlan_filtering_edit(f.rule, host, vs, "guests' VLAN tags must not reach the wire")]


def _untagged_ovs(ctx: Context, f: Finding) -> list[Edit]:
    found = ctx.guest_nics.get(f.subject)
    if found is None:
        return []
    g, index, n = found
    host = ctx.topology.host(g.host)
    same_zone = {
        o.vlan.vlan
        for og in ctx.topology.guests_on(g.host)
        if og.zone == g.zone
        for o in og.nics
        if o.vswitch == n.vswitch and o.vlan.kind == "access" and o.vlan.vlan
    }
    if len(same_zone) != 1:
        return []
    vlan = next(iter(same_zone))
    return [
        Edit(
            f.rule,
            "ovs-port-tag",
            n.ref,
            f"give {g.name}'s OVS port on {n.vswitch} the tag {vlan}",
            "an OVS port without a tag trunks every VLAN of the bridge",
            (Op(n.location, ("vlan",), "set", vlan),),
            (
                Command(
                    f"{host.name} dom0 (ovs-vsctl)",
                    "shell",
                    f"ovs-vsctl set port vif$(xl domid {g.name}).{index} tag={vlan}\n"
                    f"# and persistently: bridge={n.vswitch}.{vlan} in {g.name}'s vif= line",
                ),
            ),
            choice=f"VLAN {vlan} is the VLAN of the other {g.zone} guests on {n.vswitch}",
        )
    ]


def _guard(key: str, value: bool, flag: str, why: str) -> Callable[[Context, Finding], list[Edit]]:
    def propose(ctx: Context, f: Finding) -> list[Edit]:
        found = ctx.guest_nics.get(f.subject)
        if found is None:
            return []
        g, _, n = found
        return [
            Edit(
                f.rule,
                f"hyperv-{key.replace('_', '-')}-{'on' if value else 'off'}",
                n.ref,
                f"set guards.{key}: {str(value).lower()} on {g.name}'s NIC {n.name}",
                why,
                (Op(n.location, ("guards", key), "set", value),),
                (vendor.hyperv_adapter(g.host, g.name, n.name, flag),),
            )
        ]

    return propose


def _multipurpose(ctx: Context, f: Finding) -> list[Edit]:
    found = ctx.management.get(f.subject)
    if found is None:
        return []
    host, m = found
    others = sorted(m.services - {"management"})
    return [
        Edit(
            f.rule,
            "vmk-management-only",
            f.subject,
            f"leave only the management service on {m.name} of {host.name} (drop {', '.join(others)})",
            "one vmkernel interface per service",
            (Op(m.location, ("services",), "set", ["management"]),),
            (
                Command(
                    f"{host.name} (esxcli)",
                    "esxcli",
                    "\n".join(
                        f"esxcli network ip interface tag remove -i {m.name} -t {_VMK_TAG.get(s, s)}"
                        for s in others
                    ),
                ),
            ),
            kind="restructure",
            choice=f"{', '.join(others)} needs a vmkernel interface of its own afterwards",
        )
    ]


_VMK_TAG = {
    "provisioning": "vSphereProvisioning",
    "vmotion": "VMotion",
    "vsan": "VSAN",
    "ft": "faultToleranceLogging",
    "replication": "vSphereReplication",
}


def _unused(ctx: Context, f: Finding) -> list[Edit]:
    found = ctx.portgroups.get(f.subject)
    if found is None:
        return []
    host, vs, pg = found
    k = vs.portgroups.index(pg)
    cmd = (
        vendor.Command(
            f"{host.name} (esxcli)",
            "esxcli",
            f"esxcli network vswitch standard portgroup remove --portgroup-name='{pg.name}' "
            f"--vswitch-name='{vs.name}'",
        )
        if vs.type == "standard"
        else vendor.Command(
            f"vCenter, distributed switch {vs.name} (PowerCLI)",
            "powercli",
            f"Get-VDPortgroup -Name '{pg.name}' -VDSwitch '{vs.name}' | Remove-VDPortGroup -Confirm:$false",
        )
    )
    return [
        Edit(
            f.rule,
            "portgroup-remove",
            f.subject,
            f"remove the unused port group {pg.name!r} from {vs.name} on {host.name}",
            "every unused device is attack surface",
            (Op(vs.location, ("portgroups", k), "delete"),),
            (cmd,),
            kind="restructure",
        )
    ]


def _isolated_vmk(ctx: Context, f: Finding) -> list[Edit]:
    """Move a vMotion/storage vmkernel interface to a new port group on an unused VLAN."""
    found = ctx.management.get(f.subject)
    if found is None:
        return []
    host, m = found
    if m.portgroup is None or m.vswitch is None:
        return []
    vs = host.vswitch(m.vswitch)
    if vs is None:
        return []
    vlan = ctx.free_vlan()
    name = f"{m.name} {'-'.join(sorted(m.services))}"
    return [
        Edit(
            f.rule,
            "vmk-new-portgroup",
            f.subject,
            f"move {m.name} of {host.name} to a new port group {name!r} (VLAN {vlan}) on {vs.name}",
            "vMotion and IP storage carry guest memory and disks in clear text",
            (
                Op(
                    vs.location,
                    ("portgroups", len(vs.portgroups)),
                    "insert",
                    {"name": name, "vlan": vlan},
                ),
                Op(m.location, ("portgroup",), "set", name),
            ),
            tuple(vendor.esxi_new_portgroup(host.name, vs.name, vs.type, name, vlan)),
            kind="restructure",
            choice=f"VLAN {vlan} is used nowhere in the topology; allow it on the uplinks' "
            "trunks of every host whose interfaces must meet",
        )
    ]


def _r(rule: str, summary: str, propose: Callable[[Context, Finding], list[Edit]]) -> Remedy:
    return Remedy(rule, summary, propose)


def _none(rule: str, reason: str) -> Remedy:
    return Remedy(rule, "", None, reason)


#: One entry per design rule of the catalogue, in its order.
REMEDIES: Mapping[str, Remedy] = MappingProxyType(
    {
        r.rule: r
        for r in (
            _r(
                "guest-reaches-management",
                "management firewall (add or tighten), ACL deny above the opening permit, "
                "prune the management VLAN from the guest's trunk / VLAN filtering, move the "
                "guest to a port group of its own",
                _reaches_management,
            ),
            _r(
                "guest-on-management-segment",
                "prune the management VLAN from the guest's trunk / VLAN filtering; move the "
                "guest to a new port group on an unused VLAN; make a Hyper-V internal switch "
                "private",
                _on_management_segment,
            ),
            _r(
                "guest-can-tag-management-vlan",
                "remove management VLANs from the guest's trunk (VLAN 4095 becomes the VLANs "
                "the switch's port groups use); VLAN filtering on a transparent bridge",
                _can_tag,
            ),
            _r(
                "guest-observes-management",
                "promiscuous: false on the guest's port group",
                _security_remedy("promiscuous", "promiscuous mode"),
            ),
            _r(
                "zone-policy-violation",
                "ACL deny above the permit that opens it; remove the destination's VLAN from "
                "the source's trunk",
                _zone_violation,
            ),
            _r(
                "native-vlan-carries-guests",
                "set the trunk's native VLAN (and its link peer's) to an unused VLAN",
                _native_vlan,
            ),
            _r(
                "vmotion-not-isolated",
                "move the vmkernel interface to a new port group on an unused VLAN",
                _isolated_vmk,
            ),
            _r(
                "storage-not-isolated",
                "move the vmkernel interface to a new port group on an unused VLAN",
                _isolated_vmk,
            ),
            _r("passthrough-without-iommu", "iommu: true on the host", _passthrough),
            _r(
                "shared-pci-bus",
                "stop passing the shared bus's devices through to the guest",
                _shared_bus,
            ),
            _r(
                "management-firewall-missing",
                "add a firewall: default deny, allow the privileged zones and the policy's "
                "rules towards management",
                _firewall,
            ),
            _r(
                "management-firewall-permissive",
                "default deny, allow only the privileged zones and the policy's rules towards "
                "management",
                _firewall,
            ),
            _r(
                "management-on-guest-switch",
                "Hyper-V: allow_management_os false, an internal switch made private",
                _management_on_guest_switch,
            ),
            _r(
                "management-interface-multipurpose",
                "leave only the management service on the interface",
                _multipurpose,
            ),
            _r(
                "promiscuous-allowed",
                "promiscuous: false on the port group",
                _security_remedy("promiscuous", "promiscuous mode"),
            ),
            _r(
                "forged-transmits-allowed",
                "forged_transmits: false on the port group",
                _security_remedy("forged_transmits", "accepting forged transmits"),
            ),
            _r(
                "mac-changes-allowed",
                "mac_changes: false on the port group",
                _security_remedy("mac_changes", "accepting MAC address changes"),
            ),
            _r(
                "guest-vlan-trunking",
                "an access VLAN when the trunk, management VLANs removed, is one VLAN",
                _guest_trunking,
            ),
            _r("transparent-bridge", "vlan_filtering: true on the bridge", _transparent_bridge),
            _r(
                "untagged-ovs-port",
                "the VLAN tag the guest's zone uses on the bridge",
                _untagged_ovs,
            ),
            _r(
                "mac-spoofing-allowed",
                "guards.mac_spoofing: false",
                _guard(
                    "mac_spoofing",
                    False,
                    "-MacAddressSpoofing Off",
                    "the guest must send from its own MAC",
                ),
            ),
            _r(
                "dhcp-guard-off",
                "guards.dhcp_guard: true",
                _guard(
                    "dhcp_guard",
                    True,
                    "-DhcpGuard On",
                    "the guest is no DHCP server (no role dhcp-server)",
                ),
            ),
            _r(
                "router-guard-off",
                "guards.router_guard: true",
                _guard(
                    "router_guard",
                    True,
                    "-RouterGuard On",
                    "the guest is no router (no role router)",
                ),
            ),
            _r(
                "native-vlan-1",
                "set the trunk's native VLAN (and its link peer's) to an unused VLAN",
                _native_vlan,
            ),
            _none(
                "reserved-vlan",
                "renumbering a VLAN changes every switch, router and address plan that uses it; "
                "netseg does not choose a new number for a VLAN in use",
            ),
            _none(
                "dom0-runs-guest-bridge",
                "a network driver domain is a redesign of the host (a new domain owning the NIC)",
            ),
            _r("unused-resource", "remove the unused port group", _unused),
            _none(
                "upstream-unmodelled",
                "the switch the NIC is cabled to is information only the user has",
            ),
        )
    }
)


def candidates(ctx: Context, finding: Finding) -> list[Edit]:
    """The candidate edits for one finding, in order of preference (none for capture rules)."""
    remedy = REMEDIES.get(finding.rule)
    if remedy is None or remedy.propose is None:
        return []
    return remedy.propose(ctx, finding)


def iter_commands(edits: list[Edit]) -> Iterator[Command]:
    for e in edits:
        yield from e.commands
