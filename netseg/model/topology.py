"""The topology model: immutable, typed values for everything a design declares.

Built by :mod:`netseg.topology` from a validated file, with vendor defaults already applied
(so analyses never re-derive them): resolved security settings of every port group, Hyper-V's
implicit management-OS vNICs, NIC names, default zones. Nothing here does I/O or imports
networkx. Every entity carries the :class:`Location` of its declaration so that findings can
point at the YAML line.

Attachments (guest NICs, management interfaces, router interfaces, physical endpoints) share
the :class:`Attachment` protocol: an entity reference, MAC, addresses and zone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Literal

from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.vlans import VlanSet

Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MANAGEMENT_ZONE = "management"
DEFAULT_ZONE = "default"


class Hypervisor(StrEnum):
    ESXI = "esxi"
    XEN = "xen"
    HYPERV = "hyperv"

    @property
    def privileged_domain(self) -> str:
        """What the privileged domain is called on this hypervisor."""
        return {"esxi": "vmkernel", "xen": "dom0", "hyperv": "management OS"}[self.value]


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 … info 0."""
        return _SEVERITY_RANK[self]  # a StrEnum member is its text as a key


# one table for every call (findings are sorted by rank in bulk)
_SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was declared: ``file:line:column`` (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Location("<generated>", 0, 0)


def _loc() -> Location:
    """Declaration position: never part of equality (a moved line is the same entity)."""
    loc: Location = field(default=NOWHERE, compare=False, repr=False)
    return loc


# --- peers, policy -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """One side of a policy, ACL or firewall rule: a zone, a prefix, or ``any``."""

    zone: str | None = None
    prefix: Network | None = None

    @property
    def is_any(self) -> bool:
        return self.zone is None and self.prefix is None

    def __str__(self) -> str:
        if self.zone is not None:
            return self.zone
        if self.prefix is not None:
            return str(self.prefix)
        return "any"


ANY_PEER = Peer()


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    privileged: bool = False
    description: str = ""
    declared: bool = True
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class PolicyRule:
    source: Peer
    destination: Peer
    services: ServiceSet
    why: str = ""
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class Waiver:
    rule: str
    subject: str
    why: str
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class Policy:
    intra_zone: Literal["allow", "deny"] = "allow"
    allow: tuple[PolicyRule, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict, hash=False)
    waivers: tuple[Waiver, ...] = ()


# --- physical network --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwitchPort:
    """A physical switch port: ``access`` (one VLAN, untagged) or ``trunk``.

    ``native`` is the trunk's native VLAN (``None`` = untagged frames are dropped). A trunk
    whose native VLAN is not in ``allowed`` also drops untagged frames; see
    :attr:`untagged_vlan`.
    """

    name: str
    mode: Literal["access", "trunk"]
    vlan: int | None = None
    allowed: VlanSet = field(default_factory=VlanSet.empty)
    native: int | None = None
    qinq: bool = False
    description: str = ""
    location: Location = _loc()

    @property
    def untagged_vlan(self) -> int | None:
        """The VLAN untagged frames on the wire belong to, or None when they are dropped."""
        if self.mode == "access":
            return self.vlan
        if self.native is not None and self.native in self.allowed:
            return self.native
        return None

    @property
    def tagged_vlans(self) -> VlanSet:
        """VLANs carried tagged on the wire."""
        return self.allowed if self.mode == "trunk" else VlanSet.empty()


@dataclass(frozen=True)  # no slots: cached_property needs an instance __dict__
class Switch:
    name: str
    ports: tuple[SwitchPort, ...]
    implicit: bool = False
    location: Location = _loc()

    @cached_property
    def _ports(self) -> dict[str, SwitchPort]:
        return {p.name: p for p in self.ports}

    def port(self, name: str) -> SwitchPort:
        return self._ports[name]

    def has_port(self, name: str) -> bool:
        return name in self._ports

    @property
    def ref(self) -> str:
        return refs.switch(self.name)


@dataclass(frozen=True, slots=True)
class PortRef:
    switch: str
    port: str

    def __str__(self) -> str:
        return f"{self.switch}:{self.port}"

    @property
    def ref(self) -> str:
        return refs.switch(self.switch, self.port)


@dataclass(frozen=True, slots=True)
class Link:
    a: PortRef
    b: PortRef
    location: Location = _loc()


# --- how an attachment meets a virtual switch ----------------------------------------------


@dataclass(frozen=True, slots=True)
class VlanMode:
    """How a virtual port carries VLANs.

    - ``access`` with ``vlan`` 0: the switch's untagged domain;
    - ``access`` with ``vlan`` v: VLAN v's domain, the guest's frames untagged;
    - ``trunk``: the guest tags frames (VGT) for every VLAN of ``trunk``; untagged frames go
      to ``native`` (0 = the switch's untagged domain, None = dropped).
    - ``transparent``: Linux bridge without VLAN filtering; the guest is in the untagged
      domain and its own tags pass through unchanged.
    """

    kind: Literal["access", "trunk", "transparent"] = "access"
    vlan: int = 0
    trunk: VlanSet = field(default_factory=VlanSet.empty)
    native: int | None = 0

    @property
    def tags(self) -> bool:
        """Whether the attachment sends and receives tagged frames (tag injection)."""
        return self.kind != "access"

    def __str__(self) -> str:
        if self.kind == "access":
            return "untagged" if self.vlan == 0 else f"VLAN {self.vlan}"
        if self.kind == "transparent":
            return "transparent (guest tags pass)"
        native = "" if self.native == 0 else f", native {self.native}"
        return f"trunk {self.trunk}{native}"


UNTAGGED = VlanMode()


@dataclass(frozen=True, slots=True)
class Security:
    """ESXi Layer 2 security policy, resolved (vendor defaults applied)."""

    promiscuous: bool = False
    mac_changes: bool = False
    forged_transmits: bool = False


@dataclass(frozen=True, slots=True)
class PortGroup:
    name: str
    vlan: VlanMode
    security: Security
    vlan_source: int | str = 0  # as written: 0, 1-4094, 4095 or the trunk set's text
    location: Location = _loc()


VSwitchType = Literal["standard", "distributed", "external", "internal", "private", "bridge", "ovs"]


@dataclass(frozen=True, slots=True)
class Uplink:
    """A vswitch uplink: a NIC, or the ``NIC.VLAN`` subinterface (``vlan`` set)."""

    nic: str
    vlan: int | None = None

    def __str__(self) -> str:
        return self.nic if self.vlan is None else f"{self.nic}.{self.vlan}"


@dataclass(frozen=True, slots=True)
class VSwitch:
    name: str
    type: VSwitchType
    uplinks: tuple[Uplink, ...] = ()
    security: Security = Security()
    portgroups: tuple[PortGroup, ...] = ()
    allow_management_os: bool = False
    vlan_filtering: bool = False
    domain: str = "dom0"
    location: Location = _loc()

    @property
    def is_esxi(self) -> bool:
        return self.type in ("standard", "distributed")

    def portgroup(self, name: str) -> PortGroup | None:
        for pg in self.portgroups:
            if pg.name == name:
                return pg
        return None


@dataclass(frozen=True, slots=True)
class Nic:
    """A physical adapter; ``switch``/``port`` None means the implicit ``upstream`` switch."""

    name: str
    switch: str | None = None
    port: str | None = None
    pci: str | None = None
    location: Location = _loc()

    @property
    def cabled(self) -> bool:
        return self.switch is not None


@dataclass(frozen=True, slots=True)
class FirewallRule:
    source: Peer
    services: ServiceSet
    why: str = ""
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class Firewall:
    """The privileged domain's inbound firewall (applies to every management interface)."""

    default: Literal["allow", "deny"] = "deny"
    allow: tuple[FirewallRule, ...] = ()
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class DriverDomain:
    name: str
    nics: tuple[str, ...] = ()
    passthrough: tuple[str, ...] = ()
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class ManagementInterface:
    """An interface of the privileged domain (vmkernel port, dom0 interface, management OS vNIC).

    Exactly one of ``portgroup`` (with its ``vswitch``), ``vswitch`` (+ ``vlan``) or ``nic``
    attaches it. ``implicit`` marks the Hyper-V vNIC netseg adds for ``allow_management_os``
    or an ``internal`` switch when none is declared.
    """

    host: str
    name: str
    vswitch: str | None = None
    portgroup: str | None = None
    vlan: VlanMode = UNTAGGED
    nic: str | None = None
    addresses: tuple[Address, ...] = ()
    mac: str | None = None
    services: frozenset[str] = frozenset({"management"})
    zone: str = MANAGEMENT_ZONE
    domain: str = "dom0"
    implicit: bool = False
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.management(self.host, self.name)


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    hypervisor: Hypervisor
    iommu: bool = True
    nics: tuple[Nic, ...] = ()
    vswitches: tuple[VSwitch, ...] = ()
    management: tuple[ManagementInterface, ...] = ()
    firewall: Firewall | None = None
    driver_domains: tuple[DriverDomain, ...] = ()
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.host(self.name)

    def nic(self, name: str) -> Nic | None:
        for n in self.nics:
            if n.name == name:
                return n
        return None

    def vswitch(self, name: str) -> VSwitch | None:
        for v in self.vswitches:
            if v.name == name:
                return v
        return None


# --- guests, endpoints, routers ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Guards:
    """Hyper-V per-vNIC guards; vendor defaults are all off (spoofing blocked)."""

    dhcp_guard: bool = False
    router_guard: bool = False
    mac_spoofing: bool = False


@dataclass(frozen=True, slots=True)
class GuestNic:
    guest: str
    name: str
    vswitch: str
    portgroup: str | None = None
    vlan: VlanMode = UNTAGGED
    mac: str | None = None
    addresses: tuple[Address, ...] = ()
    guards: Guards = Guards()
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.guest(self.guest, self.name)


@dataclass(frozen=True, slots=True)
class Guest:
    name: str
    host: str
    zone: str = DEFAULT_ZONE
    roles: frozenset[str] = frozenset()
    passthrough: tuple[str, ...] = ()
    nics: tuple[GuestNic, ...] = ()
    location: Location = _loc()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A physical machine on a switch port (jump host, DHCP server, …)."""

    name: str
    switch: str
    port: str | None = None
    vlan: int | None = None
    zone: str = DEFAULT_ZONE
    mac: str | None = None
    addresses: tuple[Address, ...] = ()
    roles: frozenset[str] = frozenset()
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.endpoint(self.name)


@dataclass(frozen=True, slots=True)
class RouterInterface:
    """A router interface: an SVI (``switch`` + ``vlan``), a physical ``port``, or a virtual
    appliance NIC on a host's vswitch (``host`` + ``vswitch``/``portgroup`` + ``vlan``)."""

    router: str
    name: str
    switch: str | None = None
    vlan: int | None = None
    port: str | None = None
    host: str | None = None
    vswitch: str | None = None
    portgroup: str | None = None
    vlan_mode: VlanMode = UNTAGGED
    address: Address | None = None
    mac: str | None = None
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.router(self.router, self.name)


@dataclass(frozen=True, slots=True)
class AclLine:
    action: Literal["permit", "deny"]
    source: Peer
    destination: Peer
    services: ServiceSet
    index: int = 0
    location: Location = _loc()

    def __str__(self) -> str:
        return f"{self.action} {self.source} -> {self.destination} {self.services}"


@dataclass(frozen=True, slots=True)
class Router:
    name: str
    interfaces: tuple[RouterInterface, ...]
    acl: tuple[AclLine, ...] = ()
    default: Literal["permit", "deny"] = "deny"
    location: Location = _loc()

    @property
    def ref(self) -> str:
        return refs.router(self.name)


# --- the whole design ----------------------------------------------------------------------


@dataclass(frozen=True)
class Topology:
    """A validated design. Build with :func:`netseg.load`; never mutate."""

    name: str
    file: str = field(compare=False)  # the same design read from elsewhere is equal
    zones: Mapping[str, Zone] = field(default_factory=dict)
    policy: Policy = Policy()
    description: str = ""
    switches: tuple[Switch, ...] = ()
    links: tuple[Link, ...] = ()
    routers: tuple[Router, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    hosts: tuple[Host, ...] = ()
    guests: tuple[Guest, ...] = ()
    location: Location = _loc()

    def __hash__(self) -> int:
        return id(self)

    # lookups, built once
    @cached_property
    def _hosts(self) -> dict[str, Host]:
        return {h.name: h for h in self.hosts}

    @cached_property
    def _switches(self) -> dict[str, Switch]:
        return {s.name: s for s in self.switches}

    @cached_property
    def _guests(self) -> dict[str, Guest]:
        return {g.name: g for g in self.guests}

    def host(self, name: str) -> Host:
        return self._hosts[name]

    def switch(self, name: str) -> Switch:
        return self._switches[name]

    def guest(self, name: str) -> Guest:
        return self._guests[name]

    def zone(self, name: str) -> Zone:
        return self.zones[name]

    @property
    def privileged_zones(self) -> frozenset[str]:
        return frozenset(z.name for z in self.zones.values() if z.privileged)

    def guest_nics(self) -> list[GuestNic]:
        return [n for g in self.guests for n in g.nics]

    def management_interfaces(self) -> list[ManagementInterface]:
        return [m for h in self.hosts for m in h.management]

    def router_interfaces(self) -> list[RouterInterface]:
        return [i for r in self.routers for i in r.interfaces]

    def guests_on(self, host: str) -> list[Guest]:
        return [g for g in self.guests if g.host == host]
