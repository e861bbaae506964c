"""Classes of attachments as findings name them (rules.md, "Grain").

A reachability finding is made per equivalence class: attachments that share kind, zone,
segments (and whether each is joined tagged only), address profile and, for a management
interface, its host's firewall (:meth:`Reachability.class_key`). :func:`class_identity` names a
class by what defines it, never by its members, so the name stays the same when members join
or leave: ``diff`` and SARIF fingerprints match findings on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from netseg.graph.reach import Reachability
from netseg.graph.values import Attachment


def class_identity(reach: Reachability, a: Attachment) -> str:
    """``class:`` and 12 hexadecimal digits of a digest of what defines ``a``'s class: kind,
    zone, segment labels (tagged or not), the prefixes its addresses match and the gateways
    they use, whether it has an address, and the rules of its host's firewall (not their
    lines in the file)."""
    memo = reach.memo.class_identities
    key = reach.class_key(a.ref)
    found = memo.get(key)
    if found is not None:
        return found
    segments = reach.segments
    names = reach.prefixes.names()
    labels = sorted((segments[s].label, reach.tagged_in(a, s)) for s in reach.segment_numbers(a))
    profiles = sorted(
        (
            p.version,
            sorted(names[n] for n in p.match),
            sorted((router, iface, segments[seg].label) for router, iface, seg in p.gateways),
        )
        for p in reach._profiles(a)
    )
    firewall, firewalled = reach._firewall_of(a)
    rules: object = None
    if firewalled:
        rules = (
            None
            if firewall is None
            else (firewall.default, [(str(r.source), str(r.services)) for r in firewall.allow])
        )
    described = repr((a.kind, a.zone, labels, profiles, bool(a.addresses), firewalled, rules))
    found = "class:" + hashlib.sha256(described.encode("utf-8")).hexdigest()[:12]
    memo[key] = found
    return found


def by_name(members: Sequence[Attachment]) -> list[Attachment]:
    """A class's members in name order (its subject is the first)."""
    return sorted(members, key=lambda a: a.ref)


__all__ = ["by_name", "class_identity"]
