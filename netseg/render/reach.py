"""Reachable pairs (``netseg reach``) as text, JSON, JSON Lines and CSV: pure functions, no I/O.

Every format is produced as an iterator of text chunks of about :data:`CHUNK` characters
(``iter_*``), so that an output of 50,000,000 pairs is written as it is computed, in bounded
memory; ``render_*`` join the chunks for callers that want one string (tests, ``diff``).
JSON Lines and CSV take the stream of :func:`netseg.graph.stream.stream_pairs` and encode each
shared half of a path once, so a pair costs a few string concatenations.

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

from netseg.graph import Attachment, ClassPair, PairParts, ReachablePair
from netseg.model import refs
from netseg.model.services import ServiceSet
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


def _how(p: ReachablePair) -> str:
    how = "L2" if p.mode == "l2" else "L3 " + ",".join(refs.body(v, "router") for v in p.via)
    return how + (" +tag" if p.tag_injection else "")


def render_text(
    topology: Topology, pairs: Sequence[ReachablePair], explain: bool = False, colour: bool = False
) -> str:
    """A table for people: from, to, how, services, violating; hops under each with explain."""
    red, reset = ("\033[31m", "\033[0m") if colour else ("", "")
    if not pairs:
        return f"{topology.name}: no reachable pairs\n"
    head = ("FROM", "TO", "HOW", "SERVICES", "VIOLATING")
    rows = [
        (
            p.source,
            p.destination,
            _how(p),
            str(p.services),
            str(p.violating) if p.violating else "-",
        )
        for p in pairs
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = []

    def fmt(r: tuple[str, ...], bad: bool = False) -> str:
        cells = [r[i].ljust(widths[i]) for i in range(4)]
        last = f"{red}{r[4]}{reset}" if bad else r[4]
        return "  ".join([*cells, last]).rstrip()

    lines.append(fmt(head))
    for p, r in zip(pairs, rows, strict=True):
        lines.append(fmt(r, bool(p.violating)))
        if explain:
            for k, h in enumerate(p.path, start=1):
                detail = f"  {h.detail}" if h.detail else ""
                lines.append(f"    {k:>2}. {h.ref}{detail}")
    violating = sum(1 for p in pairs if p.violating)
    n = len(pairs)
    lines.append("")
    lines.append(
        f"{topology.name}: {n} reachable pair{'s' if n != 1 else ''}, {violating} violating the policy"
    )
    return "\n".join(lines) + "\n"


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
            how = (
                "L2" if c.mode == "l2" else "L3 " + ",".join(refs.body(v, "router") for v in c.via)
            )
            how += " +tag" if c.tag_injection else ""
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


def _items(services: ServiceSet, sep: str) -> str:
    return sep.join(services.items())


def iter_jsonl(parts: Iterable[PairParts]) -> Iterator[str]:
    """One JSON object per line and pair (the keys of a ``reach`` JSON pair, compact)."""
    sources: dict[int, tuple[str, object]] = {}
    middles: dict[tuple[int, int], tuple[str, object, object]] = {}
    halves: dict[int, tuple[str, object]] = {}

    def middle(d: Attachment, v: Any) -> str:
        via = [refs.router(r) for r in v.route.routers] if v.route is not None else []
        text: str = (
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
        return text

    def pieces() -> Iterator[str]:
        for s, d, v, head, rest in parts:
            found = sources.get(id(s))
            if found is None:
                if len(sources) > 64:
                    sources.clear()
                found = sources[id(s)] = ('{"from":' + _string(s.ref) + ',"to":', s)
            mkey = (id(d), id(v))
            mid = middles.get(mkey)
            if mid is None:
                if len(middles) >= _CACHE:
                    middles.clear()
                mid = middles[mkey] = (middle(d, v), d, v)
            h = halves.get(id(head))
            if h is None:
                if len(halves) >= _CACHE:
                    halves.clear()
                h = halves[id(head)] = (",".join(_string(x.ref) for x in head), head)
            r = halves.get(id(rest))
            if r is None:
                if len(halves) >= _CACHE:
                    halves.clear()
                    halves[id(head)] = h
                r = halves[id(rest)] = ("".join("," + _string(x.ref) for x in rest), rest)
            yield found[0] + mid[0] + h[0] + r[0] + "]}\n"

    return chunked(pieces())


_SPECIAL = frozenset(',"\r\n')


def _csv_field(text: str) -> str:
    """One CSV field as ``csv.writer`` (QUOTE_MINIMAL) writes it."""
    if _SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def iter_csv(parts: Iterable[PairParts]) -> Iterator[str]:
    """The rows of :func:`render_csv`, streamed from :func:`~netseg.graph.stream.stream_pairs`."""
    middles: dict[tuple[int, int], tuple[str, object, object]] = {}
    halves: dict[int, tuple[str, bool, object]] = {}
    sources: dict[int, tuple[str, object]] = {}

    def middle(d: Attachment, v: Any) -> str:
        via = " ".join(refs.router(r) for r in v.route.routers) if v.route is not None else ""
        cells = [
            d.ref,
            _items(v.services, " "),
            v.mode,
            "true" if v.tagged else "false",
            via,
            _items(v.permitted, " "),
            _items(v.violating, " "),
        ]
        return ",".join(map(_csv_field, cells)) + ","

    def half(hops: Any, lead: str) -> tuple[str, bool, object]:
        text = lead + " > ".join(h.ref for h in hops)
        return (text, not _SPECIAL.isdisjoint(text), hops)

    def pieces() -> Iterator[str]:
        yield ",".join(CSV_HEADER) + "\n"
        for s, d, v, head, rest in parts:
            src = sources.get(id(s))
            if src is None:
                if len(sources) > 64:
                    sources.clear()
                src = sources[id(s)] = (_csv_field(s.ref) + ",", s)
            mkey = (id(d), id(v))
            mid = middles.get(mkey)
            if mid is None:
                if len(middles) >= _CACHE:
                    middles.clear()
                mid = middles[mkey] = (middle(d, v), d, v)
            h = halves.get(id(head))
            if h is None:
                if len(halves) >= _CACHE:
                    halves.clear()
                h = halves[id(head)] = half(head, "")
            r = halves.get(id(rest))
            if r is None:
                if len(halves) >= _CACHE:
                    halves.clear()
                    halves[id(head)] = h
                r = halves[id(rest)] = half(rest, " > " if rest else "")
            path = _csv_field(h[0] + r[0]) if h[1] or r[1] else h[0] + r[0]
            yield src[0] + mid[0] + path + "\n"

    return chunked(pieces())


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
    "pair_to_json",
    "render_csv",
    "render_json",
    "render_text",
]
