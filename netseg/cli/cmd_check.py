"""``netseg check TOPOLOGY``: every design finding, as text, JSON, SARIF or JUnit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from netseg.analysis import analyse, load
from netseg.cli.common import add_fail_on, add_format, chosen_format, colour_enabled, write_output
from netseg.model.topology import Severity
from netseg.render.findings_json import iter_json
from netseg.render.findings_text import iter_text
from netseg.render.junit import iter_junit
from netseg.render.sarif import iter_sarif
from netseg.rules.catalogue import CATALOGUE

HELP = "all design findings of a topology (exit 1 when any is at or above --fail-on)"
FORMATS = ["text", "json", "sarif", "junit"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML or JSON topology file")
    add_format(parser, FORMATS)
    add_fail_on(parser)


def run(args: argparse.Namespace) -> int:
    topology = load(args.topology)
    analysis = analyse(topology)
    fail_on = Severity(args.fail_on)
    findings = analysis.findings
    fmt = chosen_format(args)
    out: Iterator[str]
    # every format is written in chunks as each finding is encoded
    if fmt == "json":
        out = iter_json(topology, findings)
    elif fmt == "sarif":
        out = iter_sarif(topology, findings)
    elif fmt == "junit":
        design = [r.id for r in CATALOGUE.values() if r.kind == "design"]
        out = iter_junit(topology, findings, fail_on, checked_rules=design)
    else:
        to_terminal = args.output in (None, "-")
        colour = to_terminal and colour_enabled(sys.stdout)
        out = iter_text(topology, findings, colour=colour, fail_on=fail_on)
    write_output(out, args.output)
    return 1 if analysis.failing(fail_on) else 0
