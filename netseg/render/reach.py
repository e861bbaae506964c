"""Reachable pairs (``netseg reach``) as text, JSON and CSV: pure functions, no I/O.

JSON follows docs/cli.md (``reach``): ``{"netseg", "topology", "pairs": [{"from", "to",
"services", "mode", "tag_injection", "via", "allowed", "violating", "path"}]}`` with services in
canonical form and ``path`` the list of hop references. ``--explain`` adds ``hops`` (reference
and what happens there) to each pair in JSON and prints them under each pair in text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from netseg.graph import ReachablePair
from netseg.model import refs
from netseg.model.topology import Topology
from netseg.render.findings_json import dumps_indented

OUTPUT_VERSION = "1.0.0"


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


def render_json(topology: Topology, pairs: Sequence[ReachablePair], explain: bool = False) -> str:
    doc = {
        "netseg": OUTPUT_VERSION,
        "topology": {"name": topology.name, "file": topology.file},
        "pairs": [pair_to_json(p, explain) for p in pairs],
    }
    # the same text as json.dumps(doc, indent=2, ensure_ascii=False), without the standard
    # library's pure-Python indented encoder (seconds for a million pairs)
    return dumps_indented(doc) + "\n"


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


def render_csv(pairs: Sequence[ReachablePair]) -> str:
    """One row per pair; list cells joined with spaces (services) or ' > ' (path)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["from", "to", "services", "mode", "tag_injection", "via", "allowed", "violating", "path"]
    )
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


__all__ = ["pair_to_json", "render_csv", "render_json", "render_text"]
