"""``netseg rules``: the finding catalogue (id, severity, title, references)."""

from __future__ import annotations

import argparse
import json

from netseg.cli.common import add_format, chosen_format, write_output
from netseg.render import OUTPUT_VERSION
from netseg.rules.catalogue import CATALOGUE

HELP = "the finding catalogue: id, severity, title, references"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_format(parser, ["text", "json"])
    parser.add_argument(
        "--kind",
        choices=["design", "capture"],
        help="only design rules (netseg check) or capture rules (netseg replay)",
    )


def run(args: argparse.Namespace) -> int:
    rules = [r for r in CATALOGUE.values() if args.kind in (None, r.kind)]
    if chosen_format(args) == "json":
        doc = {
            "netseg": OUTPUT_VERSION,
            "rules": [
                {
                    "id": r.id,
                    "severity": r.severity.value,
                    "title": r.title,
                    "fires_when": r.fires_when,
                    "references": list(r.references),
                    "kind": r.kind,
                    "help": r.help,
                }
                for r in rules
            ],
        }
        write_output(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", args.output)
        return 0
    width = max(len(r.id) for r in rules)
    lines = [f"{'RULE':<{width}}  {'SEVERITY':<8}  {'KIND':<7}  TITLE  [REFERENCES]"]
    for r in rules:
        refs = f"  [{'; '.join(r.references)}]" if r.references else ""
        lines.append(f"{r.id:<{width}}  {r.severity.value:<8}  {r.kind:<7}  {r.title}{refs}")
    write_output("\n".join(lines) + "\n", args.output)
    return 0
