"""``netseg schema``: the JSON Schema of the topology format, for editors."""

from __future__ import annotations

import argparse
import json

from netseg.cli.common import write_output
from netseg.topology import json_schema

HELP = "print the JSON Schema (draft-07) of the topology format"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")


def render_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def run(args: argparse.Namespace) -> int:
    write_output(render_schema(), args.output)
    return 0
