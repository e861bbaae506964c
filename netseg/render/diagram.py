"""DOT text -> SVG, PNG or PDF through Graphviz's ``dot`` program.

``.drawio`` is a diagrams.net file at the coordinates of Graphviz's layout
(:mod:`netseg.render.drawio`); ``.mmd`` a Mermaid flowchart of the same drawing
(:mod:`netseg.render.mermaid`). ``.dot`` needs nothing but netseg; the other formats need the ``dot`` executable (the
``graphviz`` Python package only drives it). When it is missing, :func:`render` raises
:class:`~netseg.errors.RenderError` saying how to install it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from netseg.errors import RenderError
from netseg.render.drawio import render_drawio
from netseg.render.mermaid import render_mermaid

FORMATS = ("dot", "svg", "png", "pdf", "drawio", "mmd")

INSTALL_HINT = (
    "Graphviz's `dot` program is needed for {fmt} output and was not found on PATH; install "
    "Graphviz (Debian/Ubuntu: `apt-get install graphviz`, Fedora: `dnf install graphviz`, "
    "macOS: `brew install graphviz`, Windows: `winget install graphviz`), or write `.dot` "
    "output and render it elsewhere"
)

_COMMENT = re.compile(rb"<!--.*?-->\n?", re.S)


def format_for(path: str | Path) -> str:
    """The output format a file name asks for (its suffix); RenderError for any other."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise RenderError(
            f"{path}: cannot tell the diagram format from the suffix {('.' + suffix) if suffix else '(none)'!s}; "
            "use .svg, .png, .pdf, .drawio, .mmd or .dot"
        )
    return suffix


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str) -> bytes:
    """``dot`` laid out and rendered as ``fmt`` (``dot`` returns the text itself).

    SVG output has Graphviz's comments (version banner, node ids) removed so that it depends
    only on the drawing.
    """
    if fmt == "dot":
        return dot.encode("utf-8")
    if fmt not in FORMATS:
        raise RenderError(f"unknown diagram format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "drawio":
        # the draw.io file keeps the layout Graphviz computes: its JSON output is the source
        layout = json.loads(_graphviz(dot, "json", "DRAWIO").decode("utf-8"))
        return render_drawio(layout).encode("utf-8")
    if fmt == "mmd":
        # the Mermaid flowchart takes the drawing's structure from the same layout output
        layout = json.loads(_graphviz(dot, "json", "Mermaid (.mmd)").decode("utf-8"))
        return render_mermaid(layout).encode("utf-8")
    out = _graphviz(dot, fmt, fmt.upper())
    if fmt == "svg":
        out = _COMMENT.sub(b"", out)
    return out


def _graphviz(dot: str, fmt: str, what: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError(INSTALL_HINT.format(fmt=what))
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"Graphviz `dot` failed to run: {exc}") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            "Graphviz `dot` could not render the diagram: " + (detail[0] if detail else "no output")
        )
    return proc.stdout


def svg_for_html(svg: bytes) -> str:
    """SVG text to inline into an HTML page: no XML declaration or DOCTYPE (which point at
    w3.org), no namespace attributes (HTML parses inline ``<svg>`` without them)."""
    s = svg.decode("utf-8")
    start = s.find("<svg")
    s = s[start:] if start >= 0 else s
    s = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", s, count=2)
    return s.strip()


__all__ = ["FORMATS", "INSTALL_HINT", "dot_available", "format_for", "render", "svg_for_html"]
