"""``netseg diagram TOPOLOGY -o FILE``: a Graphviz drawing for a design review."""

from __future__ import annotations

import argparse

from netseg.analysis import analyse, load
from netseg.cli.common import write_output
from netseg.graph import analyse_reachability
from netseg.render.diagram import format_for, render
from netseg.render.dot import HIGHLIGHT_RULES, render_dot
from netseg.rules.finding import Finding

HELP = "Graphviz diagram of a topology; the format follows the suffix of -o (.svg .png .pdf .drawio .mmd .dot)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help="output file: .svg, .png, .pdf, .drawio (diagrams.net), .mmd (Mermaid), or .dot (Graphviz source; needs no Graphviz)",
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
    parser.add_argument(
        "--zone", metavar="NAME", help="draw one zone's guests (NAME or zone:NAME) on their hosts"
    )
    parser.add_argument(
        "--segment",
        metavar="REF",
        help="draw the guests and management interfaces in one L2 segment: its number "
        "(as in the legend, or segment:N) or its label ('tor1 VLAN 99')",
    )
    parser.add_argument(
        "--view",
        choices=["auto", "overview", "detail"],
        default="auto",
        help="auto (default): an overview (zones, segments, privileged domains, counts) for "
        "more than 10 hosts or 500 guests, else the detail; --host/--zone/--segment draw the "
        "detail",
    )


def run(args: argparse.Namespace) -> int:
    fmt = format_for(args.output)  # a bad suffix fails before any work
    topology = load(args.topology)
    reach = analyse_reachability(topology)
    # the highlighted findings come from the analysis, run for those two rules only
    findings: tuple[Finding, ...] = ()
    if args.highlight == "findings":
        findings = analyse(topology, reach, rules=HIGHLIGHT_RULES).findings
    dot = render_dot(
        topology,
        reach,
        findings,
        highlight=args.highlight,
        host=args.host,
        zone=args.zone,
        segment=args.segment,
        view=args.view,
    )
    write_output(render(dot, fmt), args.output)
    return 0
