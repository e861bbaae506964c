"""``netseg import xapi``: a XAPI pool database dump (``xe pool-dump-database``).

The dump is the XML of XenServer / XCP-ng's ``state.db``: one ``<table name="…">`` per XenAPI
class, one ``<row>`` per object with its fields as attributes (``name__label`` for
``name_label``, references as ``OpaqueRef:…``, sets and maps as ``('a' 'b')`` and
``(('k' 'v'))``). It is read as a stream through defusedxml (no DTD, no entity expansion, no
external references), keeping only the tables and fields this importer uses, so a pool of
1,000 hosts is read in one pass.

Mapping (docs/importing.md, "xapi"): a host is a ``xen`` host whose NICs are its physical PIFs
(a bond is one NIC, named after its master PIF); each network with a PIF on the host, or used by
a VM resident there, is a virtual switch named after its bridge: Open vSwitch (``ovs``) when
the host's network backend is openvswitch, a Linux bridge otherwise. On Open vSwitch a VLAN
network is a port tag on its parent bridge (as XAPI's "fake bridges" are); on a Linux bridge it
is a bridge on the ``NIC.VLAN`` subinterface. dom0's PIFs with an address (the management PIF
first) are its management interfaces. VMs (not templates, snapshots or the control domain) are
guests on the host they are resident on, VIFs their NICs; ``locking_mode`` is resolved through
the network's ``default_locking_mode``.
"""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path
from typing import Any, ClassVar
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

import defusedxml.sax
from defusedxml import DefusedXmlException

from netseg.errors import ImportSourceError
from netseg.importers.base import Imported, ImportRequest, merge, unique_macs

__all__ = ["FIELDS", "XapiImporter", "parse_value"]

NULL = "OpaqueRef:NULL"
# the fields read from each table (everything else in a row is dropped while streaming)
FIELDS: dict[str, tuple[str, ...]] = {
    "host": ("uuid", "name__label", "hostname", "software_version", "other_config", "chipset_info"),
    "network": ("uuid", "name__label", "bridge", "other_config", "default_locking_mode"),
    "PIF": (
        "uuid",
        "device",
        "host",
        "network",
        "VLAN",
        "VLAN_master_of",
        "bond_master_of",
        "bond_slave_of",
        "management",
        "physical",
        "IP",
        "netmask",
        "IPv6",
        "ip_configuration_mode",
        "MAC",
    ),
    "VLAN": ("uuid", "tagged_PIF", "untagged_PIF", "tag"),
    "Bond": ("uuid", "master", "slaves"),
    "VIF": (
        "uuid",
        "VM",
        "network",
        "device",
        "MAC",
        "locking_mode",
        "ipv4_allowed",
        "ipv6_allowed",
    ),
    "VM": (
        "uuid",
        "name__label",
        "is_control_domain",
        "is_a_template",
        "is_a_snapshot",
        "resident_on",
        "affinity",
        "power_state",
        "other_config",
    ),
}
RUNNING = {"Running", "Paused", "Suspended"}
LOCKING_MODES = {"unlocked", "locked", "disabled"}


class XapiImporter:
    """``xe pool-dump-database`` files, one per pool."""

    name: ClassVar[str] = "xapi"
    options: ClassVar[frozenset[str]] = frozenset()

    def read(self, request: ImportRequest) -> Imported:
        if not request.inputs:
            raise ImportSourceError(
                "netseg import xapi",
                "give the dump(s) written by xe pool-dump-database file-name=FILE",
            )
        out = merge(_Dump(path).read() for path in request.inputs)
        for key in ("hosts", "guests"):
            out.entities(key).sort(key=lambda e: str(e["name"]))
        unique_macs(out)
        return out


def parse_value(text: str) -> Any:
    """A XAPI database value: ``('a' 'b')`` is a list, ``(('k' 'v') …)`` a list of pairs,
    anything else the text itself."""
    if not text.startswith("("):
        return text
    value, _ = _sexpr(text, 0)
    return value


