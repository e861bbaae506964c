"""Reachable pairs as a stream, in bounded memory (``netseg reach --format jsonl|csv|text``).

:meth:`Reachability.pairs` builds every pair with its path: fine for a few thousand, not for
the 50,000,000 pairs of a flat estate (every guest reaching every management interface).
:func:`stream_rows` gives the same pairs, in the same order (sources in topology order, then
destinations in topology order), one :class:`SourceRow` per source: the source, its own hop,
and a shared :class:`RowPlan` of every destination it reaches with the class verdict and the
path cut in two, ``head`` (the hops after the source's own, to its bridge domain) and ``rest``
(everything after). Every source whose heads end the same way towards each destination class
(the guests of one port group) shares one plan object, so a renderer encodes a plan's lines
once, as pieces, and writes each of its sources by joining those pieces with the source's own
two (its reference at the start of the line and of the path): no per-pair Python object.
:func:`stream_pairs` expands the rows into one :data:`PairParts` per pair.

Memory: the class verdicts (bounded by the classes), per source class the merged list of its
destinations, at most :data:`PLAN_CACHE` plan entries and :data:`REST_CACHE` path tails.
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
#: Plan entries (destinations of every kept plan) kept before the plans are dropped.
PLAN_CACHE = 100_000


#: One reachable pair: (source, destination, class verdict, head, rest); ``head + rest`` is the
#: path, ``head`` starting with the source's own hop.
PairParts = tuple[Attachment, Attachment, Verdict, tuple[Hop, ...], tuple[Hop, ...]]


@dataclass(frozen=True, slots=True, eq=False)
class RowPlan:
    """What every source of one signature reaches, as parallel lists in destination topology
    order: ``destinations`` (destination, class verdict), the same list object for every plan
    of one source class; ``heads``, the hops after the source's own to its bridge domain;
    ``rests``, the rest of each path (``heads`` and ``rests`` hold ``()`` when the stream was
    asked for no paths); ``position`` finds a destination's index by ``id`` (a source is
    skipped in its own row), shared like ``destinations``."""

    destinations: Sequence[tuple[Attachment, Verdict]]
    heads: Sequence[tuple[Hop, ...]]
    rests: Sequence[tuple[Hop, ...]]
    position: dict[int, int]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source's reachable pairs: the plan's but the one at ``skip`` (the source itself,
    -1 when it is not a destination); each path is ``(hop, *head, *rest)``."""

    source: Attachment
    hop: Hop
    plan: RowPlan
    skip: int


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


