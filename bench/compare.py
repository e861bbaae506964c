"""Before and after, in the same minutes: ``netseg check`` of two source trees on estate shapes,
interleaved run by run, CPU time (user + system of the child) and wall time, peak RSS.

On a machine shared by several engineers wall time moves several-fold with the load; CPU time
much less, and interleaving the two trees puts them under the same load. The growth exponent
is computed from the CPU time between consecutive sizes of a shape.

    python -m bench.compare --before /tmp/main-tree --shape segmented:5000,20000,50000 \
        --shape mixed:50000 --repeat 2

``--before`` is a directory holding a ``netseg`` package (e.g. ``git archive main | tar -x``);
the after tree is this checkout. Inputs are generated once into ``--cache`` (as ``make bench``
does).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
from pathlib import Path

from bench.shape_table import REPO, run_limited, shape_input


def _run(tree: Path, path: Path, cpu_s: int, mem_mb: int) -> tuple[str, float, float, float]:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from netseg.cli.main import main; "
        "sys.exit(main(['check', sys.argv[2], '--format', 'json', '--output', sys.argv[3]]))"
    )
    out = path.with_suffix(f".{os.getpid()}.out.json")
    cmd = [sys.executable, "-c", code, str(tree), str(path), str(out)]
    outcome, wall, rss, err, cpu = run_limited(cmd, cpu_s, mem_mb)
    out.unlink(missing_ok=True)
    if outcome != "ok":
        print(err, file=sys.stderr)
    return outcome, wall, rss, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    ap.add_argument("--before", type=Path, required=True, help="a tree holding netseg/")
    ap.add_argument("--after", type=Path, default=REPO, help="default: this checkout")
    ap.add_argument("--shape", action="append", required=True, help="NAME:SIZE[,SIZE...]")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "netseg-bench")
    ap.add_argument("--cpu", type=int, default=300, help="CPU seconds per run")
    ap.add_argument("--memory", type=int, default=6144, help="MB per run")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print("| shape | guests | before: CPU / wall / RSS | after: CPU / wall / RSS |")
    print("| --- | --- | --- | --- |")
    best: dict[tuple[str, str, int], float] = {}
    for spec in args.shape:
        shape, _, sizes = spec.partition(":")
        for guests in [int(s) for s in sizes.split(",")]:
            path = shape_input(args.cache, shape, guests)
            cells = {side: (math.inf, 0.0, 0.0, "") for side in ("before", "after")}
            for _ in range(args.repeat):
                for side, tree in (("before", args.before), ("after", args.after)):
                    outcome, wall, rss, cpu = _run(tree, path, args.cpu, args.memory)
                    if outcome != "ok":
                        cells[side] = (math.inf, wall, rss, outcome)
                    elif cpu < cells[side][0]:
                        cells[side] = (cpu, wall, rss, "")
            row = [shape, f"{guests:,}"]
            for side in ("before", "after"):
                cpu, wall, rss, outcome = cells[side]
                best[(side, shape, guests)] = cpu
                row.append(outcome or f"{cpu:.2f} s / {wall:.2f} s / {rss:.0f} MB")
            print("| " + " | ".join(row) + " |", flush=True)
    for side in ("before", "after"):
        for spec in args.shape:
            shape, _, sizes = spec.partition(":")
            gs = [int(s) for s in sizes.split(",")]
            for g0, g1 in itertools.pairwise(gs):
                t0, t1 = best[(side, shape, g0)], best[(side, shape, g1)]
                if math.isfinite(t0) and math.isfinite(t1):
                    e = math.log(t1 / t0) / math.log(g1 / g0)
                    print(f"{side} {shape} CPU exponent {g0:,}→{g1:,}: {e:.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
