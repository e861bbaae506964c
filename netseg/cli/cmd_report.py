"""``netseg report TOPOLOGY -o FILE.html [--capture FILE… --at POINT]``: one self-contained HTML
review report."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from netseg import __version__
from netseg.analysis import analyse, load
from netseg.capture.replay import replay
from netseg.cli.common import report_capture_files, write_output
from netseg.errors import NetsegError, RenderError
from netseg.fix import FixResult, fix
from netseg.graph import analyse_reachability
from netseg.render.diagram import dot_available, render, svg_for_html
from netseg.render.dot import render_dot
from netseg.render.html import render_report
from netseg.render.replay import replay_document

HELP = "one self-contained HTML review report: findings, zone matrix, diagram, captures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE.html",
        required=True,
        help="the report file (written atomically)",
    )
    parser.add_argument(
        "--capture",
        nargs="+",
        default=[],
        metavar="FILE",
        help="pcap/pcapng files (.gz too) or directories to replay into the report",
    )
    parser.add_argument(
        "--at",
        metavar="POINT",
        help="capture point of --capture: SWITCH:PORT, HOST/NIC, HOST/VSWITCH/PORTGROUP or "
        "HOST/VSWITCH",
    )
    parser.add_argument(
        "--vlan", type=int, metavar="N", help="with --at HOST/VSWITCH: the VLAN of untagged frames"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes for --capture"
    )
    parser.add_argument(
        "--no-fix",
        action="store_true",
        help='leave out the "How to fix" section (netseg fix\'s search re-analyses the '
        "topology once per candidate edit)",
    )


# Above this many guests the report leaves the fix search to `netseg fix`.
FIX_GUEST_LIMIT = 500


def run(args: argparse.Namespace) -> int:
    if not args.capture and (args.at or args.vlan is not None):
        print("netseg: --at and --vlan describe --capture files; give --capture", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("netseg: --workers must be at least 1", file=sys.stderr)
        return 2
    topology = load(args.topology)
    analysis = analyse(topology)
    reach = analysis.reachability or analyse_reachability(topology)
    replayed: dict[str, Any] | None = None
    unreadable = False
    if args.capture:
        # the design's reachability is reused: the capture is judged against the same model
        result = replay(
            topology, args.capture, args.at, args.vlan, args.workers, reachability=reach
        )
        unreadable = report_capture_files(result.tables, args.capture)
        unreadable = unreadable or result.nothing_judged() is not None
        # every conversation the replay would list: violations, unattributed ones
        replayed = replay_document(result)
    svg = None
    if dot_available():
        dot = render_dot(topology, reach, analysis.findings)
        try:
            svg = svg_for_html(render(dot, "svg"))
        except RenderError:
            svg = None  # the report says there is no diagram; findings matter more
    fixes: FixResult | None = None
    note = "Left out (--no-fix)."
    if not args.no_fix and len(topology.guests) > FIX_GUEST_LIMIT:
        # the search re-analyses the estate once per candidate edit: minutes on a large one,
        # which a review page must not wait for; `netseg fix` runs it on its own
        note = (
            f"Left out: {len(topology.guests):,} guests (the report searches for fixes up to "
            f"{FIX_GUEST_LIMIT:,}); run `netseg fix {args.topology}`."
        )
    elif not args.no_fix:
        try:
            fixes = fix(args.topology)  # check's default threshold, high
        except NetsegError as exc:
            note = f"netseg fix could not run: {exc}"
    html = render_report(
        topology, analysis, svg, replayed, version=__version__, fixes=fixes, fix_note=note
    )
    write_output(html, args.output)
    # like replay: the report is written (the file's row says why it was not read), and the
    # exit code says that an input could not be used
    return 2 if unreadable else 0
