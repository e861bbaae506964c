"""``netseg import hyperv``: the JSON written by the collection script netseg ships.

The script (``netseg import --script hyperv``, ``netseg/importers/scripts/hyperv.ps1``) runs on
a Hyper-V host and writes one document: its virtual switches (Get-VMSwitch), every virtual
network adapter of the guests and of the management OS (Get-VMNetworkAdapter -All) with their
VLAN and isolation settings, the guests' addresses as the integration services report them, and
the management OS's adapters, addresses, network categories and inbound firewall.

Windows PowerShell 5.1 writes enumerations as integers and PowerShell 7 (``-EnumsAsStrings``)
as names; both are read, with the integer values of Microsoft's definitions (:data:`ENUMS`).
A list that ``ConvertTo-Json`` cut off at its ``-Depth`` (written as text such as
``"10 20 30"`` or ``"@{Name=...}"``) is named with the depth to use.

Mapping (docs/importing.md, "hyperv"): a switch is a ``vswitch`` of its SwitchType; an external
switch's uplink is the host adapter whose InterfaceDescription it names (a Switch Embedded Team
is one NIC named after its members); a management-OS adapter is a ``management`` interface on
its switch in its access VLAN; a guest adapter is a guest NIC with its VLAN (access, trunk,
private VLAN approximated) and guards; the firewall profiles in force on the management
interfaces and their enabled inbound allow rules are the host's ``firewall``.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import orjson

from netseg.errors import ImportSourceError
from netseg.importers.base import Imported, ImportRequest, merge, unique_macs

__all__ = ["ENUMS", "READS", "HypervImporter"]

# Integer values of the enumerations as Windows PowerShell 5.1 writes them (Microsoft's
# definitions: Microsoft.HyperV.PowerShell for the Hyper-V module, the NetSecurity and NetTCPIP
# CIM classes for the others). PowerShell 7 with -EnumsAsStrings writes the names.
ENUMS: Mapping[str, Mapping[int, str]] = {
    "SwitchType": {0: "Private", 1: "Internal", 2: "External"},
    "OnOffState": {0: "On", 1: "Off"},
    "OperationMode": {0: "Untagged", 1: "Access", 2: "Trunk", 3: "Private"},
    "PrivateVlanMode": {1: "Isolated", 2: "Community", 3: "Promiscuous"},
    "PortMirroringMode": {0: "None", 1: "Destination", 2: "Source"},
    "IsolationMode": {0: "None", 1: "NativeVirtualSubnet", 2: "ExternalVirtualSubnet", 3: "Vlan"},
    "GpoBoolean": {0: "False", 1: "True", 2: "NotConfigured"},
    "Action": {0: "NotConfigured", 2: "Allow", 3: "AllowBypass", 4: "Block"},
    "Direction": {1: "Inbound", 2: "Outbound"},
    "Enabled": {1: "True", 2: "False"},
    "NetworkCategory": {0: "Public", 1: "Private", 2: "DomainAuthenticated"},
    "AddressFamily": {2: "IPv4", 23: "IPv6"},
}
# Firewall profile flags (MSFT_NetFirewallRule.Profiles): 0 is Any.
PROFILE_FLAGS = {1: "Domain", 2: "Private", 4: "Public"}
ALL_PROFILES = frozenset(PROFILE_FLAGS.values())
CATEGORY_PROFILE = {"Public": "Public", "Private": "Private", "DomainAuthenticated": "Domain"}

# Every property this importer reads, per section of the collection (the cmdlet's own property
# names; tests check them against a real Format-List capture where one exists).
READS: Mapping[str, tuple[str, ...]] = {
    "VMSwitch": (
        "Name",
        "SwitchType",
        "AllowManagementOS",
        "NetAdapterInterfaceDescription",
        "NetAdapterInterfaceDescriptions",
        "EmbeddedTeamingEnabled",
    ),
    "VMNetworkAdapter": (
        "Name",
        "Id",
        "VMName",
        "IsManagementOs",
        "SwitchName",
        "MacAddress",
        "IPAddresses",
        "DhcpGuard",
        "RouterGuard",
        "MacAddressSpoofing",
        "PortMirroringMode",
    ),
    "VMNetworkAdapterVlan": (
        "AdapterId",
        "OperationMode",
        "AccessVlanId",
        "NativeVlanId",
        "AllowedVlanIdList",
        "PrivateVlanMode",
        "PrimaryVlanId",
        "SecondaryVlanId",
        "SecondaryVlanIdList",
    ),
    "VMNetworkAdapterIsolation": ("AdapterId", "IsolationMode", "DefaultIsolationID"),
    "GuestNetworkAdapterConfiguration": ("InstanceID", "IPAddresses", "Subnets"),
    "NetAdapter": ("Name", "InterfaceDescription", "InterfaceIndex", "MacAddress", "Virtual"),
    "NetIPAddress": ("InterfaceIndex", "IPAddress", "PrefixLength"),
    "NetConnectionProfile": ("InterfaceIndex", "NetworkCategory"),
    "NetFirewallProfile": ("Name", "Enabled", "DefaultInboundAction"),
    "NetFirewallRule": (
        "Name",
        "DisplayName",
        "Enabled",
        "Direction",
        "Action",
        "Profile",
        "Protocol",
        "LocalPort",
        "RemoteAddress",
    ),
}
REQUIRED_SECTIONS = ("VMSwitch", "VMNetworkAdapter", "VMNetworkAdapterVlan")
# the -Depth the shipped script uses, and the one each level needs
SCRIPT_DEPTH = 4

# a section, or a whole document, from one cmdlet instead of the collection: what it looks like
_CMDLET_SIGNS = (
    ("Get-VMSwitch", {"SwitchType", "NetAdapterInterfaceDescription"}),
    ("Get-VMNetworkAdapterVlan", {"OperationMode", "AccessVlanId"}),
    ("Get-VMNetworkAdapterIsolation", {"IsolationMode", "DefaultIsolationID"}),
    ("Get-VMNetworkAdapter", {"MacAddress", "SwitchName"}),
    ("Get-NetFirewallRule", {"Direction", "Action"}),
    ("Get-NetFirewallProfile", {"DefaultInboundAction"}),
    ("Get-NetIPAddress", {"IPAddress", "PrefixLength"}),
    ("Get-NetAdapter", {"InterfaceDescription", "MacAddress"}),
    ("Get-VM", {"VMName", "State"}),
)
_TRUNCATED_OBJECT = re.compile(r"^(@\{.*\}|(System|Microsoft|MSFT_)[\w.#`\[\]]+.*)$", re.S)
_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
_ICMP = {"icmpv4": "icmp", "1": "icmp", "icmpv6": "icmp6", "58": "icmp6"}


class HypervImporter:
    """The JSON of ``hyperv.ps1``, one file per host."""

    name: ClassVar[str] = "hyperv"
    options: ClassVar[frozenset[str]] = frozenset()

    def read(self, request: ImportRequest) -> Imported:
        if not request.inputs:
            raise ImportSourceError(
                "netseg import hyperv",
                "give the JSON file(s) written by the collection script "
                "(netseg import --script hyperv prints it)",
            )
        out = merge(_Collection(path).read() for path in request.inputs)
        for key in ("hosts", "guests"):
            out.entities(key).sort(key=lambda e: str(e["name"]))
        unique_macs(out)
        return out


def _load(path: str) -> Any:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportSourceError(path, f"cannot read: {exc.strerror}") from None
    # Windows PowerShell 5.1's Out-File writes UTF-16 with a byte order mark; Set-Content
    # -Encoding UTF8 a UTF-8 one
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportSourceError(
                path, f"not UTF-8 or UTF-16 text (bad byte at offset {exc.start})"
            ) from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportSourceError(
            path,
            f"not JSON ({exc.msg}, column {exc.colno}): expected the collection script's file",
            where=exc.lineno,
        ) from None


def _looks_like(value: Any) -> str | None:
    item = value[0] if isinstance(value, list) and value else value
    if not isinstance(item, dict):
        return None
    keys = set(item)
    for cmdlet, signs in _CMDLET_SIGNS:
        if signs <= keys:
            return cmdlet
    return None


def _mac(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", value)
    if len(digits) != 12 or digits == "000000000000":
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def _is_usable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (ip.is_link_local or ip.is_loopback or ip.is_unspecified or ip.is_multicast)


class _Collection:
    """One collection file, read into one host and its guests."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = Path(path).name
        self.out = Imported()
        self.truncation_noted = False

    # --- reading values -----------------------------------------------------------------
    def where(self, section: str, index: int) -> str:
        return f"{self.file} {section}[{index}]"

    def truncated(self, what: str, level: int, value: str) -> ImportSourceError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        return ImportSourceError(
            self.path,
            f"{what} is the text {shown!r} where a list or object belongs: ConvertTo-Json cut "
            f"the document off at its -Depth. Collect again with the script netseg ships "
            f"(it uses -Depth {SCRIPT_DEPTH}), or ConvertTo-Json -Depth {max(level, SCRIPT_DEPTH)}",
        )

    def section(self, doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = doc.get(name)
        if value is None:
            if name in REQUIRED_SECTIONS:
                raise ImportSourceError(
                    self.path, f"no {name!r} section: not a complete collection of hyperv.ps1"
                )
            return []
        value = self.unwrap(value)
        if isinstance(value, str):
            raise self.truncated(f"section {name}", 1, value)
        if isinstance(value, dict):
            value = [value]  # a cmdlet that returned one object
        if not isinstance(value, list):
            raise ImportSourceError(self.path, f"section {name} is not a list of objects")
        for i, item in enumerate(value):
            if isinstance(item, str):
                raise self.truncated(f"{name}[{i}]", 2, item)
            if not isinstance(item, dict):
                raise ImportSourceError(self.path, f"{name}[{i}] is not an object")
        return value

    @staticmethod
    def unwrap(value: Any) -> Any:
        # Windows PowerShell 5.1: an array inside a PSObject is {"value": [...], "Count": n}
        if isinstance(value, dict) and set(value) == {"value", "Count"}:
            return value["value"]
        return value

    def values(
        self, item: dict[str, Any], key: str, what: str, numbers: bool = False, words: bool = False
    ) -> list[Any]:
        """A list property: [] when absent; a text where ConvertTo-Json cut the list off is
        read back when its items are numbers or addresses (space-separated), else refused."""
        value = self.unwrap(item.get(key))
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            parts = value.split()
            if not value.strip():
                return []
            if _TRUNCATED_OBJECT.match(value):
                raise self.truncated(f"{what}.{key}", 3, value)
            if numbers and all(w.isdigit() for w in parts):
                self.note_truncation(what, key)
                return [int(w) for w in parts]
            if words or (not numbers and all(_is_address(w) for w in parts)):
                # addresses, ports and firewall keywords hold no spaces
                if len(parts) > 1:
                    self.note_truncation(what, key)
                return parts
            raise self.truncated(f"{what}.{key}", 3, value)
        return [value]

    def note_truncation(self, what: str, key: str) -> None:
        if not self.truncation_noted:
            self.truncation_noted = True
            self.out.warn(
                f"{self.file} {what}",
                f"{key} was written as text: ConvertTo-Json cut the lists off at its -Depth "
                f"(read back as space-separated values; collect with -Depth {SCRIPT_DEPTH})",
            )

    def enum(self, value: Any, kind: str) -> str | None:
        """The name of an enumeration value, from its integer or its name; None if unknown."""
        table = ENUMS[kind]
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return table.get(value)
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return table.get(int(text))
            for name in table.values():
                if name.lower() == text.lower():
                    return name
        return None

    @staticmethod
    def flag(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value) if isinstance(value, int) else False

    @staticmethod
    def text(value: Any) -> str:
        return value.strip() if isinstance(value, str) else ""

    @staticmethod
    def number(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return None

    # --- the document -----------------------------------------------------------------------
    def read(self) -> Imported:
        doc = _load(self.path)
        if not isinstance(doc, dict) or doc.get("NetsegCollection") != "hyperv":
            cmdlet = _looks_like(doc)
            hint = (
                f"this is the JSON of {cmdlet}, not of the collection script"
                if cmdlet
                else "this JSON is not the collection script's file"
            )
            raise ImportSourceError(
                self.path,
                f'{hint} (no "NetsegCollection": "hyperv"); run the script netseg ships '
                "(netseg import --script hyperv > hyperv.ps1) on the host and import its file",
                where=1,
            )
        version = doc.get("FormatVersion")
        if version != 1:
            raise ImportSourceError(
                self.path, f"collection format {version!r} is not one this netseg reads (1)"
            )
        host = self.text(doc.get("ComputerName"))
        if not host:
            raise ImportSourceError(self.path, "the collection names no ComputerName")
        self.host = host
        self.sections = {name: self.section(doc, name) for name in READS}
        self.build()
        return self.out

    def build(self) -> None:
        s = self.sections
        adapters_by_description: dict[str, tuple[int, dict[str, Any]]] = {}
        adapters_by_mac: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, na in enumerate(s["NetAdapter"]):
            desc = self.text(na.get("InterfaceDescription"))
            if desc:
                adapters_by_description.setdefault(desc, (i, na))
            mac = _mac(na.get("MacAddress"))
            if mac:
                adapters_by_mac.setdefault(mac, (i, na))
        self.addresses = self.read_addresses()

        nics: dict[str, dict[str, Any]] = {}
        used_adapters: set[int] = set()
        vswitches: dict[str, dict[str, Any]] = {}
        for i, sw in enumerate(s["VMSwitch"]):
            vs = self.build_switch(i, sw, adapters_by_description, nics, used_adapters)
            if vs is not None:
                vswitches.setdefault(vs["name"], vs)

        vlans = self.by_adapter("VMNetworkAdapterVlan")
        isolation = self.by_adapter("VMNetworkAdapterIsolation")
        guest_ips = self.guest_addresses()
        management: list[dict[str, Any]] = []
        management_indexes: list[int] = []
        guests: dict[str, dict[str, Any]] = {}
        for i, ad in enumerate(s["VMNetworkAdapter"]):
            source = self.where("VMNetworkAdapter", i)
            name = self.text(ad.get("Name")) or f"adapter {i}"
            switch = self.text(ad.get("SwitchName"))
            is_mgmt = self.flag(ad.get("IsManagementOs"))
            label = (
                f"management OS adapter {name!r}"
                if is_mgmt
                else (f"adapter {name!r} of VM {self.text(ad.get('VMName'))!r}")
            )
            if not is_mgmt and not self.text(ad.get("VMName")):
                self.out.warn(source, f"{label} belongs to no VM and is not the management OS's")
                continue
            if not is_mgmt:
                guests.setdefault(
                    _vm_key(ad),
                    {
                        "_vmid": self.text(ad.get("VMId")),
                        "name": self.text(ad.get("VMName")),
                        "host": self.host,
                        "source": f"{source} (VM {self.text(ad.get('VMName'))})",
                        "nics": [],
                    },
                )
            if not switch:
                continue  # not connected: on no network
            vs = vswitches.get(switch)
            if vs is None:
                self.out.warn(
                    source,
                    f"{label} is on switch {switch!r}, which Get-VMSwitch did not list; left out",
                )
                continue
            mode = self.vlan_mode(ad, label, source, vlans, isolation)
            if mode is None:
                continue
            mac = _mac(ad.get("MacAddress"))
            if is_mgmt:
                iface = self.build_management(ad, label, source, vs, mode, mac, adapters_by_mac)
                if iface is not None:
                    management.append(iface)
                    if mac in adapters_by_mac:
                        management_indexes.append(adapters_by_mac[mac][0])
                continue
            nic: dict[str, Any] = {
                "name": name,
                "source": source,
                "vswitch": switch,
                "vlan": mode,
                "mac": mac,
            }
            ips = guest_ips.get(_adapter_key(ad.get("Id")))
            if ips is None:
                ips = []
                bare = [str(x) for x in self.values(ad, "IPAddresses", label)]
                if any(
                    _is_address(x) and _is_usable(ipaddress.ip_address(x.split("%")[0]))
                    for x in bare
                ):
                    self.out.warn(
                        source,
                        f"{label} reports addresses {', '.join(bare)} without subnet masks "
                        "(no Msvm_GuestNetworkAdapterConfiguration record); addresses left out",
                    )
            if ips:
                nic["address"] = ips if len(ips) > 1 else ips[0]
            nic["guards"] = {
                "dhcp_guard": self.on(ad, "DhcpGuard", label, source),
                "router_guard": self.on(ad, "RouterGuard", label, source),
                "mac_spoofing": self.on(ad, "MacAddressSpoofing", label, source),
            }
            mirroring = self.enum(ad.get("PortMirroringMode"), "PortMirroringMode")
            if mirroring == "Destination":
                self.out.warn(
                    source,
                    f"{label} is a port-mirroring destination: it receives a copy of the "
                    f"traffic of every mirroring source on switch {switch!r} (not modelled)",
                )
            guest = guests[_vm_key(ad)]
            guest["nics"].append(nic)

        # physical adapters, and the management OS's addresses on those not bound to a switch
        for i, na in enumerate(s["NetAdapter"]):
            if i in used_adapters or i in management_indexes or self.flag(na.get("Virtual")):
                continue
            name = self.text(na.get("Name"))
            if not name or name in nics:
                continue
            nics[name] = {"name": name, "source": self.where("NetAdapter", i)}
            addresses = self.addresses.get(self.number(na.get("InterfaceIndex")) or -1, [])
            if addresses:
                management.append(
                    {
                        "name": name,
                        "source": self.where("NetAdapter", i),
                        "nic": name,
                        "address": addresses if len(addresses) > 1 else addresses[0],
                        "mac": _mac(na.get("MacAddress")),
                    }
                )
                management_indexes.append(i)

        host: dict[str, Any] = {
            "name": self.host,
            "hypervisor": "hyperv",
            "source": f"{self.file} (ComputerName {self.host})",
            "nics": sorted(nics.values(), key=lambda n: n["name"]),
            "vswitches": sorted(vswitches.values(), key=lambda v: v["name"]),
            "management": _unique_names(sorted(management, key=lambda m: m["name"])),
        }
        firewall = self.build_firewall(management, management_indexes)
        if firewall is not None:
            host["firewall"] = firewall
        self.out.entities("hosts").append(host)
        _distinct_vm_names(list(guests.values()), self.out)
        for guest in sorted(guests.values(), key=lambda g: g["name"]):
            guest["nics"] = _unique_names(
                sorted(guest["nics"], key=lambda n: (n["name"], n.get("mac") or ""))
            )
            guest["_facts"] = {"networks": sorted({n["vswitch"] for n in guest["nics"]})}
            self.out.entities("guests").append(guest)

    def on(self, ad: dict[str, Any], key: str, label: str, source: str) -> bool:
        state = self.enum(ad.get(key), "OnOffState")
        if state is None and ad.get(key) is not None:
            self.out.warn(
                source, f"{label}: {key} {ad.get(key)!r} is neither On nor Off; taken as Off"
            )
        return state == "On"

    def by_adapter(self, section: str) -> dict[str, tuple[int, dict[str, Any]]]:
        out: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, item in enumerate(self.sections[section]):
            key = self.text(item.get("AdapterId"))
            if key:
                out.setdefault(key, (i, item))
        return out

    # --- switches -----------------------------------------------------------------------
    def build_switch(
        self,
        i: int,
        sw: dict[str, Any],
        by_description: dict[str, tuple[int, dict[str, Any]]],
        nics: dict[str, dict[str, Any]],
        used: set[int],
    ) -> dict[str, Any] | None:
        source = self.where("VMSwitch", i)
        name = self.text(sw.get("Name"))
        if not name:
            self.out.warn(source, "a switch without a name; left out")
            return None
        kind = self.enum(sw.get("SwitchType"), "SwitchType")
        if kind is None:
            self.out.warn(
                source, f"switch {name!r}: unknown SwitchType {sw.get('SwitchType')!r}; left out"
            )
            return None
        amo = self.flag(sw.get("AllowManagementOS"))
        vs: dict[str, Any] = {"name": name, "source": source, "type": kind.lower()}
        if kind != "External":
            return vs
        descriptions = (
            [
                str(d)
                for d in self.values(sw, "NetAdapterInterfaceDescriptions", f"VMSwitch[{i}]")
                if d
            ]
            if self.flag(sw.get("EmbeddedTeamingEnabled"))
            else []
        )
        if not descriptions:
            single = self.text(sw.get("NetAdapterInterfaceDescription"))
            descriptions = [single] if single else []
        if not descriptions:
            kind = "internal" if amo else "private"
            self.out.warn(
                source,
                f"external switch {name!r} names no physical adapter: it reaches no wire, "
                f"modelled as {kind}",
            )
            vs["type"] = kind
            return vs
        members = []
        for desc in descriptions:
            found = by_description.get(desc)
            if found is None:
                self.out.warn(
                    source,
                    f"switch {name!r}: no adapter in Get-NetAdapter has the description {desc!r}; "
                    "the uplink is named by its description",
                )
                members.append(desc)
            else:
                used.add(found[0])
                members.append(self.text(found[1].get("Name")) or desc)
        uplink = " + ".join(members)
        nics.setdefault(uplink, {"name": uplink, "source": source})
        vs["uplinks"] = [uplink]
        vs["allow_management_os"] = amo
        return vs

    # --- VLANs ----------------------------------------------------------------------------
    def vlan_mode(
        self,
        ad: dict[str, Any],
        label: str,
        source: str,
        vlans: Mapping[str, tuple[int, dict[str, Any]]],
        isolation: Mapping[str, tuple[int, dict[str, Any]]],
    ) -> int | dict[str, Any] | None:
        """The NIC's VLAN in the format's terms (an access VLAN, or a trunk), or None with a
        warning when it cannot be known."""
        key = self.text(ad.get("Id"))
        iso = isolation.get(key)
        if iso is not None:
            mode = self.enum(iso[1].get("IsolationMode"), "IsolationMode")
            iso_source = self.where("VMNetworkAdapterIsolation", iso[0])
            if mode in ("NativeVirtualSubnet", "ExternalVirtualSubnet"):
                self.out.warn(
                    iso_source,
                    f"{label} is isolated in a virtual subnet ({mode}, network virtualization): "
                    "netseg does not model it; the NIC is left out",
                )
                return None
            if mode == "Vlan":
                vid = self.number(iso[1].get("DefaultIsolationID"))
                if vid is None or not 0 <= vid <= 4094:
                    self.out.warn(
                        iso_source,
                        f"{label}: VLAN isolation without a valid DefaultIsolationID; the NIC is left out",
                    )
                    return None
                return vid
            if mode is None and iso[1].get("IsolationMode") is not None:
                self.out.warn(
                    iso_source,
                    f"{label}: unknown IsolationMode {iso[1].get('IsolationMode')!r}; the NIC is left out",
                )
                return None
        found = vlans.get(key)
        if found is None:
            self.out.warn(
                source,
                f"{label} has no Get-VMNetworkAdapterVlan record: its VLAN is unknown; the NIC is left out",
            )
            return None
        index, v = found
        where = self.where("VMNetworkAdapterVlan", index)
        what = f"VMNetworkAdapterVlan[{index}]"
        mode = self.enum(v.get("OperationMode"), "OperationMode")
        if mode == "Untagged":
            return 0
        if mode == "Access":
            vid = self.number(v.get("AccessVlanId"))
            if vid is None or not 1 <= vid <= 4094:
                self.out.warn(
                    where,
                    f"{label}: Access mode with AccessVlanId {v.get('AccessVlanId')!r}; the NIC is left out",
                )
                return None
            return vid
        if mode == "Trunk":
            allowed = [
                n
                for n in (
                    self.number(x) for x in self.values(v, "AllowedVlanIdList", what, numbers=True)
                )
                if n is not None and 1 <= n <= 4094
            ]
            native = self.number(v.get("NativeVlanId")) or 0
            if not allowed:
                return native  # a trunk of no tagged VLAN carries only its native one
            return {"trunk": _vlan_set(allowed), "native": native}
        if mode == "Private":
            pvlan = self.enum(v.get("PrivateVlanMode"), "PrivateVlanMode")
            primary = self.number(v.get("PrimaryVlanId"))
            if pvlan in ("Isolated", "Community"):
                secondary = self.number(v.get("SecondaryVlanId"))
                if secondary is None or not 1 <= secondary <= 4094:
                    self.out.warn(
                        where,
                        f"{label}: private VLAN ({pvlan}) without a SecondaryVlanId; the NIC is left out",
                    )
                    return None
                self.out.warn(
                    where,
                    f"{label}: private VLAN {pvlan.lower()} port (primary {primary}, secondary "
                    f"{secondary}) modelled as access VLAN {secondary}: ports of that secondary "
                    "VLAN appear to reach each other, as a community does",
                )
                return secondary
            if pvlan == "Promiscuous" and primary is not None and 1 <= primary <= 4094:
                secondaries = [
                    n
                    for n in (
                        self.number(x)
                        for x in self.values(v, "SecondaryVlanIdList", what, numbers=True)
                    )
                    if n is not None and 1 <= n <= 4094
                ]
                self.out.warn(
                    where,
                    f"{label}: private VLAN promiscuous port (primary {primary}) modelled as a "
                    f"trunk of its secondary VLANs with native VLAN {primary}",
                )
                return {"trunk": _vlan_set(secondaries), "native": primary}
            self.out.warn(
                where,
                f"{label}: private VLAN mode {v.get('PrivateVlanMode')!r} is unknown; the NIC is left out",
            )
            return None
        self.out.warn(
            where,
            f"{label}: VLAN operation mode {v.get('OperationMode')!r} is not Untagged, Access, "
            "Trunk or Private; netseg does not guess it, the NIC is left out",
        )
        return None

    # --- the management OS --------------------------------------------------------------
    def read_addresses(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for i, rec in enumerate(self.sections["NetIPAddress"]):
            index = self.number(rec.get("InterfaceIndex"))
            ip = self.text(rec.get("IPAddress")).split("%")[0]
            prefix = self.number(rec.get("PrefixLength"))
            if index is None or not ip or prefix is None:
                continue
            try:
                iface = ipaddress.ip_interface(f"{ip}/{prefix}")
            except ValueError:
                self.out.warn(
                    self.where("NetIPAddress", i), f"address {ip}/{prefix} is not valid; left out"
                )
                continue
            if _is_usable(iface.ip):
                out.setdefault(index, []).append(str(iface))
        return out

    def build_management(
        self,
        ad: dict[str, Any],
        label: str,
        source: str,
        vs: dict[str, Any],
        mode: int | dict[str, Any],
        mac: str | None,
        by_mac: Mapping[str, tuple[int, dict[str, Any]]],
    ) -> dict[str, Any] | None:
        if vs["type"] == "private":
            self.out.warn(
                source,
                f"{label} is on private switch {vs['name']!r}, which the management OS cannot use; left out",
            )
            return None
        if isinstance(mode, dict):
            native = int(mode.get("native", 0))
            self.out.warn(
                source,
                f"{label} is in trunk mode: the management OS sends untagged, so it is modelled "
                f"in the native VLAN {native}",
            )
            mode = native
        netadapter = by_mac.get(mac) if mac else None
        name = (
            self.text(netadapter[1].get("Name")) if netadapter else ""
        ) or f"vEthernet ({self.text(ad.get('Name'))})"
        iface: dict[str, Any] = {
            "name": name,
            "source": source,
            "vswitch": vs["name"],
            "vlan": mode,
        }
        if netadapter is not None:
            addresses = self.addresses.get(
                self.number(netadapter[1].get("InterfaceIndex")) or -1, []
            )
            if addresses:
                iface["address"] = addresses if len(addresses) > 1 else addresses[0]
        else:
            self.out.warn(
                source,
                f"{label}: no adapter in Get-NetAdapter has its MAC; its addresses are unknown",
            )
        iface["mac"] = mac
        if vs["type"] == "external" and not vs.get("allow_management_os"):
            self.out.warn(
                source,
                f"{label} is on switch {vs['name']!r}, whose AllowManagementOS is False; "
                "taken as True (the adapter exists)",
            )
            vs["allow_management_os"] = True
        return iface

    def guest_addresses(self) -> dict[str, list[str]]:
        """Guests' addresses with prefixes, from Msvm_GuestNetworkAdapterConfiguration (keyed
        like the adapter's Id: VMID\\ADAPTERID)."""
        out: dict[str, list[str]] = {}
        for i, rec in enumerate(self.sections["GuestNetworkAdapterConfiguration"]):
            what = f"GuestNetworkAdapterConfiguration[{i}]"
            key = _adapter_key(rec.get("InstanceID"))
            if not key:
                continue
            ips = [str(x) for x in self.values(rec, "IPAddresses", what)]
            masks = [str(x) for x in self.values(rec, "Subnets", what)]
            found = []
            for ip, mask in zip(ips, masks, strict=False):
                try:
                    address = ipaddress.ip_address(ip.split("%")[0])
                    prefix = _prefix(mask, address.version)
                    if prefix is not None and _is_usable(address):
                        found.append(f"{address}/{prefix}")
                except ValueError:
                    self.out.warn(
                        self.where("GuestNetworkAdapterConfiguration", i),
                        f"address {ip} / {mask} is not valid; left out",
                    )
            out[key] = found
        return out

    # --- the firewall ---------------------------------------------------------------------
    def build_firewall(
        self, management: list[dict[str, Any]], indexes: list[int]
    ) -> dict[str, Any] | None:
        s = self.sections
        fsource = f"{self.file} NetFirewallProfile"
        if not s["NetFirewallProfile"]:
            self.out.warn(
                fsource,
                "no firewall profiles collected: the host's firewall is unknown (not written)",
            )
            return None
        index_of = {i: self.number(s["NetAdapter"][i].get("InterfaceIndex")) for i in indexes}
        interfaces = {x for x in index_of.values() if x is not None}
        active: set[str] = set()
        for rec in s["NetConnectionProfile"]:
            if self.number(rec.get("InterfaceIndex")) in interfaces:
                category = self.enum(rec.get("NetworkCategory"), "NetworkCategory")
                if category:
                    active.add(CATEGORY_PROFILE[category])
        if not active:
            active = set(ALL_PROFILES)
            if management:
                self.out.warn(
                    fsource,
                    "no network category (Get-NetConnectionProfile) for the management "
                    "interfaces: the rules of every profile are taken as in force",
                )
        profiles: dict[str, dict[str, Any]] = {}
        for rec in s["NetFirewallProfile"]:
            name = self.text(rec.get("Name"))
            if name in ALL_PROFILES:
                profiles[name] = rec
        default = "deny"
        for name in sorted(active):
            prof = profiles.get(name)
            if prof is None:
                self.out.warn(
                    fsource,
                    f"profile {name} is in force but was not collected: the host's firewall is unknown (not written)",
                )
                return None
            if self.enum(prof.get("Enabled"), "GpoBoolean") == "False":
                self.out.warn(
                    fsource,
                    f"the {name} firewall profile is off on the management OS: no firewall is "
                    "written (every source is admitted)",
                )
                return None
            if self.enum(prof.get("DefaultInboundAction"), "Action") in ("Allow", "AllowBypass"):
                default = "allow"
        subnets = sorted(
            {
                str(ipaddress.ip_interface(a).network)
                for m in management
                for a in (
                    [m["address"]] if isinstance(m.get("address"), str) else m.get("address", [])
                )
            }
        )
        lines: list[dict[str, Any]] = []
        blocked: list[str] = []
        approximated: list[str] = []
        for i, rule in enumerate(s["NetFirewallRule"]):
            what = f"NetFirewallRule[{i}]"
            if self.enum(rule.get("Enabled"), "Enabled") != "True":
                continue
            if self.enum(rule.get("Direction"), "Direction") != "Inbound":
                continue
            if not (self.rule_profiles(rule) & active):
                continue
            shown = self.text(rule.get("DisplayName")) or self.text(rule.get("Name")) or what
            action = self.enum(rule.get("Action"), "Action")
            if action == "Block":
                blocked.append(shown)
                continue
            if action not in ("Allow", "AllowBypass"):
                continue
            services, exact = self.rule_services(rule, what)
            peers, exact_peers = self.rule_peers(rule, what, subnets)
            if not (exact and exact_peers):
                approximated.append(shown)
            for peer in peers:
                line: dict[str, Any] = {"from": peer}
                if services != ["any"]:
                    line["services"] = services if len(services) > 1 else services[0]
                line["why"] = shown
                lines.append(line)
        if blocked:
            self.out.warn(
                f"{self.file} NetFirewallRule",
                f"{len(blocked)} inbound block rule(s) in force are not represented (netseg's host "
                f"firewall has allow lines only, so exposure may be overstated): " + _some(blocked),
            )
        if approximated:
            self.out.warn(
                f"{self.file} NetFirewallRule",
                f"{len(approximated)} rule(s) use keywords netseg cannot express (ports such as RPC, "
                f"addresses such as Internet or DefaultGateway), widened to the whole protocol or "
                f"to any source: " + _some(approximated),
            )
        firewall: dict[str, Any] = {"default": default}
        if lines:
            firewall["allow"] = lines
        return firewall

    def rule_profiles(self, rule: dict[str, Any]) -> frozenset[str]:
        value = rule.get("Profile")
        if isinstance(value, int) and not isinstance(value, bool):
            if value == 0:
                return ALL_PROFILES
            return frozenset(name for bit, name in PROFILE_FLAGS.items() if value & bit)
        if isinstance(value, str):
            words = {w.strip() for w in value.split(",")}
            if "Any" in words or not value.strip():
                return ALL_PROFILES
            return frozenset(words & ALL_PROFILES)
        return ALL_PROFILES

    def rule_services(self, rule: dict[str, Any], what: str) -> tuple[list[str], bool]:
        protocol = self.text(str(rule.get("Protocol", "Any"))).lower()
        ports = [self.text(str(p)) for p in self.values(rule, "LocalPort", what, words=True)] or [
            "Any"
        ]
        if protocol in ("", "any"):
            return ["any"], True
        if protocol in _ICMP:
            return [_ICMP[protocol]], True
        if protocol not in _PROTOCOLS:
            return ["other"], True
        proto = _PROTOCOLS[protocol]
        out: list[str] = []
        exact = True
        for port in ports:
            if port.lower() == "any":
                return [proto], exact
            if re.fullmatch(r"\d+(-\d+)?", port):
                out.append(f"{proto}/{port}")
            else:
                exact = False  # RPC, RPCEPMap, IPHTTPSIn, PlayToDiscovery, Teredo, mDNS, ...
                return [proto], exact
        return out or [proto], exact

    def rule_peers(
        self, rule: dict[str, Any], what: str, subnets: list[str]
    ) -> tuple[list[str], bool]:
        values = [
            self.text(str(a)) for a in self.values(rule, "RemoteAddress", what, words=True)
        ] or ["Any"]
        out: list[str] = []
        exact = True
        for value in values:
            low = value.lower()
            if low in ("any", "*", ""):
                return ["any"], exact
            if low in ("localsubnet", "localsubnet4", "localsubnet6"):
                want = {"localsubnet": (4, 6), "localsubnet4": (4,), "localsubnet6": (6,)}[low]
                out.extend(n for n in subnets if ipaddress.ip_network(n).version in want)
                continue
            networks = _networks(value)
            if networks is None:
                exact = False
                return ["any"], exact
            out.extend(networks)
        return list(dict.fromkeys(out)), exact


def _vm_key(ad: dict[str, Any]) -> str:
    """A VM is its VMId (Hyper-V allows two VMs of one name), else its name."""
    vmid = ad.get("VMId")
    return str(vmid).lower() if vmid else f"name:{ad.get('VMName')}"


def _distinct_vm_names(guests: list[dict[str, Any]], out: Imported) -> None:
    count: dict[str, int] = {}
    for g in guests:
        count[g["name"]] = count.get(g["name"], 0) + 1
    for g in guests:
        vmid = g.pop("_vmid", "")
        if count[g["name"]] > 1 and vmid:
            renamed = f"{g['name']} ({vmid})"
            out.warn(
                g["source"], f"two VMs are named {g['name']!r}: this one is written as {renamed!r}"
            )
            g["name"] = renamed


def _adapter_key(value: Any) -> str:
    """VMID\\ADAPTERID from a VMNetworkAdapter Id ("Microsoft:VMID\\ADAPTERID") or a
    Msvm_GuestNetworkAdapterConfiguration InstanceID ("Microsoft:GuestNetwork\\VMID\\ADAPTERID")."""
    if not isinstance(value, str):
        return ""
    parts = value.split(":", 1)[-1].split("\\")
    return "\\".join(parts[-2:]).upper() if len(parts) >= 2 else ""


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _prefix(mask: str, version: int) -> int | None:
    mask = mask.strip().lstrip("/")
    if mask.isdigit():
        n = int(mask)
        return n if n <= (32 if version == 4 else 128) else None
    if version == 4:
        try:
            return ipaddress.ip_network(f"0.0.0.0/{mask}").prefixlen
        except ValueError:
            return None
    return None


def _networks(value: str) -> list[str] | None:
    """A Windows firewall address (address, prefix, address/mask, or a range) as prefixes;
    None for a keyword (Internet, DNS, DefaultGateway, ...)."""
    try:
        if "-" in value:
            lo, hi = (ipaddress.ip_address(x.strip()) for x in value.split("-", 1))
            return [str(n) for n in ipaddress.summarize_address_range(lo, hi)]
        return [str(ipaddress.ip_network(value, strict=False))]
    except (ValueError, TypeError):
        return None


def _vlan_set(vlans: Iterable[int]) -> str:
    ordered = sorted(set(vlans))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def _unique_names(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hyper-V names every adapter "Network Adapter" by default: a name used twice is told
    apart by its MAC (or its position)."""
    seen: dict[str, int] = {}
    for item in items:
        seen[item["name"]] = seen.get(item["name"], 0) + 1
    for n, item in enumerate(items):
        if seen[item["name"]] > 1:
            item["name"] = f"{item['name']} ({item.get('mac') or n})"
    return items


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
