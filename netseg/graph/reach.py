"""Reachability: which attachment can send what to which, by which path (semantics.md).

:func:`analyse_reachability` builds the bridge-domain graph once; :class:`Reachability` then
answers questions about pairs of attachments. It never searches a path per pair: attachments
that share their segments, zone, address profile (gateways usable and prefixes matched) and,
for destinations, their host firewall form *classes*; verdicts are computed once per pair of
classes and memoised, and only the hop-by-hop path is built per reported pair (from a spanning
tree of the segment, so in time proportional to its length).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from netseg.collector import collector_paused
from netseg.graph.l2 import Hop
from netseg.graph.l3 import ANY, NONE
from netseg.graph.paths import Paths
from netseg.graph.select import select
from netseg.graph.values import Attachment, Kind, Mode, Verdict
from netseg.model import refs
from netseg.model.services import ServiceSet
from netseg.model.topology import Topology

__all__ = ["Attachment", "Kind", "Mode", "Reachability", "ReachablePair", "analyse_reachability"]


@dataclass(frozen=True, slots=True)
class ReachablePair:
    """One reachable (source, destination) pair, as ``netseg reach`` prints it.

    ``services`` get through (after router ACLs and the destination host's firewall);
    ``allowed``/``violating`` split them by the policy; ``mode`` is ``l2`` (same segment) or
    ``l3`` (routed ``via`` the named routers); ``tag_injection`` says the source must send
    tagged frames for it; ``path`` is the ordered hop list that explains it.
    """

    source: str
    destination: str
    services: ServiceSet
    allowed: ServiceSet
    violating: ServiceSet
    mode: Mode
    via: tuple[str, ...]
    tag_injection: bool
    path: tuple[Hop, ...] = field(compare=False)

    def __str__(self) -> str:
        how = "L2" if self.mode == "l2" else "L3 via " + ", ".join(self.via)
        tag = " (tag injection)" if self.tag_injection else ""
        return f"{self.source} -> {self.destination} over {how}{tag}: {self.services}"


class Reachability(Paths):
    """Answers reachability questions about one topology. Build with
    :func:`analyse_reachability`.

    - :meth:`pairs` — reachable pairs between two selections (entity references, ``zone:``,
      ``host:``, ``guests``, ``management``, ``endpoints``, ``routers``);
    - :meth:`services` — the service set one attachment can send to another (any two);
    - :attr:`segments`, :meth:`segment_of` — the L2 segments and the ones an attachment is in;
    - :meth:`attachment`, :attr:`attachments` — attachments with their bridge-domain joins.

    The work is split by concern: :mod:`~netseg.graph.attachments` (who is attached where),
    :mod:`~netseg.graph.verdicts` (what one class can send to another),
    :mod:`~netseg.graph.paths` (the hops of a reported pair), with every memo table in
    :mod:`~netseg.graph.memo`. This class adds the questions callers ask.
    """

    def segment_numbers(self, a: Attachment) -> tuple[int, ...]:
        """``sorted(a.segments)``, computed once per distinct set of segments."""
        segtags = self._segtags(a)
        found = self.memo.segment_numbers.get(id(segtags))
        if found is None:
            found = self.memo.segment_numbers[id(segtags)] = (
                tuple(sg for sg, _ in segtags),
                segtags,
            )
        return found[0]

    def tagged_in(self, a: Attachment, segment: int) -> bool:
        """Whether ``a`` is in ``segment`` only by tagged frames (VGT, trunk, transparent)."""
        return self._segdict(self._segtags(a)).get(segment, False)

    def select(self, selector: str) -> list[Attachment]:
        """Attachments a selector names, in topology order; raises SelectorError."""
        return [self.attachment(ref) for ref in select(self.topology, selector)]

    def make_pair(self, s: Attachment, d: Attachment, v: Verdict) -> ReachablePair:
        via: tuple[str, ...] = ()
        if v.route is not None:
            via = tuple(refs.router(r) for r in v.route.routers)
        return ReachablePair(
            s.ref,
            d.ref,
            v.services,
            v.permitted,
            v.violating,
            v.mode,
            via,
            v.tagged,
            self._path(s, d, v),
        )

    def pairs(
        self,
        sources: str | Sequence[Attachment] = "guests",
        destinations: str | Sequence[Attachment] = "management",
        *,
        violating_only: bool = False,
    ) -> list[ReachablePair]:
        """Every reachable (source, destination) pair between two selections, in topology
        order of sources then destinations. An attachment never pairs with itself.
        ``violating_only`` keeps the pairs with services the policy does not allow (without
        building the paths of the others)."""
        srcs = self.select(sources) if isinstance(sources, str) else list(sources)
        dsts = self.select(destinations) if isinstance(destinations, str) else list(destinations)
        order = {a.ref: i for i, a in enumerate(self.attachments)}
        found: list[tuple[int, int, Attachment, Attachment, Verdict]] = []
        for sm, dm, v in self.class_verdicts(srcs, dsts):
            if violating_only and not v.violating:
                continue
            for s in sm:
                for d in dm:
                    if s is not d:
                        found.append((order[s.ref], order[d.ref], s, d, v))
        found.sort(key=lambda t: (t[0], t[1]))
        return [self.make_pair(s, d, v) for _, _, s, d, v in found]

    def pair(self, src_ref: str, dst_ref: str) -> ReachablePair | None:
        """The reachable pair between two attachments, or None when nothing gets through."""
        s, d = self.attachment(src_ref), self.attachment(dst_ref)
        if s is d:
            return None
        v = self._verdict(self._classes([s])[0], self._classes([d])[0])
        return None if v is None else self.make_pair(s, d, v)

    def services(self, src_ref: str, dst_ref: str) -> ServiceSet:
        """Services ``src_ref`` can send to ``dst_ref`` (any two attachments), after router
        ACLs and, for a management interface, its host's firewall. Empty when unreachable.
        Cheap to call repeatedly: verdicts are memoised per class."""
        s, d = self.attachment(src_ref), self.attachment(dst_ref)
        if s is d:
            return ANY
        # The verdict depends only on the two attachments' classes (that is what makes them a
        # class), so it is worked out once per class pair: a replay asks for thousands of
        # pairs among a few classes, and building the two classes cost more than the verdict.
        key = (self._class_key(s), self._class_key(d))
        found = self.memo.services.get(key)
        if found is None:
            v = self._verdict(self._classes([s])[0], self._classes([d])[0])
            found = self.memo.services[key] = NONE if v is None else v.services
        return found

    def class_key(self, ref: str) -> tuple[object, ...]:
        """A key equal for two attachments exactly when they are in the same class (same
        kind, zone, segments and tags, address profiles and firewall), so every reachability
        answer between classes holds for their members: ``services(a, b) ==
        services(c, d)`` when ``a, c`` and ``b, d`` share keys (and ``a is not b``,
        ``c is not d``). Valid while this object lives."""
        return self._class_key(self.attachment(ref))


def analyse_reachability(topology: Topology) -> Reachability:
    """Build the bridge-domain graph, segments and L3 model of a topology."""
    with collector_paused():
        return Reachability(topology)
