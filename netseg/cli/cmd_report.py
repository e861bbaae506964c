"""``netseg report TOPOLOGY -o FILE.html``: one self-contained HTML review report."""

from __future__ import annotations

import argparse
from pathlib import Path

from netseg import __version__
from netseg.analysis import analyse
from netseg.cli.common import atomic_write
from netseg.errors import RenderError
from netseg.graph import analyse_reachability
from netseg.render.diagram import dot_available, render, svg_for_html
from netseg.render.dot import render_dot
from netseg.render.html import render_report
from netseg.topology import load

HELP = "one self-contained HTML review report: findings, zone matrix, diagram"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE.html",
        required=True,
        help="the report file (written atomically)",
    )


def run(args: argparse.Namespace) -> int:
    topology = load(args.topology)
    analysis = analyse(topology)
    reach = analysis.reachability or analyse_reachability(topology)
    svg = None
    if dot_available():
        dot = render_dot(topology, reach, analysis.findings)
        try:
            svg = svg_for_html(render(dot, "svg"))
        except RenderError:
            svg = None  # the report says there is no diagram; findings matter more
    html = render_report(topology, analysis, reach, svg, version=__version__)
    atomic_write(Path(args.output), html)
    return 0
