"""Reachable pairs (``netseg reach``) as text, JSON, JSON Lines and CSV: pure functions, no I/O.

Every format is produced as an iterator of chunks of about :data:`CHUNK` characters or bytes
(``iter_*``), so that an output of 50,000,000 pairs is written as it is computed, in bounded
memory; ``render_*`` join the chunks for callers that want one string (tests, ``diff``).

JSON Lines, CSV and the text listing (``--all``) are one line per pair, and each line is four
pieces: the source's start of the line, the destination and verdict, the source's own hop in
the path, and the rest of the path. They take the rows of
:func:`netseg.graph.stream.stream_rows`, where every source of one row plan reaches the same
destinations by the same heads: :func:`_lines` encodes a plan's destination pieces once, and
writes each of its sources as one ``bytes.join`` of those pieces with the source's two, so a
pair costs no Python object of its own (see docs/performance.md).

JSON follows docs/cli.md (``reach``): ``{"netseg", "topology", "pairs": [{"from", "to",
"services", "mode", "tag_injection", "via", "allowed", "violating", "path"}]}`` with services in
canonical form and ``path`` the list of hop references. ``--explain`` adds ``hops`` (reference
and what happens there) to each pair in JSON and prints them under each pair in text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring as _string  # the C escaper where available
from typing import Any

from netseg.graph import (
    Attachment,
    ClassPair,
    Hop,
    ReachablePair,
    RowPlan,
    SourceRow,
    Verdict,
)
from netseg.model import refs
from netseg.model.topology import Topology
from netseg.render.findings_json import chunked, dumps_indented

OUTPUT_VERSION = "1.0.0"
#: Encoded pieces kept before a cache is cleared (bounded memory whatever the output size).
_CACHE = 100_000
CSV_HEADER = [
    "from",
    "to",
    "services",
    "mode",
    "tag_injection",
    "via",
    "allowed",
    "violating",
    "path",
]


def pair_to_json(p: ReachablePair, explain: bool = False) -> dict[str, Any]:
    """One pair as a JSON-ready mapping (shared with ``diff``)."""
    out: dict[str, Any] = {
        "from": p.source,
        "to": p.destination,
        "services": p.services.items(),
        "mode": p.mode,
        "tag_injection": p.tag_injection,
        "via": list(p.via),
        "allowed": p.allowed.items(),
        "violating": p.violating.items(),
        "path": [h.ref for h in p.path],
    }
    if explain:
        out["hops"] = [{"ref": h.ref, "detail": h.detail} for h in p.path]
    return out


def iter_json(
    topology: Topology, pairs: Iterable[ReachablePair], explain: bool = False
) -> Iterator[str]:
    """The reach document, pair by pair: the same text as ``json.dumps(doc, indent=2,
    ensure_ascii=False)`` of the whole document, without holding it."""
    top = {"name": topology.name, "file": topology.file}
    head = dumps_indented({"netseg": OUTPUT_VERSION, "topology": top, "pairs": [0]})
    before, _, after = head.rpartition("0")  # the document around its one placeholder pair

    def pieces() -> Iterator[str]:
        sep = before
        for p in pairs:
            yield sep + dumps_indented(pair_to_json(p, explain)).replace("\n", "\n    ")
            sep = ",\n    "
        if sep is before:  # no pairs: an empty list, as json.dumps writes it
            yield before.rstrip()[:-1] + "[]" + after.lstrip()[1:] + "\n"
        else:
            yield after + "\n"

    return chunked(pieces())


def render_json(topology: Topology, pairs: Sequence[ReachablePair], explain: bool = False) -> str:
    return "".join(iter_json(topology, pairs, explain))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def iter_summary(
    topology: Topology, classes: Iterable[ClassPair], colour: bool = False, examples: int = 3
) -> Iterator[str]:
    """``netseg reach`` text by default: one block per (source class, destination class) with
    the counts and a few examples of each side, the way, the services and the violations;
    ``--all`` lists every pair (:func:`render_text`)."""
    red, reset = ("\033[31m", "\033[0m") if colour else ("", "")
    total = violating = groups = 0

    def side(refs: Sequence[str], n: int) -> str:
        shown = ", ".join(refs[:examples])
        return shown + (f" and {n - examples:,} more" if n > examples else "")

    def pieces() -> Iterator[str]:
        nonlocal total, violating, groups
        for c in classes:
            groups += 1
            total += c.pairs
            if c.violating:
                violating += c.pairs
            how = _how(c.mode, c.via, c.tag_injection)
            bad = f"{red}violating {c.violating}{reset}" if c.violating else "allowed"
            yield (
                f"{side(c.sources, c.source_count)}\n"
                f"  -> {side(c.destinations, c.destination_count)}\n"
                f"     {_plural(c.pairs, 'pair')}, {how}, {c.services}: {bad}\n"
            )
        if not groups:
            yield f"{topology.name}: no reachable pairs\n"
            return
        yield (
            f"\n{topology.name}: {_plural(total, 'reachable pair')} in "
            f"{_plural(groups, 'class pair')}, {violating:,} violating the policy "
            "(every pair: --all, --format jsonl or csv)\n"
        )

    return chunked(pieces())


class _LineFormat:
    """How one line-per-pair format writes a pair as four pieces: ``start(source)``,
    ``middle(destination, verdict)``, ``own(source)`` (the path's first hop) and
    ``end(hops(head) + hops(rest))``. A format that quotes (CSV) says, per source and per
    path, whether the line's path must be quoted, and gives the quoted pieces too."""

    def start(self, s: Attachment) -> str:
        raise NotImplementedError

    def middle(self, d: Attachment, v: Verdict) -> str:
        raise NotImplementedError

    def own(self, hop: Hop) -> tuple[str, str, bool]:
        """The source's hop: plain, quoted, whether it forces quoting."""
        raise NotImplementedError

    def hops(self, hops: Sequence[Hop], start: int) -> str:
        """The hops from position ``start`` of the path (its first hop is position 1)."""
        raise NotImplementedError

    def end(self, text: str) -> tuple[str, str, bool]:
        """The end of a line after the own hop, from the hops' text: plain, quoted, whether
        it forces quoting."""
        raise NotImplementedError


class _Ends:
    """The ends of a plan's lines (from the source's own hop on), for one list of heads and
    rests (plans of several source classes share them): ``plain``; for a format that quotes,
    ``quoted`` and ``mixed`` (quoted where ``flags`` says the path must be)."""

    __slots__ = ("flags", "mixed", "plain", "quoted", "quotes", "some")

    def __init__(self, triples: list[tuple[bytes, bytes, bool]]) -> None:
        self.plain = [c for c, _, _ in triples]
        self.quoted = [q for _, q, _ in triples]
        self.flags = [f for _, _, f in triples]
        self.some = any(self.flags)  # some lines must quote (all of them when the source must)
        self.quotes = self.some or self.plain != self.quoted
        self.mixed = [q if f else c for c, q, f in triples] if self.some else self.plain


class _Template:
    """A plan's lines with the source's pieces left open: ``slots`` is ``[start, middle,
    own, end] * len(plan.destinations)``, the source's two filled in per row."""

    __slots__ = ("ends", "plan", "slots", "state")

    def __init__(self, plan: RowPlan, slots: list[bytes], ends: _Ends) -> None:
        self.plan = plan  # kept referenced: the template is found by the plan's id
        self.slots = slots
        self.ends = ends
        self.state = 0  # which ends the slots hold: 0 plain, 1 quoted, 2 mixed


#: Plan entries whose encoded lines are kept before the templates are dropped.
_TEMPLATES = 100_000
#: Lines joined in one piece (a row of 50,000 destinations is written in pieces).
_BLOCK = 2048


class _Kept(dict[object, tuple[Any, ...]]):
    """A memo by ``id`` whose values keep their keys' objects referenced, cleared when the
    entries it counts pass :data:`_TEMPLATES`."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def keep(self, key: object, value: tuple[Any, ...], size: int) -> tuple[Any, ...]:
        if self.count + size > _TEMPLATES:
            self.clear()
            self.count = 0
        self.count += size
        self[key] = value
        return value


def _lines(rows: Iterable[SourceRow], fmt: _LineFormat, header: str = "") -> Iterator[bytes]:
    """Every row's lines, in chunks of about :data:`CHUNK` bytes (see the module docstring)."""
    templates, middles, ends = _Kept(), _Kept(), _Kept()
    halves: dict[tuple[int, int], tuple[str, Sequence[Hop]]] = {}
    tails: dict[tuple[int, int], tuple[bytes, bytes, bool, Sequence[Hop], Sequence[Hop]]] = {}

    def half(hops: Sequence[Hop], at: int) -> str:
        found = halves.get((id(hops), at))
        if found is None:
            if len(halves) >= _CACHE:
                halves.clear()
            found = halves[(id(hops), at)] = (fmt.hops(hops, at), hops)
        return found[0]

    def end(head: Sequence[Hop], rest: Sequence[Hop]) -> tuple[bytes, bytes, bool]:
        found = tails.get((id(head), id(rest)))
        if found is None:
            if len(tails) >= _CACHE:
                tails.clear()
            # a rest is met once per head kind: only the heads (few, shared) are memoised
            text = (half(head, 2) if head else "") + (fmt.hops(rest, 2 + len(head)) if rest else "")
            c, cq, must = fmt.end(text)
            found = tails[(id(head), id(rest))] = (c.encode(), cq.encode(), must, head, rest)
        return found[0], found[1], found[2]

    def template(plan: RowPlan) -> _Template:
        n = len(plan.destinations)
        # the destinations' pieces, once per source class (its plans share the list)
        mids = middles.get(id(plan.destinations))
        if mids is None:
            encoded = [fmt.middle(d, v).encode() for d, v in plan.destinations]
            mids = middles.keep(id(plan.destinations), (encoded, plan.destinations), n)
        # the ends, once per list of heads and rests (classes with the same paths share them)
        key = (id(plan.heads), id(plan.rests))
        found = ends.get(key)
        if found is None:
            triples = [end(h, r) for h, r in zip(plan.heads, plan.rests, strict=True)]
            found = ends.keep(key, (_Ends(triples), plan.heads, plan.rests), n)
        slots = [b""] * (4 * n)
        slots[1::4] = mids[0]
        slots[3::4] = found[0].plain
        return _Template(plan, slots, found[0])

    def pieces() -> Iterator[bytes]:
        if header:
            yield header.encode()
        for row in rows:
            plan = row.plan
            n = len(plan.destinations)
            found = templates.get(id(plan))
            if found is None:
                found = templates.keep(id(plan), (template(plan),), n)
            t: _Template = found[0]
            slots, e = t.slots, t.ends
            own, own_quoted, forced = fmt.own(row.hop)
            slots[0::4] = [fmt.start(row.source).encode()] * n
            if e.quotes:  # a format that quotes: the ends and own hops of this source
                want = 1 if forced else (2 if e.some else 0)
                if want != t.state:
                    slots[3::4] = (e.plain, e.quoted, e.mixed)[want]
                    t.state = want
                p, q = own.encode(), own_quoted.encode()
                if want == 2:
                    slots[2::4] = [q if f else p for f in e.flags]
                else:
                    slots[2::4] = [q if want else p] * n
            else:
                slots[2::4] = [own.encode()] * n
            cut = 4 * row.skip
            spans = [(0, 4 * n)] if cut < 0 else [(0, cut), (cut + 4, 4 * n)]
            for lo, hi in spans:
                for at in range(lo, hi, 4 * _BLOCK):
                    yield b"".join(slots[at : min(hi, at + 4 * _BLOCK)])

    return chunked(pieces())


class _Jsonl(_LineFormat):
    def start(self, s: Attachment) -> str:
        return '{"from":' + _string(s.ref) + ',"to":'

    def middle(self, d: Attachment, v: Verdict) -> str:
        via = [refs.router(r) for r in v.route.routers] if v.route is not None else []
        return (
            _string(d.ref)
            + ',"services":['
            + ",".join(map(_string, v.services.items()))
            + '],"mode":"'
            + v.mode
            + '","tag_injection":'
            + ("true" if v.tagged else "false")
            + ',"via":['
            + ",".join(map(_string, via))
            + '],"allowed":['
            + ",".join(map(_string, v.permitted.items()))
            + '],"violating":['
            + ",".join(map(_string, v.violating.items()))
            + '],"path":['
        )

    def own(self, hop: Hop) -> tuple[str, str, bool]:
        text = _string(hop.ref)
        return text, text, False

    def hops(self, hops: Sequence[Hop], start: int) -> str:
        return "," + ",".join(map(_string, [h.ref for h in hops]))

    def end(self, text: str) -> tuple[str, str, bool]:
        return text + "]}\n", text + "]}\n", False


def iter_jsonl(rows: Iterable[SourceRow]) -> Iterator[bytes]:
    """One JSON object per line and pair (the keys of a ``reach`` JSON pair, compact)."""
    return _lines(rows, _Jsonl())


_SPECIAL = frozenset(',"\r\n')


def _csv_field(text: str) -> str:
    """One CSV field as ``csv.writer`` (QUOTE_MINIMAL) writes it."""
    if _SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


class _Csv(_LineFormat):
    def start(self, s: Attachment) -> str:
        return _csv_field(s.ref) + ","

    def middle(self, d: Attachment, v: Verdict) -> str:
        via = " ".join(refs.router(r) for r in v.route.routers) if v.route is not None else ""
        cells = [
            d.ref,
            " ".join(v.services.items()),
            v.mode,
            "true" if v.tagged else "false",
            via,
            " ".join(v.permitted.items()),
            " ".join(v.violating.items()),
        ]
        return ",".join(map(_csv_field, cells)) + ","

    # the path is one field: quoted (from the own hop to the end) when any hop needs it
    def own(self, hop: Hop) -> tuple[str, str, bool]:
        return hop.ref, '"' + hop.ref.replace('"', '""'), not _SPECIAL.isdisjoint(hop.ref)

    def hops(self, hops: Sequence[Hop], start: int) -> str:
        return " > " + " > ".join([h.ref for h in hops])

    def end(self, text: str) -> tuple[str, str, bool]:
        return text + "\n", text.replace('"', '""') + '"\n', not _SPECIAL.isdisjoint(text)


def iter_csv(rows: Iterable[SourceRow]) -> Iterator[bytes]:
    """The rows of :func:`render_csv`, streamed from :func:`~netseg.graph.stream.stream_rows`."""
    return _lines(rows, _Csv(), ",".join(CSV_HEADER) + "\n")


def _how(mode: str, via: Iterable[str], tagged: bool) -> str:
    how = "L2" if mode == "l2" else "L3 " + ",".join(refs.body(r, "router") for r in via)
    return how + (" +tag" if tagged else "")


class _Table(_LineFormat):
    """``reach --all``: one row per pair in columns as wide as their widest cell, the path
    hop by hop under each with ``--explain``."""

    def __init__(self, widths: Sequence[int], explain: bool, colour: bool) -> None:
        self.widths = widths
        self.explain = explain
        self.red, self.reset = ("\033[31m", "\033[0m") if colour else ("", "")

    def start(self, s: Attachment) -> str:
        return s.ref.ljust(self.widths[0]) + "  "

    def middle(self, d: Attachment, v: Verdict) -> str:
        w = self.widths
        last = f"{self.red}{v.violating}{self.reset}" if v.violating else "-"
        cells = [d.ref.ljust(w[1]), self.how(v).ljust(w[2]), str(v.services).ljust(w[3]), last]
        return "  ".join(cells).rstrip() + "\n"

    @staticmethod
    def how(v: Verdict) -> str:
        via = [refs.router(r) for r in v.route.routers] if v.route is not None else []
        return _how(v.mode, via, v.tagged)

    def own(self, hop: Hop) -> tuple[str, str, bool]:
        text = self.hops((hop,), 1)
        return text, text, False

    def hops(self, hops: Sequence[Hop], start: int) -> str:
        if not self.explain:
            return ""
        return "".join(
            f"    {k:>2}. {h.ref}{'  ' + h.detail if h.detail else ''}\n"
            for k, h in enumerate(hops, start=start)
        )

    def end(self, text: str) -> tuple[str, str, bool]:
        return text, text, False


def iter_text(
    topology: Topology,
    classes: Sequence[ClassPair],
    rows: Iterable[SourceRow],
    explain: bool = False,
    colour: bool = False,
) -> Iterator[bytes]:
    """``netseg reach --all``: a table of every pair (from, to, how, services, violating),
    the hops under each with ``explain``. ``classes`` (:func:`~netseg.graph.class_pairs` of
    the same selections) give the column widths and the totals before the first row, so the
    table is written as the rows come."""
    if not classes:
        yield f"{topology.name}: no reachable pairs\n".encode()
        return
    head = ("FROM", "TO", "HOW", "SERVICES", "VIOLATING")
    widths = [len(h) for h in head[:4]]
    for c in classes:
        # the members that pair with someone (an attachment never pairs with itself)
        srcs = (
            c.sources
            if c.destination_count > 1
            else [r for r in c.sources if r != c.destinations[0]]
        )
        dsts = (
            c.destinations
            if c.source_count > 1
            else [r for r in c.destinations if r != c.sources[0]]
        )
        widths[0] = max(widths[0], *map(len, srcs))
        widths[1] = max(widths[1], *map(len, dsts))
        widths[2] = max(widths[2], len(_how(c.mode, c.via, c.tag_injection)))
        widths[3] = max(widths[3], len(str(c.services)))
    n = sum(c.pairs for c in classes)
    violating = sum(c.pairs for c in classes if c.violating)
    yield (
        "  ".join([*(h.ljust(w) for h, w in zip(head, widths, strict=False)), head[4]]).rstrip()
        + "\n"
    ).encode()
    yield from _lines(rows, _Table(widths, explain, colour))
    yield (
        f"\n{topology.name}: {n} reachable pair{'s' if n != 1 else ''}, "
        f"{violating} violating the policy\n"
    ).encode()


def render_csv(pairs: Sequence[ReachablePair]) -> str:
    """One row per pair; list cells joined with spaces (services) or ' > ' (path)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for p in pairs:
        w.writerow(
            [
                p.source,
                p.destination,
                " ".join(p.services.items()),
                p.mode,
                "true" if p.tag_injection else "false",
                " ".join(p.via),
                " ".join(p.allowed.items()),
                " ".join(p.violating.items()),
                " > ".join(h.ref for h in p.path),
            ]
        )
    return buf.getvalue()


__all__ = [
    "iter_csv",
    "iter_json",
    "iter_jsonl",
    "iter_summary",
    "iter_text",
    "pair_to_json",
    "render_csv",
    "render_json",
]
