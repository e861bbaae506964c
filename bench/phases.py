"""Where the CPU time of ``netseg check`` goes, stage by stage, in-process: reading the file,
checking it against the format, building the model, reachability, each segmentation rule and
the hardening rules (the JSON rendering is left out: it is measured by the shape table).

    python -m bench.phases SHAPE GUESTS [--tree DIR]

``--tree`` runs the stages of another source tree (a directory holding ``netseg/``, e.g.
``git archive main | tar -x -C DIR``), so two versions can be compared in the same minutes.
The cyclic collector is off, as ``netseg check`` runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

from bench.shape_table import shape_input


def phases(path: Path) -> dict[str, float]:
    """CPU seconds per stage of a check of ``path`` with the netseg first on ``sys.path``."""
    from netseg.graph import analyse_reachability
    from netseg.rules.hardening import hardening_findings
    from netseg.rules.segmentation import SEGMENTATION, Context, locations
    from netseg.topology import Where, reader_for
    from netseg.topology.build import Builder
    from netseg.topology.spec import TOPOLOGY

    clock = time.process_time
    out: dict[str, float] = {}
    t = clock()
    doc = reader_for(str(path), None).read()
    out["read"] = clock() - t
    t = clock()
    checked: Any = TOPOLOGY.check(doc.root, Where(None, None, ""), doc.problems)
    out["check"] = clock() - t
    t = clock()
    topology = Builder(checked, doc.root, doc.file, doc.problems).build()
    out["build"] = clock() - t
    t = clock()
    reach = analyse_reachability(topology)
    out["reachability"] = clock() - t
    guests = [a for a in reach.attachments if a.kind == "guest"]
    management = [a for a in reach.attachments if a.kind == "management"]
    context = Context(topology, reach, guests, management, locations(topology))
    for rule, check in SEGMENTATION.items():
        t = clock()
        check(context)
        out[rule] = clock() - t
    t = clock()
    hardening_findings(topology)
    out["hardening rules"] = clock() - t
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__)
    ap.add_argument("shape")
    ap.add_argument("guests", type=int)
    ap.add_argument("--tree", type=Path, help="a source tree holding netseg/")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "netseg-bench")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    path = shape_input(args.cache, args.shape, args.guests)
    if args.tree is not None:
        sys.path.insert(0, str(args.tree.resolve()))
    gc.disable()
    found = phases(path)
    for stage, seconds in found.items():
        print(f"{stage:32} {seconds:7.2f} s")
    print(f"{'total':32} {sum(found.values()):7.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
