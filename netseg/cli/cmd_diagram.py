"""``netseg diagram TOPOLOGY -o FILE``: a Graphviz drawing for a design review."""

from __future__ import annotations

import argparse

from netseg.analysis import load
from netseg.cli.common import write_output
from netseg.graph import analyse_reachability
from netseg.render.diagram import format_for, render
from netseg.render.dot import highlight_findings, render_dot

HELP = "Graphviz diagram of a topology; the format follows the suffix of -o (.svg .png .pdf .dot)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help="output file: .svg, .png, .pdf, or .dot (Graphviz source; needs no Graphviz)",
    )
    parser.add_argument(
        "--highlight",
        choices=["findings", "none"],
        default="findings",
        help="findings (default): draw guest-reaches-management and "
        "guest-can-tag-management-vlan as red dashed edges; none: the design only",
    )
    parser.add_argument(
        "--host", metavar="NAME", help="draw one host (NAME or host:NAME) and what it connects to"
    )


def run(args: argparse.Namespace) -> int:
    fmt = format_for(args.output)  # a bad suffix fails before any work
    topology = load(args.topology)
    reach = analyse_reachability(topology)
    findings = highlight_findings(topology, reach) if args.highlight == "findings" else []
    dot = render_dot(topology, reach, findings, highlight=args.highlight, host=args.host)
    write_output(render(dot, fmt), args.output)
    return 0