def stream_rows(
    reach: Reachability,
    sources: Sequence[Attachment],
    destinations: Sequence[Attachment],
    *,
    violating_only: bool = False,
    paths: bool = True,
) -> Iterator[SourceRow]:
    """Every reachable pair between the two selections, in :meth:`Reachability.pairs` order,
    one row per source that reaches anything (see the module docstring). ``paths=False``
    leaves every head and rest empty (and builds no path)."""
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
    positions: dict[int, dict[int, int]] = {}
    # per source class, its verdicts by the segment the source enters: (segment, verdicts)
    entered: dict[int, list[tuple[int, list[Verdict]]]] = {}
    # per source class, its layout (the destinations' ids and the index of each one's verdict
    # among the class's verdicts, one object per distinct value) and those verdicts: classes
    # of one layout whose verdicts have the same heads and path kinds share their paths
    layouts: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]]
    layouts = {}
    layout_of: dict[int, tuple[tuple[object, ...], list[Verdict]]] = {}
    path_lists: dict[tuple[object, ...], tuple[list[tuple[Hop, ...]], list[tuple[Hop, ...]]]] = {}
    listed = 0
    # the path after the head, per (head kind, destination, verdict): bounded, cleared when full
    rests: dict[tuple[int, int], tuple[Hop, ...]] = {}
    head_kinds: dict[tuple[object, ...], int] = {}
    # what of a verdict the path depends on (entry, route, firewall lines), numbered: verdicts
    # differing only in services or zones share their paths
    path_kinds: dict[tuple[object, ...], int] = {}
    path_kind_of: dict[int, int] = {}
    # heads after the source's hop, one object per distinct value (their ids sign a plan)
    heads: dict[tuple[tuple[str, str], ...], tuple[Hop, ...]] = {}
    plans: dict[tuple[object, ...], RowPlan] = {}
    planned = 0
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
            positions[key] = {id(d): k for k, (d, _) in enumerate(dests)}
            index: dict[int, int] = {}
            distinct = [index.setdefault(id(v), len(index)) for _, v in dests]
            value = (tuple(id(d) for d, _ in dests), tuple(distinct))
            layout = layouts.setdefault(value, value)
            by_id = {id(v): v for _, v in dests}
            layout_of[key] = (layout, [by_id[i] for i in index])
            by_segment: dict[int, dict[int, Verdict]] = {}
            for _, v in per_class[key][1]:
                segment = v.segment if v.route is None else v.route.entry[2]
                by_segment.setdefault(segment, {})[id(v)] = v
            entered[key] = [(sg, list(vs.values())) for sg, vs in by_segment.items()]
        own = reach._self_hop(s)
        # per verdict of this source: its head and the kind of head (what the rest depends on)
        mine: dict[int, tuple[tuple[Hop, ...], int]] = {}
        signature: list[object] = [key]
        if paths:
            for segment, verdicts in entered[key]:
                js = reach._join_in(s, segment)
                tail = _say_once_after(own, js.hops)
                head = heads.setdefault(tuple((h.ref, h.detail) for h in tail), tail)
                last = head[-1] if head else own
                hk = head_kinds.setdefault((js.node, last.ref, last.detail), len(head_kinds))
                signature += (id(head), hk)
                for v in verdicts:
                    pk = path_kind_of.get(id(v))
                    if pk is None:
                        fw = v.firewall
                        fwkey = None if fw is None else (fw.present, fw.rules)
                        pk = path_kinds.setdefault((v.segment, id(v.route), fwkey), len(path_kinds))
                        path_kind_of[id(v)] = pk
                    mine[id(v)] = (head, hk * 1_000_003 + pk)
        sig = tuple(signature)
        plan = plans.get(sig)
        if plan is None:
            if planned >= PLAN_CACHE:
                plans.clear()
                planned = 0
            hs: Sequence[tuple[Hop, ...]] = [()] * len(dests)
            rs: Sequence[tuple[Hop, ...]] = hs
            if paths:
                shape, verdicts = layout_of[key]
                lkey = (id(shape), *(mine[id(v)][1] for v in verdicts))
                lkey += tuple(id(mine[id(v)][0]) for v in verdicts)
                found = path_lists.get(lkey)
                if found is None:
                    if listed >= PLAN_CACHE:
                        path_lists.clear()
                        listed = 0
                    found = path_lists[lkey] = _paths(reach, s, dests, mine, rests)
                    listed += len(dests)
                hs, rs = found
            plan = plans[sig] = RowPlan(dests, hs, rs, positions[key])
            planned += len(dests)
        skip = plan.position.get(id(s), -1)
        if skip < 0 or len(dests) > 1:
            yield SourceRow(s, own, plan, skip)


def _paths(
    reach: Reachability,
    s: Attachment,
    dests: Sequence[tuple[Attachment, Verdict]],
    mine: dict[int, tuple[tuple[Hop, ...], int]],
    rests: dict[tuple[int, int], tuple[Hop, ...]],
) -> tuple[list[tuple[Hop, ...]], list[tuple[Hop, ...]]]:
    """The heads and rests of the paths from ``s`` to ``dests`` (``mine``: per verdict, the
    head and the kind of path it leads to; ``rests``: the bounded cache of rests by kind and
    destination)."""
    hs, rs = [], []
    for d, v in dests:
        head, kind = mine[id(v)]
        rkey = (kind, id(d))
        rest = rests.get(rkey)
        if rest is None:
            if len(rests) >= REST_CACHE:
                rests.clear()
            # the whole path once (_path's own memos do the work), cut after the head; a row's
            # path to its own source is never written, so any source of the row will do
            full = reach._path(s, d, v)
            rest = rests[rkey] = full[len(head) + 1 :]
        hs.append(head)
        rs.append(rest)
    return hs, rs


def stream_pairs(
    reach: Reachability,
    sources: Sequence[Attachment],
    destinations: Sequence[Attachment],
    *,
    violating_only: bool = False,
) -> Iterator[PairParts]:
    """:func:`stream_rows`, one :data:`PairParts` per pair (for the JSON document and for
    callers that want pairs)."""
    for row in stream_rows(reach, sources, destinations, violating_only=violating_only):
        s, own = row.source, (row.hop,)
        plan = row.plan
        for k, (d, v) in enumerate(plan.destinations):
            if k != row.skip:
                yield (s, d, v, own + plan.heads[k], plan.rests[k])


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
