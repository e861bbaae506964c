"""Layer 3 and filtering: router ACLs and the privileged domain's firewall, evaluated over
service sets (never port by port), and the address profiles that make them cheap.

An ACL decides per (source, destination, service): the first line whose peers match and that
lists the service decides; a line without the service is skipped for it; ``default`` applies to
what no line took. Walking the lines once with the set of services still undecided gives the
same answer for every service at once (:func:`evaluate_acl`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netseg.model.services import ServiceSet
from netseg.model.topology import (
    AclLine,
    Address,
    Firewall,
    FirewallRule,
    Network,
    Peer,
    Router,
    Topology,
)

ANY = ServiceSet.any()
NONE = ServiceSet.none()


class PrefixIndex:
    """Every prefix a peer names (ACLs, firewalls, policy), numbered, with fast membership.

    An address's *match set* is the frozenset of the numbers of the prefixes that contain it;
    two addresses with the same match set are treated alike by every rule of the topology.
    """

    def __init__(self, prefixes: Iterable[Network]) -> None:
        self.number: dict[Network, int] = {}
        for p in prefixes:
            self.number.setdefault(p, len(self.number))
        self._by_version: dict[int, list[tuple[int, int, int, int]]] = {4: [], 6: []}
        for p, i in self.number.items():
            self._by_version[p.version].append(
                (i, int(p.network_address), int(p.netmask), p.prefixlen)
            )
        self._cache: dict[
            tuple[int, int, int], tuple[frozenset[int], tuple[tuple[int, int, int], ...]]
        ] = {}

    def names(self) -> list[str]:
        """Each prefix as written (canonical), by number."""
        out = [""] * len(self.number)
        for p, i in self.number.items():
            out[i] = str(p)
        return out

    @classmethod
    def of_topology(cls, topology: Topology) -> PrefixIndex:
        peers: list[Peer] = []
        for r in topology.routers:
            for line in r.acl:
                peers += [line.source, line.destination]
        for h in topology.hosts:
            if h.firewall is not None:
                peers += [rule.source for rule in h.firewall.allow]
        for rule in topology.policy.allow:
            peers += [rule.source, rule.destination]
        return cls(p.prefix for p in peers if p.prefix is not None)

    def match(self, address: Address) -> frozenset[int]:
        wide_set, narrow_list = self._subnet(address)
        if not narrow_list:
            return wide_set
        ip = int(address.ip)
        extra = {i for i, pnet, pmask in narrow_list if ip & pmask == pnet}
        return wide_set | extra if extra else wide_set

    def subnet_match(self, address: Address) -> frozenset[int] | None:
        """The match set every address of ``address``'s subnet has, or None when some
        prefix is narrower than the subnet (the match then depends on the address)."""
        wide_set, narrow_list = self._subnet(address)
        return None if narrow_list else wide_set

    def _subnet(self, address: Address) -> tuple[frozenset[int], tuple[tuple[int, int, int], ...]]:
        """(prefixes containing the whole subnet, narrower prefixes as (number, net, mask))."""
        net = address.network
        plen = net.prefixlen
        # integer key: hashing ipaddress networks is slow on 50,000 guests
        key = (address.version, int(address) >> (net.max_prefixlen - plen), plen)
        found = self._cache.get(key)
        if found is None:
            wide: set[int] = set()
            narrow: list[tuple[int, int, int]] = []
            base = int(net.network_address)
            for i, pnet, pmask, plen in self._by_version[net.version]:
                if plen <= net.prefixlen:
                    # the whole subnet is inside the prefix or outside it
                    if base & pmask == pnet:
                        wide.add(i)
                else:
                    narrow.append((i, pnet, pmask))
            found = (frozenset(wide), tuple(narrow))
            self._cache[key] = found
        return found


@dataclass(frozen=True, slots=True)
class Side:
    """What rules can see of one end of a flow: its zone, the prefixes its address is in,
    and whether it has a declared address at all (``known``)."""

    zone: str | None
    match: frozenset[int]
    known: bool = True


_NO_PREFIXES = PrefixIndex(())


def peer_matches(peer: Peer, side: Side, prefixes: PrefixIndex, unknown_matches: bool) -> bool:
    """Whether a rule's peer covers one end of a flow.

    A zone peer matches endpoints of that zone (router interfaces are in no zone); a prefix
    matches addresses inside it. An end without any declared address matches a prefix only
    when ``unknown_matches`` (the caller decides which way is conservative).
    """
    if peer.zone is not None:
        return side.zone == peer.zone
    if peer.prefix is not None:
        if not side.known:
            return unknown_matches
        return prefixes.number[peer.prefix] in side.match
    return True


@dataclass(frozen=True, slots=True)
class AclDecision:
    """Services an ACL lets through for one (source, destination), and the lines that did."""

    services: ServiceSet
    lines: tuple[AclLine | None, ...]  # None = the router's default


def evaluate_acl(router: Router, src: Side, dst: Side, prefixes: PrefixIndex) -> AclDecision:
    """First match per service, for every service at once (see the module docstring)."""
    return first_match(
        (
            line
            for line in router.acl
            if peer_matches(line.source, src, prefixes, False)
            and peer_matches(line.destination, dst, prefixes, False)
        ),
        router.default,
    )


def first_match(matching: Iterable[AclLine], default: str) -> AclDecision:
    """The ACL's decision from the lines that match both sides, in order: each line decides
    the services no earlier line decided; what no line decides follows the router's default.
    The one fold of an ordered ACL, whoever found the matching lines."""
    undecided = ANY
    permitted = NONE
    lines: list[AclLine | None] = []
    for line in matching:
        taken = undecided & line.services
        if not taken:
            continue
        if line.action == "permit":
            permitted = permitted | taken
            lines.append(line)
        undecided = undecided - taken
        if not undecided:
            break
    if undecided and default == "permit":
        permitted = permitted | undecided
        lines.append(None)
    return AclDecision(permitted, tuple(lines))


@dataclass(frozen=True, slots=True)
class FirewallDecision:
    """Services a host firewall accepts from one source; ``rules`` holds the allow lines
    (1-based numbers) that did, 0 for ``default: allow``, and is empty with no firewall."""

    services: ServiceSet
    rules: tuple[int, ...]
    present: bool


def evaluate_firewall(
    firewall: Firewall | None, src: Side, prefixes: PrefixIndex
) -> FirewallDecision:
    """Inbound filtering of the privileged domain (semantics.md §3).

    A source without a declared address matches prefix rules: what it would use is unknown, and
    the exposure must not be understated.
    """
    if firewall is None:
        return FirewallDecision(ANY, (), False)
    if firewall.default == "allow":
        return FirewallDecision(ANY, (0,), True)
    allowed = NONE
    used: list[int] = []
    for k, rule in enumerate(firewall.allow, start=1):
        if peer_matches(rule.source, src, prefixes, True) and not rule.services <= allowed:
            allowed = allowed | rule.services
            used.append(k)
    return FirewallDecision(allowed, tuple(used), True)


def firewall_rule(firewall: Firewall, number: int) -> FirewallRule:
    return firewall.allow[number - 1]


def policy_allows(
    topology: Topology,
    src: Side,
    dst: Side,
    prefixes: PrefixIndex,
) -> ServiceSet:
    """What the intent allows from ``src`` to ``dst`` (semantics.md §5).

    Inside one zone everything is allowed unless ``intra_zone: deny``. Router interfaces are in
    no zone and are not judged (everything allowed). A side without a declared address never
    matches a prefix: the allowance is not overstated.
    """
    if src.zone is None or dst.zone is None:
        return ANY
    if src.zone == dst.zone and topology.policy.intra_zone == "allow":
        return ANY
    allowed = NONE
    for rule in topology.policy.allow:
        if peer_matches(rule.source, src, prefixes, False) and peer_matches(
            rule.destination, dst, prefixes, False
        ):
            allowed = allowed | rule.services
    return allowed


def zone_intent(topology: Topology, source: str, destination: str) -> ServiceSet:
    """What the policy allows from every member of zone ``source`` to every member of zone
    ``destination``: :func:`policy_allows` for two sides without addresses, so rules naming
    prefixes (which cover some addresses of a zone only) do not count."""
    return policy_allows(
        topology,
        Side(source, frozenset(), known=False),
        Side(destination, frozenset(), known=False),
        _NO_PREFIXES,
    )


def networks_overlap(a: Address, b: Address) -> bool:
    return a.version == b.version and a.network.overlaps(b.network)  # type: ignore[arg-type,unused-ignore]


def contains(network: Network, address: Address) -> bool:
    if network.version != address.version:
        return False
    return address.ip in network


def sort_addresses(addresses: Sequence[Address]) -> list[Address]:
    return sorted(addresses, key=lambda a: (a.version, int(a.ip)))


__all__ = [
    "AclDecision",
    "FirewallDecision",
    "PrefixIndex",
    "Side",
    "evaluate_acl",
    "evaluate_firewall",
    "policy_allows",
]
