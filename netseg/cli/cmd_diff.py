"""``netseg diff OLD NEW``: what a change to a topology opens and closes."""

from __future__ import annotations

import argparse
import sys

from netseg.analysis import load
from netseg.cli.common import add_fail_on, add_format, chosen_format, colour_enabled, write_output
from netseg.diff import diff
from netseg.render.diff import render_diff_json, render_diff_text

HELP = "what a change to a topology opens and closes (reachability and findings)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="topology file, or git:REV:PATH")
    parser.add_argument("new", metavar="NEW", help="topology file, or git:REV:PATH")
    parser.add_argument(
        "--from",
        dest="from_sel",
        metavar="SEL",
        help="sources of the pairs compared (default: guests)",
    )
    parser.add_argument(
        "--to", dest="to_sel", metavar="SEL", help="destinations (default: management)"
    )
    add_format(parser, ["text", "json"])
    add_fail_on(parser)


def run(args: argparse.Namespace) -> int:
    old = load(args.old)
    new = load(args.new)
    change = diff(old, new, args.from_sel, args.to_sel)
    if chosen_format(args) == "json":
        write_output(render_diff_json(change), args.output)
    else:
        stream_colour = args.output is None and colour_enabled(sys.stdout)
        write_output(render_diff_text(change, colour=stream_colour), args.output)
    return 1 if change.failing(args.fail_on) else 0
