"""``netseg validate TOPOLOGY…``: parse and check topologies, print every problem."""

from __future__ import annotations

import argparse
import sys

from netseg.analysis import load
from netseg.errors import TopologyError
from netseg.output import write_output

HELP = "parse and check topologies; print every problem as FILE:LINE:COL: message"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "topologies", nargs="+", metavar="TOPOLOGY", help="YAML or JSON topology files"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")


def run(args: argparse.Namespace) -> int:
    failed = False
    for path in args.topologies:
        try:
            topology = load(path)
        except TopologyError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            n = len(exc.problems)
            print(f"{path}: invalid ({n} problem{'s' if n != 1 else ''})", file=sys.stderr)
            continue
        if not args.quiet:
            guests = len(topology.guests)
            hosts = len(topology.hosts)
            write_output(
                f"{path}: valid ({topology.name}: {hosts} host{'s' if hosts != 1 else ''}, "
                f"{guests} guest{'s' if guests != 1 else ''})\n",
                None,
            )
    return 2 if failed else 0
