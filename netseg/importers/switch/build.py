"""Switch facts as topology entities: a switch with its ports, a router per switch (and VRF)
with the SVIs, the SVIs' access lists as the router's ACL, and what neighbour tables say about
cables.

Ports that forward nothing are left out: a port that is shut down (``shutdown``, Junos
``disable``, or a member of a shut LAG), and a trunk that allows no VLAN. A port-channel member
carries its LAG's configuration (the switch suspends a member that disagrees), and both the
members and the LAG are ports, so LLDP, which runs per member link, can name either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from netseg.importers.base import Imported
from netseg.importers.switch.facts import Acl, AclEntry, Interface, Network, SwitchFacts
from netseg.importers.switch.neighbours import Neighbour
from netseg.model.vlans import VlanSet


@dataclass
class BuiltSwitch:
    """One switch's entities, and what the neighbour step needs to know about its ports."""

    name: str
    facts: SwitchFacts
    part: Imported
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)  # emitted ports by name
    left_out: dict[str, str] = field(default_factory=dict)  # interface -> why it is not a port
    negotiating: list[tuple[int, str]] = field(default_factory=list)  # DTP ports (line, name)


def switch_name(facts: SwitchFacts) -> str:
    return facts.hostname.split(".")[0]


def build_switch(facts: SwitchFacts, name: str) -> BuiltSwitch:
    part = Imported()
    for line, message in facts.warnings:
        part.warn(facts.where(line), message)
    built = BuiltSwitch(name, facts, part)
    lags = {
        _lag_number(i.name): i
        for i in facts.interfaces.values()
        if i.is_lag and _lag_number(i.name)
    }
    ports: list[dict[str, Any]] = []
    for iface in facts.interfaces.values():
        if iface.svi_vlan is not None:
            continue
        lag = None
        if iface.lag is not None:
            lag = lags.get(_lag_number(iface.lag) or "")
            if lag is None:
                part.warn(
                    facts.where(iface.line),
                    f"{iface.name} is a member of {iface.lag}, which the configuration does not have; read with its own settings",
                )
        port = _port(iface, lag, built)
        if port is not None:
            ports.append(port)
            built.ports[iface.name] = port
    if built.negotiating:
        first, names = built.negotiating[0][0], [n for _, n in built.negotiating]
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        part.warn(
            facts.where(first),
            f"{len(names)} port(s) negotiate their mode with DTP (no 'switchport mode'): "
            f"{shown}; read as access ports of their access VLAN, but a neighbour can make "
            "each a trunk of every VLAN (set 'switchport mode access', or 'switchport mode "
            "trunk' with 'switchport nonegotiate')",
        )
    part.entities("switches").append(
        {"name": name, "source": facts.where(facts.hostname_line or 1), "ports": ports}
    )
    for router in _routers(facts, name, built):
        part.entities("routers").append(router)
    part.warnings.sort(key=lambda w: int(w.source.rsplit(":", 1)[1]))  # in configuration order
    return built


_MANAGEMENT = re.compile(r"^(mgmt\d|management\d|fxp\d|em\d|me\d|vme)", re.IGNORECASE)


def _lag_number(name: str) -> str | None:
    m = re.fullmatch(r"(?i:port-channel|ae)(\d+)", name)
    return m.group(1) if m else None


