"""The values of reachability: attachments, address profiles, classes, routes and verdicts.

Plain immutable records shared by :mod:`~netseg.graph.attachments`, :mod:`~netseg.graph.verdicts`,
:mod:`~netseg.graph.paths` and the memo tables (:mod:`~netseg.graph.memo`), so that none of those
modules needs another to name its types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netseg.graph.l2 import Hop, Join
from netseg.graph.l3 import NONE, AclDecision, FirewallDecision
from netseg.model.services import ServiceSet
from netseg.model.topology import NOWHERE, Address, Firewall, Location, VlanMode

Kind = Literal["guest", "management", "endpoint", "router"]


@dataclass(frozen=True, slots=True, eq=False)
class Attachment:
    """Something that sends and receives frames: a guest NIC, a management interface, a
    physical endpoint or a router interface, with the bridge domains it joins."""

    ref: str
    kind: Kind
    zone: str | None
    addresses: tuple[Address, ...]
    joins: tuple[Join, ...]
    host: str | None = None
    vlan: VlanMode | None = None
    location: Location = NOWHERE

    @property
    def segments(self) -> frozenset[int]:
        return frozenset(j.segment for j in self.joins)

    @property
    def can_tag(self) -> bool:
        """Whether it sends tagged frames of its own (VGT, trunk NIC, transparent bridge, OVS
        port without a tag)."""
        return any(j.tagged for j in self.joins)


Mode = Literal["l2", "l3"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One declared address as rules see it: version, prefixes matched, gateways usable
    (router, interface, segment) from the attachment's segments."""

    version: int
    match: frozenset[int]
    gateways: frozenset[tuple[str, str, int]]


@dataclass(frozen=True, slots=True)
class Route:
    """The routed way a verdict was found: gateway in, routers in order, gateway out."""

    entry: tuple[str, str, int]
    routers: tuple[str, ...]
    exit: tuple[str, str, int]
    decisions: tuple[AclDecision, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    services: ServiceSet
    allowed: ServiceSet
    mode: Mode
    segment: int  # the shared segment (l2) or the source's segment (l3)
    tagged: bool
    route: Route | None
    firewall: FirewallDecision | None
    permitted: ServiceSet = NONE  # services & allowed
    violating: ServiceSet = NONE  # services - allowed


def make_verdict(
    services: ServiceSet,
    allowed: ServiceSet,
    mode: Mode,
    segment: int,
    tagged: bool,
    route: Route | None,
    firewall: FirewallDecision | None,
    splits: dict[tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet, ServiceSet]],
) -> Verdict:
    """``splits`` memoises (permitted, violating) per (services, allowed): a few hundred
    distinct values serve every class pair."""
    # by identity (hashing service sets is slow): the values are memoised objects nearly
    # always, and the entry keeps both alive
    key = (id(services), id(allowed))
    split = splits.get(key)
    if split is None:
        split = splits[key] = (services & allowed, services - allowed, services, allowed)
    return Verdict(services, allowed, mode, segment, tagged, route, firewall, split[0], split[1])


def say_once(hops: list[Hop]) -> tuple[Hop, ...]:
    """The hops without repeats of the one just before. Compared field by field: Hop's
    dataclass ``__eq__`` runs in Python, and paths of every reachable pair go through here."""
    out = [hops[0]]
    prev = hops[0]
    for h in hops[1:]:
        if h.ref != prev.ref or h.detail != prev.detail:
            out.append(h)
        prev = h
    return tuple(out)


def union_services(a: ServiceSet, b: ServiceSet) -> ServiceSet:
    """``a | b`` without building a new set when one side is the empty constant."""
    if a is NONE:
        return b
    if b is NONE:
        return a
    return a | b


@dataclass(frozen=True, slots=True)
class AttachmentClass:
    key: tuple[object, ...]
    members: list[Attachment]
    zone: str | None
    segtags: tuple[tuple[int, bool], ...]
    profiles: tuple[Profile, ...]
    known: bool
    firewall: Firewall | None
    firewalled: bool  # a management interface: the host firewall applies

    @property
    def sample(self) -> Attachment:
        return self.members[0]

    @property
    def sample_kind(self) -> str:
        """The members' kind (the first part of the key, so a base class without members
        has it too)."""
        return self.key[0]  # type: ignore[return-value]
