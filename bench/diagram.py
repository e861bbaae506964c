"""``netseg diagram`` of a large estate: its overview's time, and where the time goes.

``measure(netseg, topology, out_dir)`` runs ``netseg diagram TOPOLOGY -o overview.svg`` as a
fresh child (wall and CPU seconds, user + system from ``os.wait4``, which include the Graphviz
child it waits for), then the same steps once more in a fresh child of this module that times
each one: start-up (imports), loading the topology, the reachability, the two highlighted
rules, building the DOT, and Graphviz's layout and SVG (its CPU from ``RUSAGE_CHILDREN``).
Loading is the topology layer's cost, not the diagram's: the split says how much of the total
each one is.

Command line: ``python -m bench.diagram TOPOLOGY OUT.svg`` prints the split as JSON;
``python -m bench.diagram --table TOPOLOGY...`` a Markdown table of the total and the split
per topology (docs/performance.md); ``python -m bench --diagram-only`` measures the harness'
diagram figures alone.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

STEPS = ("start-up", "load", "reachability", "findings", "DOT", "Graphviz")


@dataclass
class Overview:
    wall: float
    cpu: float
    rss_mb: float
    phases: dict[str, dict[str, float]] = field(default_factory=dict)

    def split(self) -> str:
        """``load 3.1 s, reachability 1.0 s, …`` (CPU seconds of each step)."""
        return ", ".join(f"{k} {v['cpu']:.2f}" for k, v in self.phases.items())


def measure(netseg: Sequence[str], topology: Path, out_dir: Path, repeat: int = 1) -> Overview:
    """The fastest of ``repeat`` runs of ``netseg diagram TOPOLOGY -o overview.svg``, and the
    per-step split from one instrumented run."""
    repo = Path(__file__).resolve().parents[1]
    svg = out_dir / "overview.svg"
    best: Overview | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        child = subprocess.Popen(
            [*netseg, "diagram", str(topology), "-o", str(svg)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=repo,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if child.stderr:
            child.stderr.close()
        if child.returncode != 0:
            raise RuntimeError(f"netseg diagram {topology} failed:\n{err[-2000:]}")
        run = Overview(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
        if best is None or run.wall < best.wall:
            best = run
    assert best is not None
    proc = subprocess.run(
        [sys.executable, "-m", "bench.diagram", str(topology), str(out_dir / "overview-2.svg")],
        capture_output=True,
        cwd=repo,
        check=True,
    )
    best.phases = json.loads(proc.stdout)
    return best


def phases(topology: Path, out: Path) -> dict[str, dict[str, float]]:
    """Each step of ``netseg diagram TOPOLOGY -o OUT`` timed in this process (wall and CPU)."""
    found: dict[str, dict[str, float]] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()

    def lap(step: str, child_cpu: float = 0.0) -> None:
        nonlocal wall0, cpu0
        wall, cpu = time.perf_counter(), time.process_time()
        found[step] = {"wall": round(wall - wall0, 3), "cpu": round(cpu - cpu0 + child_cpu, 3)}
        wall0, cpu0 = wall, cpu

    from netseg.analysis import analyse, load
    from netseg.graph import analyse_reachability
    from netseg.output import write_output
    from netseg.render.diagram import render
    from netseg.render.dot import HIGHLIGHT_RULES, render_dot

    lap("start-up")
    t = load(str(topology))
    lap("load")
    reach = analyse_reachability(t)
    lap("reachability")
    findings = analyse(t, reach, rules=HIGHLIGHT_RULES).findings
    lap("findings")
    dot = render_dot(t, reach, findings)
    lap("DOT")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    svg = render(dot, "svg")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    write_output(svg, out)
    lap(
        "Graphviz",
        (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    )
    return found


def table(topologies: Sequence[Path]) -> str:
    """One row per topology: ``netseg diagram -o X.svg``'s wall and CPU seconds, then the CPU
    seconds of each step (Markdown)."""
    import tempfile

    netseg = [sys.executable, "-m", "netseg.cli.main"]
    rows = [
        "| topology | wall s | CPU s | " + " | ".join(STEPS) + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in STEPS) + " |",
    ]
    with tempfile.TemporaryDirectory(prefix="netseg-diagram-") as tmp:
        for path in topologies:
            r = measure(netseg, path.resolve(), Path(tmp))
            steps = " | ".join(f"{r.phases[k]['cpu']:.2f}" for k in STEPS)
            rows.append(f"| {path.name} | {r.wall:.2f} | {r.cpu:.2f} | {steps} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--table"] and len(args) > 1:
        print(table([Path(a) for a in args[1:]]))
        return 0
    if len(args) != 2:
        print(
            "usage: python -m bench.diagram TOPOLOGY OUT.svg  (the split, as JSON)\n"
            "       python -m bench.diagram --table TOPOLOGY...  (a Markdown table)",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(phases(Path(args[0]), Path(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
