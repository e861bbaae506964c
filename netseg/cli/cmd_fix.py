"""``netseg fix TOPOLOGY``: the smallest verified set of edits that closes the findings."""

from __future__ import annotations

import argparse
from pathlib import Path

from netseg.cli.common import add_fail_on, chosen_format, write_output
from netseg.errors import NetsegError
from netseg.fix import fix
from netseg.render.fix import render_fix_json, render_fix_text

HELP = "the smallest verified set of edits that closes the findings (patched copy, commands, proof)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY", help="YAML topology file (never modified)")
    parser.add_argument(
        "--format",
        choices=["text", "json", "patch"],
        default=None,
        help="what goes to standard output: the edits and proof (text, json) or a unified "
        "diff of the YAML (patch)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FIXED.yaml", help="write the patched topology to this file"
    )
    parser.add_argument("--commands", action="store_true", help="the vendor commands for each edit")
    add_fail_on(parser)


def run(args: argparse.Namespace) -> int:
    if args.output not in (None, "-"):
        out = Path(args.output)
        if out.exists() and out.resolve() == Path(args.topology).resolve():
            raise NetsegError(
                f"{args.output}: netseg fix never modifies its input; write the fixed topology "
                "to another file"
            )
    result = fix(args.topology, args.fail_on)
    fmt = chosen_format(args)
    if fmt == "json":
        report = render_fix_json(result, commands=args.commands)
    elif fmt == "patch":
        report = result.patch()
    else:
        report = render_fix_text(result, commands=args.commands)
    if args.output not in (None, "-"):
        write_output(result.patched, args.output)
    write_output(report, None)
    return 1 if result.residual else 0
