"""Reachable pairs as a stream, in bounded memory (``netseg reach --format jsonl|csv``).

:meth:`Reachability.pairs` builds every pair with its path: fine for a few thousand, not for
the 50,000,000 pairs of a flat estate (every guest reaching every management interface).
:func:`stream_pairs` yields the same pairs, in the same order (sources in topology order, then
destinations in topology order), as :class:`PairParts`: the source, the destination, the
class verdict, and the path cut in two: ``head`` (the source and its hops to the bridge
domain) and ``rest`` (everything after). Both halves are shared objects: the head by every
pair of one source and route entry, the rest by every source whose head ends the same way
(the guests of one port group) towards one destination. A renderer encodes each shared half
once (keyed by identity; keeping the object referenced keeps the identity valid), so a pair
costs a few string concatenations.

Memory: the class verdicts (bounded by the classes), per source class the merged list of its
destinations, and at most :data:`REST_CACHE` path tails.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netseg.graph.l2 import Hop
from netseg.graph.values import Attachment, Verdict
from netseg.model import refs
from netseg.model.services import ServiceSet

if TYPE_CHECKING:
    from netseg.graph.reach import Reachability, ReachablePair

#: Path tails kept before the cache is cleared (sources come host by host, so the tails of
#: one host's port group towards every destination are reused by its guests).
REST_CACHE = 200_000


#: One reachable pair: (source, destination, class verdict, head, rest); ``head + rest`` is the
#: path. A plain tuple: tens of millions of them are made.
PairParts = tuple[Attachment, Attachment, Verdict, tuple[Hop, ...], tuple[Hop, ...]]


def to_pair(parts: PairParts) -> ReachablePair:
    """The pair as :meth:`Reachability.pairs` gives it."""
    from netseg.graph.reach import ReachablePair

    s, d, v, head, rest = parts
    via = tuple(refs.router(r) for r in v.route.routers) if v.route is not None else ()
    return ReachablePair(
        s.ref, d.ref, v.services, v.permitted, v.violating, v.mode, via, v.tagged, head + rest
    )


def _say_once_after(prev: Hop | None, hops: Sequence[Hop]) -> tuple[Hop, ...]:
    """The hops without repeats of the one just before, ``prev`` being the hop before them
    (so ``head + _say_once_after(head[-1], rest)`` is ``_say_once(head + rest)``)."""
    out = []
    for h in hops:
        if prev is None or h.ref != prev.ref or h.detail != prev.detail:
            out.append(h)
        prev = h
    return tuple(out)


def stream_pairs(
    reach: Reachability,
    sources: Sequence[Attachment],
    destinations: Sequence[Attachment],
    *,
    violating_only: bool = False,
) -> Iterator[PairParts]:
    """Every reachable pair between the two selections, in :meth:`Reachability.pairs` order,
    without holding them all (see the module docstring)."""
    order = {a.ref: i for i, a in enumerate(reach.attachments)}
    # per source class (its member list, by identity), the (destination class, verdict)s;
    # every verdict and attachment stays referenced here, so their ids stay theirs
    per_class: dict[int, tuple[list[Attachment], list[tuple[list[Attachment], Verdict]]]] = {}
    for sm, dm, v in reach.class_verdicts(sources, destinations):
        if violating_only and not v.violating:
            continue
        per_class.setdefault(id(sm), (sm, []))[1].append((dm, v))
    class_of: dict[int, int] = {}
    for key, (sm, _) in per_class.items():
        for s in sm:
            class_of[id(s)] = key
    merged: dict[int, list[tuple[Attachment, Verdict]]] = {}
    # the path after the head, per (head kind, destination, verdict): bounded, cleared when full
    rests: dict[tuple[int, int], tuple[Hop, ...]] = {}
    head_kinds: dict[tuple[object, ...], int] = {}
    # what of a verdict the path depends on (entry, route, firewall lines), numbered: verdicts
    # differing only in services or zones share their paths
    path_kinds: dict[tuple[object, ...], int] = {}
    path_kind_of: dict[int, int] = {}
    ordered = sorted((s for s in sources if id(s) in class_of), key=lambda a: order[a.ref])
    seen: set[int] = set()
    for s in ordered:
        if id(s) in seen:
            continue  # a source the selection names twice
        seen.add(id(s))
        key = class_of[id(s)]
        dests = merged.get(key)
        if dests is None:
            rows = [(order[d.ref], d, v) for dm, v in per_class[key][1] for d in dm]
            rows.sort(key=lambda t: t[0])
            dests = merged[key] = [(d, v) for _, d, v in rows]
        # per verdict of this source: its head and the kind of head (what the rest depends on)
        mine: dict[int, tuple[tuple[Hop, ...], int]] = {}
        for d, v in dests:
            if d is s:
                continue
            found = mine.get(id(v))
            if found is None:
                route = v.route
                js = reach._join_in(s, v.segment if route is None else route.entry[2])
                head = _say_once_after(None, (reach._self_hop(s), *js.hops))
                last = head[-1]
                hk = head_kinds.setdefault((js.node, last.ref, last.detail), len(head_kinds))
                pk = path_kind_of.get(id(v))
                if pk is None:
                    fw = v.firewall
                    fwkey = None if fw is None else (fw.present, fw.rules)
                    pk = path_kinds.setdefault((v.segment, id(route), fwkey), len(path_kinds))
                    path_kind_of[id(v)] = pk
                found = mine[id(v)] = (head, hk * 1_000_003 + pk)
            head, hk = found
            rkey = (hk, id(d))
            rest = rests.get(rkey)
            if rest is None:
                if len(rests) >= REST_CACHE:
                    rests.clear()
                # the whole path once (_path's own memos do the work), cut after the head
                full = reach._path(s, d, v)
                rest = rests[rkey] = full[len(head) :]
            yield (s, d, v, head, rest)


@dataclass(frozen=True, slots=True)
class ClassPair:
    """Every reachable pair between one source class and one destination class: what
    ``netseg reach`` summarises by default. ``sources``/``destinations`` are the members'
    references in topology order; ``pairs`` counts the pairs (an attachment never pairs with
    itself)."""

    sources: Sequence[str]
    destinations: Sequence[str]
    pairs: int
    services: ServiceSet
    allowed: ServiceSet
    violating: ServiceSet
    mode: str
    via: tuple[str, ...]
    tag_injection: bool

    @property
    def source_count(self) -> int:
        return len(self.sources)

    @property
    def destination_count(self) -> int:
        return len(self.destinations)


def class_pairs(
    reach: Reachability, sources: Sequence[Attachment], destinations: Sequence[Attachment]
) -> list[ClassPair]:
    """The reachable pairs between two selections, one :class:`ClassPair` per pair of classes,
    in topology order of their first members."""
    order = {a.ref: i for i, a in enumerate(reach.attachments)}
    named: dict[int, list[str]] = {}

    def members(ms: list[Attachment]) -> list[str]:
        found = named.get(id(ms))
        if found is None:
            found = named[id(ms)] = [a.ref for a in sorted(ms, key=lambda a: order[a.ref])]
        return found

    rows = []
    for sm, dm, v in reach.class_verdicts(sources, destinations):
        both = 0
        if sm[0].kind == dm[0].kind:  # the kind is part of the class: else no one is in both
            both = len({id(a) for a in sm} & {id(a) for a in dm})
        n = len(sm) * len(dm) - both
        if n <= 0:
            continue
        via = tuple(refs.router(r) for r in v.route.routers) if v.route is not None else ()
        s_refs, d_refs = members(sm), members(dm)
        rows.append(
            (
                (order[s_refs[0]], order[d_refs[0]]),
                ClassPair(
                    s_refs, d_refs, n, v.services, v.permitted, v.violating, v.mode, via, v.tagged
                ),
            )
        )
    rows.sort(key=lambda t: t[0])
    return [c for _, c in rows]
