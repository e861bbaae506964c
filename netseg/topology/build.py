"""From a structurally valid document to the model: references, scopes, hypervisor rules,
vendor defaults.

Every problem is collected (never the first only) with its position. Vendor defaults are
applied here, once, so analyses read resolved values:

- ESXi security: port group → its vSwitch → vendor default (standard: promiscuous false,
  MAC changes true, forged transmits true; distributed: all false);
- Hyper-V: an ``external`` switch with ``allow_management_os`` and every ``internal`` switch
  get a management-OS vNIC ``vEthernet (NAME)`` (untagged, no address) unless one is declared;
- zones ``management`` (privileged) and ``default`` always exist; NICs are named ``nic0``…
"""

from __future__ import annotations

from typing import Any

from netseg.model import refs
from netseg.model.topology import (
    DEFAULT_ZONE,
    MANAGEMENT_ZONE,
    UNTAGGED,
    AclLine,
    DriverDomain,
    Endpoint,
    Firewall,
    FirewallRule,
    Guards,
    Guest,
    GuestNic,
    Host,
    Hypervisor,
    Link,
    Location,
    ManagementInterface,
    Nic,
    Policy,
    PolicyRule,
    PortRef,
    Router,
    RouterInterface,
    Security,
    Severity,
    Switch,
    SwitchPort,
    Topology,
    Uplink,
    VlanMode,
    VSwitch,
    Waiver,
    Zone,
)
from netseg.model.vlans import VlanSet
from netseg.topology.build_base import _NO_GUARDS, _items, _list, _ok
from netseg.topology.build_esxi import VENDOR_SECURITY, EsxiParts
from netseg.topology.build_hyperv import HypervParts
from netseg.topology.build_xen import XenParts
from netseg.topology.source import MDict, MList
from netseg.topology.spec import (
    GUEST_NIC,
    HOST,
    INVALID,
    MANAGEMENT,
    VSWITCH,
    suggest,
)

DEFAULT_VSWITCH_TYPE = {"esxi": "standard", "xen": "bridge"}
_NO_ROLES: frozenset[str] = frozenset()
TYPES_OF = {
    "esxi": ("standard", "distributed"),
    "hyperv": ("external", "internal", "private"),
    "xen": ("bridge", "ovs"),
}


