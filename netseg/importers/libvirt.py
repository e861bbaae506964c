"""``netseg import libvirt``: KVM and Xen hosts from libvirt's XML and Xen ``xl.cfg`` files.

Inputs, per host (one folder per host; a file's host is the folder it is in, or ``--host``):

- ``virsh net-dumpxml NET`` (``<network>``): the bridge, the forward mode (nat, route, open,
  isolated, bridge, private, vepa, passthrough, hostdev), the host's addresses on the network,
  portgroups with their ``<vlan>``, ``<virtualport type='openvswitch'/>``, DHCP static hosts;
- ``virsh dumpxml DOMAIN`` (``<domain>``): interfaces (network/portgroup, bridge, direct
  (macvtap), hostdev), MAC, ``<vlan>``, PCI ``<hostdev>`` passthrough;
- ``virsh net-port-dumpxml`` (``<networkport>``), and libvirt test-driver estates (``<node>``);
- Xen ``xl.cfg`` files (``name``, ``vif = [...]``, ``pci = [...]``);
- the host's Open vSwitch database (``ovs-vsctl --format=json list …`` files in the same folder,
  or ``--db``): the OVS bridges' uplinks and internal interfaces, and each guest port's VLAN as
  OVS holds it, joined to the domain's interface by its target device or MAC.

``--connect URI`` asks a running libvirt through ``virsh`` for the same XML.

XML is read only through defusedxml: no DTD, no entity expansion, no external references.
"""

from __future__ import annotations

import ast
import ipaddress
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from netseg.errors import ImportSourceError
from netseg.importers import ovs
from netseg.importers.base import Imported, ImportRequest, merge
from netseg.model.vlans import VlanSet

__all__ = ["LibvirtImporter"]

VIRSH_TIMEOUT = 60  # seconds per virsh call: a libvirt that does not answer is an error
MAX_XML = 16 * 1024 * 1024
ROUTED = ("nat", "route", "open", "isolated")
MACVTAP = ("bridge", "private", "vepa", "passthrough")
XEN_DEFAULT_BRIDGE = "xenbr0"
_MAC = re.compile(r"[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}")  # xl's default when a vif names no bridge


# --- reading ---------------------------------------------------------------------------------------