def _sexpr(text: str, i: int) -> tuple[Any, int]:
    if text[i] == "(":
        items: list[Any] = []
        i += 1
        while i < len(text):
            c = text[i]
            if c == ")":
                return items, i + 1
            if c in " \t\n":
                i += 1
                continue
            item, i = _sexpr(text, i)
            items.append(item)
        raise ValueError("unbalanced parentheses")
    if text[i] == "'":
        out = []
        i += 1
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if c == "'":
                return "".join(out), i + 1
            out.append(c)
            i += 1
        raise ValueError("unterminated string")
    j = i
    while j < len(text) and text[j] not in " ()":
        j += 1
    return text[i:j], j


def _set(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        value = parse_value(text)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else [value]


def _map(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = parse_value(text)
    except ValueError:
        return {}
    if not isinstance(value, list):
        return {}
    return {
        p[0]: p[1]
        for p in value
        if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
    }


class _Handler(ContentHandler):
    """Streams the tables this importer reads into {table: {ref: (line, fields)}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, tuple[int, dict[str, str]]]] = {t: {} for t in FIELDS}
        self.manifest: dict[str, str] = {}
        self.table: str | None = None
        self.root: str | None = None
        self.in_manifest = False
        self.locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def startElement(self, name: str, attrs: Any) -> None:
        if self.root is None:
            self.root = name
            if name != "database":
                raise _NotADump(f"the root element is <{name}>, not <database>")
            return
        if name == "row":
            fields = FIELDS.get(self.table or "")
            if fields is None:
                return
            ref = attrs.get("ref") or attrs.get("_ref")
            if not ref:
                return
            line = self.locator.getLineNumber() if self.locator else 0
            self.tables[self.table or ""][ref] = (
                line,
                {f: attrs[f] for f in fields if f in attrs},
            )
        elif name == "table":
            self.table = attrs.get("name")
        elif name == "manifest":
            self.in_manifest = True
        elif name == "pair" and self.in_manifest:
            self.manifest[attrs.get("key", "")] = attrs.get("value", "")

    def endElement(self, name: str) -> None:
        if name == "table":
            self.table = None
        elif name == "manifest":
            self.in_manifest = False


class _NotADump(Exception):
    pass


class _Dump:
    def __init__(self, path: str) -> None:
        self.path = path
        self.file = Path(path).name
        self.out = Imported()

    def parse(self) -> _Handler:
        handler = _Handler()
        try:
            with open(self.path, "rb") as stream:
                defusedxml.sax.parse(
                    stream, handler, forbid_dtd=True, forbid_entities=True, forbid_external=True
                )
        except OSError as exc:
            raise ImportSourceError(self.path, f"cannot read: {exc.strerror}") from None
        except SAXParseException as exc:
            message = exc.getMessage()
            if "no element found" in message or "unclosed token" in message:
                message = f"the XML ends early ({message}): a truncated dump?"
            raise ImportSourceError(
                self.path,
                f"not well-formed XML: {message} (column {exc.getColumnNumber()})",
                where=exc.getLineNumber(),
            ) from None
        except DefusedXmlException as exc:
            raise ImportSourceError(
                self.path,
                f"refused: the XML declares a DTD or entities ({type(exc).__name__}); a XAPI "
                "dump has none, and netseg never expands entities or follows external references",
            ) from None
        except _NotADump as exc:
            raise ImportSourceError(
                self.path, f"not a XAPI database dump: {exc} (xe pool-dump-database writes one)", 1
            ) from None
        if handler.root is None:
            raise ImportSourceError(self.path, "empty file: not a XAPI database dump", 1)
        if not handler.tables["host"]:
            raise ImportSourceError(
                self.path, "a <database> without host rows: not a XAPI pool dump", 1
            )
        return handler

    def src(self, table: str, ref: str, what: str = "") -> str:
        line = self.tables[table].get(ref, (0, {}))[0]
        label = f" {what}" if what else ""
        return f"{self.file}:{line} {table}{label}" if line else f"{self.file} {table}{label}"

    def row(self, table: str, ref: str) -> dict[str, str]:
        return self.tables[table].get(ref, (0, {}))[1]

    def read(self) -> Imported:
        handler = self.parse()
        self.tables = handler.tables
        self.bond_masters = {b.get("master", NULL) for _, b in self.tables["Bond"].values()}
        for ref, (_, pif) in self.tables["PIF"].items():
            if any(b != NULL for b in _set(pif.get("bond_master_of"))):
                self.bond_masters.add(ref)
        pifs_of: dict[str, list[str]] = {}
        for ref, (_, pif) in self.tables["PIF"].items():
            pifs_of.setdefault(pif.get("host", NULL), []).append(ref)
        vifs_of: dict[str, list[str]] = {}
        for ref, (_, vif) in self.tables["VIF"].items():
            vifs_of.setdefault(vif.get("VM", NULL), []).append(ref)
        vms_on: dict[str, list[str]] = {}
        self.dom0_of: dict[str, list[str]] = {}
        self.host_names = {
            ref: h.get("name__label") or h.get("hostname") or h.get("uuid") or ref
            for ref, (_, h) in self.tables["host"].items()
        }
        for ref, (_, vm) in self.tables["VM"].items():
            if vm.get("is_a_template") == "true" or vm.get("is_a_snapshot") == "true":
                continue
            if vm.get("is_control_domain") == "true":
                resident = vm.get("resident_on", NULL)
                if resident in self.tables["host"]:
                    self.dom0_of.setdefault(resident, []).append(ref)
                continue
            host = self.placement(ref, vm)
            if host is not None:
                vms_on.setdefault(host, []).append(ref)
        self.vm_name_count: dict[str, int] = {}
        for refs in vms_on.values():
            for vm_ref in refs:
                vm = self.row("VM", vm_ref)
                label = vm.get("name__label") or vm.get("uuid") or vm_ref
                self.vm_name_count[label] = self.vm_name_count.get(label, 0) + 1
        unknown_backend = False
        for ref in self.tables["host"]:
            backend = _map(self.row("host", ref).get("software_version")).get("network_backend")
            if backend is None:
                unknown_backend = True
            self.build_host(ref, backend, pifs_of.get(ref, []), vms_on.get(ref, []), vifs_of)
        if unknown_backend:
            self.out.warn(
                f"{self.file} host",
                "software_version names no network_backend: taken as the Linux bridge "
                "(the only backend before XenServer 6.0)",
            )
        if self.tables["host"]:
            self.out.warn(
                f"{self.file} host",
                "a XAPI dump holds no dom0 firewall (iptables): no host firewall is written",
            )
        return self.out

    def placement(self, ref: str, vm: dict[str, str]) -> str | None:
        name = vm.get("name__label") or vm.get("uuid") or ref
        resident = vm.get("resident_on", NULL)
        if vm.get("power_state") in RUNNING and resident in self.tables["host"]:
            return resident
        affinity = vm.get("affinity", NULL)
        if affinity in self.tables["host"]:
            self.out.warn(
                self.src("VM", ref, name),
                f"VM {name!r} is {vm.get('power_state', 'not running')}: placed on its "
                f"affinity host {self.host_names[affinity]!r} (it may start on any host of the pool)",
            )
            return affinity
        self.out.warn(
            self.src("VM", ref, name),
            f"VM {name!r} is {vm.get('power_state', 'not running')} and has no affinity host: "
            "it runs nowhere now and is left out",
        )
        return None

    # --- hosts ------------------------------------------------------------------------------
    def build_host(
        self,
        ref: str,
        backend: str | None,
        pif_refs: list[str],
        vm_refs: list[str],
        vifs_of: dict[str, list[str]],
    ) -> None:
        h = self.row("host", ref)
        name = self.host_names[ref]
        ovs = backend == "openvswitch"
        vtype = "ovs" if ovs else "bridge"
        pifs = {r: self.row("PIF", r) for r in pif_refs}

        bond_slaves = {r for r, p in pifs.items() if p.get("bond_slave_of", NULL) != NULL}
        nics: dict[str, dict[str, Any]] = {}
        # the NIC behind each PIF: a physical device, a bond master, or (for a VLAN PIF) the
        # tagged PIF's NIC and the tag
        uplink_of: dict[str, tuple[str, int | None]] = {}
        for r, p in sorted(pifs.items(), key=lambda kv: kv[1].get("device", "")):
            device = p.get("device", "")
            is_bond = r in self.bond_masters
            if (p.get("physical") == "true" and r not in bond_slaves) or is_bond:
                nics.setdefault(device, {"name": device, "source": self.src("PIF", r, device)})
                uplink_of[r] = (device, None)
        for r, p in pifs.items():
            if r in uplink_of or r in bond_slaves:
                continue
            tag = _int(p.get("VLAN"))
            vlan_ref = p.get("VLAN_master_of", NULL)
            tagged = (
                self.row("VLAN", vlan_ref).get("tagged_PIF", NULL) if vlan_ref != NULL else NULL
            )
            if tag is not None and tag >= 0 and tagged in uplink_of:
                base, _ = uplink_of[tagged]
                uplink_of[r] = (base, _int(self.row("VLAN", vlan_ref).get("tag")) or tag)
            elif tag is not None and tag >= 0:
                device = p.get("device", "")
                if device in nics:
                    uplink_of[r] = (device, tag)
                else:
                    self.out.warn(
                        self.src("PIF", r, device),
                        f"VLAN {tag} PIF on {device!r} of host {name!r}: its tagged PIF is not "
                        "in the dump; left out",
                    )
            else:
                device = p.get("device", "")
                self.out.warn(
                    self.src("PIF", r, device),
                    f"PIF {device!r} of host {name!r} is neither physical, a bond nor a VLAN "
                    "(a tunnel of a cross-server private network, or SR-IOV): its network is "
                    "modelled as a switch of this host only; VMs of other hosts on it are not "
                    "connected to it",
                )

        # networks on this host: from its PIFs, and from its VMs' VIFs
        vswitches: dict[str, dict[str, Any]] = {}
        attach: dict[str, tuple[str, int | None]] = {}  # network -> (vswitch, VLAN tag on it)
        for r, p in sorted(pifs.items(), key=lambda kv: kv[1].get("device", "")):
            if r not in uplink_of:
                continue
            net_ref = p.get("network", NULL)
            net = self.row("network", net_ref)
            bridge = net.get("bridge")
            if not bridge:
                continue
            base, tag = uplink_of[r]
            if tag is None:
                vswitches.setdefault(
                    bridge,
                    {
                        "name": bridge,
                        "source": self.src("network", net_ref, bridge),
                        "type": vtype,
                        "uplinks": [base],
                    },
                )
                attach[net_ref] = (bridge, None)
            elif ovs:
                parent = self.parent_bridge(pifs, uplink_of, base)
                if parent is None:
                    self.out.warn(
                        self.src("PIF", r, p.get("device", "")),
                        f"VLAN {tag} network {bridge!r} of host {name!r}: no untagged network "
                        f"on {base!r} to hang it from; left out",
                    )
                    continue
                vswitches.setdefault(
                    parent,
                    {
                        "name": parent,
                        "source": self.src("network", net_ref, parent),
                        "type": "ovs",
                        "uplinks": [base],
                    },
                )
                attach[net_ref] = (parent, tag)
            else:
                vswitches.setdefault(
                    bridge,
                    {
                        "name": bridge,
                        "source": self.src("network", net_ref, bridge),
                        "type": "bridge",
                        "uplinks": [f"{base}.{tag}"],
                    },
                )
                attach[net_ref] = (bridge, None)

        management = self.build_management(name, pifs, attach, ovs)
        for dom0 in self.dom0_of.get(ref, []):
            management.extend(self.dom0_vifs(dom0, name, vifs_of.get(dom0, []), attach))

        guests = []
        for vm_ref in sorted(vm_refs, key=lambda v: self.row("VM", v).get("uuid", v)):
            guest = self.build_guest(
                vm_ref, name, vifs_of.get(vm_ref, []), attach, vswitches, vtype, management
            )
            guests.append(guest)
        host: dict[str, Any] = {
            "name": name,
            "hypervisor": "xen",
            "source": self.src("host", ref, name),
        }
        iommu = _map(h.get("chipset_info")).get("iommu")
        if iommu in ("true", "false"):
            host["iommu"] = iommu == "true"
        host["nics"] = sorted(nics.values(), key=lambda n: n["name"])
        host["vswitches"] = sorted(vswitches.values(), key=lambda v: v["name"])
        host["management"] = sorted(management, key=lambda m: m["name"])
        self.out.entities("hosts").append(host)
        self.out.entities("guests").extend(guests)

    def parent_bridge(
        self,
        pifs: dict[str, dict[str, str]],
        uplink_of: dict[str, tuple[str, int | None]],
        base: str,
    ) -> str | None:
        for r, p in pifs.items():
            if uplink_of.get(r) == (base, None):
                bridge = self.row("network", p.get("network", NULL)).get("bridge")
                if bridge:
                    return bridge
        return None

    def build_management(
        self,
        host: str,
        pifs: dict[str, dict[str, str]],
        attach: dict[str, tuple[str, int | None]],
        ovs: bool,
    ) -> list[dict[str, Any]]:
        out = []
        for r, p in sorted(
            pifs.items(),
            key=lambda kv: (kv[1].get("management") != "true", kv[1].get("device", "")),
        ):
            addresses = _pif_addresses(p)
            if p.get("management") != "true" and not addresses:
                continue
            net_ref = p.get("network", NULL)
            where = attach.get(net_ref)
            device = p.get("device", "")
            if where is None:
                self.out.warn(
                    self.src("PIF", r, device),
                    f"dom0's PIF {device!r} on host {host!r} is on no network netseg placed; left out",
                )
                continue
            vswitch, tag = where
            bridge = self.row("network", net_ref).get("bridge", vswitch)
            iface: dict[str, Any] = {
                "name": bridge,
                "source": self.src("PIF", r, device),
                "vswitch": vswitch,
            }
            if tag is not None:
                iface["vlan"] = tag
            if addresses:
                iface["address"] = addresses if len(addresses) > 1 else addresses[0]
            elif p.get("management") == "true":
                self.out.warn(
                    self.src("PIF", r, device),
                    f"the management PIF {device!r} of host {host!r} has no address in the dump "
                    f"(ip_configuration_mode {p.get('ip_configuration_mode', '?')})",
                )
            mac = _mac(p.get("MAC"))
            if mac:
                iface["mac"] = mac
            out.append(iface)
        return out

    def dom0_vifs(
        self,
        ref: str,
        host: str,
        vif_refs: list[str],
        attach: dict[str, tuple[str, int | None]],
    ) -> list[dict[str, Any]]:
        """VIFs of the control domain itself (rare: an appliance bridge, say) are interfaces of
        dom0 on that network's switch."""
        out = []
        for vif_ref in vif_refs:
            vif = self.row("VIF", vif_ref)
            device = vif.get("device", "?")
            source = self.src("VIF", vif_ref, f"dom0/vif{device}")
            where = attach.get(vif.get("network", NULL))
            if where is None:
                self.out.warn(
                    source,
                    f"a VIF of dom0 on host {host!r} is on a network netseg did not place; left out",
                )
                continue
            vswitch, tag = where
            iface: dict[str, Any] = {
                "name": f"dom0 vif{device}",
                "source": source,
                "vswitch": vswitch,
            }
            if tag is not None:
                iface["vlan"] = tag
            mac = _mac(vif.get("MAC"))
            if mac:
                iface["mac"] = mac
            out.append(iface)
        return out

    # --- guests ------------------------------------------------------------------------------
    def build_guest(
        self,
        ref: str,
        host: str,
        vif_refs: list[str],
        attach: dict[str, tuple[str, int | None]],
        vswitches: dict[str, dict[str, Any]],
        vtype: str,
        management: list[dict[str, Any]],
    ) -> dict[str, Any]:
        vm = self.row("VM", ref)
        name = vm.get("name__label") or vm.get("uuid") or ref
        if self.vm_name_count.get(name, 0) > 1:
            renamed = f"{name} ({vm.get('uuid', ref)})"
            self.out.warn(
                self.src("VM", ref, name),
                f"{self.vm_name_count[name]} VMs of the pool are named {name!r}: this one is written as {renamed!r}",
            )
            name = renamed
        guest: dict[str, Any] = {"name": name, "source": self.src("VM", ref, name), "host": host}
        pci = _map(vm.get("other_config")).get("pci")
        if pci:
            devices = [d.split("/", 1)[-1] for d in pci.split(",") if d.strip()]
            if devices:
                guest["passthrough"] = devices
        nics = []
        notes = []
        networks = []
        subnets: dict[tuple[str, int | None], list[Any]] = {}
        for m in management:
            where_m = (m["vswitch"], m.get("vlan"))
            for a in [m["address"]] if isinstance(m.get("address"), str) else m.get("address", []):
                subnets.setdefault(where_m, []).append(ipaddress.ip_interface(a).network)
        for vif_ref in sorted(vif_refs, key=lambda v: _int(self.row("VIF", v).get("device")) or 0):
            vif = self.row("VIF", vif_ref)
            device = vif.get("device", "?")
            nic_name = f"vif{device}"
            source = self.src("VIF", vif_ref, f"{name}/{nic_name}")
            net_ref = vif.get("network", NULL)
            net = self.row("network", net_ref)
            bridge = net.get("bridge")
            if not bridge:
                self.out.warn(
                    source,
                    f"VIF {device} of VM {name!r} is on a network the dump does not hold; left out",
                )
                continue
            networks.append(net.get("name__label") or bridge)
            mode = vif.get("locking_mode") or "network_default"
            if mode == "network_default":
                mode = net.get("default_locking_mode") or "unlocked"
            if mode not in LOCKING_MODES:
                self.out.warn(
                    source,
                    f"VIF {device} of VM {name!r}: unknown locking_mode {mode!r}; taken as unlocked",
                )
                mode = "unlocked"
            if mode == "disabled":
                notes.append(f"{nic_name} locking_mode disabled (drops all traffic; left out)")
                continue
            where = attach.get(net_ref)
            if where is None:
                # a network with no PIF on this host: a private (host-internal) bridge
                vswitches.setdefault(
                    bridge,
                    {"name": bridge, "source": self.src("network", net_ref, bridge), "type": vtype},
                )
                where = attach[net_ref] = (bridge, None)
            vswitch, tag = where
            nic: dict[str, Any] = {"name": nic_name, "source": source, "vswitch": vswitch}
            if tag is not None:
                nic["vlan"] = tag
            mac = _mac(vif.get("MAC"))
            if mac:
                nic["mac"] = mac
            if mode == "locked":
                allowed = _set(vif.get("ipv4_allowed")) + _set(vif.get("ipv6_allowed"))
                notes.append(
                    f"{nic_name} locked to {', '.join(allowed) if allowed else 'its MAC only (no IP allowed)'}"
                )
                found = []
                for text in allowed:
                    try:
                        ip = ipaddress.ip_address(text)
                    except ValueError:
                        continue
                    for subnet in subnets.get((vswitch, tag), []):
                        if ip.version == subnet.version and ip in subnet:
                            found.append(f"{ip}/{subnet.prefixlen}")
                            break
                if found:
                    nic["address"] = found if len(found) > 1 else found[0]
            nics.append(nic)
        guest["nics"] = nics
        if notes:
            guest["description"] = "XAPI: " + "; ".join(notes)
        guest["_facts"] = {"networks": sorted(set(networks))}
        return guest


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _mac(text: str | None) -> str | None:
    if not text:
        return None
    digits = "".join(c for c in text if c.isalnum())
    if len(digits) != 12:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def _pif_addresses(p: dict[str, str]) -> list[str]:
    out = []
    ip, mask = p.get("IP", ""), p.get("netmask", "")
    if ip and mask:
        with contextlib.suppress(ValueError):
            out.append(str(ipaddress.ip_interface(f"{ip}/{mask}")))
    for text in _set(p.get("IPv6")):
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            continue
        if not iface.ip.is_link_local and "/" in text:
            out.append(str(iface))
    return out