class Builder(EsxiParts, HypervParts, XenParts):
    """The whole model from a checked document; per-hypervisor parts in build_esxi.py,
    build_hyperv.py and build_xen.py."""

    # --- sections ----------------------------------------------------------------------------
    def build(self) -> Topology:
        doc = self.doc
        self.build_zones()
        switches = self.build_switches()
        links = self.build_links(switches)
        hosts = self.build_hosts(switches)
        host_by_name = {h.name: h for h in hosts}
        routers = self.build_routers(switches, host_by_name)
        endpoints = self.build_endpoints(switches)
        guests = self.build_guests(host_by_name)
        self.check_cabling(switches, links, hosts, routers, endpoints)
        policy = self.build_policy(switches, hosts, routers, endpoints, guests)
        name = doc.get("name")
        return Topology(
            name=str(name) if _ok(name) else "",
            file=self.file,
            zones=dict(self.zones),
            policy=policy,
            description=str(doc.get("description") or ""),
            switches=tuple(switches.values()),
            links=tuple(links),
            routers=tuple(routers),
            endpoints=tuple(endpoints),
            hosts=tuple(hosts),
            guests=tuple(guests),
            location=self.loc(doc),
        )

    def build_zones(self) -> None:
        zones = self.doc.get("zones")
        if isinstance(zones, MDict):
            for name, z in zones.items():
                if not isinstance(z, MDict):
                    continue
                privileged = bool(z.get("privileged", False)) if _ok(z.get("privileged")) else False
                if name == MANAGEMENT_ZONE and z.get("privileged") is False:
                    self.err(
                        zones,
                        name,
                        f"zones.{name}.privileged",
                        "the management zone is always privileged",
                    )
                self.zones[name] = Zone(
                    name,
                    privileged=privileged or name == MANAGEMENT_ZONE,
                    description=str(z.get("description") or ""),
                    location=Location(zones.file, *zones.key_marks.get(name, zones.mark)),
                )
        if MANAGEMENT_ZONE not in self.zones:
            self.zones[MANAGEMENT_ZONE] = Zone(
                MANAGEMENT_ZONE,
                privileged=True,
                description="hypervisor administration",
                declared=False,
            )
        if DEFAULT_ZONE not in self.zones:
            self.zones[DEFAULT_ZONE] = Zone(DEFAULT_ZONE, declared=False)

    def build_switches(self) -> dict[str, Switch]:
        items = _items(self.doc, "switches")
        out: dict[str, Switch] = {}
        for name, sw in self.unique(items, "switches", "switch").items():
            i = self.pos[id(sw)]
            path = f"switches[{i}]"
            ports_items = _items(sw, "ports")
            ports = []
            for pname, port in self.unique(
                ports_items, f"{path}.ports", "port", f"on switch {name}"
            ).items():
                j = self.pos[id(port)]
                ports.append(self.build_port(port, f"{path}.ports[{j}]", str(pname)))
            out[name] = Switch(name, tuple(ports), location=self.loc(sw))
        return out

    def build_port(self, port: MDict, path: str, name: str) -> SwitchPort:
        mode = port.get("mode") if _ok(port.get("mode")) else "access"
        vlan = port.get("vlan") if _ok(port.get("vlan")) else None
        qinq = bool(port.get("qinq")) if _ok(port.get("qinq")) else False
        if mode == "access":
            for key in ("allowed", "native"):
                if key in port:
                    self.err(
                        port,
                        key,
                        f"{path}.{key}",
                        f"{key!r} applies to trunk ports only",
                        at_key=True,
                    )
            if vlan is None and "vlan" not in port:
                self.err(port, None, path, f"access port {name} needs 'vlan'")
            return SwitchPort(name, "access", vlan=vlan, qinq=qinq, location=self.loc(port))
        if "vlan" in port:
            self.err(
                port,
                "vlan",
                f"{path}.vlan",
                "a trunk port has 'allowed' and 'native', not 'vlan'",
                at_key=True,
            )
        allowed = port.get("allowed", VlanSet.full())
        if not isinstance(allowed, VlanSet):
            allowed = VlanSet.full()
        native = port.get("native", 1)
        if native is INVALID:
            native = 1
        return SwitchPort(
            name, "trunk", allowed=allowed, native=native, qinq=qinq, location=self.loc(port)
        )

    def switch_port(
        self, item: MDict, path: str, switches: dict[str, Switch], required_port: bool = True
    ) -> tuple[str | None, str | None]:
        sw = item.get("switch")
        port = item.get("port")
        if not _ok(sw):
            if _ok(port):
                self.err(item, "port", f"{path}.port", "'port' needs 'switch'", at_key=True)
            return None, None
        if sw not in switches:
            self.err(item, "switch", f"{path}.switch", f"no switch {sw!r}{suggest(sw, switches)}")
            return None, None
        if _ok(port):
            if not switches[sw].has_port(port):
                names = [p.name for p in switches[sw].ports]
                self.err(
                    item,
                    "port",
                    f"{path}.port",
                    f"no port {port!r} on switch {sw}{suggest(port, names)}",
                )
                return sw, None
            return sw, port
        return sw, None

    def build_links(self, switches: dict[str, Switch]) -> list[Link]:
        links: list[Link] = []
        raw = self.doc.get("links")
        if not isinstance(raw, list):
            return links
        for i, item in enumerate(raw):
            if not isinstance(item, MList):
                continue
            path = f"links[{i}]"
            if len(item) != 2:
                self.err(raw, i, path, f"a link joins exactly two ports, got {len(item)}")
                continue
            ends = []
            for j, end in enumerate(item):
                ref = self.port_ref(end, item, j, f"{path}[{j}]", switches)
                if ref:
                    ends.append(ref)
            if len(ends) == 2:
                if ends[0] == ends[1]:
                    self.err(raw, i, path, f"link joins port {ends[0]} to itself")
                    continue
                links.append(Link(ends[0], ends[1], location=self.loc(item)))
        return links

    def port_ref(
        self, text: Any, container: Any, key: Any, path: str, switches: dict[str, Switch]
    ) -> PortRef | None:
        if not isinstance(text, str) or ":" not in text:
            self.err(container, key, path, f"expected SWITCH:PORT, got {text!r}")
            return None
        sw, _, port = text.partition(":")
        if sw not in switches:
            self.err(container, key, path, f"no switch {sw!r}{suggest(sw, switches)}")
            return None
        if not switches[sw].has_port(port):
            names = [p.name for p in switches[sw].ports]
            self.err(container, key, path, f"no port {port!r} on switch {sw}{suggest(port, names)}")
            return None
        return PortRef(sw, port)

    # --- hosts ---------------------------------------------------------------------------------
    def build_hosts(self, switches: dict[str, Switch]) -> list[Host]:
        out = []
        items = _items(self.doc, "hosts")
        for _name, h in self.unique(items, "hosts", "host").items():
            i = self.pos[id(h)]
            host = self.build_host(h, f"hosts[{i}]", switches)
            if host:
                out.append(host)
        return out

    def build_host(self, h: MDict, path: str, switches: dict[str, Switch]) -> Host | None:
        name = str(h["name"])
        hv = h.get("hypervisor")
        if not _ok(hv):
            return None
        hypervisor = Hypervisor(hv)
        self.check_applies(HOST, h, hypervisor.value, path)

        nics: dict[str, Nic] = {}
        for nname, n in self.unique(
            _items(h, "nics"), f"{path}.nics", "NIC", f"on host {name}"
        ).items():
            j = self.pos[id(n)]
            npath = f"{path}.nics[{j}]"
            sw, port = self.switch_port(n, npath, switches)
            if sw is not None and port is None and "port" not in n:
                self.err(n, None, npath, f"NIC {nname} names switch {sw} but no 'port'")
            pci = n.get("pci") if _ok(n.get("pci")) else None
            nics[nname] = Nic(nname, sw, port, pci, location=self.loc(n))

        domains = self.build_driver_domains(h, path, name, nics)

        used: dict[str, str] = {}  # NIC or NIC.VLAN -> who uses it

        def use(ref: str, who: str, container: Any, key: Any, p: str) -> None:
            if ref in used:
                self.err(container, key, p, f"NIC {ref} is already used by {used[ref]}")
            else:
                used[ref] = who

        vswitches: dict[str, VSwitch] = {}
        vs_items = _items(h, "vswitches")
        for vname, v in self.unique(
            vs_items, f"{path}.vswitches", "virtual switch", f"on host {name}"
        ).items():
            j = self.pos[id(v)]
            vs = self.build_vswitch(
                v, f"{path}.vswitches[{j}]", hypervisor, name, nics, domains, use
            )
            if vs:
                vswitches[vname] = vs

        for dname, domain in domains.items():
            for nic in domain.nics:
                used.setdefault(nic, f"driver domain {dname}")

        management = self.build_management(h, path, hypervisor, name, nics, vswitches, domains, use)

        fw = None
        if isinstance(h.get("firewall"), MDict):
            f = h["firewall"]
            rules = []
            for k, r in _items(f, "allow"):
                rules.append(
                    FirewallRule(
                        self.peer(r, "from", f"{path}.firewall.allow[{k}]"),
                        self.services(r),
                        str(r.get("why") or ""),
                        location=self.loc(r),
                    )
                )
            default = f.get("default", "deny")
            fw = Firewall(default if _ok(default) else "deny", tuple(rules), location=self.loc(f))

        iommu = h.get("iommu", True)
        return Host(
            name,
            hypervisor,
            iommu=bool(iommu) if _ok(iommu) else True,
            nics=tuple(nics.values()),
            vswitches=tuple(vswitches.values()),
            management=tuple(management),
            firewall=fw,
            driver_domains=tuple(domains.values()),
            location=self.loc(h),
        )

    def build_vswitch(
        self,
        v: MDict,
        path: str,
        hypervisor: Hypervisor,
        host: str,
        nics: dict[str, Nic],
        domains: dict[str, DriverDomain],
        use: Any,
    ) -> VSwitch | None:
        name = str(v["name"])
        hv = hypervisor.value
        vtype = v.get("type")
        if vtype is INVALID:
            return None
        if vtype is None:
            if hv == "hyperv":
                self.err(
                    v,
                    None,
                    path,
                    f"Hyper-V switch {name} needs 'type': external, internal or private",
                )
                return None
            vtype = DEFAULT_VSWITCH_TYPE[hv]
        if vtype not in TYPES_OF[hv]:
            self.err(
                v,
                "type",
                f"{path}.type",
                f"{vtype!r} is not a {hv} virtual switch type (expected {' | '.join(TYPES_OF[hv])})",
            )
            return None
        self.check_applies(VSWITCH, v, hv, path)
        if "vlan_filtering" in v and vtype == "ovs":
            self.err(
                v,
                "vlan_filtering",
                f"{path}.vlan_filtering",
                "'vlan_filtering' applies to Linux bridges, not OVS (OVS ports take 'vlan')",
                at_key=True,
            )
        if "allow_management_os" in v and hv == "hyperv" and vtype != "external":
            self.err(
                v,
                "allow_management_os",
                f"{path}.allow_management_os",
                "'allow_management_os' applies to external switches (an internal switch always has the management OS)",
                at_key=True,
            )

        domain = v.get("domain", "dom0")
        if not _ok(domain):
            domain = "dom0"
        if domain != "dom0" and domain not in domains:
            self.err(
                v,
                "domain",
                f"{path}.domain",
                f"no driver domain {domain!r} on host {host}{suggest(domain, domains)}",
            )

        uplinks: list[Uplink] = []
        raw_uplinks = _list(v, "uplinks")
        for k, up in enumerate(raw_uplinks):
            if not _ok(up):
                continue
            upath = f"{path}.uplinks[{k}]"
            nic_name, vlan = up, None
            if up not in nics and "." in up:
                base, _, tag = up.rpartition(".")
                if tag.isdigit() and base in nics:
                    nic_name, vlan = base, int(tag)
                    if not 1 <= vlan <= 4094:
                        self.err(
                            v["uplinks"],
                            k,
                            upath,
                            f"VLAN {vlan} of subinterface {up!r} is outside 1-4094",
                        )
                        continue
                    if hv != "xen":
                        self.err(
                            v["uplinks"],
                            k,
                            upath,
                            f"NIC.VLAN subinterfaces are a Xen/Linux feature, not {hv}",
                        )
                        continue
            if nic_name not in nics:
                self.err(v["uplinks"], k, upath, f"no NIC {up!r} on host {host}{suggest(up, nics)}")
                continue
            use(str(up), f"virtual switch {name}", v["uplinks"], k, upath)
            if domain != "dom0" and domain in domains and nic_name not in domains[domain].nics:
                self.err(
                    v["uplinks"],
                    k,
                    upath,
                    f"NIC {nic_name} is not passed to driver domain {domain} (add it to its 'nics')",
                )
            uplinks.append(Uplink(nic_name, vlan))
        self.check_hyperv_uplinks(v, path, name, vtype, raw_uplinks)

        security = self.resolve_security(v.get("security"), VENDOR_SECURITY.get(vtype, Security()))
        portgroups = self.build_portgroups(v, path, name, vtype, security)
        amo = v.get("allow_management_os", False)
        vf = v.get("vlan_filtering", False)
        return VSwitch(
            name,
            vtype,
            tuple(uplinks),
            security,
            tuple(portgroups),
            allow_management_os=bool(amo) if _ok(amo) else False,
            vlan_filtering=bool(vf) if _ok(vf) else False,
            domain=str(domain),
            location=self.loc(v),
        )

    def vswitch_map(self, host: Host) -> dict[str, VSwitch]:
        found = self.vswitch_maps.get(host.name)
        if found is None:
            found = self.vswitch_maps[host.name] = {v.name: v for v in host.vswitches}
        return found

    def build_management(
        self,
        h: MDict,
        path: str,
        hypervisor: Hypervisor,
        host: str,
        nics: dict[str, Nic],
        vswitches: dict[str, VSwitch],
        domains: dict[str, DriverDomain],
        use: Any,
    ) -> list[ManagementInterface]:
        out: list[ManagementInterface] = []
        hv = hypervisor.value
        for mname, m in self.unique(
            _items(h, "management"), f"{path}.management", "management interface", f"on host {host}"
        ).items():
            j = self.pos[id(m)]
            mpath = f"{path}.management[{j}]"
            has_pg = "portgroup" in m
            has_vs = "vswitch" in m
            has_nic = "nic" in m
            kinds = [
                k
                for k, present in (
                    ("portgroup", has_pg),
                    ("vswitch", has_vs and not has_pg),
                    ("nic", has_nic),
                )
                if present
            ]
            if len(kinds) != 1:
                self.err(
                    m,
                    None,
                    mpath,
                    f"management interface {mname} must attach by exactly one of 'portgroup', 'vswitch' (+ 'vlan') or 'nic'"
                    + (f", got {' and '.join(kinds)}" if kinds else ""),
                )
                continue
            if "vlan" in m and not has_vs:
                self.err(
                    m,
                    "vlan",
                    f"{mpath}.vlan",
                    "'vlan' goes with 'vswitch' (a port group sets its own VLAN)",
                    at_key=True,
                )
            zone = self.zone_ref(m, "zone", mpath, MANAGEMENT_ZONE)
            if zone in self.zones and not self.zones[zone].privileged:
                self.err(
                    m,
                    "zone",
                    f"{mpath}.zone",
                    f"zone {zone!r} is not privileged (declare it with privileged: true)",
                )
            domain = m.get("domain", "dom0")
            self.check_applies(MANAGEMENT, m, hv, mpath)
            if _ok(domain) and domain != "dom0" and domain not in domains:
                self.err(
                    m,
                    "domain",
                    f"{mpath}.domain",
                    f"no driver domain {domain!r} on host {host}{suggest(domain, domains)}",
                )
            services = m.get("services")
            svc = (
                frozenset(x for x in services if _ok(x))
                if isinstance(services, list)
                else frozenset({"management"})
            )
            common: dict[str, Any] = dict(
                host=host,
                name=mname,
                addresses=self.addresses(m),
                mac=self.claim_mac(m, mpath, f"management interface {host}/{mname}"),
                services=svc,
                zone=zone,
                domain=str(domain) if _ok(domain) else "dom0",
                location=self.loc(m),
            )
            if has_pg:
                if hv != "esxi":
                    self.err(
                        m,
                        "portgroup",
                        f"{mpath}.portgroup",
                        f"port groups are an ESXi feature; on {hv} use 'vswitch' (+ 'vlan')",
                        at_key=True,
                    )
                    continue
                found = self.find_portgroup(m, mpath, host, vswitches)
                if found:
                    vs, pg = found
                    out.append(
                        ManagementInterface(
                            vswitch=vs.name, portgroup=pg.name, vlan=pg.vlan, **common
                        )
                    )
            elif has_vs:
                vs_name = m.get("vswitch")
                if not _ok(vs_name):
                    continue
                target = vswitches.get(vs_name)
                if target is None:
                    self.err(
                        m,
                        "vswitch",
                        f"{mpath}.vswitch",
                        f"no virtual switch {vs_name!r} on host {host}{suggest(vs_name, vswitches)}",
                    )
                    continue
                vs = target
                if vs.is_esxi:
                    self.err(
                        m,
                        "vswitch",
                        f"{mpath}.vswitch",
                        "on ESXi a vmkernel interface attaches to a 'portgroup'",
                    )
                    continue
                if vs.type == "private":
                    self.err(
                        m,
                        "vswitch",
                        f"{mpath}.vswitch",
                        f"a private switch ({vs.name}) has no management-OS interface",
                    )
                    continue
                if vs.type == "external" and not vs.allow_management_os:
                    self.err(
                        m,
                        "vswitch",
                        f"{mpath}.vswitch",
                        f"switch {vs.name} does not share with the management OS (set allow_management_os: true)",
                    )
                    continue
                vlan = m.get("vlan", 0)
                vlan = vlan if _ok(vlan) else 0
                if vs.type == "bridge" and not vs.vlan_filtering and vlan:
                    self.err(
                        m,
                        "vlan",
                        f"{mpath}.vlan",
                        f"bridge {vs.name} has no vlan_filtering; put the interface on a NIC.VLAN bridge or enable vlan_filtering",
                    )
                mode = VlanMode("access", vlan=int(vlan))
                out.append(ManagementInterface(vswitch=vs.name, vlan=mode, **common))
            else:
                nic = m.get("nic")
                if not _ok(nic):
                    continue
                nic_name, vlan_tag = nic, None
                if nic not in nics and "." in nic:
                    base, _, tag = nic.rpartition(".")
                    if tag.isdigit() and base in nics:
                        nic_name, vlan_tag = base, int(tag)
                if nic_name not in nics:
                    self.err(
                        m,
                        "nic",
                        f"{mpath}.nic",
                        f"no NIC {nic!r} on host {host}{suggest(nic, nics)}",
                    )
                    continue
                use(str(nic), f"management interface {mname}", m, "nic", f"{mpath}.nic")
                mode = VlanMode("access", vlan=vlan_tag or 0)
                out.append(ManagementInterface(nic=nic_name, vlan=mode, **common))
        if hv == "hyperv":
            out += self.implicit_management_vnics(host, vswitches, out)
        return out

    # --- routers, endpoints, guests --------------------------------------------------------
    def build_routers(self, switches: dict[str, Switch], hosts: dict[str, Host]) -> list[Router]:
        out = []
        for rname, r in self.unique(_items(self.doc, "routers"), "routers", "router").items():
            i = self.pos[id(r)]
            path = f"routers[{i}]"
            ifaces = []
            for iname, itf in self.unique(
                _items(r, "interfaces"), f"{path}.interfaces", "interface", f"on router {rname}"
            ).items():
                j = self.pos[id(itf)]
                ipath = f"{path}.interfaces[{j}]"
                iface = self.build_router_interface(
                    itf, ipath, str(rname), str(iname), switches, hosts
                )
                if iface:
                    ifaces.append(iface)
            acl = []
            for k, line in _items(r, "acl"):
                lpath = f"{path}.acl[{k}]"
                action = line.get("action")
                acl.append(
                    AclLine(
                        action if _ok(action) else "deny",
                        self.peer(line, "from", lpath),
                        self.peer(line, "to", lpath),
                        self.services(line),
                        index=k,
                        location=self.loc(line),
                    )
                )
            default = r.get("default", "deny")
            out.append(
                Router(
                    rname,
                    tuple(ifaces),
                    tuple(acl),
                    default if _ok(default) else "deny",
                    location=self.loc(r),
                )
            )
        return out

    def build_router_interface(
        self,
        itf: MDict,
        path: str,
        router: str,
        name: str,
        switches: dict[str, Switch],
        hosts: dict[str, Host],
    ) -> RouterInterface | None:
        address = itf.get("address") if _ok(itf.get("address")) else None
        mac = self.claim_mac(itf, path, f"router interface {router}/{name}")
        common: dict[str, Any] = dict(
            router=router, name=name, address=address, mac=mac, location=self.loc(itf)
        )
        if "host" in itf:
            for key in ("switch", "port"):
                if key in itf:
                    self.err(
                        itf,
                        key,
                        f"{path}.{key}",
                        f"a virtual appliance interface (host) takes 'vswitch'/'portgroup', not {key!r}",
                        at_key=True,
                    )
            hname = itf.get("host")
            if not _ok(hname):
                return None
            host = hosts.get(hname)
            if host is None:
                self.err(itf, "host", f"{path}.host", f"no host {hname!r}{suggest(hname, hosts)}")
                return None
            vsw = {v.name: v for v in host.vswitches}
            if "portgroup" in itf:
                found = self.find_portgroup(itf, path, host.name, vsw)
                if not found:
                    return None
                vs, pg = found
                return RouterInterface(
                    host=host.name, vswitch=vs.name, portgroup=pg.name, vlan_mode=pg.vlan, **common
                )
            vs_name = itf.get("vswitch")
            if not _ok(vs_name):
                self.err(
                    itf, None, path, "a virtual appliance interface needs 'vswitch' or 'portgroup'"
                )
                return None
            if vs_name not in vsw:
                self.err(
                    itf,
                    "vswitch",
                    f"{path}.vswitch",
                    f"no virtual switch {vs_name!r} on host {host.name}{suggest(vs_name, vsw)}",
                )
                return None
            vlan = itf.get("vlan", 0)
            vlan = vlan if _ok(vlan) else 0
            return RouterInterface(
                host=host.name,
                vswitch=vs_name,
                vlan_mode=VlanMode("access", vlan=int(vlan)),
                **common,
            )
        for key in ("vswitch", "portgroup"):
            if key in itf:
                self.err(
                    itf,
                    key,
                    f"{path}.{key}",
                    f"{key!r} needs 'host' (a virtual router appliance)",
                    at_key=True,
                )
        sw, port = self.switch_port(itf, path, switches)
        if "switch" not in itf:
            self.err(
                itf,
                None,
                path,
                f"interface {name} needs 'switch' + 'vlan' (SVI), 'switch' + 'port', or 'host' + 'vswitch'/'portgroup'",
            )
            return None
        if sw is None:
            return None
        vlan = itf.get("vlan") if _ok(itf.get("vlan")) else None
        if "port" in itf:
            if port is None:
                return None
            return RouterInterface(switch=sw, port=port, vlan=vlan, **common)
        if vlan is None:
            if "vlan" not in itf:
                self.err(
                    itf, None, path, f"SVI {name} on switch {sw} needs 'vlan' (or name a 'port')"
                )
            return None
        if vlan == 0:
            self.err(itf, "vlan", f"{path}.vlan", "an SVI's VLAN is 1-4094")
            return None
        return RouterInterface(switch=sw, vlan=vlan, **common)

    def build_endpoints(self, switches: dict[str, Switch]) -> list[Endpoint]:
        out = []
        for ename, e in self.unique(_items(self.doc, "endpoints"), "endpoints", "endpoint").items():
            i = self.pos[id(e)]
            path = f"endpoints[{i}]"
            sw, port = self.switch_port(e, path, switches)
            vlan = e.get("vlan") if _ok(e.get("vlan")) else None
            if "port" in e and "vlan" in e:
                self.err(
                    e,
                    "vlan",
                    f"{path}.vlan",
                    "give 'port' or 'vlan', not both (a port sets its VLAN)",
                    at_key=True,
                )
            elif "port" not in e and "vlan" not in e:
                self.err(
                    e,
                    None,
                    path,
                    f"endpoint {ename} needs 'port' or 'vlan' on switch {sw or e.get('switch')}",
                )
            zone = self.zone_ref(e, "zone", path)
            roles = frozenset(x for x in _list(e, "roles") if _ok(x))
            if sw is None:
                continue
            out.append(
                Endpoint(
                    ename,
                    sw,
                    port=port,
                    vlan=vlan,
                    zone=zone,
                    mac=self.claim_mac(e, path, f"endpoint {ename}"),
                    addresses=self.addresses(e),
                    roles=roles,
                    location=self.loc(e),
                )
            )
        return out

    def build_guests(self, hosts: dict[str, Host]) -> list[Guest]:
        out = []
        for gname, g in self.unique(_items(self.doc, "guests"), "guests", "guest").items():
            i = self.pos[id(g)]
            path = f"guests[{i}]"
            hname = g.get("host")
            host = hosts.get(hname) if _ok(hname) else None
            if _ok(hname) and host is None and hname not in self.declared_hosts:
                self.err(g, "host", f"{path}.host", f"no host {hname!r}{suggest(hname, hosts)}")
            zone = self.zone_ref(g, "zone", path)
            nics = []
            names_seen: dict[str, int] = {}
            raw_nics = g.get("nics") if isinstance(g.get("nics"), list) else []
            for j, n in enumerate(raw_nics):
                if not isinstance(n, MDict):
                    continue
                npath = f"{path}.nics[{j}]"
                nname = n.get("name") if _ok(n.get("name")) else f"nic{j}"
                if nname in names_seen:
                    self.err(
                        n,
                        "name" if "name" in n else None,
                        npath,
                        f"duplicate NIC name {nname!r} on guest {gname} (first at nics[{names_seen[nname]}])",
                    )
                    continue
                names_seen[nname] = j
                if host is None:
                    continue
                nic = self.build_guest_nic(n, npath, str(gname), str(nname), host)
                if nic:
                    nics.append(nic)
            # most guests declare neither roles nor passthrough: the shared empty values
            roles = _list(g, "roles")
            passthrough = _list(g, "passthrough")
            out.append(
                Guest(
                    gname,
                    host.name if host else str(hname),
                    zone,
                    frozenset(x for x in roles if _ok(x)) if roles else _NO_ROLES,
                    tuple(x for x in passthrough if _ok(x)) if passthrough else (),
                    tuple(nics),
                    Location(g.file, g.mark[0], g.mark[1]),
                )
            )
        return out

    def build_guest_nic(
        self, n: MDict, path: str, guest: str, name: str, host: Host
    ) -> GuestNic | None:
        hv = host.hypervisor.value
        vsw = self.vswitch_map(host)
        mac = self.claim_mac(n, path, f"guest {guest}/{name}")
        guards_raw = n.get("guards")
        self.check_applies(GUEST_NIC, n, hv, path)
        guards = _NO_GUARDS
        if isinstance(guards_raw, MDict):
            guards = Guards(**{k: bool(v) for k, v in guards_raw.items() if isinstance(v, bool)})
        common: dict[str, Any] = dict(
            guest=guest,
            name=name,
            mac=mac,
            addresses=self.addresses(n),
            guards=guards,
            location=self.loc(n),
        )
        if hv == "esxi":
            return self.esxi_guest_nic(n, path, guest, name, host, vsw, common)
        if "portgroup" in n:
            self.err(
                n,
                "portgroup",
                f"{path}.portgroup",
                f"port groups are an ESXi feature; on {hv} use 'vswitch' (+ 'vlan')",
                at_key=True,
            )
            return None
        vs_name = n.get("vswitch")
        if not _ok(vs_name):
            if "vswitch" not in n:
                self.err(n, None, path, f"NIC {name} of guest {guest} needs 'vswitch'")
            return None
        target = vsw.get(vs_name)
        if target is None:
            self.err(
                n,
                "vswitch",
                f"{path}.vswitch",
                f"no virtual switch {vs_name!r} on host {host.name}{suggest(vs_name, vsw)}",
            )
            return None
        vs = target
        raw = n.get("vlan")
        if raw is INVALID:
            return None
        mode = self.nic_vlan_mode(n, path, raw, vs)
        if mode is None:
            return None
        return GuestNic(vswitch=vs.name, vlan=mode, **common)

    def nic_vlan_mode(self, n: MDict, path: str, raw: Any, vs: VSwitch) -> VlanMode | None:
        if vs.type == "bridge" and not vs.vlan_filtering:
            if raw is not None:
                self.err(
                    n,
                    "vlan",
                    f"{path}.vlan",
                    f"bridge {vs.name} has no vlan_filtering, so its ports carry no VLAN setting (guests' tags pass through); enable vlan_filtering or remove 'vlan'",
                )
                return None
            return VlanMode("transparent", vlan=0, trunk=VlanSet.full(), native=0)
        if raw is None:
            if vs.type == "ovs":
                return VlanMode("trunk", trunk=VlanSet.full(), native=0)
            return UNTAGGED
        if isinstance(raw, MDict):
            trunk = raw.get("trunk") if isinstance(raw.get("trunk"), VlanSet) else VlanSet.empty()
            native = raw.get("native", 0)
            native = native if _ok(native) else 0
            return VlanMode("trunk", trunk=trunk, native=int(native))
        return VlanMode("access", vlan=int(raw))

    # --- cross checks ----------------------------------------------------------------------
    def check_cabling(
        self,
        switches: dict[str, Switch],
        links: list[Link],
        hosts: list[Host],
        routers: list[Router],
        endpoints: list[Endpoint],
    ) -> None:
        """A switch port is cabled to at most one thing."""
        cabled: dict[tuple[str, str], str] = {}

        def plug(sw: str | None, port: str | None, who: str, loc: Location) -> None:
            if sw is None or port is None:
                return
            key = (sw, port)
            if key in cabled:
                self.p.items.append(
                    (
                        loc.file,
                        loc.line,
                        loc.column,
                        "",
                        f"port {sw}:{port} is already cabled to {cabled[key]}; {who} cannot use it too",
                    )
                )
            else:
                cabled[key] = who

        for link in links:
            plug(link.a.switch, link.a.port, f"link to {link.b}", link.location)
            plug(link.b.switch, link.b.port, f"link to {link.a}", link.location)
        for h in hosts:
            for nic in h.nics:
                plug(nic.switch, nic.port, f"NIC {h.name}/{nic.name}", nic.location)
        for r in routers:
            # Router-on-a-stick: one router may put several 802.1Q subinterfaces on one port,
            # each in its own VLAN; the port is still cabled to that router only.
            vlans_on: dict[tuple[str | None, str], dict[int | None, str]] = {}
            for i in r.interfaces:
                if not i.port:
                    continue
                seen = vlans_on.setdefault((i.switch, i.port), {})
                if seen:
                    if i.vlan in seen:
                        what = f"VLAN {i.vlan}" if i.vlan is not None else "untagged frames"
                        self.p.items.append(
                            (
                                i.location.file,
                                i.location.line,
                                i.location.column,
                                "",
                                f"router {r.name} already has interface {seen[i.vlan]} for "
                                f"{what} on port {i.switch}:{i.port}",
                            )
                        )
                    seen[i.vlan] = i.name
                    continue
                seen[i.vlan] = i.name
                plug(i.switch, i.port, f"router {r.name} (interface {i.name})", i.location)
        for e in endpoints:
            plug(e.switch, e.port, f"endpoint {e.name}", e.location)

    def build_policy(
        self,
        switches: dict[str, Switch],
        hosts: list[Host],
        routers: list[Router],
        endpoints: list[Endpoint],
        guests: list[Guest],
    ) -> Policy:
        pol = self.doc.get("policy")
        if not isinstance(pol, MDict):
            return Policy()
        rules = []
        for k, r in _items(pol, "allow"):
            path = f"policy.allow[{k}]"
            rules.append(
                PolicyRule(
                    self.peer(r, "from", path),
                    self.peer(r, "to", path),
                    self.services(r),
                    str(r.get("why") or ""),
                    location=self.loc(r),
                )
            )
        # rule ids are checked where the rules are known (netseg.rules.catalogue)
        severity: dict[str, Severity] = {}
        sev = pol.get("severity")
        if isinstance(sev, MDict):
            for rule, level in sev.items():
                if _ok(level):
                    severity[rule] = Severity(level)
        known = entity_references(switches, hosts, routers, endpoints, guests, self.zones)
        waivers = []
        for k, w in _items(pol, "waivers"):
            path = f"policy.waivers[{k}]"
            rule, subject = w.get("rule"), w.get("subject")
            if _ok(subject) and subject not in known:
                self.err(
                    w,
                    "subject",
                    f"{path}.subject",
                    f"no entity {subject!r} in this topology{suggest(subject, known)}",
                )
            if _ok(rule) and _ok(subject):
                waivers.append(
                    Waiver(str(rule), str(subject), str(w.get("why") or ""), location=self.loc(w))
                )
        intra = pol.get("intra_zone", "allow")
        return Policy(
            intra_zone=intra if _ok(intra) else "allow",
            allow=tuple(rules),
            severity=severity,
            waivers=tuple(waivers),
        )


def entity_references(
    switches: dict[str, Switch],
    hosts: list[Host],
    routers: list[Router],
    endpoints: list[Endpoint],
    guests: list[Guest],
    zones: dict[str, Zone],
) -> set[str]:
    """Every entity reference and zone:/host: selector a waiver may name."""
    known: set[str] = {refs.zone(z) for z in zones}
    for s in switches.values():
        known.add(refs.switch(s.name))
        known.update(refs.switch(s.name, p.name) for p in s.ports)
    for h in hosts:
        known.add(refs.host(h.name))
        known.update(refs.nic(h.name, n.name) for n in h.nics)
        for v in h.vswitches:
            known.add(refs.vswitch(h.name, v.name))
            known.update(refs.portgroup(h.name, v.name, pg.name) for pg in v.portgroups)
        known.update(m.ref for m in h.management)
    for r in routers:
        known.add(r.ref)
        known.update(i.ref for i in r.interfaces)
    known.update(e.ref for e in endpoints)
    for g in guests:
        known.add(refs.guest(g.name))
        known.update(n.ref for n in g.nics)
    return known
