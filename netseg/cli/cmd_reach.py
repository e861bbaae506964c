"""``netseg reach TOPOLOGY``: reachable pairs with services and path."""

from __future__ import annotations

import argparse
import sys

from netseg.analysis import load
from netseg.cli.common import add_format, chosen_format, colour_enabled, write_output
from netseg.graph import analyse_reachability
from netseg.render.reach import render_csv, render_json, render_text

HELP = "reachable pairs with services and path (default: every guest to every management interface)"
FORMATS = ["text", "json", "csv"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SEL",
        default="guests",
        help="sources: an entity reference, zone:NAME, host:NAME, guests, management, "
        "endpoints or routers (default: guests)",
    )
    parser.add_argument(
        "--to",
        dest="destination",
        metavar="SEL",
        default="management",
        help="destinations, same forms (default: management)",
    )
    parser.add_argument("--explain", action="store_true", help="show the path hop by hop")
    add_format(parser, FORMATS)


def run(args: argparse.Namespace) -> int:
    topology = load(args.topology)
    reach = analyse_reachability(topology)
    sources = reach.select(args.source)
    destinations = reach.select(args.destination)
    pairs = reach.pairs(sources, destinations)
    fmt = chosen_format(args)
    if fmt == "json":
        out = render_json(topology, pairs, explain=args.explain)
    elif fmt == "csv":
        out = render_csv(pairs)
    else:
        colour = args.output in (None, "-") and colour_enabled(sys.stdout)
        out = render_text(topology, pairs, explain=args.explain, colour=colour)
    write_output(out, args.output)
    return 0
