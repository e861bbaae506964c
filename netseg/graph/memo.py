"""Every memo table of reachability, in one place.

:class:`~netseg.graph.reach.Reachability` answers questions about a topology's attachments by
classes (semantics.md), and most answers repeat: the same ACL decision for thousands of
address profiles, the same verdict for every pair of two classes. Each table below remembers
one kind of answer for the lifetime of one ``Reachability``. Several are keyed by ``id()`` of an
interned or memoised value (hashing service sets and long tuples is slow); such entries keep
the keyed object in the value, so the id cannot be reused while the entry exists.

Issue 13 (findings per equivalence class) reads the class tables (``class_keys``,
``verdict_sets``) through the public methods of ``Reachability``, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netseg.graph.l2 import Hop, Join, Node
from netseg.graph.l3 import FirewallDecision
from netseg.graph.routing import SetOps, SourceSide
from netseg.graph.values import Attachment, Profile, Route
from netseg.model.services import ServiceSet
from netseg.model.topology import Address, Firewall

Segtags = tuple[tuple[int, bool], ...]


@dataclass(eq=False)
class Memo:
    """The memo tables of one Reachability (each named for what it remembers)."""

    # --- attachments and their segments
    segtags: dict[int, Segtags] = field(default_factory=dict)
    segtags_intern: dict[Segtags, Segtags] = field(default_factory=dict)
    segment_numbers: dict[int, tuple[tuple[int, ...], object]] = field(default_factory=dict)
    segdicts: dict[int, tuple[dict[int, bool], frozenset[int], frozenset[int], object]] = field(
        default_factory=dict
    )
    joins_by_segment: dict[int, tuple[dict[int, Join], Attachment]] = field(default_factory=dict)
    # --- address profiles and classes
    profiles: dict[int, tuple[Profile, ...]] = field(default_factory=dict)
    profile_intern: dict[tuple[Profile, ...], tuple[Profile, ...]] = field(default_factory=dict)
    plain_profiles: dict[tuple[object, ...], Profile] = field(default_factory=dict)
    subnet_profiles: dict[tuple[int, int, int, int], tuple[Profile | None, frozenset[int]]] = field(
        default_factory=dict
    )
    gateways: dict[tuple[int, int, int, int], list[tuple[str, str, int, Address, bool]]] = field(
        default_factory=dict
    )
    # keyed by id() of interned profile tuples; the value keeps the tuple alive
    union_matches: dict[int, tuple[frozenset[int], tuple[Profile, ...]]] = field(
        default_factory=dict
    )
    # host prefixes (netseg.graph.verdicts.Verdicts._narrow) and each profile tuple's base
    narrow: frozenset[int] | None = None
    base_profiles: dict[int, tuple[tuple[Profile, ...], tuple[Profile, ...]]] = field(
        default_factory=dict
    )
    profile_bases: dict[Profile, Profile] = field(default_factory=dict)
    firewall_intern: dict[str, tuple[Firewall | None, int]] = field(default_factory=dict)
    firewall_numbers: dict[Firewall | None, int] = field(default_factory=dict)
    class_keys: dict[int, tuple[tuple[object, ...], Attachment]] = field(default_factory=dict)
    # the stable name of each class (netseg.graph.grain), per class key
    class_identities: dict[tuple[object, ...], str] = field(default_factory=dict)
    # --- decisions and verdicts
    firewall: dict[tuple[object, ...], FirewallDecision] = field(default_factory=dict)
    policy: dict[tuple[object, ...], ServiceSet] = field(default_factory=dict)
    allowed: dict[tuple[object, ...], tuple[ServiceSet, object, object]] = field(
        default_factory=dict
    )
    l3: dict[tuple[object, ...], tuple[tuple[ServiceSet, Route | None], Profile, Profile]] = field(
        default_factory=dict
    )
    routed: dict[tuple[object, ...], ServiceSet] = field(default_factory=dict)
    # every router's view of one source, per (zone, match set)
    sources: dict[tuple[object, ...], SourceSide] = field(default_factory=dict)
    # services reaching each router, per (entry router, source, destination as it sees it),
    # and per (entry router, every router's decision): netseg.graph.routing
    set_ops: SetOps = field(default_factory=SetOps)
    fixed_by_side: dict[tuple[object, ...], dict[str, ServiceSet]] = field(default_factory=dict)
    fixed_points: dict[tuple[object, ...], dict[str, ServiceSet]] = field(default_factory=dict)
    # the evidence's router path, per (entry router, exit router, side pair)
    first_paths: dict[tuple[object, ...], list[str] | None] = field(default_factory=dict)
    verdict_sets: dict[tuple[int, int], tuple[ServiceSet, ServiceSet, ServiceSet, ServiceSet]] = (
        field(default_factory=dict)
    )
    services: dict[tuple[tuple[object, ...], tuple[object, ...]], ServiceSet] = field(
        default_factory=dict
    )
    # --- paths
    hops: dict[tuple[Node, Node], tuple[Hop, ...]] = field(default_factory=dict)
    self_hops: dict[str, Hop] = field(default_factory=dict)
    # keyed by id() of memoised values; the value keeps the keyed object alive
    middle_hops: dict[int, tuple[tuple[Hop, ...], object]] = field(default_factory=dict)
    tail_hops: dict[tuple[str, int], tuple[tuple[Hop, ...], object]] = field(default_factory=dict)