def _port(iface: Interface, lag: Interface | None, built: BuiltSwitch) -> dict[str, Any] | None:
    facts, part = built.facts, built.part
    where = facts.where(iface.line)
    config = lag if lag is not None else iface
    if not iface.switchport and lag is None:
        if iface.addresses and iface.svi_vlan is None and not _MANAGEMENT.match(iface.name):
            part.warn(
                where,
                f"{iface.name} is a routed port with an address: not modelled (SVIs are the router interfaces netseg reads)",
            )
        built.left_out[iface.name] = "a routed (no switchport) interface"
        return None
    if iface.shutdown or (lag is not None and lag.shutdown):
        built.left_out[iface.name] = (
            "shut down" if iface.shutdown else f"its LAG {lag.name if lag else ''} is shut down"
        )
        return None
    port: dict[str, Any] = {"name": iface.name, "source": where}
    notes: list[str] = []
    mode = config.mode
    if (
        mode == "access"
        and config.voice_vlan is not None
        and config.voice_vlan != config.access_vlan
    ):
        # the phone's VLAN is tagged on the same port: what the wire carries is a trunk
        port["mode"] = "trunk"
        port["allowed"] = str(VlanSet.of([config.access_vlan, config.voice_vlan]))
        port["native"] = config.access_vlan
        notes.append(f"access VLAN {config.access_vlan} with voice VLAN {config.voice_vlan}")
    elif mode in ("access", "dynamic", "tunnel"):
        port["mode"] = "access"
        port["vlan"] = config.access_vlan
        if mode == "dynamic" and lag is None:
            built.negotiating.append((iface.line, iface.name))
        if mode == "tunnel":
            part.warn(
                where,
                f"{iface.name} is a dot1q-tunnel port: the customer's VLANs are carried inside VLAN {config.access_vlan}, read as an access port of that VLAN",
            )
        if facts.declared_vlans is not None and config.access_vlan not in facts.declared_vlans:
            part.warn(
                where,
                f"{iface.name} is in VLAN {config.access_vlan}, which the configuration does not declare: the switch forwards nothing for it until the VLAN is created",
            )
    elif mode == "trunk":
        allowed = config.allowed
        native = config.native
        if not allowed:
            built.left_out[iface.name] = "a trunk that allows no VLAN"
            part.warn(
                where,
                f"{iface.name} is a trunk that allows no VLAN: it forwards nothing and is left out",
            )
            return None
        port["mode"] = "trunk"
        port["allowed"] = str(allowed)
        port["native"] = native if native is not None else "none"
    else:
        built.left_out[iface.name] = f"{config.unmodelled or mode}, which netseg does not model"
        part.warn(
            where,
            f"{iface.name}: {config.unmodelled or mode} is not modelled; the port is left out",
        )
        return None
    if lag is not None:
        notes.append(f"member of {lag.name}")
    description = "; ".join([iface.description, *notes] if iface.description else notes)
    if description:
        port["description"] = description
    return port


# --- SVIs as routers ------------------------------------------------------------------------


def _routers(facts: SwitchFacts, switch: str, built: BuiltSwitch) -> list[dict[str, Any]]:
    part = built.part
    by_vrf: dict[str | None, list[Interface]] = {}
    for iface in facts.interfaces.values():
        if iface.svi_vlan is None:
            for ref in (iface.acl_in, iface.acl_out, iface.acl6_in, iface.acl6_out):
                if ref is not None and iface.switchport:
                    part.warn(
                        facts.where(ref[1]),
                        f"port ACL {ref[0]} on {iface.name} is not modelled (router ACLs on SVIs only): what it drops is counted as reachable",
                    )
            continue
        if iface.shutdown:
            built.left_out[iface.name] = "shut down"
            continue
        if not iface.addresses:
            continue
        if facts.declared_vlans is not None and iface.svi_vlan not in facts.declared_vlans:
            part.warn(
                facts.where(iface.line),
                f"{iface.name} routes VLAN {iface.svi_vlan}, which the configuration does not declare",
            )
        by_vrf.setdefault(iface.vrf if iface.vrf not in ("default",) else None, []).append(iface)
    routers = []
    for vrf, svis in sorted(by_vrf.items(), key=lambda kv: kv[0] or ""):
        interfaces = []
        for svi in svis:
            for k, (addr, line) in enumerate(svi.addresses):
                interfaces.append(
                    {
                        "name": svi.name if k == 0 else f"{svi.name} #{k + 1}",
                        "source": facts.where(line),
                        "switch": switch,
                        "vlan": svi.svi_vlan,
                        "address": str(addr),
                    }
                )
        router: dict[str, Any] = {
            "name": switch if vrf is None else f"{switch} vrf {vrf}",
            "source": facts.where(svis[0].line),
            "interfaces": interfaces,
        }
        acl = _router_acl(facts, svis, part)
        if acl:
            router["acl"] = acl
        router["default"] = "permit"  # a switch routes between its SVIs unless an ACL stops it
        routers.append(router)
    return routers


def _router_acl(facts: SwitchFacts, svis: list[Interface], part: Imported) -> list[dict[str, Any]]:
    applied_in = [(s, f, ref) for s in svis for f, ref in ((4, s.acl_in), (6, s.acl6_in)) if ref]
    applied_out = [(s, f, ref) for s in svis for f, ref in ((4, s.acl_out), (6, s.acl6_out)) if ref]
    if applied_in and applied_out:
        for svi, _, ref in applied_out:
            part.warn(
                facts.where(ref[1]),
                f"outbound ACL {ref[0]} on {svi.name} is not expressed: this router also filters inbound, and one first-match ACL cannot say both; what it drops is counted as reachable",
            )
        applied_out = []
    lines: list[dict[str, Any]] = []
    for direction, applied in (("in", applied_in), ("out", applied_out)):
        for svi, family, (name, ref_line) in applied:
            subnets = sorted({a.network for a, _ in svi.addresses if a.version == family}, key=str)
            if not subnets:
                continue
            acl = facts.acls.get((family, name))
            if acl is None:
                part.warn(
                    facts.where(ref_line),
                    f"ACL {name} applied to {svi.name} is not defined in this configuration: read as permitting everything",
                )
                continue
            for subnet in subnets:
                lines.extend(_acl_block(acl, subnet, direction, svi.name, facts, part))
    return lines