def _xml(text: str, origin: str) -> Element:
    if len(text) > MAX_XML:
        raise ImportSourceError(origin, f"larger than {MAX_XML // (1024 * 1024)} MiB")
    try:
        root: Element = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ImportSourceError(
            origin,
            f"refused: the XML declares a DTD or entities ({type(exc).__name__}); libvirt's "
            "XML never does, and netseg never expands entities",
        ) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        reason = str(exc).split(":", 1)[0]
        raise ImportSourceError(
            origin, f"not well-formed XML ({reason}, column {column})", line
        ) from None
    return root


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportSourceError(str(path), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ImportSourceError(str(path), "not UTF-8 text") from None


def _vid(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@dataclass
class Vlan:
    """A libvirt ``<vlan>``: one tag (access) or a trunk with an optional native VLAN."""

    tags: tuple[int, ...]
    trunk: bool
    native: int | None

    def value(self) -> Any:
        if not self.trunk and len(self.tags) == 1 and self.native is None:
            return self.tags[0]
        return {"trunk": str(VlanSet.of(self.tags)), "native": self.native or 0}

    def ids(self) -> list[int]:
        return list(self.tags)


def _vlan(elem: Element | None, source: str, imported: Imported) -> Vlan | None:
    if elem is None:
        return None
    tags: list[int] = []
    native = None
    for tag in elem.findall("tag"):
        vid = _vid(tag.get("id"))
        if vid is None or not 1 <= vid <= 4094:
            imported.warn(source, f"VLAN tag {tag.get('id')!r} is outside 1-4094; ignored")
            continue
        tags.append(vid)
        if tag.get("nativeMode") in ("tagged", "untagged"):
            native = vid
    if not tags:
        return None
    return Vlan(tuple(sorted(set(tags))), elem.get("trunk") == "yes", native)


@dataclass
class Network:
    name: str
    source: str
    mode: str
    bridge: str | None
    ovs: bool
    devs: list[str]
    vlan: Vlan | None
    portgroups: dict[str, Vlan | None]
    default_portgroup: str | None
    addresses: list[str]
    dhcp: dict[str, str]
    isolated_ports: bool
    forward_dev: str | None


def _prefix(ip: Element) -> int | None:
    prefix = _vid(ip.get("prefix"))
    if prefix is not None:
        return prefix
    mask = ip.get("netmask")
    if mask:
        try:
            return sum(bin(int(octet)).count("1") for octet in mask.split("."))
        except ValueError:
            return None
    return 64 if ":" in (ip.get("address") or "") else 24


def _network(root: Element, source: str, imported: Imported) -> Network:
    name = root.findtext("name") or ""
    forward = root.find("forward")
    mode = "isolated" if forward is None else (forward.get("mode") or "nat")
    bridge_elem = root.find("bridge")
    bridge = bridge_elem.get("name") if bridge_elem is not None else None
    virtualport = root.find("virtualport")
    devs: list[str] = []
    if forward is not None:
        devs = [i.get("dev", "") for i in forward.findall("interface") if i.get("dev")]
        pf = forward.find("pf")
        if not devs and pf is not None and pf.get("dev"):
            devs = [pf.get("dev", "")]
        if not devs and mode in MACVTAP and forward.get("dev") and not bridge:
            devs = [forward.get("dev", "")]
    portgroups: dict[str, Vlan | None] = {}
    default = None
    for pg in root.findall("portgroup"):
        pg_name = pg.get("name", "")
        portgroups[pg_name] = _vlan(pg.find("vlan"), f"{source} portgroup {pg_name}", imported)
        if pg.get("default") == "yes":
            default = pg_name
    addresses = []
    dhcp: dict[str, str] = {}
    for ip in root.findall("ip"):
        address, prefix = ip.get("address"), _prefix(ip)
        if not address:
            continue
        addresses.append(f"{address}/{prefix}")
        for host in ip.findall("dhcp/host"):
            if host.get("mac") and host.get("ip"):
                dhcp[host.get("mac", "").lower()] = f"{host.get('ip')}/{prefix}"
    port = root.find("port")
    return Network(
        name,
        source,
        mode,
        bridge,
        virtualport is not None and virtualport.get("type") == "openvswitch",
        devs,
        _vlan(root.find("vlan"), source, imported),
        portgroups,
        default,
        addresses,
        dhcp,
        port is not None and port.get("isolated") == "yes",
        forward.get("dev") if forward is not None else None,
    )


@dataclass
class Interface:
    type: str
    source: str
    mac: str | None = None
    network: str | None = None
    portgroup: str | None = None
    bridge: str | None = None
    dev: str | None = None
    dev_mode: str | None = None
    vlan: Vlan | None = None
    ovs: bool = False
    target: str | None = None
    interfaceid: str | None = None  # <virtualport><parameters interfaceid>: OVS's iface-id
    addresses: list[str] = field(default_factory=list)
    pci: str | None = None
    backend: str | None = None


@dataclass
class Guest:
    name: str
    source: str
    kind: str  # the domain type: kvm, qemu, xen, lxc, test, ...
    interfaces: list[Interface]
    passthrough: list[str]
    driver_domain: bool = False  # xl.cfg's driver_domain = 1


def _pci(address: Element | None) -> str | None:
    if address is None:
        return None
    try:
        parts = [int(address.get(k, "0"), 0) for k in ("domain", "bus", "slot", "function")]
    except ValueError:
        return None
    return "{:04x}:{:02x}:{:02x}.{:x}".format(*parts)


def _domain(root: Element, label: str, imported: Imported) -> Guest:
    name = root.findtext("name") or ""
    gsource = f"{label} domain {name}"
    interfaces = []
    devices = root.find("devices")
    passthrough: list[str] = []
    for k, elem in enumerate(devices.findall("interface") if devices is not None else (), 1):
        source = f"{gsource} interface {k}"
        src = elem.find("source")
        mac = elem.find("mac")
        vp = elem.find("virtualport")
        target = elem.find("target")
        iface = Interface(
            elem.get("type", ""),
            source,
            mac=(mac.get("address") or "").lower() or None if mac is not None else None,
            vlan=_vlan(elem.find("vlan"), source, imported),
            ovs=vp is not None and vp.get("type") == "openvswitch",
            target=target.get("dev") if target is not None else None,
        )
        params = vp.find("parameters") if vp is not None else None
        if params is not None and params.get("interfaceid"):
            iface.interfaceid = params.get("interfaceid", "").lower()
        if src is not None:
            iface.network = src.get("network")
            iface.portgroup = src.get("portgroup")
            iface.bridge = src.get("bridge")
            iface.dev = src.get("dev")
            iface.dev_mode = src.get("mode")
            iface.pci = _pci(src.find("address"))
        for ip in elem.findall("ip"):
            if ip.get("address"):
                iface.addresses.append(f"{ip.get('address')}/{_prefix(ip)}")
        interfaces.append(iface)
    for hostdev in devices.findall("hostdev") if devices is not None else ():
        if hostdev.get("type") == "pci":
            pci = _pci(hostdev.find("source/address"))
            if pci:
                passthrough.append(pci)
    return Guest(name, gsource, root.get("type", ""), interfaces, passthrough)


# --- Xen xl.cfg --------------------------------------------------------------------------------------

_XL_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", re.S)


def _xl_statements(text: str, origin: str) -> list[tuple[int, str, Any]]:
    """xl.cfg's ``KEY = VALUE`` settings (VALUE a string, number or list), with their lines."""
    out = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not pending:
            if not line.strip():
                continue
            start = number
        pending += line + "\n"
        if pending.count("[") > pending.count("]"):
            continue
        for stmt in _split_semicolons(pending):
            if not stmt.strip():
                continue
            match = _XL_KEY.fullmatch(stmt.strip())
            if match is None:
                raise ImportSourceError(origin, "expected an xl.cfg setting `KEY = VALUE`", start)
            key, value = match.groups()
            try:
                parsed = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError, RecursionError):
                raise ImportSourceError(
                    origin, f"the value of {key} is not a string, number or list", start
                ) from None
            out.append((start, key, parsed))
        pending = ""
    if pending:
        raise ImportSourceError(origin, "a list is not closed with ']'", start)
    return out


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _split_semicolons(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote, depth = None, 0
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == ";" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


_PCI_BDF = re.compile(r"(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])")


def _xl_guest(text: str, path: Path, imported: Imported) -> Guest:
    label = path.name
    settings = _xl_statements(text, str(path))
    values = {key: (line, value) for line, key, value in settings}
    if "name" not in values or not isinstance(values["name"][1], str):
        raise ImportSourceError(str(path), 'an xl.cfg file names its domain (`name = "..."`)')
    name_line, name = values["name"]
    guest = Guest(name, f"{label}:{name_line}", "xen", [], [])
    guest.driver_domain = bool(values.get("driver_domain", (0, 0))[1])
    vif_line, vifs = values.get("vif", (0, []))
    for spec in vifs if isinstance(vifs, list) else [vifs]:
        source = f"{label}:{vif_line}"
        fields: dict[str, str] = {}
        for item in str(spec).split(","):
            key, _, value = item.partition("=")
            if key.strip():
                fields[key.strip()] = value.strip()
        iface = Interface("bridge", source, mac=fields.get("mac", "").lower() or None)
        bridge = fields.get("bridge") or XEN_DEFAULT_BRIDGE
        # as libvirt and xl's vif-openvswitch read it: BRIDGE.TAG is an access VLAN, and
        # BRIDGE:T1:T2 a trunk (both Open vSwitch only)
        if "." in bridge and bridge.rpartition(".")[2].isdigit():
            bridge, _, tag = bridge.rpartition(".")
            iface.vlan = _xl_vlan([tag], False, source, imported)
            iface.ovs = True
        elif ":" in bridge:
            bridge, *trunks = bridge.split(":")
            iface.vlan = _xl_vlan(trunks, True, source, imported)
            iface.ovs = True
        iface.bridge = bridge
        if "openvswitch" in fields.get("script", ""):
            iface.ovs = True
        iface.target = fields.get("vifname") or None
        iface.backend = fields.get("backend") or None
        for address in fields.get("ip", "").split():
            iface.addresses.append(address if "/" in address else _host_prefix(address))
        guest.interfaces.append(iface)
    pci_line, pcis = values.get("pci", (0, []))
    for spec in pcis if isinstance(pcis, list) else [pcis]:
        match = _PCI_BDF.match(str(spec).strip())
        if match is None:
            imported.warn(f"{label}:{pci_line}", f"PCI device {spec!r} is not [DDDD:]BB:DD.F")
            continue
        dom, bus, slot, fn = match.groups()
        guest.passthrough.append(
            f"{int(dom or '0', 16):04x}:{int(bus, 16):02x}:{int(slot, 16):02x}.{fn}"
        )
    return guest


def _xl_vlan(ids: list[str], trunk: bool, source: str, imported: Imported) -> Vlan | None:
    tags = []
    for text in ids:
        vid = _vid(text)
        if vid is None or not 1 <= vid <= 4094:
            imported.warn(source, f"VLAN {text!r} is outside 1-4094; ignored")
            continue
        tags.append(vid)
    return Vlan(tuple(sorted(set(tags))), trunk, None) if tags else None


def _host_prefix(address: str) -> str:
    return f"{address}/128" if ":" in address else f"{address}/32"


# --- one host ------------------------------------------------------------------------------------


@dataclass
class _NetworkPort:
    owner: str
    source: str
    bridge: str | None
    network_group: str | None
    mac: str | None


@dataclass
class HostInput:
    """Everything read about one host before it is assembled."""

    name: str
    source: str
    networks: dict[str, Network] = field(default_factory=dict)
    guests: list[Guest] = field(default_factory=list)
    ports: list[_NetworkPort] = field(default_factory=list)
    ovs_files: list[Path] = field(default_factory=list)
    ovs_db: ovs.OvsDatabase | None = None
    xen: bool = False


def _add_xml(host: HostInput, root: Element, label: str, origin: str, imported: Imported) -> None:
    if root.tag == "network":
        net = _network(root, f"{label} network {root.findtext('name')}", imported)
        if net.name in host.networks:
            imported.warn(
                net.source,
                f"network {net.name!r} was already read from "
                f"{host.networks[net.name].source}; keeping that one",
            )
        else:
            host.networks[net.name] = net
    elif root.tag == "domain":
        host.guests.append(_domain(root, label, imported))
        host.xen = host.xen or root.get("type") == "xen"
    elif root.tag == "networkport":
        plug = root.find("plug")
        mac = root.find("mac")
        host.ports.append(
            _NetworkPort(
                root.findtext("owner/name") or "",
                f"{label} networkport {root.findtext('uuid')}",
                plug.get("bridge") if plug is not None else None,
                root.findtext("group"),
                (mac.get("address") or "").lower() if mac is not None else None,
            )
        )
    elif root.tag == "node":
        for child in root:
            if child.tag in ("network", "domain"):
                _add_xml(host, child, label, origin, imported)
    else:
        raise ImportSourceError(
            origin,
            f"a <{root.tag}> document; expected libvirt's <network> (virsh net-dumpxml), "
            "<domain> (virsh dumpxml), <networkport> or a test-driver <node>",
        )


def _add_file(host: HostInput, path: Path, imported: Imported) -> None:
    text = _read(path)
    head = text.lstrip()[:1]
    if head == "<":
        _add_xml(host, _xml(text, str(path)), path.name, str(path), imported)
    elif ovs.is_ovs_text(text):
        host.ovs_files.append(path)
    elif head:
        host.guests.append(_xl_guest(text, path, imported))
        host.xen = True
    else:
        raise ImportSourceError(str(path), "empty file")


class _Assembler:
    """One host's networks, domains and OVS ports as the format's host and guests."""

    def __init__(self, host: HostInput, imported: Imported) -> None:
        self.input = host
        self.out = imported
        self.nics: dict[str, dict[str, Any]] = {}
        self.vswitches: dict[str, dict[str, Any]] = {}
        self.management: dict[str, dict[str, Any]] = {}
        self.domains: dict[str, dict[str, Any]] = {}
        self.dev_owner: dict[str, str] = {}
        self.guests: dict[str, dict[str, Any]] = {}

    def vswitch(self, name: str, source: str, is_ovs: bool) -> dict[str, Any]:
        found = self.vswitches.get(name)
        if found is None:
            found = {"name": name, "source": source, "type": "ovs" if is_ovs else "bridge"}
            found["uplinks"] = []
            self.vswitches[name] = found
        elif is_ovs:
            found["type"] = "ovs"
        return found

    def macvtap(self, name: str, devs: list[str], source: str, note: str) -> str:
        vs = self.vswitch(name, source, False)
        vs["_libvirt"] = True
        for dev in devs:
            owner = self.dev_owner.get(dev)
            if owner is not None and owner != name:
                self.out.warn(
                    source,
                    f"{dev} already carries macvtap network {owner}; kept there only "
                    "(a NIC is the uplink of one virtual switch)",
                )
                continue
            if owner is None:
                self.dev_owner[dev] = name
                self.nics.setdefault(dev, {"name": dev, "source": source})
                vs["uplinks"].append(dev)
        vs.setdefault("description", note)
        return name

    def addresses(self, candidates: list[str], source: str) -> list[str]:
        good = []
        for text in candidates:
            try:
                ipaddress.ip_interface(text)
            except ValueError:
                self.out.warn(source, f"address {text!r} is not an IP address; left out")
                continue
            good.append(text)
        return good

    def networks(self) -> None:
        for name in sorted(self.input.networks):
            net = self.input.networks[name]
            note = f"libvirt network {net.name}: forward {net.mode}"
            if net.mode in ROUTED:
                bridge = net.bridge or net.name
                if not net.bridge:
                    self.out.warn(net.source, f"network {net.name} names no bridge; named after it")
                vs = self.vswitch(bridge, net.source, net.ovs)
                vs["_libvirt"] = True  # libvirt's own bridge: no physical port by design
                if net.forward_dev and net.mode in ("nat", "route"):
                    note += f" via {net.forward_dev}"
                vs.setdefault(
                    "description",
                    note + (" (the host routes its guests)" if net.mode != "isolated" else ""),
                )
                addresses = self.addresses(net.addresses, net.source)
                if addresses:
                    self.management.setdefault(
                        bridge,
                        {
                            "name": bridge,
                            "source": net.source,
                            "vswitch": bridge,
                            "address": addresses[0] if len(addresses) == 1 else addresses,
                        },
                    )
            elif net.mode == "bridge" and net.bridge:
                vs = self.vswitch(net.bridge, net.source, net.ovs)
                vs.setdefault("description", f"host bridge of libvirt network {net.name}")
            elif net.mode in MACVTAP and net.devs:
                self.macvtap(
                    net.name,
                    net.devs,
                    net.source,
                    f"libvirt network {net.name}: macvtap {net.mode} over {', '.join(net.devs)}",
                )
                if net.vlan is not None:
                    self.out.warn(
                        net.source,
                        f"VLAN {net.vlan.value()} of macvtap network {net.name} is applied by "
                        "the NIC's port profile, not modelled: its guests are untagged",
                    )
            elif net.mode == "hostdev":
                continue
            else:
                self.out.warn(
                    net.source,
                    f"network {net.name} (forward {net.mode}) names no bridge or device; "
                    "its virtual switch is named after it",
                )
                self.vswitch(net.name, net.source, net.ovs).setdefault("description", note)
            isolated = self.vswitches.get(net.bridge or net.name)
            if net.isolated_ports and isolated is not None:
                isolated["description"] = (
                    isolated.get("description", note) + "; ports isolated from each other "
                    "(not modelled: guests are treated as reaching each other)"
                )

    def guest_nic(self, guest: Guest, iface: Interface, facts: dict[str, list[Any]]) -> Any:
        """The NIC of one interface, or None (with a warning) when it attaches to nothing the
        format models."""
        vlan = iface.vlan
        vswitch: str | None = None
        address = list(iface.addresses)
        kind = iface.type
        if kind == "network" and iface.network:
            net = self.input.networks.get(iface.network)
            facts["networks"].append(iface.network)
            if net is None:
                self.out.warn(
                    iface.source,
                    f"network {iface.network!r} is not among the inputs (add its "
                    "`virsh net-dumpxml`); its virtual switch is named after it",
                )
                vswitch = self.vswitch(iface.network, iface.source, iface.ovs)["name"]
            elif net.mode == "hostdev":
                self.out.warn(
                    iface.source,
                    f"network {net.name} hands out SR-IOV functions (forward hostdev): the "
                    "guest's VF is on the physical network, outside the host's model",
                )
                return None
            else:
                group = iface.portgroup or net.default_portgroup
                if group:
                    facts["networks"].append(group)
                if vlan is None and group in net.portgroups:
                    vlan = net.portgroups[group]
                macvtap = net.mode in MACVTAP and not net.bridge and bool(net.devs)
                if vlan is None and not macvtap:
                    vlan = net.vlan  # a macvtap network's VLAN was warned about once
                routed = net.mode in ROUTED or (net.mode == "bridge" and net.bridge)
                vswitch = (net.bridge or net.name) if routed else net.name
                if iface.mac and iface.mac in net.dhcp and not address:
                    address.append(net.dhcp[iface.mac])
        elif kind == "bridge" and iface.bridge:
            vswitch = self.vswitch(iface.bridge, iface.source, iface.ovs)["name"]
            facts["networks"].append(iface.bridge)
            if iface.backend and iface.backend not in ("0", "Domain-0", "dom0"):
                self.vswitches[vswitch]["domain"] = iface.backend
        elif kind == "direct" and iface.dev:
            vswitch = self.dev_owner.get(iface.dev) or self.macvtap(
                f"macvtap-{iface.dev}",
                [iface.dev],
                iface.source,
                f"macvtap {iface.dev_mode or 'vepa'} on {iface.dev}",
            )
        elif kind == "hostdev":
            if iface.pci:
                guest.passthrough.append(iface.pci)
            self.out.warn(
                iface.source,
                "an SR-IOV function passed through (interface type hostdev"
                + (f", PCI {iface.pci}" if iface.pci else "")
                + "): the guest is on the physical network, outside the host's model",
            )
            return None
        else:
            what = {
                "user": "user-mode networking (the guest reaches out through the host's own stack)",
                "ethernet": "an unmanaged tap device",
                "vhostuser": "a vhost-user socket",
            }.get(kind, f"interface type {kind!r}")
            self.out.warn(iface.source, f"{what} is not modelled; interface skipped")
            return None
        vs = self.vswitches[vswitch]
        nic: dict[str, Any] = {"source": iface.source, "vswitch": vswitch}
        if vlan is not None:
            if vs["type"] == "ovs":
                nic["vlan"] = vlan.value()
                facts["vlans"].extend(vlan.ids())
            else:
                self.out.warn(
                    iface.source,
                    f"VLAN {vlan.value()} on Linux bridge {vswitch}: libvirt applies <vlan> only "
                    "on Open vSwitch (and SR-IOV); ignored",
                )
        if iface.mac and _MAC.fullmatch(iface.mac):
            nic["mac"] = iface.mac
        elif iface.mac:
            self.out.warn(iface.source, f"MAC {iface.mac!r} is not six hex octets; left out")
        address = self.addresses(address, iface.source)
        if address:
            nic["address"] = address[0] if len(address) == 1 else address
        nic["_target"] = iface.target
        nic["_ifaceid"] = iface.interfaceid
        return nic

    def domains_(self) -> None:
        for guest in self.input.guests:
            if guest.kind == "xen" and guest.name == "Domain-0":
                continue  # libvirt's Xen driver lists dom0 itself: the host, not a guest
            if guest.name in self.guests:
                self.out.warn(
                    guest.source,
                    f"guest {guest.name!r} was already read from "
                    f"{self.guests[guest.name]['source']}; keeping that one",
                )
                continue
            facts: dict[str, list[Any]] = {"networks": [], "vlans": []}
            nics = [n for i in guest.interfaces if (n := self.guest_nic(guest, i, facts))]
            entity: dict[str, Any] = {"name": guest.name, "source": guest.source}
            entity["host"] = self.input.name
            if guest.passthrough:
                entity["passthrough"] = sorted(set(guest.passthrough))
            entity["nics"] = nics
            entity["_facts"] = facts
            self.guests[guest.name] = entity
        for port in self.input.ports:
            if port.owner in self.guests or not port.bridge:
                continue
            vswitch = self.vswitch(port.bridge, port.source, False)["name"]
            nic = {"source": port.source, "vswitch": vswitch}
            if port.mac:
                nic["mac"] = port.mac
            networks = [port.bridge] + ([port.network_group] if port.network_group else [])
            self.guests[port.owner] = {
                "name": port.owner,
                "source": port.source,
                "host": self.input.name,
                "nics": [nic],
                "_facts": {"networks": networks, "vlans": []},
            }

    def overlay_ovs(self) -> list[dict[str, Any]]:
        """Join the host's OVS database: its bridges' uplinks and internal interfaces, and each
        guest NIC's VLAN as OVS holds it. Returns guests OVS knows that no domain claims."""
        db = self.input.ovs_db
        if db is None:
            return []
        parts = ovs.host_parts(db, self.out)
        for name, nic in parts.nics.items():
            self.nics.setdefault(name, nic)
        for vs in parts.vswitches.values():
            for dev in [u for u in vs["uplinks"] if u in self.dev_owner]:
                self.out.warn(
                    vs["source"],
                    f"{dev} is an uplink of OVS bridge {vs['name']} and carries macvtap "
                    f"{self.dev_owner[dev]}; kept on the macvtap switch only",
                )
                vs["uplinks"].remove(dev)
        for name, vs in parts.vswitches.items():
            mine = self.vswitches.get(name)
            if mine is None:
                self.vswitches[name] = vs
                continue
            mine["type"] = "ovs"
            mine["uplinks"] = vs["uplinks"]
            if vs.get("description"):
                mine["description"] = "; ".join(
                    x for x in (mine.get("description"), vs["description"]) if x
                )
        for entry in parts.management:
            self.management.setdefault(entry["name"], entry)
        by_iface = {gp.interface: gp for gp in parts.guest_ports}
        by_id = {gp.iface_id.lower(): gp for gp in parts.guest_ports if gp.iface_id}
        by_mac = {gp.mac.lower(): gp for gp in parts.guest_ports if gp.mac}
        claimed: set[str] = set()
        for guest in self.guests.values():
            for nic in guest["nics"]:
                # the OVS interface libvirt made: by its name, libvirt's interfaceid, or MAC
                gp = (
                    by_iface.get(nic.get("_target") or "")
                    or by_id.get(nic.get("_ifaceid") or "")
                    or by_mac.get(nic.get("mac") or "")
                )
                if gp is None or gp.port in claimed:
                    continue
                claimed.add(gp.port)
                if nic["vswitch"] != gp.bridge:
                    self.out.warn(
                        nic["source"],
                        f"libvirt puts it on {nic['vswitch']}, OVS port {gp.port} is on "
                        f"{gp.bridge}; OVS's is in force",
                    )
                    nic["vswitch"] = gp.bridge
                if nic.get("vlan") != gp.vlan:
                    if "vlan" in nic:
                        self.out.warn(
                            nic["source"],
                            f"libvirt says VLAN {nic['vlan']}, OVS port {gp.port} has "
                            f"{gp.vlan}; "
                            "OVS's is in force",
                        )
                    if gp.vlan is None:
                        nic.pop("vlan", None)
                    else:
                        nic["vlan"] = gp.vlan
                if not nic.get("mac") and gp.mac:
                    nic["mac"] = gp.mac
        rest = [gp for gp in parts.guest_ports if gp.port not in claimed]
        return ovs.guests_of(self.input.name, rest)

    def driver_domain(self, name: str) -> dict[str, Any]:
        """A domain that serves guests' vifs (xl's backend=NAME): its own configuration, when
        among the inputs, gives its PCI devices, and it is no guest."""
        own = self.guests.pop(name, None)
        entry: dict[str, Any] = {"name": name, "source": self.input.source}
        if own is not None:
            entry["source"] = own["source"]
            if own.get("passthrough"):
                entry["passthrough"] = own["passthrough"]
        return entry

    def host(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self.networks()
        self.domains_()
        extra = self.overlay_ovs()
        for vs in self.vswitches.values():
            own = vs.pop("_libvirt", False)
            if vs["type"] == "bridge" and not vs["uplinks"] and not own:
                self.out.warn(
                    vs["source"],
                    f"bridge {vs['name']}'s physical ports are not in the inputs (libvirt and "
                    "xl.cfg do not record them): add them to its uplinks, or give the host's "
                    "OVS database if it is an OVS bridge",
                )
        kinds = {g.kind for g in self.input.guests}
        host: dict[str, Any] = {"name": self.input.name, "source": self.input.source}
        host["hypervisor"] = "xen"
        if not (self.input.xen or kinds == {"xen"}):
            shown = "/".join(sorted(k.upper() for k in kinds if k)) or "Linux"
            host["description"] = (
                f"{shown} host (libvirt), modelled as hypervisor xen: Linux bridges and Open "
                "vSwitch, the host OS as the privileged domain"
            )
        if self.nics:
            host["nics"] = [self.nics[n] for n in sorted(self.nics)]
        if self.vswitches:
            host["vswitches"] = [self.vswitches[n] for n in sorted(self.vswitches)]
        domains = sorted(
            {vs["domain"] for vs in self.vswitches.values() if "domain" in vs}
            | {g.name for g in self.input.guests if g.driver_domain}
        )
        if self.management:
            host["management"] = [self.management[n] for n in sorted(self.management)]
        if domains:
            host["driver_domains"] = [self.driver_domain(d) for d in domains]
        for guest in self.guests.values():
            for nic in guest["nics"]:
                nic.pop("_target", None)
                nic.pop("_ifaceid", None)
                if self.vswitches[nic["vswitch"]]["type"] == "ovs" and "vlan" not in nic:
                    nic["vlan"] = dict(ovs.OVS_DEFAULT)  # OVS's default, made explicit
        guests = [self.guests[n] for n in sorted(self.guests)] + extra
        return host, guests


# --- live: virsh -c URI ------------------------------------------------------------------------------


def _virsh(uri: str, *args: str) -> str:
    where = f"--connect {uri}"
    try:
        done = subprocess.run(
            ["virsh", "-q", "-c", uri, *args],
            capture_output=True,
            text=True,
            timeout=VIRSH_TIMEOUT,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired:
        raise ImportSourceError(
            where, f"libvirt did not answer within {VIRSH_TIMEOUT} s (virsh {args[0]})"
        ) from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.startswith("error:")]
        reason = lines[-1].removeprefix("error:").strip() if lines else done.stderr.strip()
        raise ImportSourceError(
            where, f"libvirt did not answer (virsh {args[0]}): {reason or done.returncode}"
        )
    return done.stdout


def _read_live(uri: str, host: HostInput, imported: Imported) -> None:
    if shutil.which("virsh") is None:
        raise ImportSourceError(
            f"--connect {uri}", "virsh is not installed (Debian package libvirt-clients)"
        )
    label = f"libvirt {uri}"
    for name in sorted(n for n in _virsh(uri, "net-list", "--all", "--name").splitlines() if n):
        text = _virsh(uri, "net-dumpxml", name)
        _add_xml(host, _xml(text, f"{label} network {name}"), label, label, imported)
    for name in sorted(n for n in _virsh(uri, "list", "--all", "--name").splitlines() if n):
        text = _virsh(uri, "dumpxml", name)
        _add_xml(host, _xml(text, f"{label} domain {name}"), label, label, imported)


class LibvirtImporter:
    """``netseg import libvirt``: virsh XML and xl.cfg files, or a running libvirt."""

    name: ClassVar[str] = "libvirt"
    options: ClassVar[frozenset[str]] = frozenset({"connect", "db", "host"})

    def read(self, request: ImportRequest) -> Imported:
        requested = request.option("host")
        uri = request.option("connect")
        db_address = request.option("db")
        hosts: list[HostInput] = []
        warnings = Imported()
        if uri:
            name = requested or ovs.short_hostname(_virsh(uri, "hostname").strip() or "libvirt")
            live = HostInput(name, f"libvirt {uri}")
            _read_live(uri, live, warnings)
            if db_address:
                live.ovs_db = ovs.read_live(str(db_address))
            hosts.append(live)
        elif db_address:
            raise ImportSourceError("--db", "goes with --connect (the OVS database of that host)")
        by_folder: dict[Path, HostInput] = {}
        for name in request.inputs:
            path = Path(name)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file())
                if not files:
                    raise ImportSourceError(name, "an empty folder")
                folder = path
            elif path.exists():
                files, folder = [path], path.parent
            else:
                raise ImportSourceError(name, "cannot read: No such file or directory")
            key = Path("<one host>") if requested else folder.resolve()
            host = by_folder.get(key)
            if host is None:
                host = HostInput(requested or folder.resolve().name, path.name)
                by_folder[key] = host
                hosts.append(host)
            for file in files:
                _add_file(host, file, warnings)
        if not hosts:
            raise ImportSourceError(
                "netseg import libvirt", "give virsh XML or xl.cfg files, or --connect URI"
            )
        parts = [warnings]
        for host in hosts:
            one = Imported()
            if host.ovs_files:
                host.ovs_db = ovs.read_files(host.ovs_files)
            said = host.ovs_db.hostname if host.ovs_db else None
            if said and ovs.short_hostname(said) != host.name:
                one.warn(
                    host.ovs_db.source or host.ovs_db.origin,  # type: ignore[union-attr]
                    f"the OVS database belongs to {said!r}, imported as part of host {host.name!r}",
                )
            entity, guests = _Assembler(host, one).host()
            one.entities("hosts").append(entity)
            one.entities("guests").extend(guests)
            parts.append(one)
        out = merge(parts)
        out.entities("hosts").sort(key=lambda h: str(h["name"]))
        out.entities("guests").sort(key=lambda g: str(g["name"]))
        ovs.warn_duplicate_macs(out)
        return out
