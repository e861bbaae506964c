"""What a switch configuration says, resolved the way the switch resolves it.

The dialect readers (:mod:`.cisco`, :mod:`.junos`) turn a running configuration into one
:class:`SwitchFacts`: every interface with its switchport mode, VLANs, LAG membership, state,
addresses and applied ACLs, after the vendor's defaults are applied (a trunk without ``allowed``
carries every VLAN, native VLAN 1, IOS ports negotiate with DTP, …). :mod:`.build` turns the
facts into topology entities. Tests assert the meaning of each interface on this layer, the way
Batfish's grammar tests state it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from netseg.model.vlans import VlanSet

Dialect = Literal["ios", "nxos", "eos", "junos"]
DIALECTS: tuple[Dialect, ...] = ("ios", "nxos", "eos", "junos")
DIALECT_NAMES = {
    "ios": "Cisco IOS",
    "nxos": "Cisco NX-OS",
    "eos": "Arista EOS",
    "junos": "Juniper Junos",
}

# access, trunk, routed (no switchport), or a switchport mode netseg does not model
Mode = Literal["access", "trunk", "dynamic", "routed", "tunnel", "unmodelled"]
Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Interface:
    """One interface of the switch, defaults resolved."""

    name: str
    line: int  # the line of its `interface` statement (or first `set interfaces NAME`)
    switchport: bool = False
    mode: Mode = "routed"
    access_vlan: int = 1
    allowed: VlanSet = field(default_factory=VlanSet.full)
    native: int | None = 1
    voice_vlan: int | None = None  # an access port's voice VLAN (802.1Q-tagged on the port)
    shutdown: bool = False
    lag: str | None = None  # the LAG (port-channel / ae) this interface is a member of
    is_lag: bool = False
    svi_vlan: int | None = None  # VLAN of an SVI (interface VlanN, irb.N)
    addresses: list[tuple[Address, int]] = field(default_factory=list)  # (address, line)
    vrf: str | None = None
    acl_in: tuple[str, int] | None = None  # (ACL name, line applying it)
    acl_out: tuple[str, int] | None = None
    acl6_in: tuple[str, int] | None = None
    acl6_out: tuple[str, int] | None = None
    description: str | None = None
    unmodelled: str = ""  # why a switchport mode is not modelled (monitor, fex-fabric, …)


@dataclass(frozen=True)
class AclEntry:
    """One line of an access list, in the terms every dialect shares."""

    line: int
    action: Literal["permit", "deny"]
    protocol: str  # any, tcp, udp, icmp, icmp6, other
    src: tuple[Network, ...] | None  # None = any
    dst: tuple[Network, ...] | None
    ports: tuple[tuple[int, int], ...] | None  # destination port ranges (tcp/udp), None = all
    inexact: str = ""  # why the line means more or less than the format can say (empty: exact)


@dataclass
class Acl:
    name: str
    line: int
    family: Literal[4, 6]
    entries: list[AclEntry] = field(default_factory=list)


@dataclass
class SwitchFacts:
    """A whole configuration: the switch's name, its VLANs, interfaces and access lists."""

    file: str  # the input path as given
    display: str  # the file name used in provenance (tor1.cfg)
    dialect: Dialect
    hostname: str
    hostname_line: int
    declared_vlans: VlanSet | None  # None: the configuration declares no VLAN
    interfaces: dict[str, Interface] = field(default_factory=dict)  # in configuration order
    acls: dict[tuple[int, str], Acl] = field(default_factory=dict)  # (family, name) -> ACL
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append((line, message))

    def where(self, line: int) -> str:
        return f"{self.display}:{line}"
