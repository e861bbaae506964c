#!/usr/bin/env python3
"""Regenerate docs/gallery/: one SVG per worked example in topologies/, and docs/gallery.md.

Each SVG records the SHA-256 of the DOT it was drawn from, so tests/render/test_dot.py can
tell a stale drawing without depending on the Graphviz version that laid it out.

    .venv/bin/python scripts/gallery.py          # needs Graphviz's `dot`
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import netseg  # noqa: E402
from netseg.analysis import analyse  # noqa: E402
from netseg.output import write_output  # noqa: E402
from netseg.render.diagram import render  # noqa: E402
from netseg.render.dot import render_dot  # noqa: E402

GALLERY = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"


def examples() -> list[Path]:
    return sorted(
        p for p in (ROOT / "topologies").glob("*") if p.suffix in (".yaml", ".yml", ".json")
    )


def stamp(svg: bytes, dot: str) -> bytes:
    digest = hashlib.sha256(dot.encode("utf-8")).hexdigest()
    mark = f"<!-- netseg-dot-sha256: {digest} -->\n".encode()
    at = svg.find(b"<svg")
    return svg[:at] + mark + svg[at:]


def main() -> int:
    GALLERY.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in examples():
        topology = netseg.load(path)
        analysis = analyse(topology)
        dot = render_dot(topology, analysis.reachability, analysis.findings)
        write_output(stamp(render(dot, "svg"), dot), GALLERY / f"{path.stem}.svg")
        counts = ", ".join(f"{n} {sev}" for sev, n in analysis.summary().items() if n) or "none"
        rows.append((path, topology, counts))
        print(f"docs/gallery/{path.stem}.svg")
    for stale in sorted(GALLERY.glob("*.svg")):
        if stale.stem not in {p.stem for p, _, _ in rows}:
            stale.unlink()
    lines = [
        "# Gallery",
        "",
        "`netseg diagram` of every worked example in `topologies/`, with the default",
        "`--highlight findings`. Regenerate with `.venv/bin/python scripts/gallery.py`; a test",
        "fails when a drawing no longer matches its topology. How to read the drawings:",
        "[diagrams-and-reports.md](diagrams-and-reports.md).",
        "",
    ]
    for path, topology, counts in rows:
        rel = path.relative_to(ROOT).as_posix()
        lines += [f"## {topology.name}", ""]
        if topology.description:
            lines += [topology.description.strip(), ""]
        lines += [
            f"Source: [`{rel}`](../{rel}) · findings: {counts}",
            "",
            f"![{topology.name}](gallery/{path.stem}.svg)",
            "",
        ]
    write_output("\n".join(lines), PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
