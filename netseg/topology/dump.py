"""The model's canonical document: every default made explicit, written back as the format.

``loads(dumps(t)) == t`` for every valid topology ``t`` (tested): the dump is how netseg shows
what it understood, and what importers of other formats should aim for.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from netseg.model.services import ServiceSet
from netseg.model.topology import (
    Address,
    Peer,
    PortGroup,
    Security,
    Topology,
    VlanMode,
    VSwitch,
)


def _addresses(addrs: tuple[Address, ...]) -> dict[str, Any]:
    if not addrs:
        return {}
    return {"address": [str(a) for a in addrs]}


def _services(s: ServiceSet) -> list[str]:
    return s.items()


def _peer(p: Peer) -> str:
    return str(p)


def _security(s: Security) -> dict[str, bool]:
    return {
        "promiscuous": s.promiscuous,
        "mac_changes": s.mac_changes,
        "forged_transmits": s.forged_transmits,
    }


def _nic_vlan(mode: VlanMode) -> Any:
    if mode.kind == "access":
        return mode.vlan
    return {"trunk": str(mode.trunk), "native": mode.native or 0}


def _portgroup(pg: PortGroup) -> dict[str, Any]:
    if pg.vlan.kind == "access":
        vlan: Any = pg.vlan.vlan
    elif pg.vlan_source == 4095:
        vlan = 4095
    else:
        vlan = {"trunk": str(pg.vlan.trunk)}
    return {"name": pg.name, "vlan": vlan, "security": _security(pg.security)}


def _vswitch(v: VSwitch, hypervisor: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": v.name, "type": v.type, "uplinks": [str(u) for u in v.uplinks]}
    if hypervisor == "esxi":
        d["security"] = _security(v.security)
        d["portgroups"] = [_portgroup(pg) for pg in v.portgroups]
    if v.type == "external":
        d["allow_management_os"] = v.allow_management_os
    if v.type == "bridge":
        d["vlan_filtering"] = v.vlan_filtering
    if hypervisor == "xen":
        d["domain"] = v.domain
    return d


def to_document(t: Topology) -> dict[str, Any]:
    """The topology as a plain document of schema version 1, defaults explicit."""
    doc: dict[str, Any] = {"netseg": 1, "name": t.name}
    if t.description:
        doc["description"] = t.description
    doc["zones"] = {
        z.name: {
            "privileged": z.privileged,
            **({"description": z.description} if z.description else {}),
        }
        for z in t.zones.values()
        if z.declared
    }
    p = t.policy
    policy: dict[str, Any] = {
        "intra_zone": p.intra_zone,
        "allow": [
            {
                "from": _peer(r.source),
                "to": _peer(r.destination),
                "services": _services(r.services),
                **({"why": r.why} if r.why else {}),
            }
            for r in p.allow
        ],
    }
    if p.severity:
        policy["severity"] = {k: v.value for k, v in sorted(p.severity.items())}
    if p.waivers:
        policy["waivers"] = [
            {"rule": w.rule, "subject": w.subject, "why": w.why} for w in p.waivers
        ]
    doc["policy"] = policy
    doc["switches"] = [
        {
            "name": s.name,
            "ports": [
                {"name": port.name, "mode": "access", "vlan": port.vlan, "qinq": port.qinq}
                if port.mode == "access"
                else {
                    "name": port.name,
                    "mode": "trunk",
                    "allowed": str(port.allowed) if port.allowed else [],
                    "native": port.native if port.native is not None else "none",
                    "qinq": port.qinq,
                }
                for port in s.ports
            ],
        }
        for s in t.switches
        if not s.implicit
    ]
    doc["links"] = [[str(link.a), str(link.b)] for link in t.links]
    doc["routers"] = []
    for r in t.routers:
        ifaces = []
        for i in r.interfaces:
            d: dict[str, Any] = {"name": i.name}
            if i.host:
                d["host"] = i.host
                if i.portgroup:
                    d.update(vswitch=i.vswitch, portgroup=i.portgroup)
                else:
                    d.update(vswitch=i.vswitch, vlan=i.vlan_mode.vlan)
            elif i.port:
                d.update(switch=i.switch, port=i.port)
                if i.vlan is not None:
                    d["vlan"] = i.vlan
            else:
                d.update(switch=i.switch, vlan=i.vlan)
            if i.address:
                d["address"] = str(i.address)
            if i.mac:
                d["mac"] = i.mac
            ifaces.append(d)
        doc["routers"].append(
            {
                "name": r.name,
                "interfaces": ifaces,
                "acl": [
                    {
                        "action": line.action,
                        "from": _peer(line.source),
                        "to": _peer(line.destination),
                        "services": _services(line.services),
                    }
                    for line in r.acl
                ],
                "default": r.default,
            }
        )
    doc["endpoints"] = []
    for e in t.endpoints:
        d = {"name": e.name, "zone": e.zone, "switch": e.switch}
        if e.port is not None:
            d["port"] = e.port
        if e.vlan is not None:
            d["vlan"] = e.vlan
        if e.mac:
            d["mac"] = e.mac
        d.update(_addresses(e.addresses))
        d["roles"] = sorted(e.roles)
        doc["endpoints"].append(d)
    doc["hosts"] = []
    for h in t.hosts:
        hv = h.hypervisor.value
        hd: dict[str, Any] = {"name": h.name, "hypervisor": hv, "iommu": h.iommu}
        hd["nics"] = []
        for hn in h.nics:
            nd: dict[str, Any] = {"name": hn.name}
            if hn.switch:
                nd.update(switch=hn.switch, port=hn.port)
            if hn.pci:
                nd["pci"] = hn.pci
            hd["nics"].append(nd)
        hd["vswitches"] = [_vswitch(v, hv) for v in h.vswitches]
        hd["management"] = []
        for m in h.management:
            if m.implicit:
                continue
            md: dict[str, Any] = {"name": m.name}
            if m.portgroup:
                md.update(portgroup=m.portgroup, vswitch=m.vswitch)
            elif m.vswitch:
                md.update(vswitch=m.vswitch, vlan=m.vlan.vlan)
            else:
                md["nic"] = m.nic if not m.vlan.vlan else f"{m.nic}.{m.vlan.vlan}"
            md.update(_addresses(m.addresses))
            if m.mac:
                md["mac"] = m.mac
            if hv == "esxi":
                md["services"] = sorted(m.services)
            md["zone"] = m.zone
            if hv == "xen":
                md["domain"] = m.domain
            hd["management"].append(md)
        if h.firewall is not None:
            hd["firewall"] = {
                "default": h.firewall.default,
                "allow": [
                    {
                        "from": _peer(r.source),
                        "services": _services(r.services),
                        **({"why": r.why} if r.why else {}),
                    }
                    for r in h.firewall.allow
                ],
            }
        if hv == "xen":
            hd["driver_domains"] = [
                {"name": d.name, "nics": list(d.nics), "passthrough": list(d.passthrough)}
                for d in h.driver_domains
            ]
        doc["hosts"].append(hd)
    hosts = {h.name: h for h in t.hosts}
    doc["guests"] = []
    for g in t.guests:
        gd: dict[str, Any] = {
            "name": g.name,
            "host": g.host,
            "zone": g.zone,
            "roles": sorted(g.roles),
            "passthrough": list(g.passthrough),
            "nics": [],
        }
        hv = hosts[g.host].hypervisor.value
        for n in g.nics:
            nd = {"name": n.name}
            if n.portgroup:
                nd.update(portgroup=n.portgroup, vswitch=n.vswitch)
            else:
                nd["vswitch"] = n.vswitch
                if n.vlan.kind == "access":
                    nd["vlan"] = n.vlan.vlan
                elif n.vlan.kind == "trunk":
                    vs = hosts[g.host].vswitch(n.vswitch)
                    ovs_default = vs is not None and vs.type == "ovs" and n.vlan.native == 0
                    if not (ovs_default and n.vlan.trunk.is_full()):
                        nd["vlan"] = _nic_vlan(n.vlan)
            if n.mac:
                nd["mac"] = n.mac
            nd.update(_addresses(n.addresses))
            if hv == "hyperv":
                nd["guards"] = {
                    "dhcp_guard": n.guards.dhcp_guard,
                    "router_guard": n.guards.router_guard,
                    "mac_spoofing": n.guards.mac_spoofing,
                }
            gd["nics"].append(nd)
        doc["guests"].append(gd)
    return doc


def dumps(t: Topology, json_form: bool = False) -> str:
    """The canonical document as YAML (or JSON)."""
    doc = to_document(t)
    if json_form:
        return json.dumps(doc, indent=2) + "\n"
    return yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