def _acl_block(
    acl: Acl, subnet: Network, direction: str, svi: str, facts: SwitchFacts, part: Imported
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in acl.entries:
        if e.inexact:
            if e.action == "deny":
                part.warn(
                    facts.where(e.line),
                    f"{acl.name}: deny line left out, the format cannot say {e.inexact}; what it denies is counted as reachable",
                )
                continue
            part.warn(
                facts.where(e.line),
                f"{acl.name}: permit line read wider than written: the format cannot say {e.inexact}",
            )
        services = _services(e)
        if services is None:
            continue
        src_list: list[Network | None] = list(e.src) if e.src else [None]
        dst_list: list[Network | None] = list(e.dst) if e.dst else [None]
        for src in src_list:
            for dst in dst_list:
                if direction == "in":
                    frm, to = _within(src, subnet), dst
                    if frm is None:
                        continue
                else:
                    frm, to = src, _within(dst, subnet)
                    if to is None:
                        continue
                if (frm is not None and frm.version != subnet.version) or (
                    to is not None and to.version != subnet.version
                ):
                    continue
                out.append(
                    {
                        "action": e.action,
                        "from": str(frm) if frm is not None else "any",
                        "to": str(to) if to is not None else "any",
                        "services": services,
                        "why": f"{acl.name} {direction} on {svi}, {facts.where(e.line)}",
                    }
                )
    end = (
        {"action": "deny", "from": str(subnet), "to": "any"}
        if direction == "in"
        else {"action": "deny", "from": "any", "to": str(subnet)}
    )
    end["why"] = (
        f"{acl.name} {direction} on {svi}: implicit deny at its end ({facts.where(acl.line)})"
    )
    out.append(end)
    return out


def _within(net: Network | None, subnet: Network) -> Network | None:
    """The part of ``net`` (None = any) inside ``subnet``, when it is one prefix; else None."""
    if net is None:
        return subnet
    if net.version != subnet.version:
        return None
    if net.subnet_of(subnet):  # type: ignore[arg-type]
        return net
    if subnet.subnet_of(net):  # type: ignore[arg-type]
        return subnet
    return None


def _services(e: AclEntry) -> str | list[str] | None:
    if e.protocol in ("any", "icmp", "icmp6", "other"):
        return e.protocol
    if e.ports is None:
        return e.protocol
    if not e.ports:
        return None
    return [f"{e.protocol}/{lo}" if lo == hi else f"{e.protocol}/{lo}-{hi}" for lo, hi in e.ports]


# --- neighbour tables -------------------------------------------------------------------------


_SHORT = re.compile(r"^([A-Za-z][A-Za-z-]*?)\s*(\d.*)$")


def expand_port(short: str, names: list[str]) -> str | None:
    """The configured interface a table's port id names (``Gi1/0/1`` -> ``GigabitEthernet1/0/1``,
    ``Eth1/1`` -> ``Ethernet1/1``, ``Et1`` -> ``Ethernet1``, ``Po1`` -> ``Port-Channel1``)."""
    if short in names:
        return short
    lowered = {n.lower(): n for n in names}
    if short.lower() in lowered:
        return lowered[short.lower()]
    m = _SHORT.match(short.strip())
    if m is None:
        return None
    prefix, rest = m.group(1).lower(), m.group(2)
    matches = []
    for n in names:
        nm = _SHORT.match(n)
        if nm and nm.group(2) == rest and nm.group(1).lower().startswith(prefix):
            matches.append(n)
    return matches[0] if len(matches) == 1 else None


def stripped(name: str) -> str:
    return name.split(".")[0].lower()


@dataclass
class HostSighting:
    switch: str
    port: str
    neighbour: Neighbour


def apply_neighbours(
    built: dict[str, BuiltSwitch], tables: list[tuple[str, list[Neighbour]]], out: Imported
) -> list[HostSighting]:
    """Links between switches where a table says so, neighbour notes on port descriptions, and
    the sightings of other systems (hosts) for :func:`cable_hosts`."""
    by_stripped = {stripped(n): n for n in built}
    links: dict[frozenset[str], tuple[str, str, str]] = {}
    used: dict[str, str] = {}  # "sw:port" -> where the cable was read
    sightings: list[HostSighting] = []
    for switch, neighbours in tables:
        b = built[switch]
        names = list(b.facts.interfaces)
        for nb in neighbours:
            local = expand_port(nb.local_port, names)
            if local is None:
                out.warn(
                    nb.where, f"{switch} has no interface {nb.local_port!r} (neighbour {nb.name})"
                )
                continue
            port = b.ports.get(local)
            if port is None:
                out.warn(
                    nb.where,
                    f"neighbour {nb.name} seen on {switch}:{local}, which is left out ({b.left_out.get(local, 'not a switchport')})",
                )
                continue
            note = f"{nb.protocol} neighbour {nb.name} port {nb.port_id or nb.port_description}"
            port["description"] = (
                f"{port['description']}; {note}" if port.get("description") else note
            )
            remote = by_stripped.get(stripped(nb.name)) if nb.name else None
            if remote is None:
                sightings.append(HostSighting(switch, local, nb))
                continue
            rb = built[remote]
            rport = None
            for candidate in (nb.port_id, nb.port_description):
                if candidate:
                    rport = expand_port(candidate, list(rb.facts.interfaces))
                    if rport:
                        break
            if rport is None or rport not in rb.ports:
                out.warn(
                    nb.where,
                    f"{switch}:{local} sees switch {remote} on port {nb.port_id or nb.port_description!r}, which {remote} does not have as a switchport: no link",
                )
                continue
            a, z = f"{switch}:{local}", f"{remote}:{rport}"
            key = frozenset((a, z))
            if key in links:
                continue
            clash = [e for e in (a, z) if e in used]
            if clash:
                out.warn(
                    nb.where,
                    f"{clash[0]} already has a cable ({used[clash[0]]}); no second link {a} - {z}",
                )
                continue
            links[key] = (min(a, z), max(a, z), nb.where)
            used[a] = used[z] = nb.where
    for a, z, _ in sorted(links.values()):
        out.document.setdefault("links", []).append([a, z])
    kept = []
    for s in sightings:
        here = f"{s.switch}:{s.port}"
        if here in used:
            out.warn(
                s.neighbour.where,
                f"{s.neighbour.name} is seen on {here}, which the tables also show cabled to a switch ({used[here]}): not cabled",
            )
        else:
            kept.append(s)
    return kept


def cable_hosts(
    sightings: list[HostSighting], hosts: list[dict[str, Any]], hosts_file: str, out: Imported
) -> None:
    """Name the switch port on each host NIC a neighbour table saw, by the host's name (with or
    without its domain) and the NIC's name as the host sent it (LLDP port id or port
    description, CDP port id)."""
    index: dict[str, dict[str, Any]] = {}
    for host in hosts:
        index.setdefault(str(host.get("name", "")).lower(), host)
        index.setdefault(stripped(str(host.get("name", ""))), host)
    taken: dict[tuple[str, str], str] = {}
    for host in hosts:
        for nic in host.get("nics", ()) or ():
            if nic.get("switch") and nic.get("port"):
                taken[(nic["switch"], nic["port"])] = f"{host['name']}/{nic['name']}"
    for s in sightings:
        nb = s.neighbour
        found = index.get(nb.name.lower()) or index.get(stripped(nb.name))
        if found is None:
            continue
        host = found
        nics = {str(n.get("name", "")).lower(): n for n in host.get("nics", ()) or ()}
        nic = nics.get(nb.port_id.lower()) or nics.get(nb.port_description.lower())
        if nic is None:
            out.warn(
                nb.where,
                f"host {host['name']} is on {s.switch}:{s.port}, but its NIC {nb.port_id or nb.port_description!r} is not in {hosts_file}: not cabled",
            )
            continue
        current = (nic.get("switch"), nic.get("port"))
        if current == (s.switch, s.port):
            continue
        if current[0] and current[0] != "upstream":
            out.warn(
                nb.where,
                f"{host['name']}/{nic['name']} is cabled to {current[0]}:{current[1]} in {hosts_file}, but this table sees it on {s.switch}:{s.port}; keeping {hosts_file}'s",
            )
            continue
        holder = taken.get((s.switch, s.port))
        if holder is not None:
            out.warn(
                nb.where,
                f"{s.switch}:{s.port} already has {holder} cabled: {host['name']}/{nic['name']} not cabled",
            )
            continue
        nic["switch"], nic["port"] = s.switch, s.port
        taken[(s.switch, s.port)] = f"{host['name']}/{nic['name']}"
