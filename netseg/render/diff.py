"""Rendering a change review (``netseg diff``) for people and for programs."""

from __future__ import annotations

import json
from typing import Any

from netseg import __version__
from netseg.diff import TopologyDiff
from netseg.render.findings_json import finding_to_json, topology_to_json
from netseg.render.reach import pair_to_json


def diff_document(change: TopologyDiff) -> dict[str, Any]:
    """The JSON contract of docs/cli.md ("JSON")."""
    return {
        "netseg": __version__,
        "old": topology_to_json(change.old),
        "new": topology_to_json(change.new),
        "pairs": {
            "added": [pair_to_json(p) for p in change.added],
            "removed": [pair_to_json(p) for p in change.removed],
            "changed": [
                {
                    "from": c.source,
                    "to": c.destination,
                    "before": c.before.items(),
                    "after": c.after.items(),
                }
                for c in change.changed
            ],
        },
        "findings": {
            "new": [finding_to_json(f) for f in change.new_findings],
            "fixed": [finding_to_json(f) for f in change.fixed_findings],
        },
        "summary": change.summary(),
    }


def render_diff_json(change: TopologyDiff) -> str:
    return json.dumps(diff_document(change), indent=2) + "\n"


def _path(pair: Any) -> str:
    path = getattr(pair, "path", ())
    return " -> ".join(h.ref for h in path) if path else ""


def render_diff_text(change: TopologyDiff, colour: bool = False) -> str:
    """What opened first (with the paths that opened it), then what closed, then findings."""

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    lines = [f"{change.old.file} -> {change.new.file}"]
    if change.empty:
        lines.append("no change in reachability or findings")
        return "\n".join(lines) + "\n"
    opened = [*change.added]
    if opened or any(c.opened for c in change.changed):
        lines.append("")
        lines.append(paint("OPENED", "1;31"))
        for p in opened:
            lines.append(f"  + {p.source} -> {p.destination}  {p.services}  ({p.mode})")
            if _path(p):
                lines.append(f"      via {_path(p)}")
        for c in change.changed:
            if c.opened:
                lines.append(
                    f"  ~ {c.source} -> {c.destination}  {c.before} => {c.after}  (opens {c.opened})"
                )
                if _path(c.new):
                    lines.append(f"      via {_path(c.new)}")
    closed = [*change.removed]
    narrowed = [c for c in change.changed if not c.opened]
    if closed or narrowed:
        lines.append("")
        lines.append(paint("CLOSED", "1;32"))
        for p in closed:
            lines.append(f"  - {p.source} -> {p.destination}  {p.services}")
        for c in narrowed:
            lines.append(f"  ~ {c.source} -> {c.destination}  {c.before} => {c.after}")
    if change.new_findings:
        lines.append("")
        lines.append(paint("NEW FINDINGS", "1;31"))
        for f in change.new_findings:
            waived = " (waived)" if f.waived else ""
            lines.append(f"  [{f.severity}] {f.rule}: {f.message}{waived}")
            lines.append(f"      at {f.location}")
    if change.fixed_findings:
        lines.append("")
        lines.append(paint("FIXED FINDINGS", "1;32"))
        for f in change.fixed_findings:
            lines.append(f"  [{f.severity}] {f.rule}: {f.message}")
    s = change.summary()
    lines.append("")
    lines.append(
        f"{s['pairs_added']} opened, {s['pairs_removed']} closed, {s['pairs_changed']} changed; "
        f"{s['findings_new']} new findings, {s['findings_fixed']} fixed"
    )
    return "\n".join(lines) + "\n"
