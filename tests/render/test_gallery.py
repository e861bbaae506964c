"""docs/gallery.md and its PNGs (docs/gallery/NAME.png) are drawn from the worked examples by
this test: it fails when the page no longer matches the examples, and ``UPDATE_GALLERY=1``
rewrites the page and redraws the PNGs (with Graphviz's ``dot``), as ``UPDATE_GOLDEN=1`` does
for the golden files.

The page records, next to each picture, the SHA-256 of the DOT the PNG was drawn from, so the
check needs neither Graphviz nor byte-identical PNGs across Graphviz versions: a drawing that
changed changes its hash, and the page no longer matches."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import netseg
from netseg.analysis import analyse
from netseg.output import write_output
from netseg.render.diagram import render
from netseg.render.dot import HIGHLIGHT_RULES, render_dot
from tests.render.examples import EXAMPLES, ROOT, example_name

PAGE = ROOT / "docs" / "gallery.md"
PICTURES = ROOT / "docs" / "gallery"
UPDATE = os.environ.get("UPDATE_GALLERY") == "1"
DPI = "60"  # ~1,300 px wide for a two-host example: readable on the page, ~100-250 KB


def gallery_examples() -> list[Path]:
    """Every topology of topologies/, and each example directory's own topologies (not the
    fragments its imports wrote under imported/, which its top-level file includes)."""
    return [p for p in EXAMPLES if len(p.relative_to(ROOT).parts) <= 3]


def page_and_drawings() -> tuple[str, dict[str, str]]:
    lines = [
        "# Gallery",
        "",
        "`netseg diagram` of every worked example in `topologies/` and `examples/`, with the",
        "default `--highlight findings`. `tests/render/test_gallery.py` fails when this page no",
        "longer matches the examples; `UPDATE_GALLERY=1 .venv/bin/python -m pytest",
        "tests/render/test_gallery.py` rewrites it and redraws the PNGs (Graphviz's `dot`,",
        f"{DPI} dpi). How to read the drawings: [diagrams-and-reports.md](diagrams-and-reports.md).",
        "",
    ]
    drawings: dict[str, str] = {}
    for path in gallery_examples():
        name = example_name(path)
        topology = netseg.load(path)
        analysis = analyse(topology)
        dot = render_dot(topology, analysis.reachability, analysis.findings)
        drawings[name] = dot
        counts = ", ".join(f"{n} {sev}" for sev, n in analysis.summary().items() if n) or "none"
        rel = path.relative_to(ROOT).as_posix()
        lines += [f"## {topology.name}", ""]
        if topology.description:
            lines += [topology.description.strip(), ""]
        digest = hashlib.sha256(dot.encode("utf-8")).hexdigest()
        lines += [
            f"Source: [`{rel}`](../{rel}) · findings: {counts}",
            "",
            f"<!-- netseg-dot-sha256 {name}: {digest} -->",
            f"![{topology.name}](gallery/{name}.png)",
            "",
        ]
    # an estate past the overview threshold, as netseg diagram draws it by default
    from tests.render.diagram_sample import estate

    topology = estate("flat", 600)
    analysis = analyse(topology, rules=HIGHLIGHT_RULES)
    dot = render_dot(topology, analysis.reachability, analysis.findings)
    drawings["estate-overview"] = dot
    digest = hashlib.sha256(dot.encode("utf-8")).hexdigest()
    lines += [
        "## Estate overview",
        "",
        f"A generated estate of {len(topology.hosts)} hosts and {len(topology.guests):,} guests"
        " with the management interfaces on the guests' VLAN (`python -m bench.shapes flat 600",
        "estate.json`): past 10 hosts or 500 guests `netseg diagram` draws this overview (zones,",
        "segment groups, privileged domains, with counts; violations in red); `--host`, `--zone`",
        "and `--segment` draw the detail.",
        "",
        f"<!-- netseg-dot-sha256 estate-overview: {digest} -->",
        "![estate overview](gallery/estate-overview.png)",
        "",
    ]
    return "\n".join(lines), drawings


@pytest.mark.skipif(UPDATE and shutil.which("dot") is None, reason="redrawing needs Graphviz dot")
def test_gallery_matches_the_examples() -> None:
    page, drawings = page_and_drawings()
    if UPDATE:
        PICTURES.mkdir(parents=True, exist_ok=True)
        for name, dot in drawings.items():
            dpi = dot.replace(
                "digraph netseg {\n", f'digraph netseg {{\n  graph [dpi="{DPI}"];\n', 1
            )
            write_output(render(dpi, "png"), PICTURES / f"{name}.png")
        for stale in PICTURES.glob("*"):
            if stale.stem not in drawings:
                stale.unlink()
        write_output(page, PAGE)
    assert PAGE.read_text(encoding="utf-8") == page, (
        "docs/gallery.md is stale: UPDATE_GALLERY=1 pytest tests/render/test_gallery.py"
    )
    assert sorted(p.name for p in PICTURES.glob("*")) == sorted(f"{n}.png" for n in drawings)
    for name in drawings:
        png = (PICTURES / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(png) < 400_000, f"{name}.png is {len(png)} bytes: keep the gallery light"
