"""``netseg reach TOPOLOGY``: reachable pairs with services and path."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from netseg.analysis import load
from netseg.cli.common import add_format, chosen_format, colour_enabled, write_output
from netseg.graph import analyse_reachability, class_pairs, stream_pairs, stream_rows, to_pair
from netseg.render.reach import iter_csv, iter_json, iter_jsonl, iter_summary, iter_text

HELP = "reachable pairs with services and path (default: every guest to every management interface)"
FORMATS = ["text", "json", "csv", "jsonl"]


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
    parser.add_argument(
        "--all",
        action="store_true",
        help="text: list every pair (default: a summary per pair of classes, with counts "
        "and examples; JSON, JSON Lines and CSV always list every pair)",
    )
    add_format(parser, FORMATS)


def run(args: argparse.Namespace) -> int:
    topology = load(args.topology)
    reach = analyse_reachability(topology)
    sources = reach.select(args.source)
    destinations = reach.select(args.destination)
    fmt = chosen_format(args)
    out: Iterable[str] | Iterable[bytes]
    # every format streams the pairs as they are computed (bounded memory)
    if fmt == "json":
        pairs = (to_pair(p) for p in stream_pairs(reach, sources, destinations))
        out = iter_json(topology, pairs, explain=args.explain)
    elif fmt == "jsonl":
        out = iter_jsonl(stream_rows(reach, sources, destinations))
    elif fmt == "csv":
        out = iter_csv(stream_rows(reach, sources, destinations))
    else:
        colour = args.output in (None, "-") and colour_enabled(sys.stdout)
        classes = class_pairs(reach, sources, destinations)
        if args.all or args.explain:
            rows = stream_rows(reach, sources, destinations, paths=args.explain)
            out = iter_text(topology, classes, rows, explain=args.explain, colour=colour)
        else:
            out = iter_summary(topology, classes, colour)
    write_output(out, args.output)
    return 0
